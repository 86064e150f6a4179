/**
 * The release file of an environment (`environments/releases/<env>.json`): where it is, its
 * validated read, its canonical text, and its atomic write (lib/fsutil) beside the orphans of
 * writes that never reached their rename.
 */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { writeFileAtomic } from "../../fsutil/atomic-write.ts";
import { InvalidReleaseFile } from "../model/errors.ts";
import { type Release, ReleaseSchema } from "../model/release.ts";

export function releaseFileOf(root: string, env: string): string {
  return join(root, "environments", "releases", `${env}.json`);
}

/** Reads and validates `<env>.json`; an {@link InvalidReleaseFile} names the file (lib/cli lists its problems). */
export function loadRelease(root: string, env: string): Release {
  const file = releaseFileOf(root, env);
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw new InvalidReleaseFile(root, env, file, err);
  }
  const parsed = ReleaseSchema.safeParse(data);
  if (!parsed.success) throw new InvalidReleaseFile(root, env, file, parsed.error);
  if (parsed.data.environment !== env)
    throw new InvalidReleaseFile(
      root,
      env,
      file,
      new Error(`environment must be ${env} (found ${parsed.data.environment})`),
    );
  return parsed.data;
}

/** Canonical text of a release file: stable key order, two-space indent, final newline. */
export function releaseText(r: Release): string {
  return `${JSON.stringify(ReleaseSchema.parse(r), null, 2)}\n`;
}

/** Writes the release file atomically (temporary file + fsync + rename + fsync of the directory); `beforeRename` may stop it. */
export function writeRelease(root: string, r: Release, beforeRename?: () => void): void {
  writeFileAtomic(releaseFileOf(root, r.environment), releaseText(r), beforeRename ? { beforeRename } : {});
}

/** Temporary files of writes that never reached their rename (call under the lock). */
export function removeOrphans(root: string, env: string): void {
  const dir = dirname(releaseFileOf(root, env));
  const prefix = `.${env}.json.`;
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    if (f.startsWith(prefix) && f.endsWith(".tmp")) rmSync(join(dir, f), { force: true });
  }
}
