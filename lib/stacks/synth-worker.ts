/** A synthesis worker (lib/stacks/synth-workers.ts): reads its request on stdin, prints `{ findings }`. */
import { checkApp } from "../policy/check.ts";
import type { WorkerRequest } from "./synth-workers.ts";
import { readTarget } from "./target.ts";
import { appOf, projectUnits } from "./units.ts";

let text = "";
for await (const chunk of process.stdin) text += chunk;
const request = JSON.parse(text) as WorkerRequest;
const project = { root: request.root, environmentsDir: "", environments: request.environments };
const units = projectUnits(project).filter((u) => request.units.includes(u.id));
const app = appOf(units, readTarget(request.env, request.root), request.outdir);
const findings = checkApp(app);
if (findings.length === 0) app.synth();
process.stdout.write(JSON.stringify({ findings }));
