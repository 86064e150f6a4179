import { DeploymentV1 } from "@cdktf/provider-kubernetes/lib/deployment-v1";
import { ServiceV1 } from "@cdktf/provider-kubernetes/lib/service-v1";
import { Construct } from "constructs";
import type { Slot } from "../../config/schema.ts";
import { skipCheck } from "../../policy/checkov-skip.ts";
import { imageReference } from "../image.ts";
import { ReplaceTrigger } from "../replace-trigger.ts";
import { APP_UID, slotSelector, slotWorkloadName } from "./names.ts";
import type { ResourceList } from "./quota.ts";

/** Image tag of an empty slot's (0-replica) Deployment; it never runs. Same word as the EC2 `Version` tag. */
export const EMPTY_SLOT_TAG = "none";
export { APP_UID } from "./names.ts";

export interface SlotDeploymentProps {
  readonly namespace: string;
  readonly slot: Slot;
  /** Image repository; the slot runs `<repository>:<version>`. */
  readonly imageRepository: string;
  /** Image tag of the slot; `null` leaves the slot empty (0 replicas). */
  readonly version: string | null;
  /**
   * Image digest of that version (`sha256:…`): the pods run `<repository>@<digest>` and pull it
   * only when the node lacks it; without, they run `<repository>:<version>` and pull it on every
   * start (a tag may move). @default none
   */
  readonly digest?: string;
  /** Replicas of a populated slot (with an autoscaler: its initial count and minimum). */
  readonly replicas: number;
  readonly appPort: number;
  /** Path of the readiness and liveness probes (the ALB health check's path). */
  readonly healthCheckPath: string;
  /** NodePort of the slot's Service: where the slot's ALB target group sends traffic. */
  readonly nodePort: number;
  /** Requests and limits of the container. */
  readonly resources: { readonly requests: ResourceList; readonly limits: ResourceList };
  /** Service account of the pods. */
  readonly serviceAccountName: string;
  /** ConfigMap loaded as environment variables. */
  readonly configMapName: string;
  /**
   * The slot's own application settings: a ConfigMap named by their checksum, loaded after
   * `configMapName`; the checksum is in the pod template, so a change rolls the slot's pods.
   * @default none
   */
  readonly settings?: { readonly configMapName: string; readonly checksum: string };
  /**
   * A HorizontalPodAutoscaler owns the replica count of the populated slot: Terraform ignores
   * it, and replaces the Deployment when the slot is emptied or filled (the only moments it
   * must set the count; the slot carries no traffic then). @default false
   */
  readonly replicasManagedByAutoscaler?: boolean;
  /** Annotations of the pods (e.g. the database secret ARN for a secrets driver). @default none */
  readonly podAnnotations?: Record<string, string>;
  /** Labels of every object of the environment. @default none */
  readonly labels?: Record<string, string>;
  /** Writable scratch space mounted at /tmp (the root filesystem is read-only). @default "64Mi" */
  readonly tmpSize?: string;
}

/**
 * One slot: a Deployment running `<repository>:<version>` (0 replicas when the slot is empty)
 * under the restricted pod security profile — non-root uid 1001, no privilege escalation, all
 * capabilities dropped, read-only root filesystem, RuntimeDefault seccomp — with requests and
 * limits, readiness and liveness probes on the health path, and a NodePort Service at the
 * slot's NodePort.
 */
export class SlotDeployment extends Construct {
  readonly deployment: DeploymentV1;
  readonly service: ServiceV1;

  constructor(scope: Construct, id: string, props: SlotDeploymentProps) {
    super(scope, id);
    const name = slotWorkloadName(props.slot);
    const selector = slotSelector(props.slot);
    const populated = props.version !== null;
    const tag = props.version ?? EMPTY_SLOT_TAG;
    const uid = String(APP_UID);
    const port = String(props.appPort);
    const probe = (initialDelaySeconds: number, periodSeconds: number) => ({
      httpGet: { path: props.healthCheckPath, port },
      initialDelaySeconds,
      periodSeconds,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });

    let lifecycle: DeploymentV1["lifecycle"];
    if (props.replicasManagedByAutoscaler) {
      const state = new ReplaceTrigger(this, "replicas-owner", { triggers: { populated } });
      // A plain address: in JSON configuration the engine parses these strings as bare references.
      lifecycle = { ignoreChanges: ["spec[0].replicas"], replaceTriggeredBy: [state.address] };
    }

    this.deployment = new DeploymentV1(this, "deployment", {
      metadata: { name, namespace: props.namespace, labels: { ...props.labels, ...selector } },
      spec: {
        replicas: String(populated ? props.replicas : 0),
        selector: { matchLabels: selector },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: "1", maxUnavailable: "0" } },
        template: {
          metadata: {
            labels: { ...props.labels, ...selector, "app.kubernetes.io/version": tag },
            ...(props.podAnnotations ? { annotations: props.podAnnotations } : {}),
          },
          spec: {
            serviceAccountName: props.serviceAccountName,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: uid,
              runAsGroup: uid,
              fsGroup: uid,
              seccompProfile: { type: "RuntimeDefault" },
            },
            topologySpreadConstraint: [
              {
                maxSkew: 1,
                topologyKey: "topology.kubernetes.io/zone",
                whenUnsatisfiable: "ScheduleAnyway",
                labelSelector: [{ matchLabels: selector }],
              },
            ],
            container: [
              {
                name: "app",
                image: imageReference(props.imageRepository, tag, props.digest),
                imagePullPolicy: props.digest ? "IfNotPresent" : "Always",
                port: [{ name: "http", containerPort: props.appPort, protocol: "TCP" }],
                envFrom: [
                  { configMapRef: { name: props.configMapName } },
                  ...(props.settings ? [{ configMapRef: { name: props.settings.configMapName } }] : []),
                ],
                env: [
                  { name: "APP_SLOT", value: props.slot },
                  { name: "APP_VERSION", value: tag },
                  ...(props.settings ? [{ name: "APP_SETTINGS_CHECKSUM", value: props.settings.checksum }] : []),
                ],
                resources: {
                  requests: { cpu: props.resources.requests.cpu, memory: props.resources.requests.memory },
                  limits: { cpu: props.resources.limits.cpu, memory: props.resources.limits.memory },
                },
                readinessProbe: probe(5, 10),
                livenessProbe: probe(15, 20),
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: uid,
                  allowPrivilegeEscalation: false,
                  privileged: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                  seccompProfile: { type: "RuntimeDefault" },
                },
                volumeMount: [{ name: "tmp", mountPath: "/tmp" }],
              },
            ],
            volume: [{ name: "tmp", emptyDir: { sizeLimit: props.tmpSize ?? "64Mi" } }],
          },
        },
      },
      lifecycle,
    });
    if (props.digest) {
      skipCheck(
        this.deployment,
        "CKV_K8S_15",
        "pinned by digest: an image already on the node is the same image, so it is pulled only when missing",
      );
    } else {
      skipCheck(
        this.deployment,
        "CKV_K8S_43",
        populated
          ? "the release file has no digest for this version: pinned by tag and pulled on every pod start (imagePullPolicy Always)"
          : "empty slot: 0 replicas, no image ever runs",
      );
    }

    this.service = new ServiceV1(this, "service", {
      metadata: { name, namespace: props.namespace, labels: { ...props.labels, ...selector } },
      spec: {
        type: "NodePort",
        selector,
        externalTrafficPolicy: "Cluster",
        port: [{ name: "http", protocol: "TCP", port: props.appPort, targetPort: port, nodePort: props.nodePort }],
      },
    });
  }
}
