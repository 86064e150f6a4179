/**
 * SNS Publish for the notifications (lib/notify's SnsPublisher), through the AWS SDK's SNS client.
 * The client is loaded on first use: envctl without an SNS target never loads it.
 */
import type { SnsPublisher } from "../notify/notifier.ts";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

export function snsPublisher(o: AwsClientOptions): SnsPublisher {
  let sns:
    | Promise<{
        client: import("@aws-sdk/client-sns").SNSClient;
        Publish: typeof import("@aws-sdk/client-sns").PublishCommand;
      }>
    | undefined;
  const load = () =>
    (sns ??= import("@aws-sdk/client-sns").then((m) => ({
      client: new m.SNSClient(awsClientConfig(o)),
      Publish: m.PublishCommand,
    })));
  return {
    async publish(topicArn, subject, message, signal) {
      const { client, Publish } = await load();
      await client.send(new Publish({ TopicArn: topicArn, Subject: subject, Message: message }), {
        abortSignal: signal,
      });
    },
  };
}
