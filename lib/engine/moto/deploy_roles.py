"""The account's deploy role, as it exists on AWS.

On AWS each account's deploy role (`account.deployRoleArn`, lib/config/schema/account.ts) is
created out of band, before any stack; the stacks assume it and may put policies on it (envctl's
right to send an EC2 environment's database document, lib/constructs/database-runner.ts). moto's
STS assumes any role ARN without the role existing, so such a policy failed with NoSuchEntity. On
the first AssumeRole of a role that is not there, this creates it in the role's account (trusted by
that account, no policies: moto enforces none), as the account's owner would have.
"""
import json
import re

from moto.iam.models import iam_backends
from moto.sts import models as sts_models

_ROLE_ARN = re.compile(r"^arn:(aws[a-z-]*):iam::(\d{12}):role/(.+)$")
_original = sts_models.STSBackend.assume_role


def _ensure_role(role_arn: str) -> None:
    m = _ROLE_ARN.match(role_arn or "")
    if not m:
        return
    partition, account, path_name = m.groups()
    *path, name = path_name.split("/")
    iam = iam_backends[account][partition]
    if any(r.name == name for r in iam.get_roles()):
        return
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(
        role_name=name,
        assume_role_policy_document=json.dumps(trust),
        path="/" + "".join(p + "/" for p in path),
        permissions_boundary=None,
        description="the account's deploy role (created out of band on AWS)",
        tags=[],
        max_session_duration=None,
    )


def _assume_role(self, *args, **kwargs):
    _ensure_role(kwargs.get("role_arn") if "role_arn" in kwargs else (args[2] if len(args) > 2 else ""))
    return _original(self, *args, **kwargs)


sts_models.STSBackend.assume_role = _assume_role
