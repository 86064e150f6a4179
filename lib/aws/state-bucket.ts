/** Whether an account's state bucket is there and readable (S3 HeadBucket), for `envctl doctor`. */
import { HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { type AwsClientOptions, awsClientConfig } from "./clients.ts";

/** `ok`; or why not: the bucket does not exist (404), the credentials may not read it (403), or the error. */
export async function headStateBucket(
  o: AwsClientOptions,
  bucket: string,
): Promise<{ ok: true } | { ok: false; status?: number; error: string }> {
  const s3 = new S3Client({ ...awsClientConfig(o, 2), forcePathStyle: o.endpoint !== undefined });
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return { ok: true };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return {
      ok: false,
      status,
      error:
        (err as Error).name === "NotFound" || status === 404
          ? "does not exist"
          : status === 403
            ? "access denied"
            : (err as Error).message,
    };
  } finally {
    s3.destroy();
  }
}
