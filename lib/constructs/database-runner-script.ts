/**
 * The shell script of the database document (./database-runner.ts), run by SSM on one instance of
 * a slot. `{{ name }}` are the document's parameters, each held to an allowed pattern without
 * quotes, so each sits safely inside single quotes. No `${` or `%{` anywhere: the document's content
 * is a string inside a Terraform expression, where those start an interpolation.
 *
 * - The database password is read here, with the instance role, from Secrets Manager by ARN, into
 *   a mode-600 env file of a temporary directory removed on exit: never in the command's parameters.
 * - `migrate`: the image's `envstack.migrate.command` label (a JSON array; golang-migrate's default
 *   otherwise, lib/database/image.ts) is run in the image with the slot's settings file
 *   (`/etc/app.env`, written at boot) and `DATABASE_URL`, `ENVSTACK_SCHEMA_TO`; its exit code is the
 *   command's (SSM's ResponseCode).
 * - `schema`, `sql`: `psql` in the image given (the PostgreSQL client image); the result is printed
 *   on a line `envstack-result: <value>` (lib/aws/ssm-command.ts).
 */

const PREPARE = `import json, sys, urllib.parse
work, host, port, name, to = sys.argv[1:6]
with open(work + "/secret.json") as f:
    s = json.load(f)
q = lambda v: urllib.parse.quote(v, safe="")
url = "postgres://" + q(s["username"]) + ":" + q(s["password"]) + "@" + host + ":" + port + "/" + name + "?sslmode=require"
with open(work + "/db.env", "w") as f:
    f.write("DATABASE_URL=" + url + "\\nENVSTACK_SCHEMA_TO=" + to + "\\n")`;

// The image's migration command: its label, else the default; the two variables replaced in its arguments.
const ARGV = `import json, os, sys
work, image = sys.argv[1:3]
labels = (json.load(open(work + "/inspect.json"))[0].get("Config") or {}).get("Labels") or {}
label = labels.get("envstack.migrate.command")
# golang-migrate, the contract's default (lib/database/image.ts DEFAULT_MIGRATE_COMMAND)
default = ["migrate", "-path", "migrations", "-database", "$" + "{DATABASE_URL}", "goto", "$" + "{ENVSTACK_SCHEMA_TO}"]
try:
    argv = json.loads(label) if label else default
except ValueError:
    argv = None
if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
    sys.exit("label envstack.migrate.command must be a JSON array of arguments")
env = dict(l.rstrip("\\n").split("=", 1) for l in open(work + "/db.env") if "=" in l)
for k in ("DATABASE_URL", "ENVSTACK_SCHEMA_TO"):
    argv = [a.replace("$" + "{" + k + "}", env[k]) for a in argv]
print("running the migration command of " + image, flush=True)
os.execvp("docker", ["docker", "run", "--rm", "--network", "host", "--env-file", "/etc/app.env", "--env-file", work + "/db.env",
                     "--entrypoint", argv[0], image] + argv[1:])`;

const SCHEMA_SQL =
  "select case when to_regclass('public.schema_migrations') is null then 'null' else " +
  "(select coalesce((select json_build_object('version', version, 'dirty', dirty)::text from public.schema_migrations limit 1), 'null')) end";

/** The lines of the script (aws:runShellScript's runCommand). */
export function databaseRunnerScript(): string[] {
  return [
    "#!/bin/bash",
    "set -euo pipefail",
    "umask 077",
    "action='{{ action }}'",
    "image='{{ image }}'",
    "export AWS_DEFAULT_REGION='{{ region }}'",
    "work=$(mktemp -d)",
    "trap 'rm -rf \"$work\"' EXIT",
    // The password: read here by the instance role, never carried by the command.
    "aws secretsmanager get-secret-value --secret-id '{{ databaseSecretArn }}' --query SecretString --output text > \"$work/secret.json\"",
    `python3 -c '${PREPARE.replace(/'/g, "'\\''")}' "$work" '{{ databaseHost }}' '{{ databasePort }}' '{{ databaseName }}' '{{ schemaTo }}'`,
    'rm -f "$work/secret.json"',
    'docker pull --quiet "$image" > /dev/null',
    'case "$action" in',
    "  migrate)",
    '    docker image inspect "$image" > "$work/inspect.json"',
    // The command's exit code is the script's: python hands the process over to docker.
    `    python3 -c '${ARGV.replace(/'/g, "'\\''")}' "$work" "$image"`,
    "    ;;",
    "  schema)",
    `    echo "psql -X -q -t -A -v ON_ERROR_STOP=1 -d \\"\\$DATABASE_URL\\" -c \\"${SCHEMA_SQL}\\"" > "$work/run.sh"`,
    '    out=$(docker run --rm --network host --env-file "$work/db.env" -v "$work/run.sh:/run.sh:ro" --entrypoint sh "$image" /run.sh | tail -n 1)',
    '    echo "envstack-result: $out"',
    "    ;;",
    "  sql)",
    "    echo '{{ sql }}' | base64 -d > \"$work/run.sql\"",
    '    echo \'psql -X -q -t -A -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -f /run.sql\' > "$work/run.sh"',
    '    out=$(docker run --rm --network host --env-file "$work/db.env" -v "$work/run.sql:/run.sql:ro" ' +
      '-v "$work/run.sh:/run.sh:ro" --entrypoint sh "$image" /run.sh | tail -n 1)',
    '    echo "envstack-result: $out"',
    "    ;;",
    "esac",
  ];
}
