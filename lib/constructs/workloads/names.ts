/**
 * Names shared by the `<env>` stack (EKS Pod Identity of the app's service account) and the
 * `<env>-workloads` stack (the Kubernetes objects). Plain values: importing this file loads no
 * provider binding.
 */
import type { Slot } from "../../config/schema.ts";

/** Name of the application: Deployments, Services and labels derive from it. */
export const APP_NAME = "app";
/** Service account the application pods run as (bound to the AWS app role through Pod Identity). */
export const APP_SERVICE_ACCOUNT = "app";
/** User and group the application (and its migration Jobs) run as. */
export const APP_UID = 1001;
/** Annotation (on the pods) naming the AWS-managed database secret the application fetches. */
export const DATABASE_SECRET_ANNOTATION = "envstack.io/database-secret-arn";
/** Key of the environment's ConfigMap holding that secret's ARN (the pods read the secret themselves). */
export const DATABASE_SECRET_ARN_KEY = "DATABASE_SECRET_ARN";
/** ConfigMap holding the environment's application settings. */
export const APP_CONFIG_MAP = "app-config";
/** ConfigMap holding one slot's application settings, named by their checksum (a change rolls the slot's pods). */
export function slotSettingsConfigMap(slot: Slot, checksum: string): string {
  return `${APP_CONFIG_MAP}-${slot}-${checksum}`;
}
/** Kubernetes group the CI deployer's IAM principal is mapped to (EKS access entry). */
export function deployerGroup(namespace: string): string {
  return `${namespace}:deployers`;
}

/** One namespace per environment, named after it. */
export function namespaceOf(env: string): string {
  return env;
}

/** Name of a slot's Deployment, Service, HPA and PDB. */
export function slotWorkloadName(slot: Slot): string {
  return `${APP_NAME}-${slot}`;
}

/** Labels selecting the pods of one slot. */
export function slotSelector(slot: Slot): Record<string, string> {
  return { "app.kubernetes.io/name": APP_NAME, "envstack.io/slot": slot };
}
