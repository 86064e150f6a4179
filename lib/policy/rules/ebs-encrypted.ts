import { isTrue, type PolicyRule } from "../types.ts";

type Mapping = { device_name?: string; ebs?: { encrypted?: unknown } | { encrypted?: unknown }[] };

export const ebsEncrypted: PolicyRule = {
  id: "ebs-encrypted",
  description: "EBS volumes (standalone and in launch templates) are encrypted",
  appliesTo: ["aws_ebs_volume", "aws_launch_template"],
  check: (r) => {
    if (r.type === "aws_ebs_volume") return isTrue(r.config.encrypted) ? undefined : "encrypted must be true";
    const mappings = (r.config.block_device_mappings ?? []) as Mapping[];
    if (mappings.length === 0) return "block_device_mappings must declare the root volume with encrypted = true";
    const bad = mappings.filter((m) => {
      const ebs = Array.isArray(m.ebs) ? m.ebs[0] : m.ebs;
      return !ebs || !isTrue(ebs.encrypted);
    });
    return bad.length ? `ebs.encrypted must be true for ${bad.map((m) => m.device_name ?? "?").join(", ")}` : undefined;
  },
};
