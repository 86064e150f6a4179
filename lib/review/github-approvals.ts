/**
 * Who approved a change on GitHub, read by envctl itself in a GitHub Actions job, for exactly the
 * run and the commit it applies (never from environment variables a person can set):
 *
 * - the run (GET /repos/{repo}/actions/runs/{run}) must be of this repository, of `GITHUB_SHA`,
 *   and still running: a finished run's approvals approve nothing more;
 * - the reviewers who approved this run's deployment to the environment (Settings → Environments →
 *   required reviewers; GET …/actions/runs/{run}/approvals);
 * - on a push: the pull request whose merge made `GITHUB_SHA` (GET …/commits/{sha}/pulls, then
 *   …/pulls/{n}), and the reviewers whose latest review is an approval of its final head commit
 *   (`commit_id` = head.sha): a review of an earlier push approves code that was changed since.
 *
 * Every list is read page by page (per_page=100) to the end. Bots never count. The author: the
 * pull request's author on a push, else the actor who started the run. Read-only.
 */

export type GithubFetch = (
  url: string,
  init: { headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; headers?: { get(name: string): string | null } }>;

export interface GithubApprovals {
  /** Who the change is by: never counted as an approver. */
  readonly author: string;
  /** Who else must never count: the actor who started the run, when it is not the author. */
  readonly actor: string;
  /** Distinct approvers, in the order found (environment reviewers first). */
  readonly approvers: readonly string[];
  /** Where each came from, and what was not counted, for the log. */
  readonly sources: readonly string[];
}

interface User {
  login?: string;
  type?: string;
}
interface Run {
  head_sha?: string;
  status?: string;
  repository?: { full_name?: string };
}
interface RunApproval {
  state?: string;
  user?: User;
  environments?: { name?: string }[];
}
interface Pull {
  number?: number;
  user?: User;
  merged_at?: string | null;
  merge_commit_sha?: string | null;
  head?: { sha?: string };
}
interface Review {
  id?: number;
  state?: string;
  user?: User;
  commit_id?: string;
}

/** At most this many pages of one list (10 000 items): more fails closed rather than reading part of it. */
const MAX_PAGES = 100;

/** The GitHub Actions variables a job has; throws naming those missing. */
export function githubRun(env: NodeJS.ProcessEnv): {
  api: string;
  repo: string;
  run: string;
  sha: string;
  actor: string;
  token: string;
} {
  const need = ["GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SHA"] as const;
  const missing = need.filter((k) => !env[k]);
  const token = env.GH_TOKEN ?? env.GITHUB_TOKEN;
  if (missing.length > 0 || !token) {
    throw new Error(
      `needs ${[...missing, ...(token ? [] : ["GH_TOKEN"])].join(", ")}: GitHub Actions sets the GITHUB_* variables in a job, and GH_TOKEN is the ` +
        `job's token (actions: read, pull-requests: read)`,
    );
  }
  return {
    api: env.GITHUB_API_URL ?? "https://api.github.com",
    repo: env.GITHUB_REPOSITORY!,
    run: env.GITHUB_RUN_ID!,
    sha: env.GITHUB_SHA!,
    actor: env.GITHUB_ACTOR ?? "",
    token,
  };
}

/** Reads the approvals of the current run for `environment`; throws when GitHub cannot be read or the run is not this commit's, running (fail closed). */
export async function readGithubApprovals(
  environment: string,
  env: NodeJS.ProcessEnv,
  fetch: GithubFetch,
): Promise<GithubApprovals> {
  const { api, repo, run, sha, actor, token } = githubRun(env);
  const headers = {
    authorization: `Bearer ${token}`,
    accept: "application/vnd.github+json",
    "x-github-api-version": "2022-11-28",
  };
  const get = async <T>(path: string): Promise<{ body: T; next?: string }> => {
    const r = await fetch(`${api}/repos/${repo}/${path}`, { headers });
    if (!r.ok) throw new Error(`GitHub answered ${r.status} to GET /repos/${repo}/${path}`);
    const next = /<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="next"/.exec(r.headers?.get("link") ?? "")?.[1];
    return { body: (await r.json()) as T, ...(next ? { next } : {}) };
  };
  /** Every item of a list, page by page: to the page without a rel="next" link and shorter than 100. */
  const all = async <T>(path: string, pick: (body: unknown) => T[] = (b) => b as T[]): Promise<T[]> => {
    const items: T[] = [];
    for (let page = 1; page <= MAX_PAGES; page++) {
      const sep = path.includes("?") ? "&" : "?";
      const { body, next } = await get<unknown>(`${path}${sep}per_page=100&page=${page}`);
      const got = pick(body);
      if (!Array.isArray(got)) throw new Error(`GitHub's answer to ${path} is not a list`);
      items.push(...got);
      if (!next && got.length < 100) return items;
    }
    throw new Error(`${path} has more than ${MAX_PAGES} pages: refusing to judge on part of it`);
  };

  const r = (await get<Run>(`actions/runs/${run}`)).body;
  if (r.repository?.full_name && r.repository.full_name.toLowerCase() !== repo.toLowerCase())
    throw new Error(`run ${run} is of ${r.repository.full_name}, not ${repo}`);
  if (r.head_sha !== sha) throw new Error(`run ${run} is of commit ${r.head_sha ?? "?"}, not of GITHUB_SHA ${sha}`);
  if (r.status === "completed") throw new Error(`run ${run} has finished: its approvals approve nothing more`);

  const approvers: string[] = [];
  const sources: string[] = [];
  const add = (user: User | undefined, source: string) => {
    const login = user?.login;
    if (!login) return;
    if (user?.type === "Bot" || /\[bot\]$/i.test(login)) return void sources.push(`${login}: a bot, never an approver`);
    if (approvers.some((a) => a.toLowerCase() === login.toLowerCase())) return;
    approvers.push(login);
    sources.push(`${login}: ${source}`);
  };
  for (const a of await all<RunApproval>(`actions/runs/${run}/approvals`)) {
    if (a.state === "approved" && (a.environments ?? []).some((x) => x.name === environment))
      add(a.user, `approved the ${environment} deployment of run ${run}`);
  }
  let author = actor;
  if (env.GITHUB_EVENT_NAME === "push") {
    const pulls = await all<Pull>(`commits/${sha}/pulls`);
    const merged = pulls.find((p) => p.merge_commit_sha === sha && p.merged_at);
    if (merged?.number !== undefined) {
      const pull = (await get<Pull>(`pulls/${merged.number}`)).body;
      const head = pull.head?.sha;
      author = pull.user?.login ?? merged.user?.login ?? actor;
      if (!head) throw new Error(`pull request #${merged.number} has no head commit`);
      const latest = new Map<string, Review>();
      for (const review of await all<Review>(`pulls/${merged.number}/reviews`)) {
        const login = review.user?.login;
        if (login && review.state !== "COMMENTED") latest.set(login.toLowerCase(), review);
      }
      for (const review of latest.values()) {
        if (review.state !== "APPROVED") continue;
        if (review.commit_id === head)
          add(review.user, `approved pull request #${merged.number} at its head ${head.slice(0, 12)}`);
        else
          sources.push(
            `${review.user?.login}: approved #${merged.number} at ${review.commit_id?.slice(0, 12) ?? "?"}, not its head: not counted`,
          );
      }
    }
  }
  return { author, actor, approvers, sources };
}
