/**
 * CloudWatch's service model as the emulator proxy needs it (lib/engine/emulator-proxy.ts): the
 * shapes of its calls, read from the botocore model moto ships, and the translation between the
 * SDK's CBOR protocol and moto's JSON values.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gunzipSync } from "node:zlib";
import { decode, encode, Token, Type } from "cborg";

interface Shape {
  type: string;
  members?: Record<string, { shape: string }>;
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
}

/** The parts of a botocore service model the translation needs. */
export interface ServiceModel {
  readonly operations: Record<string, { output?: { shape: string } }>;
  readonly shapes: Record<string, Shape>;
}

/** botocore's CloudWatch model from moto's virtualenv (`<venv>/bin/moto_server` → site-packages). */
export function cloudWatchModel(motoServer: string): ServiceModel {
  const lib = join(dirname(dirname(motoServer)), "lib");
  for (const py of existsSync(lib) ? readdirSync(lib) : []) {
    const dir = join(lib, py, "site-packages/botocore/data/cloudwatch");
    if (!existsSync(dir)) continue;
    const version = readdirSync(dir).sort().at(-1)!;
    const gz = join(dir, version, "service-2.json.gz");
    const text = existsSync(gz)
      ? gunzipSync(readFileSync(gz)).toString("utf8")
      : readFileSync(join(dir, version, "service-2.json"), "utf8");
    return JSON.parse(text) as ServiceModel;
  }
  throw new Error(`no botocore CloudWatch model under ${lib}: is moto installed there? (npm run setup:engine)`);
}

/** CBOR as Smithy RPCv2 uses it: maps as objects, timestamps as tag 1 (epoch seconds), blobs as byte strings. */
export const cborDecode = (bytes: Uint8Array): unknown =>
  decode(bytes, { tags: { 1: (content: () => number) => new Date(content() * 1000) } as never });
export const cborEncode = (value: unknown): Uint8Array =>
  encode(value, {
    typeEncoders: { Date: (d: Date) => [new Token(Type.tag, 1), new Token(Type.float, d.getTime() / 1000)] },
  });

/** CBOR-decoded input → JSON protocol input: dates as epoch seconds, bytes as base64. */
export function toJsonValue(v: unknown): unknown {
  if (v instanceof Date) return v.getTime() / 1000;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v instanceof Map) return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), toJsonValue(x)]));
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJsonValue(x)]));
  return v;
}

/** JSON protocol output → CBOR output, typed by the model: timestamps become tag-1 dates, blobs bytes. */
export function fromJsonValue(v: unknown, shapeName: string | undefined, model: ServiceModel): unknown {
  const shape = shapeName ? model.shapes[shapeName] : undefined;
  if (v === null || v === undefined || !shape) return v;
  switch (shape.type) {
    case "timestamp":
      return typeof v === "number"
        ? new Date(v * 1000)
        : typeof v === "string"
          ? new Date(/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : v)
          : v;
    case "blob":
      return typeof v === "string" ? new Uint8Array(Buffer.from(v, "base64")) : v;
    case "list":
      return Array.isArray(v) ? v.map((x) => fromJsonValue(x, shape.member?.shape, model)) : v;
    case "map":
      return typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v as object).map(([k, x]) => [k, fromJsonValue(x, shape.value?.shape, model)]),
          )
        : v;
    case "structure":
      return typeof v === "object"
        ? Object.fromEntries(
            Object.entries(v as object).map(([k, x]) => [k, fromJsonValue(x, shape.members?.[k]?.shape, model)]),
          )
        : v;
    default:
      return v;
  }
}
