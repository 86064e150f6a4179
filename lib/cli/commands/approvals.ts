/**
 * `envctl approve <env> <change-id>`: records the caller's approval of a change waiting for it
 * (identity: STS GetCallerIdentity with the environment's credentials; the author cannot approve
 * their own change). `envctl approvals <env>`: the changes waiting and who approved them.
 * `envctl approvals verify <env> --github`: in CI, reads the approvers from GitHub (environment
 * reviewers, pull-request reviews), judges them by the environment's `approvals`, and hands them
 * to the envctl commands of the job (ENVSTACK_APPROVED_BY, ENVSTACK_CHANGE_AUTHOR in $GITHUB_ENV).
 */
import { appendFileSync } from "node:fs";
import type { Command } from "commander";
import { loadProject } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { unknownEnvironmentMessage } from "../../config/suggest.ts";
import { approvalPolicyOf, judgeApprovals } from "../../release/gates/approvals.ts";
import { RefusedError } from "../../release/model/errors.ts";
import { findRequest, readApprovals, recordApproval } from "../../release/store/approvals.ts";
import { type GithubFetch, readGithubApprovals } from "../../review/github-approvals.ts";
import { readTarget } from "../../stacks/target.ts";
import { personOf } from "../approvals.ts";
import { environmentAws } from "../compose.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import type { Shell } from "../shell.ts";

const CHANGE_ID = /^[0-9a-f]{16}$/;

export function registerApprovalCommands(
  program: Command,
  shell: Shell,
  github: GithubFetch = (url, init) => fetch(url, init),
): void {
  const environment = async (name: string): Promise<{ root: string; e: Environment }> => {
    const project = await loadProject(shell.root(), { focus: [name] });
    const e = project.environments.find((x) => x.config.name === name)?.config;
    if (!e)
      throw new RefusedError(
        unknownEnvironmentMessage(
          name,
          project.environments.map((x) => x.config.name),
        ),
      );
    return { root: project.root, e };
  };

  examples(
    program
      .command("approve")
      .argument("<env>", "environment")
      .argument("<change-id>", "the id the author's refused command printed")
      .description(
        "approve a change waiting for approval, as the person behind your AWS credentials (STS caller identity); the author cannot approve their own change",
      )
      .option("--json", "machine-readable output"),
    [["envctl approve production 3f2a9c41d07be615", "after reading the change it shows"]],
  ).action(async (name: string, changeId: string, o: { json?: boolean }) => {
    if (!CHANGE_ID.test(changeId))
      throw new RefusedError(`change id must be 16 hex digits, as the refused command printed it (got ${changeId})`);
    const { root, e } = await environment(name);
    const req = findRequest(root, name, changeId);
    if (!req)
      throw new RefusedError(
        `no change ${changeId} waits for approval in ${name}: the author's refused command prints the id and records the change (envctl approvals ${name} lists them)`,
      );
    let me: string;
    try {
      me = (await (shell.deps.identity ?? personOf)(environmentAws(readTarget(shell.env, root), e))).arn;
    } catch (err) {
      throw new RefusedError(
        `cannot tell who you are (STS GetCallerIdentity: ${(err as Error).message}); nothing was recorded. 'envctl doctor ${name}' checks the credentials`,
      );
    }
    const policy = approvalPolicyOf(e);
    const alone = judgeApprovals(policy, req.author, [me]);
    if (alone.ignored.length > 0)
      throw new RefusedError(`${me} ${alone.ignored[0]!.why}: this approval would not count; nothing was recorded`);
    const updated = await recordApproval(root, name, changeId, me, shell.clock.now().toISOString());
    const verdict = judgeApprovals(
      policy,
      updated.author,
      updated.approvals.map((a) => a.by),
    );
    shell.out(
      o.json
        ? JSON.stringify(
            {
              environment: name,
              changeId,
              approvedBy: me,
              approvals: updated.approvals,
              ok: verdict.ok,
              message: verdict.message,
            },
            null,
            2,
          )
        : [
            `${name}: change ${changeId} by ${updated.author}`,
            `  ${updated.summary}`,
            ...(updated.diff ? [updated.diff.trimEnd().replace(/^/gm, "  ")] : []),
            `  stacks: ${updated.stacks.join(" ") || "none"}`,
            `approved as ${me}: ${verdict.ok ? `${verdict.message}; the author can now run the command again` : verdict.message}`,
          ].join("\n"),
    );
  });

  const approvals = examples(
    program
      .command("approvals")
      .description("changes waiting for approval, and CI's check of the platform's approvals"),
    [
      ["envctl approvals list production", "the changes waiting, who approved them"],
      ["envctl approvals verify production --github", "CI: the run's reviewers, judged by production's approvals"],
    ],
  );
  examples(
    approvals
      .command("list")
      .argument("<env>", "environment")
      .description("the changes of <env> waiting for approval, and who approved them")
      .option("--json", "machine-readable output"),
    [["envctl approvals list production", "what waits, and who approved"]],
  ).action(async (name: string, o: { json?: boolean }) => {
    const { root, e } = await environment(name);
    const policy = approvalPolicyOf(e);
    const requests = readApprovals(root, name);
    shell.out(
      o.json
        ? JSON.stringify({ environment: name, policy, requests }, null, 2)
        : [
            `${name}: ${policy.required} approval(s) per change${policy.from.length ? ` from ${policy.from.join(", ")}` : ""}`,
            ...requests.map(
              (r) =>
                `${r.changeId}  ${r.at}  by ${r.author}: ${r.summary} — ${
                  judgeApprovals(
                    policy,
                    r.author,
                    r.approvals.map((a) => a.by),
                  ).message
                }`,
            ),
          ].join("\n"),
    );
  });

  examples(
    approvals
      .command("verify")
      .argument("<env>", "environment")
      .requiredOption("--github", "read the approvals from GitHub (in a GitHub Actions job)")
      .description(
        "CI: read who approved this run's change (environment reviewers, pull-request reviews), refuse unless <env>'s approvals are met (distinct, not the author), and pass them to the job's envctl commands",
      ),
    [["envctl approvals verify production --github", "a step before the release or the apply"]],
  ).action(async (name: string) => {
    const { e } = await environment(name);
    const policy = approvalPolicyOf(e);
    let found: Awaited<ReturnType<typeof readGithubApprovals>>;
    try {
      found = await readGithubApprovals(name, shell.env, github);
    } catch (err) {
      throw new RefusedError(
        `${name}: cannot read the approvals from GitHub (${(err as Error).message}); refusing (fail closed)`,
      );
    }
    // The actor who started the run never approves it either (GitHub's "prevent self-review").
    const verdict = judgeApprovals(
      policy,
      found.author,
      found.approvers.filter((a) => a.toLowerCase() !== found.actor.toLowerCase()),
    );
    for (const s of found.sources) shell.err(`  ${s}`);
    if (!verdict.ok) throw new RefusedError(`${name}: ${verdict.message}`);
    if (shell.env.GITHUB_ENV)
      appendFileSync(
        shell.env.GITHUB_ENV,
        `ENVSTACK_CHANGE_AUTHOR=${found.author}\nENVSTACK_APPROVED_BY=${verdict.counted.join(",")}\n`,
      );
    shell.out(`${name}: change by ${found.author}: ${verdict.message}`);
    shell.setExit(EXIT.ok);
  });
}
