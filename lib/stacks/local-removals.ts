/**
 * The emulator profile's removals (lib/stacks/local-gaps.ts lists the gaps): resources moto cannot
 * serve leave the local stacks, and every reference to them reads a stand-in value instead.
 */
import {
  DefaultTokenResolver,
  type IAspect,
  StringConcat,
  TerraformElement,
  TerraformResource,
  TerraformStack,
  Tokenization,
} from "cdktf";
import type { IConstruct } from "constructs";
import type { EmulatorGap } from "./local-gaps.ts";

/** Resolves tokens the way cdktf does when it writes the JSON (references become `${type.name.attr}`). */
// biome-ignore lint/suspicious/noExplicitAny: Terraform JSON, untyped
export function resolveIn(scope: IConstruct, value: unknown): any {
  return Tokenization.resolve(value, {
    scope,
    preparing: false,
    resolver: new DefaultTokenResolver(new StringConcat()),
  });
}

export function remove(node: IConstruct): void {
  node.node.scope?.node.tryRemoveChild(node.node.id);
}

/** Values references to a removed resource read instead, per type and attribute. */
type StandIns = (config: Record<string, unknown>) => Record<string, string>;

/** A removed type: the gap, the stand-in values, and (when only some go) which resources of the type. */
interface Removal {
  readonly gap: EmulatorGap;
  readonly standIns: StandIns;
  readonly only?: (config: Record<string, unknown>) => boolean;
}

const REMOVED: Record<string, Removal> = {
  aws_eks_addon: {
    gap: "eksAddons",
    standIns: (c) => ({ id: `${c.cluster_name}:${c.addon_name}`, addon_name: String(c.addon_name), addon_version: "" }),
  },
  aws_eks_pod_identity_association: {
    gap: "eksAddons",
    standIns: (c) => ({ id: "", association_id: "", association_arn: "", role_arn: String(c.role_arn) }),
  },
  aws_eks_access_entry: {
    gap: "eksAddons",
    standIns: (c) => ({ id: "", principal_arn: String(c.principal_arn), access_entry_arn: "" }),
  },
  aws_autoscaling_attachment: {
    gap: "eksNodeGroupAsg",
    standIns: () => ({}),
    only: (c) => String(c.autoscaling_group_name).includes("aws_eks_node_group."),
  },
};

/** The configuration of one element inside its own `toTerraform()` JSON (resource, data source or output). */
// biome-ignore lint/suspicious/noExplicitAny: Terraform JSON, untyped
function ownConfig(json: Record<string, any>): Record<string, unknown> | undefined {
  for (const kind of ["resource", "data"]) {
    const byType = json[kind] as Record<string, Record<string, Record<string, unknown>>> | undefined;
    if (byType) return Object.values(Object.values(byType)[0] ?? {})[0];
  }
  if (json.output) return Object.values(json.output as Record<string, Record<string, unknown>>)[0];
  return undefined;
}

function rewriteStrings(value: unknown, f: (s: string) => string): unknown {
  if (typeof value === "string") return f(value);
  if (Array.isArray(value)) return value.map((v) => rewriteStrings(v, f));
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewriteStrings(v, f)]));
  return value;
}

/**
 * Gaps `eksAddons` and `eksNodeGroupAsg`: the resources
 * leave the stack, and every reference to them elsewhere in it (arguments, outputs, including
 * cross-stack outputs) reads its stand-in value; `depends_on` entries naming them go.
 */
export class WithoutUnsupportedResources implements IAspect {
  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const stack = node;
    const candidates = stack.node
      .findAll()
      .filter(
        (n): n is TerraformResource =>
          TerraformResource.isTerraformResource(n) && REMOVED[n.terraformResourceType] !== undefined,
      );
    const standIns = new Map<string, Record<string, string>>();
    for (const v of candidates) {
      const removal = REMOVED[v.terraformResourceType]!;
      const config = ownConfig(resolveIn(stack, v.toTerraform())) ?? {};
      if (removal.only && !removal.only(config)) continue;
      standIns.set(`${v.terraformResourceType}.${v.friendlyUniqueId}`, removal.standIns(config));
      remove(v);
    }
    if (standIns.size === 0) return;
    const reference = /\$\{([a-z0-9_]+\.[A-Za-z0-9_-]+)\.([a-z0-9_]+)\}/g;
    const substitute = (s: string) =>
      s.replace(reference, (whole, address: string, attr: string) => {
        const values = standIns.get(address);
        if (!values) return whole;
        if (values[attr] === undefined)
          throw new Error(`emulator profile: no stand-in for ${address}.${attr} (lib/stacks/local-gaps.ts)`);
        return values[attr]!;
      });
    const mentions = (text: string) =>
      [...standIns.keys()].some((a) => text.includes(`${a}.`) || text.includes(`"${a}"`));

    for (const el of stack.node.findAll().filter(TerraformElement.isTerraformElement)) {
      // biome-ignore lint/suspicious/noExplicitAny: Terraform JSON, untyped
      const json = resolveIn(stack, el.toTerraform()) as Record<string, any>;
      if (!mentions(JSON.stringify(json))) continue;
      const config = ownConfig(json);
      if (!config)
        throw new Error(
          `emulator profile: ${el.node.path} refers to a resource the emulator lacks and cannot be rewritten`,
        );
      for (const [key, value] of Object.entries(config)) {
        if (key === "//" || !mentions(JSON.stringify(value))) continue;
        if (key === "depends_on" && Array.isArray(value)) {
          // Replaced, not overridden: an override of a list is appended to the list it overrides.
          const kept = value.filter((d) => !standIns.has(String(d))).map(String);
          if (TerraformResource.isTerraformResource(el)) el.dependsOn = kept;
          else el.addOverride(key, kept);
          continue;
        }
        const rewritten = rewriteStrings(value, substitute);
        if (mentions(JSON.stringify(rewritten)))
          throw new Error(`emulator profile: ${el.node.path}.${key} keeps a reference the emulator cannot serve`);
        el.addOverride(key, rewritten);
      }
    }
  }
}
