import { beforeAll, describe, expect, it } from "vitest";
import dev from "../environments/dev.ts";
import production from "../environments/production.ts";
import staging from "../environments/staging.ts";
import { checkEnvironments } from "../lib/config/rules.ts";
import { EnvironmentSchema } from "../lib/config/schema.ts";
import { NODE_PORTS } from "../lib/constructs/compute-eks.ts";
import { databaseSubnetCidrs } from "../lib/constructs/workloads/network-policies.ts";
import { checkStack } from "../lib/policy/check.ts";
import { stacksForPromotion, trafficStack } from "../lib/release/release-stacks.ts";
import { trafficStackName } from "../lib/stacks/traffic-stack.ts";
import { defaultQuota, workloadsStackName } from "../lib/stacks/workloads-stack.ts";
import { onlyResource, resources, type Synthesized, synthRepo } from "./support/project.ts";

let s: Synthesized;
beforeAll(async () => {
  s = await synthRepo();
});

/** The expectations per EKS tier (environments/staging.ts, environments/production.ts). */
const tiers = {
  staging: {
    azs: 2,
    publicCidrs: undefined as string[] | undefined,
    nodeGroups: { "staging-general": { types: ["t3.medium"], capacity: "ON_DEMAND", size: [1, 2, 5] } },
    replicas: 2,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    production: false,
  },
  production: {
    azs: 3,
    publicCidrs: undefined,
    nodeGroups: {
      "production-general": { types: ["m5.large"], capacity: "ON_DEMAND", size: [3, 3, 10] },
      "production-spot": { types: ["m5.large", "m5a.large", "m4.large"], capacity: "SPOT", size: [0, 2, 5] },
    },
    replicas: 3,
    resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { cpu: "1", memory: "1Gi" } },
    production: true,
  },
} as const;

const ref = (type: string) => new RegExp(`^\\$\\{${type}\\.`);
/** Every synthesized object of a stack as one string: for "appears nowhere" checks. */
const text = (name: string) => s.text[name]!;

describe.each(Object.entries(tiers))("%s on EKS: the infrastructure stack", (env, t) => {
  const stack = () => s.stack(env);
  const cluster = () => onlyResource(stack(), "aws_eks_cluster");

  it("runs a cluster with a private endpoint, public access only for the listed CIDRs, encrypted secrets and control-plane logs", () => {
    const c = cluster();
    expect(c).toMatchObject({
      name: `${env}-eks`,
      version: "1.35",
      enabled_cluster_log_types: ["api", "audit", "authenticator"],
    });
    expect(c.access_config).toEqual({ authentication_mode: "API", bootstrap_cluster_creator_admin_permissions: true });
    expect(c.vpc_config.endpoint_private_access).toBe(true);
    expect(c.vpc_config.endpoint_public_access).toBe(t.publicCidrs !== undefined);
    expect(c.vpc_config.public_access_cidrs).toEqual(t.publicCidrs);
    expect(c.vpc_config.subnet_ids).toHaveLength(t.azs);
    expect(c.vpc_config.subnet_ids.every((id: string) => id.includes("network_private-"))).toBe(true);
    expect(c.encryption_config.resources).toEqual(["secrets"]);
    expect(c.encryption_config.provider.key_arn).toMatch(ref("aws_kms_key"));
    const key = Object.entries(stack().resource.aws_kms_key).find(([id]) =>
      c.encryption_config.provider.key_arn.includes(id),
    )![1] as any;
    expect(key.enable_key_rotation).toBe(true);
    const logs = resources(stack(), "aws_cloudwatch_log_group").find((g) => g.name === `/aws/eks/${env}-eks/cluster`);
    expect(logs.retention_in_days).toBeGreaterThan(0);
    expect(logs.kms_key_id).toMatch(ref("aws_kms_key"));
  });

  it("gives the cluster and node roles exactly the EKS managed policies", () => {
    const roles = Object.fromEntries(
      Object.entries(stack().resource.aws_iam_role as Record<string, any>).map(([id, r]) => [id, r]),
    );
    const policiesOf = (name: string) => {
      const id = Object.entries(roles).find(([, r]) => r.name === name)![0];
      return resources(stack(), "aws_iam_role_policy_attachment")
        .filter((a) => a.role.includes(`.${id}.`))
        .map((a) => a.policy_arn.replace("arn:aws:iam::aws:policy/", ""))
        .sort();
    };
    expect(policiesOf(`${env}-eks-cluster`)).toEqual(["AmazonEKSClusterPolicy"]);
    expect(policiesOf(`${env}-eks-node`)).toEqual([
      "AmazonEC2ContainerRegistryReadOnly",
      "AmazonEKSWorkerNodePolicy",
      "AmazonEKS_CNI_Policy",
    ]);
    const trust = (name: string) =>
      JSON.parse(Object.values(roles).find((r) => r.name === name).assume_role_policy).Statement[0].Principal.Service;
    expect(trust(`${env}-eks-cluster`)).toBe("eks.amazonaws.com");
    expect(trust(`${env}-eks-node`)).toBe("ec2.amazonaws.com");
    // Pods get AWS rights through Pod Identity, not through the node role.
    expect(trust(`${env}-eks-app`)).toBe("pods.eks.amazonaws.com");
    expect(onlyResource(stack(), "aws_eks_pod_identity_association")).toMatchObject({
      namespace: env,
      service_account: "app",
    });
    const app = JSON.parse(resources(stack(), "aws_iam_role_policy").find((p) => p.role.includes("app-role")).policy);
    expect(app.Statement.flatMap((st: any) => st.Action).sort()).toEqual([
      "elasticache:Connect",
      "kms:Decrypt",
      "secretsmanager:DescribeSecret",
      "secretsmanager:GetSecretValue",
    ]);
    expect(JSON.stringify(app)).not.toContain('"*"');
  });

  it("sizes the managed node groups per tier, in the private subnets, with an encrypted IMDSv2 launch template", () => {
    const groups = resources(stack(), "aws_eks_node_group");
    expect(
      Object.fromEntries(
        groups.map((g) => [
          g.node_group_name,
          {
            types: g.instance_types,
            capacity: g.capacity_type,
            size: [g.scaling_config.min_size, g.scaling_config.desired_size, g.scaling_config.max_size],
          },
        ]),
      ),
    ).toEqual(t.nodeGroups);
    const lt = onlyResource(stack(), "aws_launch_template");
    expect(lt.metadata_options).toMatchObject({ http_tokens: "required", http_endpoint: "enabled" });
    expect(lt.block_device_mappings[0].ebs).toMatchObject({ encrypted: "true", volume_type: "gp3" });
    expect(lt.image_id).toBeUndefined();
    expect(lt.vpc_security_group_ids).toBeUndefined();
    for (const g of groups) {
      expect(g.cluster_name).toMatch(ref("aws_eks_cluster"));
      expect(g.subnet_ids.every((id: string) => id.includes("network_private-"))).toBe(true);
      expect(g.launch_template.id).toMatch(ref("aws_launch_template"));
      expect(g.remote_access).toBeUndefined();
    }
  });

  it("enforces NetworkPolicies: the VPC CNI add-on with network policy on, installed before the nodes", () => {
    const [cni, id] = Object.entries(stack().resource.aws_eks_addon as Record<string, any>)
      .map(([k, a]) => [a, k])
      .find(([a]) => a.addon_name === "vpc-cni")!;
    expect(JSON.parse(cni.configuration_values)).toEqual({ enableNetworkPolicy: "true" });
    for (const g of resources(stack(), "aws_eks_node_group")) expect(g.depends_on).toContain(`aws_eks_addon.${id}`);
  });

  it("routes each slot to its NodePort: instance target groups, every node group attached to both, the ALB allowed in", () => {
    const tgs = Object.fromEntries(
      Object.entries(stack().resource.aws_lb_target_group as Record<string, any>).map(([id, tg]) => [
        tg.name,
        { id, ...tg },
      ]),
    );
    expect(tgs[`${env}-app-blue`]).toMatchObject({ port: NODE_PORTS.blue, target_type: "instance", protocol: "HTTP" });
    expect(tgs[`${env}-app-green`]).toMatchObject({
      port: NODE_PORTS.green,
      target_type: "instance",
      protocol: "HTTP",
    });
    expect(NODE_PORTS).toEqual({ blue: 30080, green: 30081 });

    const groups = Object.keys(stack().resource.aws_eks_node_group);
    const attachments = resources(stack(), "aws_autoscaling_attachment");
    expect(attachments).toHaveLength(2 * groups.length);
    for (const slot of ["blue", "green"] as const) {
      const forSlot = attachments.filter(
        (a) => a.lb_target_group_arn === `\${aws_lb_target_group.${tgs[`${env}-app-${slot}`].id}.arn}`,
      );
      expect(forSlot.map((a) => a.autoscaling_group_name).sort()).toEqual(
        groups.map((g) => `\${aws_eks_node_group.${g}.resources[0].autoscaling_groups[0].name}`).sort(),
      );
    }

    const clusterSg = /^\$\{aws_eks_cluster\.[^.]+\.vpc_config\[0\]\.cluster_security_group_id\}$/;
    const ingress = resources(stack(), "aws_vpc_security_group_ingress_rule");
    const nodePorts = ingress.filter((r) => clusterSg.test(r.security_group_id));
    expect(nodePorts.map((r) => [r.from_port, r.to_port]).sort()).toEqual([
      [30080, 30080],
      [30081, 30081],
    ]);
    expect(
      nodePorts.every(
        (r) =>
          r.referenced_security_group_id.startsWith("${aws_security_group.load-balancer_sg_") &&
          r.cidr_ipv4 === undefined,
      ),
    ).toBe(true);
    // The ALB may talk to the NodePort range of the VPC only.
    const albOut = resources(stack(), "aws_vpc_security_group_egress_rule").find((r) =>
      r.security_group_id.includes("load-balancer_sg_"),
    );
    expect([albOut.from_port, albOut.to_port]).toEqual([30080, 30081]);
  });

  it("lets only the nodes and pods (cluster security group) reach the database and cache", () => {
    const ingress = resources(stack(), "aws_vpc_security_group_ingress_rule");
    for (const target of ["database_sg_", "cache_sg_"]) {
      const rules = ingress.filter((r) => r.security_group_id.includes(target));
      expect(rules).toHaveLength(1);
      expect(rules[0].referenced_security_group_id).toMatch(/vpc_config\[0\]\.cluster_security_group_id/);
    }
    expect(resources(stack(), "aws_security_group").map((g) => g.name)).not.toContain(`${env}-app`);
  });

  it("alarms on node-group CPU and cluster memory, keeps the per-slot ALB alarms (unhealthy targets while serving), and outputs the cluster", () => {
    const alarms = resources(stack(), "aws_cloudwatch_metric_alarm");
    const cpu = alarms.filter((a) => a.namespace === "AWS/EC2" && a.metric_name === "CPUUtilization");
    expect(cpu.map((a) => a.dimensions.AutoScalingGroupName).sort()).toEqual(
      Object.keys(stack().resource.aws_eks_node_group)
        .map((g) => `\${aws_eks_node_group.${g}.resources[0].autoscaling_groups[0].name}`)
        .sort(),
    );
    const memory = alarms.find((a) => a.metric_name === "node_memory_utilization");
    expect(memory).toMatchObject({
      namespace: "ContainerInsights",
      alarm_name: `${env}-compute-memory`,
      threshold: 85,
    });
    expect(memory.dimensions.ClusterName).toMatch(ref("aws_eks_cluster"));
    expect(alarms.map((a) => a.alarm_name)).toEqual(
      expect.arrayContaining([
        `${env}-app-blue-5xx-rate`,
        `${env}-app-green-unhealthy-hosts`,
        `${env}-app-green-p99-latency`,
      ]),
    );
    // Every node is a target of both slots: the empty slot's NodePort has no pods, so unhealthy
    // targets count only while the slot serves requests. On EC2 (dev) any unhealthy target does.
    const unhealthy = alarms.find((a) => a.alarm_name === `${env}-app-green-unhealthy-hosts`);
    expect(unhealthy.metric_name).toBeUndefined();
    expect(unhealthy.metric_query.map((q: any) => q.metric?.metric_name ?? q.expression)).toEqual([
      "UnHealthyHostCount",
      "RequestCount",
      "IF(requests > 0, unhealthy, 0)",
    ]);
    expect(unhealthy.metric_query.filter((q: any) => q.return_data).map((q: any) => q.id)).toEqual([
      "serving_unhealthy",
    ]);
    expect(unhealthy.metric_query[1].metric.dimensions).toEqual(unhealthy.metric_query[0].metric.dimensions);
    expect(unhealthy).toMatchObject({ comparison_operator: "GreaterThanThreshold", threshold: 0 });
    const ec2 = resources(s.stack("dev"), "aws_cloudwatch_metric_alarm").find(
      (a) => a.alarm_name === "dev-app-green-unhealthy-hosts",
    );
    expect(ec2).toMatchObject({ metric_name: "UnHealthyHostCount", statistic: "Maximum", threshold: 0 });
    expect(
      resources(stack(), "aws_eks_addon")
        .map((a) => a.addon_name)
        .sort(),
    ).toEqual(["amazon-cloudwatch-observability", "eks-pod-identity-agent", "metrics-server", "vpc-cni"]);

    const out = stack().output;
    expect(out.cluster_name.value).toMatch(/aws_eks_cluster\.[^.]+\.name\}$/);
    expect(out.cluster_endpoint.value).toMatch(/aws_eks_cluster\.[^.]+\.endpoint\}$/);
    expect(out.cluster_certificate_authority_data.value).toMatch(
      /aws_eks_cluster\.[^.]+\.certificate_authority\[0\]\.data\}$/,
    );
  });

  it("does not depend on the slot versions at all", () => {
    const live = s.project.environments.find((e) => e.config.name === env)!.release.slots.blue.version!;
    expect(text(env)).not.toContain(live);
    expect(text(env)).not.toContain("ghcr.io/example/webapp");
  });
});

describe.each(Object.entries(tiers))("%s on EKS: the workloads stack", (env, t) => {
  const name = workloadsStackName(env);
  const stack = () => s.stack(name);
  const deployments = (): Record<string, any> =>
    Object.fromEntries(resources(stack(), "kubernetes_deployment_v1").map((d) => [d.metadata.name, d]));

  it("configures the Kubernetes provider from the infrastructure stack's remote state and a cluster token", () => {
    const k8s = stack().provider.kubernetes[0];
    const remote = `data.terraform_remote_state.cross-stack-reference-input-${env}.outputs.`;
    expect(k8s.host).toMatch(
      new RegExp(`^\\$\\{${remote.replace(/\./g, "\\.")}cross-stack-output-aws_eks_cluster[^}]*endpoint\\}$`),
    );
    expect(k8s.cluster_ca_certificate).toMatch(
      new RegExp(
        `^\\$\\{base64decode\\(${remote.replace(/\./g, "\\.")}cross-stack-output-aws_eks_cluster[^)]*certificate_authority0data\\)\\}$`,
      ),
    );
    expect(k8s.token).toBe("${data.aws_eks_cluster_auth.cluster-auth.token}");
    expect(stack().data.aws_eks_cluster_auth["cluster-auth"].name).toContain(remote);
    expect(stack().data.terraform_remote_state[`cross-stack-reference-input-${env}`].config.key).toBe(
      `webapp/${env}/terraform.tfstate`,
    );
    expect(stack().terraform.required_providers.kubernetes.version).toMatch(/^2\./);
    // The cluster is never in the stack configuring the Kubernetes provider, and vice versa.
    expect(stack().resource.aws_eks_cluster).toBeUndefined();
    expect(s.stack(env).provider.kubernetes).toBeUndefined();
    expect(Object.keys(stack().resource).filter((k) => k.startsWith("aws_"))).toEqual([]);
  });

  it("creates the namespace labelled with the environment, enforcing the restricted pod security level", () => {
    const ns = onlyResource(stack(), "kubernetes_namespace_v1");
    expect(ns.metadata.name).toBe(env);
    expect(ns.metadata.labels).toMatchObject({
      environment: env,
      "envstack.io/environment": env,
      "pod-security.kubernetes.io/enforce": "restricted",
    });
    const namespaced = Object.entries(stack().resource).filter(
      ([type]) => type.startsWith("kubernetes_") && type !== "kubernetes_namespace_v1",
    );
    for (const [, byId] of namespaced) {
      for (const r of Object.values(byId as Record<string, any>))
        expect(r.metadata.namespace).toMatch(/^\$\{kubernetes_namespace_v1\./);
    }
  });

  it("denies all traffic by default and allows only the namespace, the app port from the VPC, DNS, HTTPS and the data ports", () => {
    const policies = Object.fromEntries(
      resources(stack(), "kubernetes_network_policy_v1").map((p) => [p.metadata.name, p.spec]),
    );
    expect(policies["default-deny-all"]).toEqual({
      pod_selector: { match_labels: {} },
      policy_types: ["Ingress", "Egress"],
    });
    expect(policies["allow-same-namespace"].ingress[0].from[0].pod_selector).toEqual({ match_labels: {} });
    expect(policies["allow-same-namespace"].egress[0].to[0].pod_selector).toEqual({ match_labels: {} });
    const vpc = s.project.environments.find((e) => e.config.name === env)!.config.network.cidr;
    expect(policies["allow-app-port-from-vpc"].ingress).toEqual([
      { from: [{ ip_block: { cidr: vpc } }], ports: [{ protocol: "TCP", port: "3000" }] },
    ]);

    const egress = policies["allow-egress"].egress as any[];
    const ports = (e: any) => e.ports.map((p: any) => `${p.protocol}/${p.port}`).sort();
    expect(ports(egress[0])).toEqual(["TCP/53", "UDP/53"]);
    const https = egress.find((e) => ports(e).join() === "TCP/443");
    expect(https.to).toEqual([{ ip_block: { cidr: "0.0.0.0/0", except: ["169.254.169.254/32"] } }]);
    const data = egress.find((e) => ports(e).join() === "TCP/5432,TCP/6379");
    // Exactly the database subnets of the infrastructure stack.
    const dbSubnets = resources(s.stack(env), "aws_subnet")
      .filter((x) => x.tags.Tier === "database")
      .map((x) => x.cidr_block)
      .sort();
    expect(data.to.map((to: any) => to.ip_block.cidr).sort()).toEqual(dbSubnets);
    expect(databaseSubnetCidrs(vpc, t.azs).sort()).toEqual(dbSubnets);
  });

  it("binds the app service account to a read-only role and CI to a workload-only role, nothing cluster-wide", () => {
    expect(Object.keys(stack().resource).filter((k) => /cluster_role/.test(k))).toEqual([]);
    const roles = Object.fromEntries(resources(stack(), "kubernetes_role_v1").map((r) => [r.metadata.name, r.rule]));
    expect(roles["app-read-only"]).toEqual([
      { api_groups: [""], resources: ["pods", "services", "configmaps", "secrets"], verbs: ["get", "list", "watch"] },
      { api_groups: ["apps"], resources: ["deployments", "replicasets"], verbs: ["get", "list", "watch"] },
    ]);
    const deployer = roles["ci-deployer"] as any[];
    const written = deployer
      .filter((r) => r.verbs.includes("create"))
      .flatMap((r) => r.resources)
      .sort();
    expect(written).toEqual([
      "configmaps",
      "deployments",
      "deployments/scale",
      "horizontalpodautoscalers",
      "poddisruptionbudgets",
      "services",
    ]);
    expect(deployer.flatMap((r) => r.resources)).not.toEqual(expect.arrayContaining(["secrets"]));
    expect(deployer.flatMap((r) => [...r.resources, ...r.verbs, ...r.api_groups])).not.toContain("*");
    expect(deployer.flatMap((r) => r.api_groups)).not.toContain("rbac.authorization.k8s.io");

    const bindings = Object.fromEntries(
      resources(stack(), "kubernetes_role_binding_v1").map((b) => [b.metadata.name, b]),
    );
    expect(bindings["app-read-only"].role_ref).toMatchObject({ kind: "Role" });
    expect(bindings["app-read-only"].subject).toEqual([
      expect.objectContaining({
        kind: "ServiceAccount",
        name: expect.stringMatching(/^\$\{kubernetes_service_account_v1\./),
      }),
    ]);
    expect(bindings["ci-deployer"].role_ref).toMatchObject({ kind: "Role" });
    expect(bindings["ci-deployer"].subject).toEqual([
      { kind: "Group", name: `${env}:deployers`, api_group: "rbac.authorization.k8s.io" },
    ]);
    expect(onlyResource(stack(), "kubernetes_service_account_v1").metadata.name).toBe("app");
  });

  it("lets the deployer group run Jobs (migrations) and read their pods' logs, and nothing more", () => {
    const roles = Object.fromEntries(resources(stack(), "kubernetes_role_v1").map((r) => [r.metadata.name, r.rule]));
    expect(roles["envctl-jobs"]).toEqual([
      { api_groups: ["batch"], resources: ["jobs"], verbs: ["get", "list", "watch", "create", "delete"] },
      { api_groups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] },
      { api_groups: [""], resources: ["configmaps"], verbs: ["get"] },
    ]);
    const binding = resources(stack(), "kubernetes_role_binding_v1").find((b) => b.metadata.name === "envctl-jobs");
    expect(binding.role_ref).toMatchObject({ kind: "Role" });
    expect(binding.subject).toEqual([
      { kind: "Group", name: `${env}:deployers`, api_group: "rbac.authorization.k8s.io" },
    ]);
    // The app's own role gains nothing.
    expect(JSON.stringify(roles["app-read-only"])).not.toMatch(/jobs|create|delete/);
  });

  it("maps the listed deployer IAM roles into that group through EKS access entries, with no access policy", async () => {
    expect(resources(s.stack(env), "aws_eks_access_entry")).toEqual([]); // none listed in the shipped tiers
    const x = await synthRepo({
      configs: {
        [env]: (c) => ({
          ...c,
          compute: { ...c.compute, deployerRoles: ["webapp-ci-deploy", "release-bot"] } as typeof c.compute,
        }),
      },
    });
    const infra = x.stack(env);
    const arn = (role: string) =>
      new RegExp(
        `^arn:\\$\\{data\\.aws_partition\\.[\\w-]+\\.partition\\}:iam::\\$\\{data\\.aws_caller_identity\\.[\\w-]+\\.account_id\\}:role/${role}$`,
      );
    expect(resources(infra, "aws_eks_access_entry")).toEqual([
      expect.objectContaining({
        cluster_name: expect.stringMatching(ref("aws_eks_cluster")),
        principal_arn: expect.stringMatching(arn("webapp-ci-deploy")),
        type: "STANDARD",
        kubernetes_groups: [`${env}:deployers`],
      }),
      expect.objectContaining({
        principal_arn: expect.stringMatching(arn("release-bot")),
        kubernetes_groups: [`${env}:deployers`],
      }),
    ]);
    expect(resources(infra, "aws_eks_access_policy_association")).toEqual([]);
    // the group the workloads stack binds to the ci-deployer Role
    const binding = resources(x.stack(`${env}-workloads`), "kubernetes_role_binding_v1").find(
      (b) => b.metadata.name === "ci-deployer",
    );
    expect(binding.subject[0].name).toBe(`${env}:deployers`);
  });

  it("caps the namespace with a ResourceQuota and a LimitRange of the tier", () => {
    const config = s.project.environments.find((e) => e.config.name === env)!.config;
    if (config.compute.kind !== "eks") throw new Error("expected EKS");
    const quota = defaultQuota(config.compute);
    expect(onlyResource(stack(), "kubernetes_resource_quota_v1").spec.hard).toEqual({
      pods: String(quota.pods),
      "requests.cpu": quota.requests.cpu,
      "requests.memory": quota.requests.memory,
      "limits.cpu": quota.limits.cpu,
      "limits.memory": quota.limits.memory,
      "services.nodeports": "2",
      "services.loadbalancers": "0",
    });
    // Room for both slots at their peak plus a surge pod each.
    expect(quota.pods).toBe(t.production ? 2 * (10 + 1) : 2 * (t.replicas + 1));
    expect(onlyResource(stack(), "kubernetes_limit_range_v1").spec.limit).toEqual([
      {
        type: "Container",
        default: t.resources.limits,
        default_request: t.resources.requests,
        max: t.resources.limits,
      },
    ]);
  });

  it("runs a Deployment per slot: the slot's image, tier replicas (0 when empty), probes, resources and the restricted security context", () => {
    const release = s.project.environments.find((e) => e.config.name === env)!.release;
    const d = deployments();
    expect(Object.keys(d).sort()).toEqual(["app-blue", "app-green"]);
    expect(d["app-blue"].spec.replicas).toBe(String(t.replicas));
    expect(d["app-green"].spec.replicas).toBe("0");
    expect(release.slots.green.version).toBeNull();
    expect(d["app-blue"].spec.template.spec.container[0].image).toBe(
      `ghcr.io/example/webapp:${release.slots.blue.version}`,
    );
    for (const slot of ["blue", "green"] as const) {
      const dep = d[`app-${slot}`];
      expect(dep.spec.selector.match_labels).toEqual({ "app.kubernetes.io/name": "app", "envstack.io/slot": slot });
      const pod = dep.spec.template.spec;
      expect(pod.security_context).toMatchObject({
        run_as_non_root: true,
        run_as_user: "1001",
        seccomp_profile: { type: "RuntimeDefault" },
      });
      const [c] = pod.container;
      expect(c.security_context).toEqual({
        run_as_non_root: true,
        run_as_user: "1001",
        allow_privilege_escalation: false,
        privileged: false,
        read_only_root_filesystem: true,
        capabilities: { drop: ["ALL"] },
        seccomp_profile: { type: "RuntimeDefault" },
      });
      expect(c.resources).toEqual(t.resources);
      expect(c.readiness_probe.http_get).toEqual({ path: "/health", port: "3000" });
      expect(c.liveness_probe.http_get).toEqual({ path: "/health", port: "3000" });
      expect(c.env_from[0].config_map_ref.name).toMatch(/^\$\{kubernetes_config_map_v1\./);
      expect(pod.service_account_name).toMatch(/^\$\{kubernetes_service_account_v1\./);
      // Read-only root filesystem: /tmp is the writable scratch space.
      expect(c.volume_mount).toEqual([{ name: "tmp", mount_path: "/tmp" }]);
    }
  });

  it("exposes each slot through a NodePort Service at the slot's NodePort", () => {
    const services = Object.fromEntries(
      resources(stack(), "kubernetes_service_v1").map((x) => [x.metadata.name, x.spec]),
    );
    for (const slot of ["blue", "green"] as const) {
      expect(services[`app-${slot}`]).toMatchObject({ type: "NodePort", selector: { "envstack.io/slot": slot } });
      expect(services[`app-${slot}`].port).toEqual([
        { name: "http", protocol: "TCP", port: 3000, target_port: "3000", node_port: NODE_PORTS[slot] },
      ]);
    }
  });

  it("passes settings and endpoints through a ConfigMap and the database secret by ARN, never a password", () => {
    const cm = onlyResource(stack(), "kubernetes_config_map_v1").data;
    const remote = `data.terraform_remote_state.cross-stack-reference-input-${env}.outputs.`;
    expect(cm).toMatchObject({
      ENVIRONMENT: env,
      LOG_LEVEL: t.production ? "warn" : "info",
      PORT: "3000",
      DATABASE_PORT: "5432",
      REDIS_PORT: "6379",
      REDIS_TLS: "true",
    });
    expect(cm.DATABASE_HOST).toContain(remote);
    expect(cm.REDIS_HOST).toContain(remote);
    expect(cm.DATABASE_SECRET_ARN).toMatch(/master_user_secret0secret_arn\}$/);
    for (const d of Object.values(deployments())) {
      expect(d.spec.template.metadata.annotations["envstack.io/database-secret-arn"]).toBe(cm.DATABASE_SECRET_ARN);
    }
    expect(resources(stack(), "kubernetes_secret_v1")).toEqual([]);
    // Application secrets appear by name and ARN only (SMTP_PASSWORD_SECRET_ARN, a cross-stack reference to the secret).
    expect(cm.SMTP_PASSWORD_SECRET_ARN).toMatch(/secret-SMTP_PASSWORD_[0-9A-F]+arn\}$/);
    expect(text(name).replace(/\bSMTP_PASSWORD_SECRET_ARN\b|secret-SMTP_PASSWORD_[0-9A-F]+arn/g, "")).not.toMatch(
      /password/i,
    );
    expect(text(env)).not.toMatch(/"password"/);
  });

  it(`has a HorizontalPodAutoscaler and a PodDisruptionBudget per slot ${t.production ? "(production)" : "only in production"}`, () => {
    const hpas = resources(stack(), "kubernetes_horizontal_pod_autoscaler_v2");
    const pdbs = resources(stack(), "kubernetes_pod_disruption_budget_v1");
    if (!t.production) {
      expect(hpas).toEqual([]);
      expect(pdbs).toEqual([]);
      expect(Object.values(deployments()).every((d) => d.lifecycle === undefined)).toBe(true);
      return;
    }
    expect(hpas.map((h) => h.spec.scale_target_ref).sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { api_version: "apps/v1", kind: "Deployment", name: "app-blue" },
      { api_version: "apps/v1", kind: "Deployment", name: "app-green" },
    ]);
    for (const h of hpas) {
      expect(h.spec).toMatchObject({ min_replicas: 3, max_replicas: 10 });
      expect(h.spec.metric).toEqual([
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", average_utilization: 70 } } },
      ]);
    }
    expect(
      pdbs
        .map((p) => [p.metadata.name, p.spec.max_unavailable, p.spec.selector.match_labels["envstack.io/slot"]])
        .sort(),
    ).toEqual([
      ["app-blue", "1", "blue"],
      ["app-green", "1", "green"],
    ]);
    // The HPA owns the replica count; the Deployment is re-created only when its slot is filled or emptied.
    const owners = stack().resource.terraform_data;
    for (const [slot, populated] of [
      ["blue", true],
      ["green", false],
    ] as const) {
      const d = deployments()[`app-${slot}`];
      expect(d.lifecycle.ignore_changes).toEqual(["spec[0].replicas"]);
      const [owner] = d.lifecycle.replace_triggered_by;
      expect(owner).toMatch(/^terraform_data\.[^$]+$/);
      expect(owners[owner.split(".")[1]].triggers_replace).toEqual({ populated });
    }
  });
});

describe("releases on EKS", () => {
  const slots = (blue: [string | null, number], green: [string | null, number]) => ({
    slots: { blue: { version: blue[0], weight: blue[1] }, green: { version: green[0], weight: green[1] } },
  });
  const changed = (a: Synthesized, b: Synthesized) =>
    Object.keys(a.text)
      .filter((n) => a.text[n] !== b.text[n])
      .sort();

  it("changes only the traffic stacks when weights change: workloads and infrastructure stay byte-identical", async () => {
    const before = await synthRepo({
      releases: { staging: slots(["1.4.2", 100], ["1.5.0", 0]), production: slots(["1.4.2", 100], ["1.5.0", 0]) },
    });
    const after = await synthRepo({
      releases: { staging: slots(["1.4.2", 50], ["1.5.0", 50]), production: slots(["1.4.2", 10], ["1.5.0", 90]) },
    });
    expect(changed(before, after)).toEqual(["production-traffic", "staging-traffic"]);
  });

  it("changes only the workloads stack when a version changes", async () => {
    const promoted = await synthRepo({ releases: { staging: slots(["1.4.2", 100], ["1.5.0", 0]) } });
    expect(changed(s, promoted)).toEqual(["staging-workloads"]);
    const green = Object.values(
      promoted.stack("staging-workloads").resource.kubernetes_deployment_v1 as Record<string, any>,
    ).find((d) => d.metadata.name === "app-green");
    expect(green.spec.replicas).toBe("2");
    expect(green.spec.template.spec.container[0].image).toBe("ghcr.io/example/webapp:1.5.0");

    const prod = await synthRepo({ releases: { production: slots(["1.4.2", 100], ["1.5.0", 0]) } });
    expect(changed(s, prod)).toEqual(["production-workloads"]);
    // Filling the empty slot flips its replica owner, so the Deployment is re-created at 3 replicas.
    const owners = (x: Synthesized) =>
      Object.values(x.stack("production-workloads").resource.terraform_data as Record<string, any>).map(
        (o) => o.triggers_replace.populated,
      );
    expect(owners(s)).toEqual([true, false]);
    expect(owners(prod)).toEqual([true, true]);
  });

  it("names the stacks a promotion and a traffic shift deploy", () => {
    expect(stacksForPromotion(staging)).toEqual([workloadsStackName("staging")]);
    expect(stacksForPromotion(production)).toEqual(["production-workloads"]);
    expect(stacksForPromotion(dev)).toEqual(["dev"]);
    for (const e of [dev, staging, production]) {
      expect(trafficStack(e)).toBe(trafficStackName(e.name));
      for (const name of [...stacksForPromotion(e), trafficStack(e)]) expect(Object.keys(s.text)).toContain(name);
    }
  });
});

describe("EKS configuration", () => {
  it("rejects 0.0.0.0/0 public API access in production only", () => {
    if (production.compute.kind !== "eks" || staging.compute.kind !== "eks") throw new Error("expected EKS");
    const open = {
      ...production,
      compute: { ...production.compute, publicAccessCidrs: ["198.51.100.0/28", "0.0.0.0/0"] },
    };
    expect(checkEnvironments([open, staging, dev])).toEqual([
      {
        subject: "production",
        path: "compute.publicAccessCidrs[1]",
        message: expect.stringContaining("must not be 0.0.0.0/0 in the production tier"),
      },
    ]);
    expect(checkEnvironments([production, staging, dev])).toEqual([]);
    // Outside production it is a choice, not a rule (the schema accepts any valid CIDR, e.g. an office /28).
    expect(
      checkEnvironments([
        production,
        { ...staging, compute: { ...staging.compute, publicAccessCidrs: ["198.51.100.0/28", "0.0.0.0/0"] } },
        dev,
      ]),
    ).toEqual([]);
  });

  it("opens the private API endpoint (HTTPS) to the networks privateAccessCidrs lists, and to none by default", async () => {
    const withRunners = await synthRepo({
      configs: {
        staging: (c) =>
          c.compute.kind === "eks" ? { ...c, compute: { ...c.compute, privateAccessCidrs: ["10.42.8.0/24"] } } : c,
      },
    });
    const api = (syn: Synthesized) =>
      resources(syn.stack("staging"), "aws_vpc_security_group_ingress_rule").filter(
        (r) => r.description === "Kubernetes API (private endpoint)",
      );
    expect(api(withRunners)).toEqual([
      expect.objectContaining({
        cidr_ipv4: "10.42.8.0/24",
        ip_protocol: "tcp",
        from_port: 443,
        to_port: 443,
        security_group_id: expect.stringMatching(/cluster_security_group_id/),
      }),
    ]);
    expect(api(s)).toEqual([]);
  });

  it("accepts deployer roles by name only", () => {
    const withRoles = (deployerRoles: string[]) =>
      EnvironmentSchema.safeParse({ ...staging, compute: { ...staging.compute, deployerRoles } });
    expect(withRoles(["webapp-ci-deploy"]).success).toBe(true);
    const arn = withRoles(["arn:aws:iam::123456789012:role/webapp-ci-deploy"]);
    expect(arn.success).toBe(false);
    expect(arn.error?.issues.map((i) => [i.path.join("."), i.message])).toEqual([
      ["compute.deployerRoles.0", "must be an IAM role name (not an ARN)"],
    ]);
  });

  it("validates pod resources, autoscaling bounds and node group names", () => {
    if (production.compute.kind !== "eks") throw new Error("expected EKS");
    const bad = EnvironmentSchema.safeParse({
      ...production,
      compute: {
        ...production.compute,
        resources: { requests: { cpu: "2", memory: "2Gi" }, limits: { cpu: "1", memory: "1Gi" } },
        autoScaling: { enabled: true, maxReplicas: 2 },
        nodeGroups: [...production.compute.nodeGroups, production.compute.nodeGroups[0]],
      },
    });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join("."));
    expect(paths).toEqual(
      expect.arrayContaining([
        "compute.resources.requests.cpu",
        "compute.resources.requests.memory",
        "compute.autoScaling.maxReplicas",
        "compute.nodeGroups.2.name",
      ]),
    );
  });
});

describe("EKS policy rules", () => {
  const TAGS = {
    Environment: "p",
    Project: "webapp",
    ManagedBy: "cdktf",
    Owner: "o",
    CostCenter: "c",
    Tier: "production",
  };
  const stack = (type: string, config: Record<string, unknown>, tags: Record<string, string> = TAGS) => ({
    provider: { aws: [{ region: "eu-west-1", default_tags: [{ tags }] }] },
    resource: { [type]: { subject: config } },
  });
  const fired = (json: any) => checkStack("s", json).map((f) => f.rule);

  /** A good synthesized Deployment from the shipped production workloads stack. */
  const goodDeployment = () =>
    structuredClone(
      Object.values(s.stack("production-workloads").resource.kubernetes_deployment_v1 as Record<string, any>)[0],
    );
  const withContainer = (edit: (c: any) => void) => {
    const d = goodDeployment();
    edit(d.spec.template.spec.container[0]);
    return d;
  };

  it("passes the shipped EKS stacks", () => {
    for (const name of ["staging", "staging-workloads", "production", "production-workloads"])
      expect(checkStack(name, s.stack(name))).toEqual([]);
  });

  it("k8s-pod-security fires when a security field is missing", () => {
    expect(fired(stack("kubernetes_deployment_v1", goodDeployment()))).toEqual([]);
    for (const edit of [
      (c: any) => delete c.security_context.allow_privilege_escalation,
      (c: any) => (c.security_context.read_only_root_filesystem = false),
      (c: any) => (c.security_context.capabilities = { drop: ["NET_RAW"] }),
      (c: any) => delete c.security_context,
    ]) {
      expect(fired(stack("kubernetes_deployment_v1", withContainer(edit)))).toContain("k8s-pod-security");
    }
    const noRoot = goodDeployment();
    delete noRoot.spec.template.spec.container[0].security_context.run_as_non_root;
    expect(fired(stack("kubernetes_deployment_v1", noRoot))).toEqual([]); // the pod-level setting covers it
    delete noRoot.spec.template.spec.security_context.run_as_non_root;
    expect(fired(stack("kubernetes_deployment", noRoot))).toContain("k8s-pod-security");
  });

  it("k8s-no-privileged fires on a privileged container or a host namespace", () => {
    expect(
      fired(
        stack(
          "kubernetes_deployment_v1",
          withContainer((c) => (c.security_context.privileged = true)),
        ),
      ),
    ).toContain("k8s-no-privileged");
    const host = goodDeployment();
    host.spec.template.spec.host_network = true;
    expect(fired(stack("kubernetes_deployment_v1", host))).toContain("k8s-no-privileged");
    expect(fired(stack("kubernetes_deployment_v1", goodDeployment()))).not.toContain("k8s-no-privileged");
  });

  it("k8s-resource-limits fires without CPU or memory limits", () => {
    const f = checkStack(
      "s",
      stack(
        "kubernetes_deployment_v1",
        withContainer((c) => delete c.resources.limits.memory),
      ),
    );
    expect(f).toEqual([
      expect.objectContaining({ rule: "k8s-resource-limits", message: "container app has no memory limit" }),
    ]);
    expect(
      fired(
        stack(
          "kubernetes_deployment_v1",
          withContainer((c) => delete c.resources),
        ),
      ),
    ).toContain("k8s-resource-limits");
  });

  it("eks-secrets-encryption fires without encryption_config on secrets", () => {
    const cluster = structuredClone(onlyResource(s.stack("production"), "aws_eks_cluster"));
    expect(fired(stack("aws_eks_cluster", cluster))).toEqual([]);
    delete cluster.encryption_config;
    expect(fired(stack("aws_eks_cluster", cluster))).toContain("eks-secrets-encryption");
    expect(
      fired(
        stack("aws_eks_cluster", {
          ...cluster,
          encryption_config: { resources: ["configmaps"], provider: { key_arn: "arn" } },
        }),
      ),
    ).toContain("eks-secrets-encryption");
  });

  it("eks-private-endpoint-production fires on a public endpoint open to the world, in production only", () => {
    const base = structuredClone(onlyResource(s.stack("production"), "aws_eks_cluster"));
    const withVpc = (vpc: Record<string, unknown>) => ({ ...base, vpc_config: { ...base.vpc_config, ...vpc } });
    expect(fired(stack("aws_eks_cluster", base))).toEqual([]);
    expect(
      fired(stack("aws_eks_cluster", withVpc({ endpoint_public_access: true, public_access_cidrs: ["0.0.0.0/0"] }))),
    ).toContain("eks-private-endpoint-production");
    // AWS defaults: public endpoint on, open to 0.0.0.0/0.
    const { endpoint_public_access: _p, ...defaults } = base.vpc_config;
    expect(fired(stack("aws_eks_cluster", { ...base, vpc_config: defaults }))).toContain(
      "eks-private-endpoint-production",
    );
    expect(
      fired(stack("aws_eks_cluster", withVpc({ endpoint_public_access: true, public_access_cidrs: ["81.2.69.0/28"] }))),
    ).toEqual([]);
    expect(
      fired(
        stack("aws_eks_cluster", withVpc({ endpoint_public_access: true, public_access_cidrs: ["0.0.0.0/0"] }), {
          ...TAGS,
          Tier: "staging",
        }),
      ),
    ).toEqual([]);
  });

  it("required-tags leaves Kubernetes resources (labels, no tags) alone", () => {
    const ns = onlyResource(s.stack("production-workloads"), "kubernetes_namespace_v1");
    expect(ns.tags).toBeUndefined();
    expect(fired(stack("kubernetes_namespace_v1", ns))).toEqual([]);
  });
});
