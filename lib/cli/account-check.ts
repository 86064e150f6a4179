/**
 * The account check of every write: the credentials must be of the environment's own account,
 * refused before synthesis and the engine, naming both accounts; fail closed when they cannot be read.
 */
import type { AwsClientOptions } from "../aws/clients.ts";
import type { CallerIdentity } from "../aws/identity.ts";
import type { Environment } from "../config/schema.ts";
import type { Deployer } from "../deploy/runner.ts";

/** Refuses (naming both accounts) when the credentials for `e` are of another account than its own; fails closed when they cannot be read. */
export async function checkAccount(
  e: Environment,
  o: AwsClientOptions,
  identity?: (o: AwsClientOptions) => Promise<CallerIdentity>,
): Promise<void> {
  const id = await import("../aws/identity.ts");
  if (!identity) return id.assertAccount(o);
  const refused = id.accountMismatch(e.name, e.account.id, await identity(o));
  if (refused) throw refused;
}

/** The environments whose stacks are among `stacks` (`<env>`, `<env>-traffic`, `<env>-workloads`). */
function environmentsOf(stacks: readonly string[], envs: readonly Environment[]): Environment[] {
  return envs.filter((e) =>
    stacks.some((s) => s === e.name || s === `${e.name}-traffic` || s === `${e.name}-workloads`),
  );
}

/**
 * The deployer, after a check that the credentials are of each deployed environment's account:
 * a mismatch is refused before synthesis and the engine, naming both accounts (the providers'
 * allowed_account_ids would refuse too, at plan).
 */
export function accountCheckedDeployer(
  inner: Deployer,
  envs: readonly Environment[],
  aws: (e: Environment) => AwsClientOptions,
  identity?: (o: AwsClientOptions) => Promise<CallerIdentity>,
): Deployer {
  const check = async (stacks: readonly string[]) => {
    for (const e of environmentsOf(stacks, envs)) await checkAccount(e, aws(e), identity);
  };
  return {
    deploy: async (stacks, log) => {
      await check(stacks);
      return inner.deploy(stacks, log);
    },
    ...(inner.destroy
      ? {
          destroy: async (stacks: readonly string[], log: (line: string) => void) => {
            await check(stacks);
            return inner.destroy!(stacks, log);
          },
        }
      : {}),
  };
}
