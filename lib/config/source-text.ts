/**
 * Reading an environment file's source as text, before anything of it runs: the code without its
 * comments and string literals (what decides whether a file may run code at import, and whether it
 * is plain data), and whether a path lies inside a directory.
 */
import { isAbsolute, relative } from "node:path";

/** True when `path` lies inside `dir` (not `dir` itself). */
export function inside(dir: string, path: string): boolean {
  const r = relative(dir, path);
  return r !== "" && !r.startsWith("..") && !isAbsolute(r);
}

/**
 * The source with comments removed and every string literal replaced by `""`; undefined (the caller
 * then assumes the worst) when it holds a `/` outside a comment (division or a regular expression), a
 * template with `${`, or a comment or string that never closes.
 */
export function codeOf(source: string): string | undefined {
  let out = "";
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? source.length : end;
      out += "\n";
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      if (end < 0) return undefined;
      i = end + 1;
      out += " ";
    } else if (c === "/") {
      return undefined;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      for (; j < source.length && source[j] !== c; j++) {
        if (source[j] === "\\") j++;
        else if (c === "`" && source[j] === "$" && source[j + 1] === "{") return undefined;
      }
      if (j >= source.length) return undefined;
      i = j;
      out += '""';
    } else {
      out += c;
    }
  }
  return out;
}
