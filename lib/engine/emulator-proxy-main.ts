import { cloudWatchModel } from "./cloudwatch-model.ts";
import { startProxy } from "./emulator-proxy.ts";

/** `tsx lib/engine/emulator-proxy-main.ts --target <url> --model <moto_server path> [--port N]`: prints `listening <endpoint>`. */
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const target = arg("target");
const motoServer = arg("model");
if (!target || !motoServer) {
  process.stderr.write(
    "usage: emulator-proxy-main.ts --target <moto endpoint> --model <path of moto_server> [--port <n>]\n",
  );
  process.exit(2);
}
const proxy = await startProxy(target, cloudWatchModel(motoServer), Number(arg("port") ?? 0));
process.stdout.write(`listening ${proxy.endpoint}\n`);
const stop = () => void proxy.stop().then(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
