"""Auto Scaling instance refreshes, which moto 5.2.5 does not serve (StartInstanceRefresh answered
501, and the provider's update of a group with an `instance_refresh` block hung until it timed out).

StartInstanceRefresh replaces every instance of the group with one launched from the group's
current launch template version, registered with its target groups (the old ones deregistered), then records the refresh as
`Successful` (AWS replaces instances in batches over minutes, keeping the minimum healthy
percentage; the end state is the same: the desired number of healthy instances, all of the new
version). DescribeInstanceRefreshes lists a group's refreshes, newest first; CancelInstanceRefresh
finds none in progress (ActiveInstanceRefreshNotFound), as on AWS once a refresh has finished.
"""
import uuid
from datetime import datetime, timezone

from moto.autoscaling import models as asg_models
from moto.autoscaling import responses as asg_responses
from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.core.responses import ActionResult


class _NoActiveRefresh(AutoscalingClientError):
    code = "ActiveInstanceRefreshNotFound"


def _refreshes(backend) -> dict:
    if not hasattr(backend, "envstack_refreshes"):
        backend.envstack_refreshes = {}
    return backend.envstack_refreshes


def _group(backend, name: str):
    group = backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found")
    return group


def start_instance_refresh(self):
    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    group = _group(backend, name)
    started = datetime.now(timezone.utc)
    desired = group.desired_capacity
    replaced = [{"Id": state.instance.id} for state in group.instance_states]
    group.set_desired_capacity(0)
    group.set_desired_capacity(desired)
    for arn in group.target_group_arns if replaced else []:
        backend.elbv2_backend.deregister_targets(arn, replaced)  # AWS deregisters what it terminates
    backend.update_attached_elbs(name)
    backend.update_attached_target_groups(name)
    refresh = {
        "InstanceRefreshId": str(uuid.uuid4()),
        "AutoScalingGroupName": name,
        "Status": "Successful",
        "StatusReason": "All instances were replaced.",
        "StartTime": started,
        "EndTime": datetime.now(timezone.utc),
        "PercentageComplete": 100,
        "InstancesToUpdate": 0,
        "Preferences": self._get_param("Preferences") or {},
        "Strategy": self._get_param("Strategy") or "Rolling",
    }
    _refreshes(backend).setdefault(name, []).insert(0, refresh)
    return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})


def describe_instance_refreshes(self):
    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    _group(backend, name)
    wanted = set(self._get_param("InstanceRefreshIds") or [])
    found = [r for r in _refreshes(backend).get(name, []) if not wanted or r["InstanceRefreshId"] in wanted]
    return ActionResult({"InstanceRefreshes": found})


def cancel_instance_refresh(self):
    name = self._get_param("AutoScalingGroupName")
    _group(self.autoscaling_backend, name)
    raise _NoActiveRefresh(f"No in progress or pending Instance Refresh found for Auto Scaling group {name}")


_delete_auto_scaling_group = asg_models.AutoScalingBackend.delete_auto_scaling_group


def _delete_with_refreshes(self, group_name: str):
    result = _delete_auto_scaling_group(self, group_name)
    _refreshes(self).pop(group_name, None)
    return result


asg_responses.AutoScalingResponse.start_instance_refresh = start_instance_refresh
asg_responses.AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes
asg_responses.AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh
asg_models.AutoScalingBackend.delete_auto_scaling_group = _delete_with_refreshes
