/** The boot script of an application instance: its settings from Parameter Store, then the app. */
import { imageReference } from "./image.ts";

/** What an instance reads from Parameter Store at boot. */
export interface BootSettings {
  readonly region: string;
  /** The slot's settings: `count` parameters under `path`; the checksum names them. */
  readonly settings?: { readonly path: string; readonly checksum: string; readonly count: number };
  /** The secret ARNs: each parameter `<NAME>` becomes `<NAME>_SECRET_ARN`. */
  readonly secretArnsPath?: string;
}

/**
 * Cloud-init script: install Docker, write the slot's settings and the secret ARNs from Parameter
 * Store into an env file (mode 600), and run the slot's image (by digest when known) with it, restarting on failure. An
 * instance that cannot read every setting stops before starting the application (fail closed: it
 * never becomes healthy). No `${` in the script: Terraform would read it as interpolation.
 */
export function userData(
  repository: string,
  version: string | null,
  port: number,
  env: Record<string, string>,
  boot?: BootSettings,
  digest?: string,
): string {
  if (version === null) return "#!/bin/bash\n# empty slot: no version deployed\n";
  const envFlags = Object.entries({
    ...env,
    ...(boot?.settings ? { APP_SETTINGS_CHECKSUM: boot.settings.checksum } : {}),
  })
    .sort()
    .map(([k, v]) => `-e ${k}=${shellQuote(v)}`)
    .join(" ");
  // `<path><NAME><TAB><value>` lines become `<NAME><suffix>=<value>`. A literal tab and no backslash or
  // double quote: the script is a string inside a Terraform expression, where those are escapes.
  const read = (path: string, suffix: string) =>
    `aws ssm get-parameters-by-path --region ` +
    `${shellQuote(boot!.region)} --path ${shellQuote(path)} --query 'Parameters[].[Name,Value]' ` +
    `--output text | sed 's|^[^${TAB}]*/||; s|${TAB}|${suffix}=|' >> /etc/app.env`;
  const settings = boot?.settings;
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "dnf install -y docker",
    "systemctl enable --now docker",
    "install -m 600 /dev/null /etc/app.env",
    ...(settings
      ? [
          `# settings ${settings.checksum}: ${settings.count} parameters under ${settings.path}`,
          read(settings.path, ""),
          `test $(grep -c . /etc/app.env) -eq ${settings.count}`,
        ]
      : []),
    ...(boot?.secretArnsPath ? [read(boot.secretArnsPath, "_SECRET_ARN")] : []),
    `docker run -d --restart=always --name app -p ` +
      `${port}:${port} --env-file /etc/app.env ${envFlags} ${shellQuote(imageReference(repository, version, digest))}`,
    "",
  ].join("\n");
}

const TAB = "\t";

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, "'\\''")}'`;
}
