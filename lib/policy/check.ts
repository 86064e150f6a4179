import type { App } from "cdktf";
import { TerraformStack } from "cdktf";
import { RULES } from "./rules/index.ts";
import type { Finding, PolicyRule, ResourceView } from "./types.ts";

type StackJson = {
  provider?: Record<string, { default_tags?: { tags?: Record<string, string> }[] }[]>;
  resource?: Record<string, Record<string, Record<string, unknown>>>;
};

const REF = /\$\{[^}]*?\b((?:aws|kubernetes)_[a-z0-9_]+)\.([A-Za-z0-9_-]+)/g;

/** Views of every resource (and of the AWS provider) of one synthesized stack. */
export function resourceViews(stack: string, json: StackJson): ResourceView[] {
  const defaultTags = json.provider?.aws?.[0]?.default_tags?.[0]?.tags ?? {};
  const entries = Object.entries(json.resource ?? {}).flatMap(([type, byName]) =>
    Object.entries(byName).map(([name, config]) => ({ type, name, config })),
  );

  const referencedBy = new Map<string, Set<string>>();
  for (const { type, config } of entries) {
    for (const m of JSON.stringify(config).matchAll(REF)) {
      const target = `${m[1]}.${m[2]}`;
      if (!referencedBy.has(target)) referencedBy.set(target, new Set());
      referencedBy.get(target)!.add(type);
    }
  }

  const views: ResourceView[] = entries.map(({ type, name, config }) => {
    const address = `${type}.${name}`;
    const meta = (config["//"] as { metadata?: { path?: string } } | undefined)?.metadata;
    const ownTags =
      typeof config.tags === "object" && config.tags !== null ? (config.tags as Record<string, string>) : {};
    return {
      stack,
      type,
      address,
      path: meta?.path ?? address,
      config,
      tags: { ...defaultTags, ...ownTags },
      referencedBy: [...(referencedBy.get(address) ?? [])].sort(),
    };
  });
  for (const [i, provider] of (json.provider?.aws ?? []).entries()) {
    views.push({
      stack,
      type: "provider.aws",
      address: `provider.aws[${i}]`,
      path: `${stack}/provider/aws`,
      config: provider,
      tags: provider.default_tags?.[0]?.tags ?? {},
      referencedBy: [],
    });
  }
  return views;
}

/** Runs the rules over one synthesized stack. */
export function checkStack(stack: string, json: StackJson, rules: readonly PolicyRule[] = RULES): Finding[] {
  return resourceViews(stack, json).flatMap((r) =>
    rules
      .filter(
        (rule) => rule.appliesTo.includes(r.type) || (rule.appliesTo.includes("*") && !r.type.startsWith("provider.")),
      )
      .flatMap((rule) => {
        const message = rule.check(r);
        return message === undefined ? [] : [{ stack, address: r.address, path: r.path, rule: rule.id, message }];
      }),
  );
}

/** Runs the rules over every stack of an app, before anything is written. */
export function checkApp(app: App, rules: readonly PolicyRule[] = RULES): Finding[] {
  const stacks = app.node.findAll().filter(TerraformStack.isStack);
  stacks.forEach((s) => {
    s.prepareStack();
  });
  return stacks.flatMap((s) => checkStack(s.node.id, s.toTerraform() as StackJson, rules));
}

export function formatFinding(f: Finding): string {
  return `${f.stack}: ${f.path} (${f.address}) breaks ${f.rule}: ${f.message}`;
}
