/**
 * SNS Publish for the notifications (lib/notify's SnsPublisher), through the AWS SDK's SNS client.
 * The client is loaded on first use: envctl without an SNS target never loads it, and an install
 * without `@aws-sdk/client-sns` fails that delivery only (recorded in the history), never a command.
 */
import type { SnsPublisher } from "../notify/notifier.ts";
import { awsClientConfig, type AwsClientOptions } from "./clients.ts";

/** The SDK package (a variable: the type-checker need not see it where it is not installed). */
const SNS_PACKAGE = "@aws-sdk/client-sns";

export function snsPublisher(o: AwsClientOptions): SnsPublisher {
  let client: Promise<{ send(c: unknown, opts?: { abortSignal?: AbortSignal }): Promise<unknown>; Publish: new (input: object) => unknown }> | undefined;
  const load = () => (client ??= (async () => {
    let mod: any;
    try {
      mod = await import(SNS_PACKAGE);
    } catch {
      throw new Error(`${SNS_PACKAGE} is not installed: SNS notifications need it (npm install ${SNS_PACKAGE})`);
    }
    const c = new mod.SNSClient(awsClientConfig(o));
    return { send: (cmd: unknown, opts?: { abortSignal?: AbortSignal }) => c.send(cmd, opts), Publish: mod.PublishCommand };
  })());
  return {
    async publish(topicArn, subject, message, signal) {
      const c = await load();
      await c.send(new c.Publish({ TopicArn: topicArn, Subject: subject, Message: message }), { abortSignal: signal });
    },
  };
}
