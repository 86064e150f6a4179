/** Reading a secret value without it ever being an argument or appearing on the screen. */
import { UserError } from "./report.ts";

/** All of stdin when it is piped (one trailing newline dropped); else a hidden prompt, asked twice. */
export async function readSecretInput(
  prompt: string,
  stdin: NodeJS.ReadStream = process.stdin,
  echo: NodeJS.WritableStream = process.stderr,
): Promise<string> {
  if (!stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks)
      .toString("utf8")
      .replace(/\r?\n$/, "");
  }
  const first = await hidden(prompt, stdin, echo);
  const again = await hidden("again, to confirm: ", stdin, echo);
  if (first !== again) throw new UserError("the two entries differ: nothing written");
  return first;
}

/** One line from the terminal in raw mode, nothing echoed; Ctrl-C cancels. */
function hidden(prompt: string, stdin: NodeJS.ReadStream, echo: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    echo.write(prompt);
    let value = "";
    const done = (result: () => void) => {
      stdin.off("data", onData);
      stdin.setRawMode(false);
      stdin.pause();
      echo.write("\n");
      result();
    };
    const onData = (data: string) => {
      for (const ch of data) {
        if (ch === "\r" || ch === "\n") return done(() => resolve(value));
        if (ch === "\u0003" || ch === "\u0004") return done(() => reject(new UserError("cancelled, nothing written")));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.setEncoding("utf8");
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}
