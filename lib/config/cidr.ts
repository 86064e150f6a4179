/** IPv4 CIDR helpers: parsing, overlap and subnet carving. Pure functions, no dependencies. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns undefined when malformed or when host bits are set. */
export function parseCidr(text: string): Cidr | undefined {
  const m = CIDR_RE.exec(text);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (base % blockSize(prefix) !== 0) return undefined;
  return { base, prefix };
}

/**
 * The one way of writing a network: `parseCidr` accepts `010.0.0.0/16` or `10.0.0.0/016`, which
 * would be copied into the Terraform JSON verbatim; the schemas accept only `formatCidr`'s form.
 */
export function isCanonicalCidr(text: string): boolean {
  const c = parseCidr(text);
  return c !== undefined && formatCidr(c) === text;
}

function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

export function formatCidr(c: Cidr): string {
  const o = [24, 16, 8, 0].map((shift) => Math.floor(c.base / 2 ** shift) % 256);
  return `${o.join(".")}/${c.prefix}`;
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const aEnd = a.base + blockSize(a.prefix);
  const bEnd = b.base + blockSize(b.prefix);
  return a.base < bEnd && b.base < aEnd;
}

/** Carves the `index`-th block of length `newPrefix` out of `parent` (like Terraform's cidrsubnet). */
export function subnetCidr(parent: string, newPrefix: number, index: number): string {
  const p = parseCidr(parent);
  if (!p) throw new Error(`invalid CIDR ${parent}`);
  const count = 2 ** (newPrefix - p.prefix);
  if (newPrefix < p.prefix || index < 0 || index >= count) {
    throw new Error(`cannot carve block ${index} of /${newPrefix} from ${parent}`);
  }
  return formatCidr({ base: p.base + index * blockSize(newPrefix), prefix: newPrefix });
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefix >= outer.prefix &&
    inner.base >= outer.base &&
    inner.base + blockSize(inner.prefix) <= outer.base + blockSize(outer.prefix)
  );
}
