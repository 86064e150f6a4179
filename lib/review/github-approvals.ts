/**
 * Who approved a change on GitHub, for the CI workflows (`envctl approvals verify <env> --github`):
 * the reviewers who approved the run's deployment to the environment (Settings → Environments →
 * required reviewers; GET /repos/{repo}/actions/runs/{run}/approvals), and the reviewers whose
 * latest review of the commit's pull request is an approval (GET /repos/{repo}/commits/{sha}/pulls,
 * then /pulls/{n}/reviews). The author: the pull request's author on a push, else the actor who
 * started the run (a workflow_dispatch release). Read-only.
 */

export type GithubFetch = (
  url: string,
  init: { headers: Record<string, string> },
) => Promise<{ ok: boolean; status: number; json(): Promise<unknown> }>;

export interface GithubApprovals {
  /** Who the change is by: never counted as an approver. */
  readonly author: string;
  /** Who else must never count: the actor who started the run, when it is not the author. */
  readonly actor: string;
  /** Distinct approvers, in the order found (environment reviewers first). */
  readonly approvers: readonly string[];
  /** Where each came from, for the log. */
  readonly sources: readonly string[];
}

interface RunApproval {
  state?: string;
  user?: { login?: string };
  environments?: { name?: string }[];
}
interface Pull {
  number?: number;
  user?: { login?: string };
  merged_at?: string | null;
}
interface Review {
  state?: string;
  user?: { login?: string };
  submitted_at?: string;
}

/** Reads the approvals of the current run (GITHUB_* variables of Actions) for `environment`; throws when GitHub cannot be read (fail closed). */
export async function readGithubApprovals(
  environment: string,
  env: NodeJS.ProcessEnv,
  fetch: GithubFetch,
): Promise<GithubApprovals> {
  const api = env.GITHUB_API_URL ?? "https://api.github.com";
  const repo = env.GITHUB_REPOSITORY;
  const token = env.GH_TOKEN ?? env.GITHUB_TOKEN;
  const actor = env.GITHUB_ACTOR;
  if (!repo || !env.GITHUB_RUN_ID || !env.GITHUB_SHA || !actor || !token) {
    throw new Error(
      "needs GITHUB_REPOSITORY, GITHUB_RUN_ID, GITHUB_SHA, GITHUB_ACTOR (set by GitHub Actions) and GH_TOKEN (the job's token, with actions: read and pull-requests: read)",
    );
  }
  const get = async <T>(path: string): Promise<T> => {
    const r = await fetch(`${api}/repos/${repo}/${path}`, {
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/vnd.github+json",
        "x-github-api-version": "2022-11-28",
      },
    });
    if (!r.ok) throw new Error(`GitHub answered ${r.status} to GET /repos/${repo}/${path}`);
    return (await r.json()) as T;
  };
  const approvers: string[] = [];
  const sources: string[] = [];
  const add = (login: string | undefined, source: string) => {
    if (!login || approvers.some((a) => a.toLowerCase() === login.toLowerCase())) return;
    approvers.push(login);
    sources.push(`${login}: ${source}`);
  };
  for (const a of await get<RunApproval[]>(`actions/runs/${env.GITHUB_RUN_ID}/approvals`)) {
    if (a.state === "approved" && (a.environments ?? []).some((x) => x.name === environment))
      add(a.user?.login, `approved the ${environment} deployment of this run`);
  }
  let author = actor;
  if (env.GITHUB_EVENT_NAME === "push") {
    const pulls = await get<Pull[]>(`commits/${env.GITHUB_SHA}/pulls`);
    const pr = pulls.find((p) => p.merged_at) ?? pulls[0];
    if (pr?.number !== undefined) {
      author = pr.user?.login ?? actor;
      const latest = new Map<string, Review>();
      for (const r of await get<Review[]>(`pulls/${pr.number}/reviews?per_page=100`)) {
        const login = r.user?.login;
        if (login && r.state !== "COMMENTED") latest.set(login.toLowerCase(), r);
      }
      for (const r of latest.values())
        if (r.state === "APPROVED") add(r.user?.login, `approved pull request #${pr.number}`);
    }
  }
  return { author, actor, approvers, sources };
}
