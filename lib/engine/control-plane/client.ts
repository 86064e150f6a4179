/** The HTTPS client of the local control plane's API server: one request with a component's client certificate. */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import type { ClientName, Pki } from "./pki.ts";

/** The API server's answer: the HTTP status and the body (parsed when JSON, else the text). */
export interface ApiResponse {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes API JSON, untyped on the wire
  readonly body: any;
}

/** One HTTPS request to the API server with a client certificate. */
export function apiRequest(
  server: string,
  pki: Pki,
  client: ClientName,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  const url = new URL(path, server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ca: readFileSync(pki.ca),
        cert: readFileSync(pki.clients[client].cert),
        key: readFileSync(pki.clients[client].key),
        headers: {
          accept: "application/json",
          ...(payload
            ? { "content-type": method === "PATCH" ? "application/strategic-merge-patch+json" : "application/json" }
            : {}),
        },
        timeout: 10_000,
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => {
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // plain text (healthz)
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on("error", reject);
    if (payload) req.write(payload);
    req.end();
  });
}
