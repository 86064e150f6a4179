/**
 * `envctl approve <env> <change-id>`: runs the command that makes the change again, in this
 * checkout, up to the approval gate (nothing is written), shows what it does — never the text
 * stored with the request, which its author can edit — and, when it makes exactly that change,
 * records the caller's approval where the platform proves who made it (lib/aws/approval-ledger.ts).
 * `envctl approvals list <env>`: the changes waiting and who approved them.
 * `envctl approvals verify <env> --github`: in CI, envctl's own reading of the run's approvals.
 */
import type { Command } from "commander";
import { loadProject } from "../../config/load.ts";
import type { Environment } from "../../config/schema.ts";
import { unknownEnvironmentMessage } from "../../config/suggest.ts";
import { effectivePolicy, judgeApprovals } from "../../release/gates/approvals.ts";
import { personOf as personOfIdentity } from "../../release/gates/principals.ts";
import { RefusedError } from "../../release/model/errors.ts";
import { readTarget } from "../../stacks/target.ts";
import { committedPolicies, githubApprovalsOfRun, refuseApproverVariables } from "../approval-sources.ts";
import { type ApprovalProbe, personOf, type RecomputedChange } from "../approvals.ts";
import { environmentAws, githubFetch, s3Ledger } from "../compose.ts";
import type { Deps } from "../deps.ts";
import { EXIT } from "../exit-codes.ts";
import { examples } from "../help.ts";
import type { Shell } from "../shell.ts";

const CHANGE_ID = /^[0-9a-f]{16}$/;

/** The commands whose changes wait for approvals (each reaches the approval gate before it writes anything). */
const RECOMPUTABLE = new Set([
  "promote",
  "stage",
  "shift",
  "snapshot",
  "reconcile",
  "rollout",
  "maintenance",
  "migrate",
  "data",
]);

/** envctl itself, run with other arguments and dependencies (the author's command, recomputed). */
export type Rerun = (argv: readonly string[], deps: Partial<Deps>) => Promise<number>;

export function registerApprovalCommands(program: Command, shell: Shell, rerun: Rerun): void {
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
  const ledgerOf = (root: string, e: Environment) =>
    shell.deps.approvalLedger?.(e) ??
    s3Ledger(readTarget(shell.env, root), e, environmentAws(readTarget(shell.env, root), e));

  /** What `argv` makes in this checkout, stopped at the gate; refuses a command that does not reach it. */
  const recompute = async (name: string, argv: readonly string[]): Promise<RecomputedChange> => {
    if (!RECOMPUTABLE.has(argv[0] ?? "") || argv.some((a) => !/^[\x20-\x7e]{1,1024}$/.test(a)) || argv.length > 40) {
      throw new RefusedError(
        `${name}: the request records no command envctl approve can make again (${JSON.stringify(argv.slice(0, 3))}): nothing was recorded`,
      );
    }
    const probe: ApprovalProbe = {};
    const notes: string[] = [];
    await rerun(argv, {
      approvalProbe: probe,
      stdout: () => undefined,
      stderr: (t) => notes.push(t),
      confirm: async () => false,
      deployer: {
        deploy: async () => {
          throw new Error("envctl approve deploys nothing");
        },
      },
    });
    if (!probe.captured || probe.captured.environment !== name) {
      throw new RefusedError(
        `${name}: 'envctl ${argv.join(" ")}' makes no change of ${name} waiting for approval in this checkout` +
          `${notes.length ? ` (${notes.at(-1)!.split("\n")[0]})` : ""}: nothing was recorded`,
      );
    }
    return probe.captured;
  };

  examples(
    program
      .command("approve")
      .argument("<env>", "environment")
      .argument("<change-id>", "the id the author's refused command printed")
      .description(
        "approve a change waiting for approval: envctl makes it again from this checkout and shows what it does, then records your approval as the " +
          "person behind your own AWS credentials; the author cannot approve their own change",
      )
      .option("--json", "machine-readable output"),
    [["envctl approve production 3f2a9c41d07be615", "after reading the change it shows"]],
  ).action(async (name: string, changeId: string, o: { json?: boolean }) => {
    if (!CHANGE_ID.test(changeId))
      throw new RefusedError(`change id must be 16 hex digits, as the refused command printed it (got ${changeId})`);
    refuseApproverVariables(shell.env, name);
    const { root, e } = await environment(name);
    const ledger = ledgerOf(root, e);
    const req = (await ledger.requests()).find((r) => r.changeId === changeId);
    if (!req)
      throw new RefusedError(
        `no change ${changeId} waits for approval in ${name}: the author's refused command prints the id and records the change (envctl approvals ` +
          `list ${name} lists them)`,
      );
    const change = await recompute(name, req.argv);
    if (change.changeId !== changeId) {
      throw new RefusedError(
        `${name}: change ${changeId} cannot be made again from this checkout: ` +
          `'envctl ${req.argv.join(" ")}' now makes change ${change.changeId}` +
          `${req.commit ? ` (the author asked from commit ${req.commit}: check it out, unmodified)` : ""}. ` +
          "Nothing was recorded: approve only what you can see",
      );
    }
    let me: { arn: string; userId?: string };
    try {
      me = await (shell.deps.identity ?? personOf)(environmentAws(readTarget(shell.env, root), e));
    } catch (err) {
      throw new RefusedError(
        `cannot tell who you are (STS GetCallerIdentity: ${(err as Error).message}); nothing was recorded. 'envctl doctor ${name}' checks the credentials`,
      );
    }
    const who = personOfIdentity(me.arn);
    if (!who.ok) throw new RefusedError(`${me.arn} ${who.why}; nothing was recorded`);
    const alone = judgeApprovals(change.policy.policy, req.author, [me.arn]);
    if (alone.ignored.length > 0)
      throw new RefusedError(`${me.arn} ${alone.ignored[0]!.why}: this approval would not count; nothing was recorded`);
    await ledger.approve(changeId, me, shell.clock.now().toISOString());
    const approvals = await ledger.list(changeId);
    const verdict = judgeApprovals(
      change.policy.policy,
      req.author,
      approvals.map((a) => a.by),
    );
    const w = change.what;
    shell.out(
      o.json
        ? JSON.stringify(
            {
              environment: name,
              changeId,
              approvedBy: me.arn,
              change: w,
              approvals,
              ok: verdict.ok,
              message: verdict.message,
            },
            null,
            2,
          )
        : [
            `${name}: change ${changeId} by ${req.author}, as this checkout makes it:`,
            `  envctl ${req.argv.join(" ")}`,
            `  ${w.summary}`,
            ...(w.diff ? [w.diff.trimEnd().replace(/^/gm, "  ")] : []),
            `  stacks: ${w.stacks.join(" ") || "none"}`,
            `approved as ${me.arn}: ${verdict.ok ? `${verdict.message}; the author can now run the command again` : verdict.message}`,
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
      .description("the changes of <env> waiting for approval, and who approved them (as the platform recorded it)")
      .option("--json", "machine-readable output"),
    [["envctl approvals list production", "what waits, and who approved"]],
  ).action(async (name: string, o: { json?: boolean }) => {
    const { root, e } = await environment(name);
    const { policy } = effectivePolicy(e, await committedPolicies(root, name));
    const ledger = ledgerOf(root, e);
    const requests = await Promise.all(
      (await ledger.requests()).map(async (r) => {
        const by = await ledger.list(r.changeId).then(
          (l) => l.map((a) => a.by),
          (err: Error) => err,
        );
        const verdict =
          by instanceof Error ? `approvals unreadable (${by.message})` : judgeApprovals(policy, r.author, by).message;
        return { changeId: r.changeId, at: r.at, author: r.author, command: `envctl ${r.argv.join(" ")}`, verdict };
      }),
    );
    shell.out(
      o.json
        ? JSON.stringify({ environment: name, policy, requests }, null, 2)
        : [
            `${name}: ${policy.required} approval(s) per change${policy.from.length ? ` from ${policy.from.join(", ")}` : ""}`,
            ...requests.map((r) => `${r.changeId}  ${r.at}  by ${r.author}: ${r.command} — ${r.verdict}`),
          ].join("\n"),
    );
  });

  examples(
    approvals
      .command("verify")
      .argument("<env>", "environment")
      .requiredOption("--github", "read the approvals from GitHub (in a GitHub Actions job)")
      .description(
        "CI: read who approved this run's commit (environment reviewers, reviews of the pull request's head), and refuse unless <env>'s approvals are " +
          "met (distinct people, not the author); every envctl command of the job reads them again itself",
      ),
    [["envctl approvals verify production --github", "a step before the release or the apply"]],
  ).action(async (name: string) => {
    refuseApproverVariables(shell.env, name);
    const { root, e } = await environment(name);
    const { policy } = effectivePolicy(e, await committedPolicies(root, name));
    const found = await githubApprovalsOfRun(
      name,
      { ...shell.env, GITHUB_ACTIONS: "true" },
      shell.deps.github ?? githubFetch,
      root,
    );
    for (const s of found.sources) shell.err(`  ${s}`);
    const verdict = judgeApprovals(policy, found.author, found.approvers);
    if (!verdict.ok) throw new RefusedError(`${name}: ${verdict.message}`);
    shell.out(`${name}: change by ${found.author}: ${verdict.message}`);
    shell.setExit(EXIT.ok);
  });
}
