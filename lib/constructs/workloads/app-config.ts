import { ConfigMapV1 } from "@cdktf/provider-kubernetes/lib/config-map-v1";
import { Construct } from "constructs";

export interface AppConfigProps {
  readonly namespace: string;
  /** ConfigMap name. */
  readonly name: string;
  /**
   * Settings of the environment (LOG_LEVEL, endpoints, ...). Never secrets: credentials are
   * referenced by ARN and fetched at run time.
   */
  readonly data: Record<string, string>;
  /** Labels of every object of the environment. @default none */
  readonly labels?: Record<string, string>;
  /**
   * Content-addressed: the name changes with the data (e.g. carries its checksum), the data never
   * changes in place (`immutable`), and a new map exists before the old one goes, so pods
   * referencing either always find theirs. @default false
   */
  readonly contentAddressed?: boolean;
}

/** Settings loaded by pods as environment variables: the environment's (every slot), or one slot's own. */
export class AppConfig extends Construct {
  readonly configMap: ConfigMapV1;

  constructor(scope: Construct, id: string, props: AppConfigProps) {
    super(scope, id);
    this.configMap = new ConfigMapV1(this, "config", {
      metadata: { name: props.name, namespace: props.namespace, labels: { ...props.labels } },
      data: props.data,
      ...(props.contentAddressed ? { immutable: true, lifecycle: { createBeforeDestroy: true } } : {}),
    });
  }
}
