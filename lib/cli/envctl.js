#!/usr/bin/env node
// Entry point of `npx envctl`: runs the TypeScript CLI through tsx.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./envctl.ts");
process.exitCode = await main(process.argv);
