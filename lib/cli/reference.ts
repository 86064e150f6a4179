/**
 * The CLI reference, docs/reference/cli.md, generated from envctl's own commander definitions:
 * every command and subcommand with its usage, description, arguments, options and examples, and
 * the exit codes of lib/cli/exit-codes.ts (their doc comments are the meanings). `npm run docs:cli`
 * writes the file; test/cli-reference.test.ts fails when the committed file differs.
 */
import type { EventEmitter } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Command, Help } from "commander";
import { envctlProgram } from "./envctl.ts";

/** Where the reference lives, relative to the project root. */
export const CLI_REFERENCE = "docs/reference/cli.md";

/** The command that regenerates it (printed by the test when the file is stale). */
export const REGENERATE = "npm run docs:cli";

const ROOT = resolve(import.meta.dirname, "..", "..");

/** Text as Markdown shows it: `<env>` outside code spans is not an HTML tag. */
const prose = (s: string) =>
  s
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("");
/** A Markdown table cell: prose without pipes or line breaks. */
const cell = (s: string) =>
  prose(s)
    .replace(/\|/g, "\\|")
    .replace(/\s*\n\s*/g, " ");
const code = (s: string) => `\`${s.replace(/`/g, "'")}\``;

/** The exit codes with their meanings, from the doc comments of lib/cli/exit-codes.ts (the one table). */
export function exitCodes(
  source = readFileSync(join(ROOT, "lib/cli/exit-codes.ts"), "utf8"),
): { code: number; name: string; meaning: string }[] {
  const found = [...source.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(\w+): (\d+),/g)];
  return found.map(([, doc, name, n]) => ({
    code: Number(n),
    name: name!,
    meaning: doc!.replace(/\s*\n\s*\*\s*/g, " ").trim(),
  }));
}

/** The "Examples:" a command's help ends with (lib/cli/help.ts), as [command, what it does]. */
function examplesOf(cmd: Command): [string, string][] {
  let text = "";
  // commander keeps help texts as listeners of its "afterHelp" event (Command is an EventEmitter).
  (cmd as unknown as EventEmitter).emit("afterHelp", { error: false, command: cmd, write: (s: string) => (text += s) });
  return text
    .split("\n")
    .map((l) => /^\s*\$ (.*?)\s+# (.*)$/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => [m[1]!.trim(), m[2]!.trim()]);
}

/** The full command path, e.g. `envctl analysis plan`. */
function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Every visible command below `cmd`, depth first, in the order envctl registers them. */
function commandsBelow(cmd: Command, help: Help): Command[] {
  return help
    .visibleCommands(cmd)
    .filter((c) => c.name() !== "help")
    .flatMap((c) => [c, ...commandsBelow(c, c.createHelp())]);
}

/** A GitHub heading anchor for a command path. */
export const anchorOf = (path: string) =>
  path
    .toLowerCase()
    .replace(/[^a-z0-9 -]/g, "")
    .replace(/ /g, "-");

function section(cmd: Command): string[] {
  const help = cmd.createHelp();
  const path = pathOf(cmd);
  const lines = [
    `## ${path}`,
    "",
    help.commandDescription(cmd),
    "",
    "```text",
    `${path} ${cmd.usage()}`.trim(),
    "```",
    "",
  ];
  const args = help.visibleArguments(cmd);
  if (args.length > 0) {
    lines.push("| argument | meaning |", "|---|---|");
    for (const a of args) lines.push(`| ${code(help.argumentTerm(a))} | ${cell(help.argumentDescription(a))} |`);
    lines.push("");
  }
  const options = help.visibleOptions(cmd).filter((o) => o.long !== "--help");
  if (options.length > 0) {
    lines.push("| option | meaning |", "|---|---|");
    for (const o of options) lines.push(`| ${code(help.optionTerm(o))} | ${cell(help.optionDescription(o))} |`);
    lines.push("");
  }
  const subcommands = help.visibleCommands(cmd).filter((c) => c.name() !== "help");
  if (subcommands.length > 0) {
    lines.push("| subcommand | what it does |", "|---|---|");
    for (const c of subcommands)
      lines.push(`| [${cell(pathOf(c))}](#${anchorOf(pathOf(c))}) | ${cell(c.summary() || c.description())} |`);
    lines.push("");
  }
  const examples = examplesOf(cmd);
  if (examples.length > 0) {
    lines.push("Examples:", "", "```sh");
    const width = Math.max(...examples.map(([c]) => c.length));
    for (const [c, what] of examples) lines.push(`${c.padEnd(width)}  # ${what}`);
    lines.push("```", "");
  }
  return lines;
}

/** The whole reference as Markdown. */
export function cliReference(program: Command = envctlProgram().program): string {
  const help = program.createHelp();
  const commands = commandsBelow(program, help);
  const lines = [
    "# envctl: command reference",
    "",
    `<!-- Generated from envctl's commander definitions by \`${REGENERATE}\` (lib/cli/reference.ts): do not edit by hand. -->`,
    "",
    "Every command, its arguments and options, as `envctl <command> --help` prints them. What the",
    "commands are for and how a rollout runs: [Releases with envctl](../releases/envctl.md).",
    "Every command takes `-h, --help`.",
    "",
    "| command | what it does |",
    "|---|---|",
    ...commands.map(
      (c) => `| [${cell(pathOf(c))}](#${anchorOf(pathOf(c))}) | ${cell(c.summary() || c.description())} |`,
    ),
    "",
    "## Exit codes",
    "",
    "| code | name | meaning |",
    "|---:|---|---|",
    ...exitCodes().map((e) => `| ${e.code} | ${code(e.name)} | ${cell(e.meaning)} |`),
    "",
    ...section(program),
    ...commands.flatMap(section),
  ];
  return `${lines.join("\n").trimEnd()}\n`;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  writeFileSync(join(ROOT, CLI_REFERENCE), cliReference());
  process.stdout.write(`wrote ${CLI_REFERENCE}\n`);
}
