import { Construct } from "constructs";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";

export interface PrivateServiceSecurityGroupProps {
  /** Security group name, e.g. `dev-database`. */
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  /** The only security group allowed in. */
  readonly clientSecurityGroupId: string;
  /** The one TCP port it may reach. */
  readonly port: number;
  /** What the port serves, for the rule's description, e.g. `PostgreSQL`. */
  readonly service: string;
}

/** A security group admitting one client security group on one port, and nothing else. */
export class PrivateServiceSecurityGroup extends Construct {
  readonly securityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: PrivateServiceSecurityGroupProps) {
    super(scope, id);
    this.securityGroup = new SecurityGroup(this, "sg", {
      name: props.name,
      description: props.description,
      vpcId: props.vpcId,
      tags: { Name: props.name },
    });
    new VpcSecurityGroupIngressRule(this, "from-client", {
      securityGroupId: this.securityGroup.id,
      description: `${props.service} from the application`,
      referencedSecurityGroupId: props.clientSecurityGroupId,
      ipProtocol: "tcp",
      fromPort: props.port,
      toPort: props.port,
    });
  }
}
