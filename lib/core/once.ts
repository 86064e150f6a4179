/** A value made on first use and kept: lazy module loads and clients (`once(() => import("…"))`). */
export function once<T>(make: () => T): () => T {
  let made = false;
  let value: T;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value;
  };
}
