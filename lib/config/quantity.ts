/**
 * Kubernetes resource quantities, restricted to the forms the environments use: CPU as
 * millicores (`250m`) or cores (`1`, `1.5`); memory as `Mi` or `Gi`. Pure functions.
 */

export const CPU_QUANTITY = /^(?:[1-9]\d*m|\d+(?:\.\d{1,3})?)$/;
export const MEMORY_QUANTITY = /^[1-9]\d*(?:Mi|Gi)$/;

/** `250m` → 250, `1.5` → 1500. */
export function cpuMillis(quantity: string): number {
  if (!CPU_QUANTITY.test(quantity)) throw new Error(`invalid CPU quantity ${quantity}`);
  return quantity.endsWith("m") ? Number(quantity.slice(0, -1)) : Math.round(Number(quantity) * 1000);
}

/** `512Mi` → 512, `2Gi` → 2048. */
export function memoryMi(quantity: string): number {
  if (!MEMORY_QUANTITY.test(quantity)) throw new Error(`invalid memory quantity ${quantity}`);
  return quantity.endsWith("Gi") ? Number(quantity.slice(0, -2)) * 1024 : Number(quantity.slice(0, -2));
}

/** 1500 → `1500m`; whole cores as plain numbers (2000 → `2`). */
export function formatCpu(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

/** 2048 → `2Gi`; otherwise `Mi`. */
export function formatMemory(mi: number): string {
  return mi % 1024 === 0 ? `${mi / 1024}Gi` : `${mi}Mi`;
}
