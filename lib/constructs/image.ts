/** How a slot names its container image. */

/**
 * `<repository>@<digest>` when the release file knows the version's digest (immutable: the
 * bytes that were tested), `<repository>:<version>` otherwise.
 */
export function imageReference(repository: string, version: string, digest?: string): string {
  return digest ? `${repository}@${digest}` : `${repository}:${version}`;
}
