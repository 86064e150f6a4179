"""ElastiCache as the stacks' Redis needs it, where moto 5.2.5 falls short.

- Replication groups with their member clusters. moto's CreateReplicationGroup (cluster mode
  disabled) ignores NumCacheClusters and names member clusters it never creates, so the provider's
  read (DescribeCacheClusters `<id>-001`) failed with CacheClusterNotFound. Here NumCacheClusters
  makes that many members (`<id>-001` the primary, then replicas), each a cache cluster record with
  the group's node type, engine, subnet group, security groups, encryption and port, deleted with
  the group. DeleteReplicationGroup finishes: the group is gone at the next describe (moto left it
  `deleting` for ever, and the provider's delete waited until it timed out).
- DeleteCacheSubnetGroup (not implemented in moto), refused while a cache cluster uses the group.
- User groups (CreateUserGroup, DescribeUserGroups, ModifyUserGroup, DeleteUserGroup), which moto
  lacks: a group is `active` at once (AWS: a minute or so), its users must exist and include one
  named `default`, as AWS requires; a replication group that names it is listed in it; its tags
  are listed (moto's ListTagsForResource refused a user group's ARN as invalid).
"""
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.elasticache import models as ec_models
from moto.elasticache import responses as ec_responses
from moto.elasticache.exceptions import CacheSubnetGroupNotFound


class _Fault(ServiceException):
    """An ElastiCache error with AWS's code (serialized by moto in the query protocol)."""


_list_tags_for_resource = ec_models.ElastiCacheBackend.list_tags_for_resource


def _list_tags_of_user_groups_too(self, arn: str):
    if ":usergroup:" in arn and arn.startswith("arn:aws:elasticache:"):
        return self.tagging_service.list_tags_for_resource(arn)
    return _list_tags_for_resource(self, arn)


_create_replication_group = ec_models.ElastiCacheBackend.create_replication_group
_describe_replication_groups = ec_models.ElastiCacheBackend.describe_replication_groups
_delete_replication_group = ec_models.ElastiCacheBackend.delete_replication_group


def _member_cluster(backend, group, cluster_id: str, role: str):
    cluster = ec_models.CacheCluster(
        account_id=backend.account_id,
        region_name=backend.region_name,
        cache_cluster_id=cluster_id,
        cache_node_type=group.cache_node_type,
        replication_group_id=group.replication_group_id,
        az_mode="single-az",
        preferred_availability_zone=None,
        num_cache_nodes=1,
        engine=group.engine,
        engine_version=group.engine_version,
        cache_parameter_group_name=group.cache_parameter_group_name,
        cache_subnet_group_name=group.cache_subnet_group_name,
        transit_encryption_enabled=group.transit_encryption_enabled,
        network_type=group.network_type,
        ip_discovery=group.ip_discovery,
        snapshot_name=None,
        preferred_maintenance_window=group.preferred_maintenance_window,
        port=group.port,
        notification_topic_arn=group.notification_topic_arn,
        auto_minor_version_upgrade=group.auto_minor_version_upgrade,
        snapshot_retention_limit=group.snapshot_retention_limit,
        snapshot_window=group.snapshot_window,
        auth_token=None,
        outpost_mode=None,
        preferred_outpost_arn=None,
        preferred_availability_zones=None,
        cache_security_group_names=None,
        security_group_ids=group.security_group_ids,
        tags=None,
        snapshot_arns=None,
        preferred_outpost_arns=None,
        log_delivery_configurations=[],
        cache_node_ids_to_remove=None,
        cache_node_ids_to_reboot=None,
    )
    # The CacheCluster shape's members moto's model does not carry.
    cluster.security_groups = [{"SecurityGroupId": g, "Status": "active"} for g in group.security_group_ids or []]
    cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
    cluster.transit_encryption_mode = group.transit_encryption_mode
    cluster.auth_token_enabled = group.auth_token_enabled
    cluster.replication_group_log_delivery_enabled = False
    cluster.envstack_role = role
    return cluster


def _create_group_with_members(self, **kwargs):
    clusters = kwargs.get("num_cache_clusters")
    if (kwargs.get("cluster_mode") or "disabled") == "disabled" and clusters and not kwargs.get("replicas_per_node_group"):
        kwargs["replicas_per_node_group"] = int(clusters) - 1
    for group_id in kwargs.get("user_group_ids") or []:
        _user_group(self, group_id)
    group = _create_replication_group(self, **kwargs)
    group.security_group_ids = kwargs.get("security_group_ids") or []
    if group.cluster_mode == "disabled":
        for i, cluster_id in enumerate(group.member_clusters):
            self.cache_clusters[cluster_id] = _member_cluster(self, group, cluster_id, "primary" if i == 0 else "replica")
        group.primary_cluster_id = group.member_clusters[0] if group.member_clusters else None
    for group_id in group.user_group_ids:
        _user_groups(self)[group_id]["ReplicationGroups"].append(group.replication_group_id)
    return group


def _describe_groups_deleted_at_once(self, replication_group_id=None):
    for group_id, group in list(self.replication_groups.items()):
        if group.status == "deleting":
            del self.replication_groups[group_id]
    return _describe_replication_groups(self, replication_group_id=replication_group_id)


def _delete_group_and_members(self, replication_group_id, retain_primary_cluster):
    group = self.replication_groups.get(replication_group_id)
    members = list(group.member_clusters) if group else []
    deleted = _delete_replication_group(self, replication_group_id, retain_primary_cluster)
    for cluster_id in members:
        self.cache_clusters.pop(cluster_id, None)
    for record in _user_groups(self).values():
        if replication_group_id in record["ReplicationGroups"]:
            record["ReplicationGroups"].remove(replication_group_id)
    return deleted


def _delete_cache_subnet_group(self):
    name = self._get_param("CacheSubnetGroupName")
    backend = self.elasticache_backend
    if name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)
    users = [c for c in backend.cache_clusters.values() if c.cache_subnet_group_name == name]
    if users:
        raise _Fault("CacheSubnetGroupInUse", f"Cache subnet group {name} is in use by {users[0].cache_cluster_id}")
    del backend.cache_subnet_groups[name]
    return ActionResult({})


def _user_groups(backend) -> dict:
    if not hasattr(backend, "envstack_user_groups"):
        backend.envstack_user_groups = {}
    return backend.envstack_user_groups


def _user_group(backend, group_id: str) -> dict:
    group = _user_groups(backend).get(group_id)
    if group is None:
        raise _Fault("UserGroupNotFound", f"User group {group_id} not found.")
    return group


def _check_users(backend, user_ids: list) -> None:
    for user_id in user_ids:
        if user_id not in backend.users:
            raise _Fault("UserNotFound", f"User {user_id} not found.")
    if not any(backend.users[u].name == "default" for u in user_ids):
        raise _Fault("DefaultUserRequired", "A user group must contain a user named default.")


def _create_user_group(self):
    backend = self.elasticache_backend
    group_id = self._get_param("UserGroupId")
    if group_id in _user_groups(backend):
        raise _Fault("UserGroupAlreadyExists", f"User group {group_id} already exists.")
    user_ids = self._get_param("UserIds") or []
    _check_users(backend, user_ids)
    record = {
        "UserGroupId": group_id,
        "Status": "active",
        "Engine": (self._get_param("Engine") or "redis").lower(),
        "UserIds": list(user_ids),
        "MinimumEngineVersion": "6.0",
        "ReplicationGroups": [],
        "ServerlessCaches": [],
        "ARN": f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:usergroup:{group_id}",
    }
    _user_groups(backend)[group_id] = record
    tags = self._get_param("Tags")
    if tags:
        backend.tagging_service.tag_resource(record["ARN"], tags)
    return ActionResult(record)


def _describe_user_groups(self):
    backend = self.elasticache_backend
    group_id = self._get_param("UserGroupId")
    for gone in [g for g, r in _user_groups(backend).items() if r["Status"] == "deleting"]:
        del _user_groups(backend)[gone]
    groups = [_user_group(backend, group_id)] if group_id else list(_user_groups(backend).values())
    return ActionResult({"UserGroups": groups})


def _modify_user_group(self):
    backend = self.elasticache_backend
    record = _user_group(backend, self._get_param("UserGroupId"))
    removed = set(self._get_param("UserIdsToRemove") or [])
    added = [u for u in self._get_param("UserIdsToAdd") or [] if u not in record["UserIds"]]
    user_ids = [u for u in record["UserIds"] if u not in removed] + added
    _check_users(backend, user_ids)
    record["UserIds"] = user_ids
    return ActionResult(record)


def _delete_user_group(self):
    backend = self.elasticache_backend
    record = _user_group(backend, self._get_param("UserGroupId"))
    if record["ReplicationGroups"]:
        raise _Fault("InvalidUserGroupState", f"User group is in use by {record['ReplicationGroups'][0]}")
    record["Status"] = "deleting"
    return ActionResult(record)


ec_models.ElastiCacheBackend.list_tags_for_resource = _list_tags_of_user_groups_too
ec_models.ElastiCacheBackend.create_replication_group = _create_group_with_members
ec_models.ElastiCacheBackend.describe_replication_groups = _describe_groups_deleted_at_once
ec_models.ElastiCacheBackend.delete_replication_group = _delete_group_and_members
ec_responses.ElastiCacheResponse.delete_cache_subnet_group = _delete_cache_subnet_group
ec_responses.ElastiCacheResponse.create_user_group = _create_user_group
ec_responses.ElastiCacheResponse.describe_user_groups = _describe_user_groups
ec_responses.ElastiCacheResponse.modify_user_group = _modify_user_group
ec_responses.ElastiCacheResponse.delete_user_group = _delete_user_group
