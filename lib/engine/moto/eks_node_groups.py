"""EKS node groups with their Auto Scaling group, as EKS makes them.

moto 5.2.5's node group names an Auto Scaling group (`eks-<uuid>`) that it never creates, so
attaching it to a target group waited until the provider timed out. Here CreateNodegroup also
creates that group in moto's Auto Scaling, named as EKS names it (`eks-<node group>-<uuid>`), in the
node group's subnets, from its launch template (the one given, else one EKS-style of its own), sized
by its scaling configuration and tagged with the cluster and node group names (and without the SSH
remote access moto made up when none was asked for, and with the update configuration it was given,
which moto dropped); UpdateNodegroupConfig
resizes it and DeleteNodegroup deletes it (its instances with it). The instances are moto's records:
the local control plane's nodes are kwok's, not these.
"""
from moto.autoscaling.models import autoscaling_backends
from moto.ec2.models import ec2_backends
from moto.eks import models as eks_models
from moto.eks import responses as eks_responses

_create_nodegroup_response = eks_responses.EKSResponse.create_nodegroup


def _create_nodegroup_keeping_update_config(self):
    result = _create_nodegroup_response(self)
    given = self._get_param("updateConfig")
    if given:  # moto's CreateNodegroup dropped it: an update at each plan
        cluster = self.eks_backend.clusters[self._get_param("name")]
        cluster.nodegroups[self._get_param("nodegroupName")].update_config = given
    return result


_create_nodegroup = eks_models.EKSBackend.create_nodegroup
_update_nodegroup_config = eks_models.EKSBackend.update_nodegroup_config
_delete_nodegroup = eks_models.EKSBackend.delete_nodegroup


def _launch_template(backend, group, name: str, given: dict | None) -> dict:
    if given and given.get("id"):
        return {"LaunchTemplateId": given["id"], "Version": str(given.get("version") or "$Default")}
    if given and given.get("name"):
        return {"LaunchTemplateName": given["name"], "Version": str(given.get("version") or "$Default")}
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    template = ec2.create_launch_template(
        name=name, description="EKS managed node group", tag_spec={},
        template_data={"InstanceType": (group.instance_types or ["t3.medium"])[0]},
    )
    group.envstack_own_template = template.id
    return {"LaunchTemplateId": template.id, "Version": "1"}


def _sizes(scaling: dict | None) -> dict:
    s = scaling or {}
    return {"min_size": s.get("minSize", 1), "max_size": s.get("maxSize", 1), "desired_capacity": s.get("desiredSize", 1)}


def _create_with_asg(self, **kwargs):
    group = _create_nodegroup(self, **kwargs)
    if not kwargs.get("remote_access"):
        group.remote_access = None  # moto filled in an SSH key (eksKeypair) nobody asked for: a replacement at each plan
    name = f"eks-{group.nodegroup_name}-{group.uuid}"
    group.resources = {**group.resources, "autoScalingGroups": [{"name": name}]}
    autoscaling = autoscaling_backends[self.account_id][self.region_name]
    tags = [
        {"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": k, "Value": v, "PropagateAtLaunch": True}
        for k, v in {
            "eks:cluster-name": group.cluster_name,
            "eks:nodegroup-name": group.nodegroup_name,
            f"kubernetes.io/cluster/{group.cluster_name}": "owned",
        }.items()
    ]
    try:
        autoscaling.create_auto_scaling_group(
            name=name, availability_zones=[], launch_config_name=None,
            launch_template=_launch_template(self, group, name, kwargs.get("launch_template")),
            vpc_zone_identifier=",".join(group.subnets or []), default_cooldown=None, health_check_period=None,
            health_check_type="EC2", load_balancers=[], target_group_arns=[], placement_group=None,
            termination_policies=[], tags=tags, **_sizes(group.scaling_config),
        )
    except Exception:
        _delete_nodegroup(self, cluster_name=group.cluster_name, nodegroup_name=group.nodegroup_name)
        raise
    return group


def _update_resizes_asg(self, **kwargs):
    result = _update_nodegroup_config(self, **kwargs)
    scaling = kwargs.get("scaling_config")
    group = self.clusters[kwargs["cluster_name"]].nodegroups.get(kwargs["nodegroup_name"])
    if scaling and group:
        autoscaling = autoscaling_backends[self.account_id][self.region_name]
        for asg in group.resources.get("autoScalingGroups", []):
            if asg["name"] in autoscaling.autoscaling_groups:
                autoscaling.update_auto_scaling_group(
                    name=asg["name"], availability_zones=[], launch_config_name=None, launch_template={},
                    vpc_zone_identifier=None, health_check_period=None, health_check_type=None,
                    **_sizes({**group.scaling_config, **scaling}),
                )
    return result


def _delete_with_asg(self, cluster_name: str, nodegroup_name: str):
    group = _delete_nodegroup(self, cluster_name=cluster_name, nodegroup_name=nodegroup_name)
    autoscaling = autoscaling_backends[self.account_id][self.region_name]
    for asg in group.resources.get("autoScalingGroups", []):
        if asg["name"] in autoscaling.autoscaling_groups:
            autoscaling.delete_auto_scaling_group(asg["name"])
    own = getattr(group, "envstack_own_template", None)
    if own:
        ec2_backends[self.account_id][self.region_name].delete_launch_template(None, own)
    return group


eks_models.EKSBackend.create_nodegroup = _create_with_asg
eks_models.EKSBackend.update_nodegroup_config = _update_resizes_asg
eks_models.EKSBackend.delete_nodegroup = _delete_with_asg
eks_responses.EKSResponse.create_nodegroup = _create_nodegroup_keeping_update_config
