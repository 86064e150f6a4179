"""SSM Run Command invocations that can fail, for tests (the emulator only; no part of AWS).

moto 5.2.5 runs no command: every invocation of SendCommand reports Success, exit code 0 and no
output. envctl's SSM runner (lib/aws/ssm-runner.ts) honours an invocation's status and exit code,
so a test needs invocations that fail. The rule, on the `image` parameter of a command (the image
envctl asks the instance to run):

- an image reference holding `emulator-exit-<N>` (e.g. the version `1.4.0-emulator-exit-3`) reports
  Failed with ResponseCode N and, as its output, two lines saying so;
- one holding `emulator-timeout` reports TimedOut (ResponseCode -1);
- any other reports Success, exit 0, with one output line saying that nothing ran.

A stand-in of each database's schema version (moto's RDS has no engine): a `migrate` command that
succeeds records its `schemaTo` for its `databaseHost`; a `schema` command prints that version on a
result line (`envstack-result: {"version": N, "dirty": false}`, or `null` before any migration), as
the document's psql would. A failing or timed-out migration changes nothing. An `sql` command never
prints a result line: SQL through the emulator (a data copy's masking and its verification) finds
none and fails closed, as it must when nothing ran.
"""
import json
import re

from moto.ssm import models as ssm_models

_original = ssm_models.Command.invocation_response
_EXIT = re.compile(r"emulator-exit-(\d{1,3})")
_schemas = {}  # (account, region, databaseHost) -> schema version the last successful migrate asked for


def _invocation_response(self, instance_id, plugin_name):
    response = _original(self, instance_id, plugin_name)
    image = (self.parameters.get("image") or [""])[0]
    action = (self.parameters.get("action") or ["?"])[0]
    failed = _EXIT.search(image)
    if failed:
        code = int(failed.group(1))
        response.update(
            Status="Failed",
            StatusDetails="Failed",
            ResponseCode=code,
            StandardOutputContent=(
                f"emulator: {action} with {image}\nemulator: exit {code} (the emulator-exit rule, nothing ran)\n"
            ),
            StandardErrorContent="",
        )
    elif "emulator-timeout" in image:
        response.update(
            Status="TimedOut",
            StatusDetails="ExecutionTimedOut",
            ResponseCode=-1,
            StandardOutputContent=f"emulator: {action} with {image}\n",
        )
    else:
        host = (self.parameters.get("databaseHost") or [""])[0]
        key = (self.account_id, self.backend_region, host)
        out = f"emulator: {action} with {image}: moto runs nothing, reported Success\n"
        if action == "migrate":
            _schemas[key] = int((self.parameters.get("schemaTo") or ["0"])[0])
        elif action == "schema":
            version = _schemas.get(key)
            reading = None if version is None else {"version": version, "dirty": False}
            out += f"envstack-result: {json.dumps(reading)}\n"
        response["StandardOutputContent"] = out
    return response


ssm_models.Command.invocation_response = _invocation_response
