/**
 * The emulator's front door: one HTTP endpoint in front of moto that passes every request through,
 * except CloudWatch calls made over the Smithy RPCv2-CBOR protocol, which it translates to the AWS
 * JSON 1.0 protocol moto serves (and the answers back). The AWS provider (Go SDK v2) speaks only
 * CBOR to CloudWatch; without this, no alarm or dashboard could be created through Terraform on the
 * emulator. Timestamps and blobs are converted as the service model (botocore's, shipped with moto)
 * types them.
 *
 * It answers the range statistics moto lacks (`TC(lo:hi)`, `PR(lo:hi)` with absolute bounds) from
 * the values pushed through it (lib/engine/metric-distributions.ts), in the CBOR and the JSON 1.0
 * protocol (the AWS SDK for JavaScript's): the canary judge counts slow requests with them. moto gets
 * pushed value lists as summary statistics (it would store every value once per count).
 *
 * It also injects faults for tests: a service marked unreachable gets its connections reset
 * (`POST /__envstack/faults {"unreachable": ["monitoring"]}`), so "CloudWatch down during a
 * rollout" runs for real. `GET /__envstack/stats` counts the translated operations.
 *
 * It is also the engine's HTTP proxy (`HTTP_PROXY`, lib/engine/local.ts localTargetEnv) for one
 * kind of request: S3 Control calls carry the account in the host name (`<account>.127.0.0.1:<port>`,
 * the AWS provider's bucket tags once it knows its account), a name nothing resolves. Go sends those
 * to the proxy in absolute form (loopback addresses it never proxies); they are served as any other.
 *
 * It runs as its own process (`tsx lib/engine/emulator-proxy.ts --target <moto> --model <file>`,
 * started by lib/engine/local.ts): in the caller's process, any spawnSync would stop it serving.
 */

import { createServer, type IncomingMessage, request, type ServerResponse } from "node:http";
import { cborDecode, cborEncode, fromJsonValue, type ServiceModel, toJsonValue } from "./cloudwatch-model.ts";

import { type Datum, isRangeStat, MetricDistributions, summarised } from "./metric-distributions.ts";

const CBOR_PATH = /^\/service\/(GraniteServiceVersion20100801)\/operation\/([A-Za-z]+)$/;

export interface EmulatorProxy {
  /** The endpoint every client uses (`http://127.0.0.1:<port>`). */
  readonly endpoint: string;
  readonly port: number;
  /** Signing names (`monitoring`, `elasticloadbalancing`, ...) whose connections are reset. */
  readonly faults: Set<string>;
  /** CloudWatch CBOR operations translated so far, by name (for tests and the demo). */
  readonly translated: Map<string, number>;
  stop(): Promise<void>;
}

/** The AWS signing name of a request (from its SigV4 credential scope), or its CBOR service. */
function serviceOf(req: IncomingMessage): string | undefined {
  const scope = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\//.exec(req.headers.authorization ?? "");
  if (scope) return scope[1];
  if (CBOR_PATH.test(req.url ?? "")) return "monitoring";
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function forward(
  target: URL,
  method: string,
  path: string,
  headers: IncomingMessage["headers"],
  body: Buffer,
): Promise<{ status: number; headers: IncomingMessage["headers"]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const out = request(
      {
        host: target.hostname,
        port: target.port,
        method,
        path,
        headers: { ...headers, host: target.host, "content-length": String(body.length) },
      },
      (res) => {
        readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject);
      },
    );
    out.on("error", reject);
    out.end(body);
  });
}

type MetricQuery = Parameters<MetricDistributions["answer"]>[0];
type GetMetricDataInput = { MetricDataQueries?: MetricQuery[]; StartTime?: number; EndTime?: number };

/**
 * A CloudWatch call in the JSON 1.0 protocol's form, as moto serves it: PutMetricData's values are
 * kept for the range statistics (and given to moto summarised), GetMetricData's range statistics are
 * answered here and the other queries by moto, their results merged.
 */
async function cloudWatchCall(
  target: URL,
  service: string,
  op: string,
  input: Record<string, unknown>,
  headers: IncomingMessage["headers"],
  distributions: MetricDistributions,
): Promise<{ status: number; headers: IncomingMessage["headers"]; json: unknown }> {
  if (op === "PutMetricData") {
    distributions.record(input);
    // moto stores a datum's Values × Counts one value at a time (a second of synthetic traffic:
    // thousands), then scans them all on every read; it gets their summary statistics instead.
    input.MetricData = summarised(input.MetricData as Datum[] | undefined);
  }
  const local: ReturnType<MetricDistributions["answer"]>[] = [];
  if (op === "GetMetricData") {
    const q = input as GetMetricDataInput;
    const mine = (x: MetricQuery) => x.MetricStat !== undefined && isRangeStat(x.MetricStat.Stat);
    for (const x of (q.MetricDataQueries ?? []).filter(mine))
      local.push(distributions.answer(x, q.StartTime ?? 0, q.EndTime ?? Date.now() / 1000));
    q.MetricDataQueries = (q.MetricDataQueries ?? []).filter((x) => !mine(x));
  }
  const forwarded = { ...headers };
  for (const h of ["content-type", "content-length", "smithy-protocol", "accept", "transfer-encoding"])
    delete forwarded[h];
  const skip = op === "GetMetricData" && (input as GetMetricDataInput).MetricDataQueries!.length === 0;
  const answer = skip
    ? {
        status: 200,
        headers: {} as IncomingMessage["headers"],
        body: Buffer.from(JSON.stringify({ MetricDataResults: [], Messages: [] })),
      }
    : await forward(
        target,
        "POST",
        "/",
        { ...forwarded, "content-type": "application/x-amz-json-1.0", "x-amz-target": `${service}.${op}` },
        Buffer.from(JSON.stringify(input)),
      );
  let json: unknown = {};
  try {
    json = answer.body.length > 0 ? JSON.parse(answer.body.toString("utf8")) : {};
  } catch {
    json = { __type: "InternalFailure", message: answer.body.toString("utf8").slice(0, 500) };
  }
  if (answer.status < 300 && local.length > 0) {
    const out = json as { MetricDataResults?: unknown[] };
    out.MetricDataResults = [...(out.MetricDataResults ?? []), ...local.filter((x) => x !== null)];
  }
  return { status: answer.status, headers: answer.headers, json };
}

async function translateCbor(
  target: URL,
  op: string,
  service: string,
  req: IncomingMessage,
  res: ServerResponse,
  model: ServiceModel,
  distributions: MetricDistributions,
): Promise<void> {
  const raw = await readBody(req);
  const input = (raw.length > 0 ? toJsonValue(cborDecode(raw)) : {}) as Record<string, unknown>;
  const answer = await cloudWatchCall(target, service, op, input, req.headers, distributions);
  const body =
    answer.status < 300 ? fromJsonValue(answer.json, model.operations[op]?.output?.shape, model) : answer.json;
  const encoded = cborEncode(body ?? {});
  const queryError = answer.headers["x-amzn-query-error"];
  res.writeHead(answer.status, {
    "content-type": "application/cbor",
    "smithy-protocol": "rpc-v2-cbor",
    "content-length": String(encoded.length),
    ...(queryError ? { "x-amzn-query-error": queryError } : {}),
    ...(answer.headers["x-amzn-requestid"] ? { "x-amzn-requestid": answer.headers["x-amzn-requestid"] } : {}),
  });
  res.end(encoded);
}

/** CloudWatch metric calls in the JSON 1.0 protocol (the AWS SDK for JavaScript's): the same handling as their CBOR form. */
const JSON_METRIC_CALL = /^(GraniteServiceVersion20100801)\.(PutMetricData|GetMetricData)$/;

async function handleJsonMetricCall(
  target: URL,
  service: string,
  op: string,
  req: IncomingMessage,
  res: ServerResponse,
  distributions: MetricDistributions,
): Promise<void> {
  const raw = await readBody(req);
  const input = (raw.length > 0 ? JSON.parse(raw.toString("utf8")) : {}) as Record<string, unknown>;
  const answer = await cloudWatchCall(target, service, op, input, req.headers, distributions);
  const body = Buffer.from(JSON.stringify(answer.json ?? {}));
  res.writeHead(answer.status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": String(body.length),
    ...(answer.headers["x-amzn-requestid"] ? { "x-amzn-requestid": answer.headers["x-amzn-requestid"] } : {}),
  });
  res.end(body);
}

/** The control API: faults to inject, and what was translated. */
function control(
  req: IncomingMessage,
  res: ServerResponse,
  faults: Set<string>,
  translated: Map<string, number>,
): void {
  const reply = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  if (req.url === "/__envstack/stats" && req.method === "GET") {
    reply(200, { translated: Object.fromEntries(translated), unreachable: [...faults] });
    return;
  }
  if (req.url === "/__envstack/faults" && req.method === "POST") {
    void readBody(req)
      .then((b) => {
        const body = JSON.parse(b.toString("utf8") || "{}") as { unreachable?: unknown };
        if (!Array.isArray(body.unreachable) || !body.unreachable.every((x) => typeof x === "string"))
          return reply(400, { error: 'expected {"unreachable": [<signing name>...]}' });
        faults.clear();
        for (const s of body.unreachable as string[]) faults.add(s);
        reply(200, { unreachable: [...faults] });
      })
      .catch((err: Error) => reply(400, { error: err.message }));
    return;
  }
  reply(404, { error: `unknown control path ${req.url}` });
}

/** Starts the proxy on 127.0.0.1 (port 0: any free port) in front of `targetEndpoint` (moto). */
export function startProxy(targetEndpoint: string, model: ServiceModel, port = 0): Promise<EmulatorProxy> {
  const target = new URL(targetEndpoint);
  const faults = new Set<string>();
  const translated = new Map<string, number>();
  const distributions = new MetricDistributions();
  const server = createServer((req, res) => {
    // A proxied request (absolute form, `http://<account>.127.0.0.1:<port>/v20180820/...`): its path is what moto serves.
    // (Not `new URL`: a host ending in an IPv4 address is no valid URL host to it.)
    if (req.url && /^https?:\/\//.test(req.url)) req.url = req.url.replace(/^https?:\/\/[^/]*/, "") || "/";
    if (req.url?.startsWith("/__envstack/")) return control(req, res, faults, translated);
    const service = serviceOf(req);
    if (service && faults.has(service)) {
      req.socket.destroy(); // connection reset: what an unreachable endpoint looks like to a client
      return;
    }
    const cbor = CBOR_PATH.exec(req.url ?? "");
    const json = JSON_METRIC_CALL.exec(String(req.headers["x-amz-target"] ?? ""));
    if (cbor) translated.set(cbor[2]!, (translated.get(cbor[2]!) ?? 0) + 1);
    const handle = cbor
      ? translateCbor(target, cbor[2]!, cbor[1]!, req, res, model, distributions)
      : json
        ? handleJsonMetricCall(target, json[1]!, json[2]!, req, res, distributions)
        : readBody(req)
            .then((body) => forward(target, req.method ?? "GET", req.url ?? "/", req.headers, body))
            .then((a) => {
              res.writeHead(a.status, a.headers);
              res.end(a.body);
            });
    handle.catch((err: Error) => {
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`emulator proxy: ${err.message}`);
    });
  });
  return new Promise((resolve, reject) => {
    server.on("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const p = (server.address() as { port: number }).port;
      resolve({
        endpoint: `http://127.0.0.1:${p}`,
        port: p,
        faults,
        translated,
        stop: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}
