/**
 * Where the stacks deploy, read from the process environment and validated:
 *
 * | variable | values | meaning |
 * |---|---|---|
 * | `ENVSTACK_TARGET` | `aws` (default), `local` | `local` points the AWS provider and the S3 backend at an emulator |
 * | `ENVSTACK_AWS_ENDPOINT` | URL | the emulator's endpoint; required with `ENVSTACK_TARGET=local` |
 * | `ENVSTACK_BACKEND` | `s3` (default), `local` | `local` keeps each stack's state in a file (demo, engines without AWS) |
 * | `ENVSTACK_STATE_DIR` | path | directory of the local state files (default `<project root>/.state`) |
 * | `ENVSTACK_STATE_BUCKET` | name | S3 state bucket (default `<project>-terraform-state`) |
 * | `ENVSTACK_KUBECONFIG` | path | `local` only: the local Kubernetes control plane's kubeconfig, for the EKS
 * workloads stacks (default `<project root>/.envstack/kube/admin.kubeconfig`, where `npm run kube` writes it) |
 * | `ENVSTACK_STATE_BUCKET` | name | S3 state bucket of every account (default per account: `account.stateBucket`, else `<project>-tfstate-<account id>`) |
 * | `ENVSTACK_KUBE_AUTH` | `eks`, `kubeconfig` | how envctl reaches an EKS environment's cluster (lib/kube/config.ts): `eks`, EKS's
 * endpoint and CA and a token envctl makes with the environment's role (default on `aws`); `kubeconfig`, a kubeconfig
 * file: the local control plane's admin one (default on `local`), on `aws` the context named after the environment |
 * | `ENVSTACK_EMULATOR_ACCOUNT` | 12 digits | `local` only: the emulator's credentials act as this account for every
 * environment (default: each environment's own account) |
 *
 * The `local` target never replaces the real-AWS configuration; it is a switch.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { ConfigError, zodProblems } from "../config/errors.ts";
import { LOCAL_KUBE_DIR } from "../engine/control-plane.ts";

const TargetEnvSchema = z
  .object({
    ENVSTACK_TARGET: z.enum(["aws", "local"]).default("aws"),
    ENVSTACK_AWS_ENDPOINT: z.url().optional(),
    ENVSTACK_BACKEND: z.enum(["s3", "local"]).default("s3"),
    ENVSTACK_STATE_DIR: z.string().min(1).optional(),
    ENVSTACK_STATE_BUCKET: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid S3 bucket name")
      .optional(),
    ENVSTACK_KUBECONFIG: z.string().min(1).optional(),
    ENVSTACK_KUBE_AUTH: z.enum(["eks", "kubeconfig"]).optional(),
    ENVSTACK_EMULATOR_ACCOUNT: z
      .string()
      .regex(/^\d{12}$/, "must be a 12-digit account id")
      .optional(),
  })
  .superRefine((v, ctx) => {
    if (v.ENVSTACK_TARGET !== "local" && v.ENVSTACK_EMULATOR_ACCOUNT) {
      ctx.addIssue({
        code: "custom",
        path: ["ENVSTACK_EMULATOR_ACCOUNT"],
        message: "is only for ENVSTACK_TARGET=local (on AWS the credentials are your own)",
      });
    }
    if (v.ENVSTACK_TARGET === "local" && !v.ENVSTACK_AWS_ENDPOINT) {
      ctx.addIssue({
        code: "custom",
        path: ["ENVSTACK_AWS_ENDPOINT"],
        message: "is required when ENVSTACK_TARGET=local",
      });
    }
  });

export interface Target {
  /** `aws`: real AWS with the ambient credentials; `local`: the emulator at `endpoint`. */
  readonly kind: "aws" | "local";
  readonly endpoint?: string;
  readonly backend: "s3" | "local";
  /** Absolute directory of local state files. */
  readonly stateDir: string;
  /** Overrides the state bucket name. */
  readonly stateBucket?: string;
  /** Absolute path of the local control plane's kubeconfig (read by the `local` target's workloads stacks only). */
  readonly kubeconfig: string;
  /** How envctl reaches an EKS environment's cluster: a token of its own through EKS, or a kubeconfig file. */
  readonly kubeAuth: "eks" | "kubeconfig";
  /** `local`: the account the emulator's credentials act as for every environment (default: each environment's own). */
  readonly emulatorAccount?: string;
}

export function readTarget(env: NodeJS.ProcessEnv, root: string): Target {
  const parsed = TargetEnvSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(zodProblems("environment variables", parsed.error));
  const v = parsed.data;
  return {
    kind: v.ENVSTACK_TARGET,
    endpoint: v.ENVSTACK_AWS_ENDPOINT,
    backend: v.ENVSTACK_BACKEND,
    stateDir: resolve(root, v.ENVSTACK_STATE_DIR ?? ".state"),
    stateBucket: v.ENVSTACK_STATE_BUCKET,
    kubeconfig: resolve(root, v.ENVSTACK_KUBECONFIG ?? `${LOCAL_KUBE_DIR}/admin.kubeconfig`),
    kubeAuth: v.ENVSTACK_KUBE_AUTH ?? (v.ENVSTACK_TARGET === "local" ? "kubeconfig" : "eks"),
    emulatorAccount: v.ENVSTACK_EMULATOR_ACCOUNT,
  };
}

/** The emulator's endpoint in the `local` target; undefined on AWS (the providers and SDK clients then use AWS's own). */
export function emulatorEndpoint(target: Pick<Target, "endpoint"> & { readonly kind: string }): string | undefined {
  return target.kind === "local" ? target.endpoint : undefined;
}

/** Where an SDK client for `region` connects in `target` (the options of lib/aws/clients.ts's awsClientConfig). */
export function awsClientTarget(
  target: Pick<Target, "endpoint"> & { readonly kind: string },
  region: string,
): { region: string; endpoint: string | undefined } {
  return { region, endpoint: emulatorEndpoint(target) };
}

/**
 * Fake credentials of the emulator for an environment of `account`; never used against AWS. moto
 * keeps resources per account: an access key id of 12 digits acts as that account. Each
 * environment gets its own account's, unless `ENVSTACK_EMULATOR_ACCOUNT` says whose credentials
 * to act with (e.g. dev's, to see production refuse them).
 */
export function emulatorCredentials(
  target: Pick<Target, "emulatorAccount">,
  account: string,
): { accessKey: string; secretKey: string } {
  return { accessKey: target.emulatorAccount ?? account, secretKey: "test" };
}
