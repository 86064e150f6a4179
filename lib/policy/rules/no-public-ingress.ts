import type { PolicyRule } from "../types.ts";

const ANYWHERE = new Set(["0.0.0.0/0", "::/0"]);
/** The only ports the internet may reach: the ALB's listeners. */
const PUBLIC_PORTS = new Set([80, 443]);

type Ingress = { cidr_blocks?: string[]; ipv6_cidr_blocks?: string[]; from_port?: number; to_port?: number };

function openToWorld(cidrs: unknown[], from: unknown, to: unknown): string | undefined {
  if (!cidrs.some((c) => typeof c === "string" && ANYWHERE.has(c))) return undefined;
  if (from === to && PUBLIC_PORTS.has(Number(from))) return undefined;
  return `ingress from ${cidrs.filter((c) => ANYWHERE.has(String(c))).join(", ")} on ports ${from}-${to}: only 80 and 443 may be open to the internet`;
}

export const noPublicIngress: PolicyRule = {
  id: "no-public-ingress",
  description: "No ingress from 0.0.0.0/0 or ::/0 except HTTP/HTTPS (the ALB's listeners)",
  appliesTo: ["aws_vpc_security_group_ingress_rule", "aws_security_group_rule", "aws_security_group"],
  check: (r) => {
    const c = r.config;
    if (r.type === "aws_vpc_security_group_ingress_rule") {
      return openToWorld([c.cidr_ipv4, c.cidr_ipv6], c.from_port, c.to_port);
    }
    if (r.type === "aws_security_group_rule") {
      if (c.type !== "ingress") return undefined;
      return openToWorld(
        [...((c.cidr_blocks as string[]) ?? []), ...((c.ipv6_cidr_blocks as string[]) ?? [])],
        c.from_port,
        c.to_port,
      );
    }
    for (const i of (c.ingress ?? []) as Ingress[]) {
      const why = openToWorld([...(i.cidr_blocks ?? []), ...(i.ipv6_cidr_blocks ?? [])], i.from_port, i.to_port);
      if (why) return why;
    }
    return undefined;
  },
};
