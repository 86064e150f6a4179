/**
 * JSON files people edit by hand (release files, previews.json): a syntax error names the line
 * and column, not V8's character offset (which some of its messages lack altogether).
 */
import { readFileSync } from "node:fs";

export type JsonResult = { readonly value: unknown } | { readonly error: string };

/** Parses `text`; on a syntax error, `error` reads e.g. `is not valid JSON: line 3, column 5: Expected ',' or '}' after property value`. */
export function parseJson(text: string): JsonResult {
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    const reported = /at position (\d+)/.exec(raw);
    const offset = reported ? Number(reported[1]) : syntaxErrorOffset(text);
    // V8's wording without its offset and without its echo of the source.
    const what = raw
      .replace(/ in JSON at position \d+.*$/s, "")
      .replace(/^(Unexpected token '.+?'), .*is not valid JSON$/s, "$1");
    if (offset === undefined) return { error: `is not valid JSON (nested too deeply to locate the error): ${what}` };
    const { line, column } = lineAndColumn(text, offset);
    return { error: `is not valid JSON: line ${line}, column ${column}: ${what}` };
  }
}

/** Reads and parses a file; an unreadable file is an error too (never a crash). */
export function readJsonFile(file: string): JsonResult {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    return {
      error: `cannot be read: ${(err as NodeJS.ErrnoException).code ?? ""} ${(err as Error).message}`.replace(
        /\s+/g,
        " ",
      ),
    };
  }
  return parseJson(text);
}

/** 1-based line and column of a character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split("\n");
  return { line: lines.length, column: lines.at(-1)!.length + 1 };
}

/**
 * Offset of the first character that cannot continue a JSON text (RFC 8259 grammar); only used
 * when V8's message has no position. Returns the text's length when the text just ends early,
 * undefined when the nesting is too deep to follow.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  let i = 0;
  class Stop extends Error {}
  const fail = (): never => {
    throw new Stop();
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const expect = (s: string) => {
    for (const ch of s) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const string = () => {
    expect('"');
    for (;;) {
      if (i >= text.length) fail();
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c < " ") fail();
      if (c === "\\") {
        i++;
        if (text[i] === "u") {
          i++;
          for (let k = 0; k < 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i] ?? "")) fail();
            i++;
          }
        } else if (text[i] !== undefined && '"\\/bfnrt'.includes(text[i]!)) i++;
        else fail();
      } else i++;
    }
  };
  const isDigit = () => i < text.length && text[i]! >= "0" && text[i]! <= "9";
  const digits = () => {
    if (!isDigit()) fail();
    while (isDigit()) i++;
  };
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else digits();
    if (text[i] === ".") {
      i++;
      digits();
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      digits();
    }
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        string();
        ws();
        expect(":");
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        expect("}");
        return;
      }
    }
    if (c === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        expect("]");
        return;
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === "t") {
      expect("true");
      return;
    }
    if (c === "f") {
      expect("false");
      return;
    }
    if (c === "n") {
      expect("null");
      return;
    }
    number();
  };
  try {
    value();
    ws();
    return i;
  } catch (err) {
    if (err instanceof Stop) return i;
    if (err instanceof RangeError) return undefined; // nesting deeper than the call stack
    throw err;
  }
}
