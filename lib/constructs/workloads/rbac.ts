import { RoleBindingV1 } from "@cdktf/provider-kubernetes/lib/role-binding-v1";
import { RoleV1, type RoleV1Rule } from "@cdktf/provider-kubernetes/lib/role-v1";
import { ServiceAccountV1 } from "@cdktf/provider-kubernetes/lib/service-account-v1";
import { Construct } from "constructs";

const READ = ["get", "list", "watch"];
const WRITE = [...READ, "create", "update", "patch", "delete"];

/** What the application may read in its namespace, and nothing else. */
export const APP_READ_ONLY_RULES: readonly RoleV1Rule[] = [
  { apiGroups: [""], resources: ["pods", "services", "configmaps", "secrets"], verbs: READ },
  { apiGroups: ["apps"], resources: ["deployments", "replicasets"], verbs: READ },
];

/** What CI may change: the workload kinds of the namespace only (no RBAC, quota, policy or secret writes). */
export const DEPLOYER_RULES: readonly RoleV1Rule[] = [
  { apiGroups: ["apps"], resources: ["deployments", "deployments/scale"], verbs: WRITE },
  { apiGroups: ["apps"], resources: ["replicasets"], verbs: READ },
  { apiGroups: [""], resources: ["services", "configmaps"], verbs: WRITE },
  { apiGroups: [""], resources: ["pods", "pods/log", "events"], verbs: READ },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
];

/**
 * What envctl needs to run a slot's image as a one-off Job (migrations, the schema read,
 * lib/kube/migration-job.ts): Jobs written and deleted, their pods and logs read, the settings
 * ConfigMaps read. Nothing more than the deployer could already do with a Deployment: the Job's pod
 * runs as the app's service account under the namespace's Pod Security level.
 */
export const JOB_RUNNER_RULES: readonly RoleV1Rule[] = [
  { apiGroups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete"] },
  { apiGroups: [""], resources: ["pods", "pods/log"], verbs: READ },
  { apiGroups: [""], resources: ["configmaps"], verbs: ["get"] },
];

export interface RbacProps {
  readonly namespace: string;
  /** Name of the application's service account. */
  readonly serviceAccountName: string;
  /** Annotations of the service account (e.g. where its secrets come from). @default none */
  readonly serviceAccountAnnotations?: Record<string, string>;
  /** Kubernetes group of the CI deployer (mapped from its IAM role by an EKS access entry). */
  readonly deployerGroup: string;
  /** Labels of every object of the environment. @default none */
  readonly labels?: Record<string, string>;
  /**
   * Lets the deployer group run the slot's image as a one-off Job ({@link JOB_RUNNER_RULES}, Role
   * `envctl-jobs`): how envctl migrates the database and reads its schema on EKS. @default true
   */
  readonly jobRunner?: boolean;
}

/**
 * Namespace-scoped RBAC only (no ClusterRole, no ClusterRoleBinding):
 * - the application's ServiceAccount, bound to a read-only Role (pods, services, configmaps,
 *   secrets; deployments, replicasets: get/list/watch);
 * - a CI deployer Role, bound to the deployer group, writing the workload kinds only;
 * - the Job runner's Role (`envctl-jobs`), bound to the same group, unless `jobRunner` is false.
 */
export class Rbac extends Construct {
  readonly serviceAccount: ServiceAccountV1;
  readonly appRole: RoleV1;
  readonly deployerRole: RoleV1;
  readonly jobRunnerRole?: RoleV1;

  constructor(scope: Construct, id: string, props: RbacProps) {
    super(scope, id);
    const metadata = (name: string, annotations?: Record<string, string>) => ({
      name,
      namespace: props.namespace,
      labels: { ...props.labels },
      ...(annotations ? { annotations } : {}),
    });

    this.serviceAccount = new ServiceAccountV1(this, "app-sa", {
      metadata: metadata(props.serviceAccountName, props.serviceAccountAnnotations),
      automountServiceAccountToken: true,
    });
    this.appRole = new RoleV1(this, "app-role", {
      metadata: metadata(`${props.serviceAccountName}-read-only`),
      rule: [...APP_READ_ONLY_RULES],
    });
    new RoleBindingV1(this, "app-binding", {
      metadata: metadata(`${props.serviceAccountName}-read-only`),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.appRole.metadata.name },
      subject: [{ kind: "ServiceAccount", name: this.serviceAccount.metadata.name, namespace: props.namespace }],
    });

    this.deployerRole = new RoleV1(this, "deployer-role", {
      metadata: metadata("ci-deployer"),
      rule: [...DEPLOYER_RULES],
    });
    new RoleBindingV1(this, "deployer-binding", {
      metadata: metadata("ci-deployer"),
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.deployerRole.metadata.name },
      subject: [{ kind: "Group", name: props.deployerGroup, apiGroup: "rbac.authorization.k8s.io" }],
    });
    if (props.jobRunner ?? true) {
      this.jobRunnerRole = new RoleV1(this, "job-runner-role", {
        metadata: metadata("envctl-jobs"),
        rule: [...JOB_RUNNER_RULES],
      });
      new RoleBindingV1(this, "job-runner-binding", {
        metadata: metadata("envctl-jobs"),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: this.jobRunnerRole.metadata.name },
        subject: [{ kind: "Group", name: props.deployerGroup, apiGroup: "rbac.authorization.k8s.io" }],
      });
    }
  }
}
