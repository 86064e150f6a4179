/** Who runs envctl, for the audit history. */
import { execFileSync } from "node:child_process";

/** Who is acting: the CI actor, else the git user, else the login name. */
export function currentActor(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GITHUB_ACTOR) return `${env.GITHUB_ACTOR} (ci)`;
  try {
    const name = execFileSync("git", ["config", "user.name"], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    if (name) return name;
  } catch {
    // no git, or no user configured
  }
  return env.USER ?? env.USERNAME ?? "unknown";
}
