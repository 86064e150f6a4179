"""AWS Backup selections, which moto 5.2.5 does not serve (CreateBackupSelection answered 501).

CreateBackupSelection, GetBackupSelection, ListBackupSelections and DeleteBackupSelection, kept per
backup plan as AWS keeps them: the plan must exist (ResourceNotFoundException otherwise), a name is
unique within its plan (AlreadyExistsException), the selection is read back exactly as it was given
(Conditions with their four lists, as AWS answers even when none were given), and DeleteBackupPlan
is refused while the plan still has selections (InvalidRequestException), as on AWS. No backup job
ever runs: moto runs none.
"""
import json
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote

from moto.backup import models as backup_models
from moto.backup import responses as backup_responses
from moto.backup.exceptions import AlreadyExistsException, InvalidRequestException, ResourceNotFoundException

_CONDITION_LISTS = ("StringEquals", "StringNotEquals", "StringLike", "StringNotLike")


def _selections(backend) -> dict:
    """{plan id: {selection id: record}} of one backend (account and region)."""
    if not hasattr(backend, "envstack_selections"):
        backend.envstack_selections = {}
    return backend.envstack_selections


def _plan(backend, plan_id: str):
    plan = backend.plans.get(plan_id)
    if plan is None or getattr(plan, "deletion_date", None):
        raise ResourceNotFoundException(msg=f"Failed reading Backup plan with provided version: {plan_id}")
    return plan


def _path_ids(path: str) -> tuple[str, str | None]:
    """(plan id, selection id or None) of `/backup/plans/<plan>/selections/[<selection>]`."""
    tail = unquote(path.split("?", 1)[0]).split("/backup/plans/", 1)[1]
    parts = [p for p in tail.split("/") if p]
    return parts[0], parts[2] if len(parts) > 2 else None


def _create(self):
    plan_id, _ = _path_ids(self.path)
    plan = _plan(self.backup_backend, plan_id)
    body = json.loads(self.body or "{}")
    given = body.get("BackupSelection") or {}
    name = given.get("SelectionName")
    if not name or not given.get("IamRoleArn"):
        raise InvalidRequestException(msg="BackupSelection needs SelectionName and IamRoleArn")
    held = _selections(self.backup_backend).setdefault(plan_id, {})
    if any(s["BackupSelection"]["SelectionName"] == name for s in held.values()):
        raise AlreadyExistsException(msg=f"Backup selection {name} already exists in plan {plan_id}")
    conditions = given.get("Conditions") or {}
    selection = {
        "SelectionName": name,
        "IamRoleArn": given["IamRoleArn"],
        "Resources": list(given.get("Resources") or []),
        "NotResources": list(given.get("NotResources") or []),
        "ListOfTags": list(given.get("ListOfTags") or []),
        "Conditions": {k: list(conditions.get(k) or []) for k in _CONDITION_LISTS},
    }
    selection_id = str(uuid.uuid4())
    created = datetime.now(timezone.utc).timestamp()
    held[selection_id] = {
        "BackupSelection": selection,
        "SelectionId": selection_id,
        "BackupPlanId": plan_id,
        "CreationDate": created,
        "CreatorRequestId": body.get("CreatorRequestId"),
    }
    return json.dumps({"SelectionId": selection_id, "BackupPlanId": plan_id, "CreationDate": created})


def _found(self) -> dict:
    plan_id, selection_id = _path_ids(self.path)
    _plan(self.backup_backend, plan_id)
    record = _selections(self.backup_backend).get(plan_id, {}).get(selection_id or "")
    if record is None:
        raise ResourceNotFoundException(msg=f"Failed reading Backup selection {selection_id} of plan {plan_id}")
    return record


def _get(self):
    return json.dumps({k: v for k, v in _found(self).items() if v is not None})


def _delete(self):
    record = _found(self)
    del _selections(self.backup_backend)[record["BackupPlanId"]][record["SelectionId"]]
    return "{}"


def _list(self):
    plan_id, _ = _path_ids(self.path)
    _plan(self.backup_backend, plan_id)
    listed = [
        {
            "SelectionId": r["SelectionId"],
            "SelectionName": r["BackupSelection"]["SelectionName"],
            "BackupPlanId": plan_id,
            "CreationDate": r["CreationDate"],
            "IamRoleArn": r["BackupSelection"]["IamRoleArn"],
        }
        for r in _selections(self.backup_backend).get(plan_id, {}).values()
    ]
    return json.dumps({"BackupSelectionsList": listed})


_delete_backup_plan = backup_models.BackupBackend.delete_backup_plan


def _delete_plan_without_selections(self, backup_plan_id: str):
    if _selections(self).get(backup_plan_id):
        raise InvalidRequestException(msg=f"Backup plan {backup_plan_id} still has selections: delete them first")
    return _delete_backup_plan(self, backup_plan_id)


backup_responses.BackupResponse.create_backup_selection = _create
backup_responses.BackupResponse.get_backup_selection = _get
backup_responses.BackupResponse.delete_backup_selection = _delete
backup_responses.BackupResponse.list_backup_selections = _list
backup_models.BackupBackend.delete_backup_plan = _delete_plan_without_selections
