/** A synthesis worker (lib/stacks/synth-workers.ts): reads its request on stdin, prints each batch's `{ findings }`. */
import { checkApp } from "../policy/check.ts";
import type { Finding } from "../policy/types.ts";
import type { WorkerRequest } from "./synth-workers.ts";
import { readTarget } from "./target.ts";
import { appOf, projectUnits } from "./units.ts";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const request = JSON.parse(text) as WorkerRequest;
const project = { root: request.root, environmentsDir: "", environments: request.environments };
const all = projectUnits(project);
const target = readTarget(request.env, request.root);
const findings: Finding[][] = [];
for (const batch of request.batches) {
  const app = appOf(
    all.filter((u) => batch.units.includes(u.id)),
    target,
    batch.outdir,
  );
  const found = checkApp(app);
  if (found.length === 0) app.synth();
  findings.push(found);
}
process.stdout.write(JSON.stringify({ findings }));
