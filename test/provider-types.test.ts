/**
 * The trimmed AWS provider of the local engine serves what the stacks use, and a stack using a
 * type it lacks is refused before the engine starts.
 */
import { describe, expect, it } from "vitest";
import { readManifest } from "../lib/engine/local.ts";
import { readTypesFile, typesOfStack, unservedMessage, unservedTypes } from "../lib/engine/provider-types.ts";
import { projectAwsTypes } from "../lib/stacks/engine-types.ts";
import { REPO } from "./support/project.ts";

describe("the trimmed AWS provider's type list", () => {
  it("is exactly the AWS types every environment synthesizes, for AWS and for the emulator", async () => {
    const synthesized = await projectAwsTypes(REPO);
    expect(synthesized.length).toBeGreaterThan(40);
    // When this fails: `npm run engine:types`, commit the file; the next setup rebuilds the provider.
    expect(readTypesFile()).toEqual(synthesized);
  });

  it("is served by the engine npm test built (setup rebuilds the provider when the list changes)", () => {
    const m = readManifest();
    expect(m.awsProvider, "the engine manifest records which AWS provider build it uses").toBeDefined();
    if (m.awsProvider!.build === "full") return; // every type of the provider
    const served = new Set(m.awsProvider!.servedTypes);
    expect(readTypesFile().filter((t) => !served.has(t))).toEqual([]);
    expect(m.awsProvider!.servicePackages).toEqual(
      expect.arrayContaining(["ec2", "elbv2", "rds", "elasticache", "eks", "iam", "s3"]),
    );
    // trimmed means trimmed: none of the ~250 other service packages
    expect(m.awsProvider!.servicePackages!.length).toBeLessThan(40);
    expect(served.has("aws_sagemaker_domain")).toBe(false);
  });
});

describe("a stack using a type the trimmed build lacks", () => {
  const stack = {
    resource: {
      aws_vpc: { v: {} },
      aws_sagemaker_domain: { d: {} },
      terraform_data: { t: {} },
      kubernetes_namespace_v1: { n: {} },
    },
    data: { aws_region: { r: {} } },
  };
  const trimmed = { build: "trimmed" as const, servedTypes: ["aws_vpc", "aws_region"] };

  it("lists its resource and data types", () => {
    expect(typesOfStack(stack)).toEqual([
      "aws_region",
      "aws_sagemaker_domain",
      "aws_vpc",
      "kubernetes_namespace_v1",
      "terraform_data",
    ]);
  });

  it("is refused naming the missing AWS types only (other providers' types are not the AWS build's concern)", () => {
    expect(unservedTypes(stack, trimmed)).toEqual(["aws_sagemaker_domain"]);
    expect(unservedMessage("qa", ["aws_sagemaker_domain"])).toMatch(
      /stack qa uses aws_sagemaker_domain.*npm run engine:types.*ENVSTACK_AWS_PROVIDER=full/,
    );
  });

  it("passes with the full build, or when every type is served", () => {
    expect(unservedTypes(stack, { build: "full" })).toEqual([]);
    expect(
      unservedTypes(stack, { ...trimmed, servedTypes: ["aws_vpc", "aws_region", "aws_sagemaker_domain"] }),
    ).toEqual([]);
  });
});
