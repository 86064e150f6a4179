// scratch: keeps an emulator with dev + dev-traffic deployed, writes its env to /work/scratch/env.json
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { playground, run, useShortWindows } from "./lib/demo/demo.ts";
import { engineEnv, localTargetEnv, readManifest, startEmulator } from "./lib/engine/local.ts";
const manifest = readManifest();
const emulator = await startEmulator(manifest);
const dir = playground();
useShortWindows(dir, "http://127.0.0.1:9");
const env = localTargetEnv(emulator.endpoint, engineEnv(manifest, { ...process.env, CI: "1" }));
const cdktf = join(import.meta.dirname, "node_modules/.bin/cdktf");
const out = process.stderr;
await run(cdktf, ["deploy", "bootstrap", "--auto-approve", "--skip-provider-lock"], dir, { ...env, ENVSTACK_BACKEND: "local" }, out);
await run(cdktf, ["deploy", "dev", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"], dir, env, out);
await run(cdktf, ["deploy", "dev-traffic", "--auto-approve", "--skip-provider-lock", "--ignore-missing-stack-dependencies"], dir, env, out);
writeFileSync("/work/scratch/env.json", JSON.stringify({ dir, env }));
console.log("READY", dir);
await new Promise(() => undefined);
