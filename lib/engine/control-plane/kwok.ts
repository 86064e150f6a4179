/**
 * kwok's configuration in the local control plane: how simulated pods move through their lives
 * (Stage resources) and what their logs say (ClusterLogs), served to the API server's `pods/log`
 * from kwok's own kubelet endpoint.
 *
 * Pods: kwok's own default stages (v0.7.0's `kustomize/stage/pod/fast`: ready, delete), and, in
 * place of its default `pod-complete` (every Job's pod Succeeded at once), these rules for a Job's
 * pod. They are **test-only rules of the emulator** (no container runs here: what a pod "did" is
 * read from its spec), never something a construct or envctl relies on:
 *
 * - a container whose command and arguments (joined by spaces) end in `exit N` (N > 0) fails with
 *   exit code N: the pod ends `Failed`, the container `terminated` with reason `Error`;
 * - one whose command holds `sleep infinity` never ends (its Job's deadline does);
 * - any other ends `Succeeded`, exit code 0;
 * - each after {@link JOB_POD_RUN_MS} of running, so a follower sees it run.
 *
 * Logs: a container named `migrate` serves `<logs>/migrate.log`, one named `schema` serves
 * `<logs>/schema.log`, any other `<logs>/other.log` (each in the CRI log format:
 * {@link criLogLines}); a test writes them to play what the command printed.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** How long a simulated Job pod runs before it ends. */
export const JOB_POD_RUN_MS = 1500;

/** The containers whose logs are files of their own. */
export const SIMULATED_LOG_CONTAINERS = ["migrate", "schema"] as const;

/** A Job's pod, not being deleted, running. */
const RUNNING_JOB_POD = `
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values: ['Job']`;

/** jq over the pod: its first container's command and arguments, joined. */
const COMMAND = `([.spec.containers[0].command[]?, .spec.containers[0].args[]?] | join(" "))`;
const FAILS = `${COMMAND} | test("exit [1-9][0-9]*$")`;
const NEVER_ENDS = `${COMMAND} | test("sleep infinity")`;

/** The terminated state of every container: `code` a Go-template expression. */
const terminated = (code: string, reason: string, phase: string) => `
    statusTemplate: |
      {{ $now := Now }}
      {{ $code := ${code} }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: {{ $code }}
            finishedAt: {{ $now | Quote }}
            reason: ${reason}
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: ${phase}`;

const stage = (name: string, extra: string, next: string) => `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: ${name}
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:${RUNNING_JOB_POD}${extra}
  delay:
    durationMilliseconds: ${JOB_POD_RUN_MS}
  next:${next}
`;

const POD_IP_ARGS = `( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" )`;

/** kwok v0.7.0's default `pod-ready` stage (kustomize/stage/pod/fast/pod-ready.yaml), unchanged. */
const POD_READY = `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.podIP'
      operator: 'DoesNotExist'
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      {{ range .spec.readinessGates }}
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: {{ .conditionType | Quote }}
      {{ end }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      initContainerStatuses:
      {{ range .spec.initContainers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        {{ if eq .restartPolicy "Always" }}
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}
        {{ else }}
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
        {{ end }}
      {{ end }}
      hostIP: {{ NodeIPWith .spec.nodeName | Quote }}
      podIP: {{ PodIPWith .spec.nodeName ( or .spec.hostNetwork false ) ${POD_IP_ARGS} | Quote }}
      phase: Running
      startTime: {{ $now | Quote }}
`;

/** kwok v0.7.0's default `pod-delete` stage (kustomize/stage/pod/fast/pod-delete.yaml), unchanged. */
const POD_DELETE = `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef:
    apiGroup: v1
    kind: Pod
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    finalizers:
      empty: true
    delete: true
`;

/** The pod stages, as kwok's `--config` takes them (YAML documents). */
export function kwokPodStages(): string {
  const first = "(index .spec.containers 0)";
  const exitCode = `regexFind "[0-9]+$" (join " " (concat (default list ${first}.command) (default list ${first}.args))) | atoi`;
  return [
    POD_READY,
    POD_DELETE,
    stage(
      "job-pod-succeed",
      `
    - key: '(${FAILS}) or (${NEVER_ENDS})'
      operator: 'NotIn'
      values: ['true']`,
      terminated("0", "Completed", "Succeeded"),
    ),
    stage(
      "job-pod-fail",
      `
    - key: '${FAILS}'
      operator: 'In'
      values: ['true']`,
      terminated(exitCode, "Error", "Failed"),
    ),
  ].join("");
}

/** What the simulated containers' logs say: one ClusterLogs for every pod kwok manages. */
export function kwokClusterLogs(logs: string): string {
  const entries = [
    ...SIMULATED_LOG_CONTAINERS.map((c) => `  - containers: ['${c}']\n    logsFile: '${join(logs, `${c}.log`)}'\n`),
    `  - logsFile: '${join(logs, "other.log")}'\n`,
  ];
  return `---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: ClusterLogs
metadata:
  name: simulated-logs
spec:
  selector: {}
  logs:
${entries.join("")}`;
}

/** Lines in the CRI log format kwok serves (`<RFC 3339 time> stdout F <text>`). */
export function criLogLines(lines: readonly string[], at = new Date()): string {
  return lines.map((l) => `${at.toISOString()} stdout F ${l}\n`).join("");
}

/** Writes kwok's configuration and the (empty) log files into `dir`; returns the config file and the logs directory. */
export function writeKwokConfig(dir: string): { config: string; logs: string } {
  const logs = join(dir, "kwok-logs");
  mkdirSync(logs, { recursive: true });
  for (const c of [...SIMULATED_LOG_CONTAINERS, "other"]) writeFileSync(join(logs, `${c}.log`), "");
  const config = join(dir, "kwok.yaml");
  writeFileSync(config, kwokPodStages() + kwokClusterLogs(logs));
  return { config, logs };
}
