/**
 * `npm run kube`: the local Kubernetes control plane by hand, in `.envstack/kube/` of the project
 * (where the local target's workloads stacks look for its kubeconfig), until Ctrl-C. Then, in
 * another terminal, `KUBECONFIG=.envstack/kube/admin.kubeconfig kubectl get nodes` or an
 * ENVSTACK_TARGET=local deploy of an EKS environment's workloads stack reaches it.
 */
import { rmSync } from "node:fs";
import { resolve } from "node:path";
import { LOCAL_KUBE_DIR, startControlPlane } from "./control-plane.ts";
import { controlPlaneBinaries, readManifest } from "./local.ts";

const dir = resolve(import.meta.dirname, "../..", LOCAL_KUBE_DIR);
// A fresh cluster each time: its PKI, etcd and kubeconfig belong to one run.
rmSync(dir, { recursive: true, force: true });
const plane = await startControlPlane(controlPlaneBinaries(readManifest()), {
  dir,
  say: (line) => console.log(`[kube] ${line}`),
});
console.log(`[kube] ready: export KUBECONFIG=${plane.kubeconfig}   (logs in ${plane.dir}/logs; Ctrl-C stops it)`);
const stop = async () => {
  await plane.stop();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
