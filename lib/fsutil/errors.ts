/** Errors of the file utilities. */

/** The file system refused a read or write (permissions, full disk): nothing was changed. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreError";
  }
}
