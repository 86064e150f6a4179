"""EKS add-ons, access entries and Pod Identity associations, which moto 5.2.5 does not serve.

Kept on moto's cluster record, so they go with the cluster, as on EKS:

- Add-ons (CreateAddon, DescribeAddon, ListAddons, UpdateAddon, DeleteAddon, and DescribeUpdate
  of an add-on's update): `ACTIVE` at once with an `eksbuild` version when none is asked for, their
  configuration values and service-account role as given; the Pod Identity associations an add-on
  is created with are made in the add-on's namespace and owned by it (deleted with it). Nothing is
  installed: the local control plane has no nodes to run an add-on's pods on.
- Access entries (Create/Describe/List/Update/DeleteAccessEntry): one per principal, type STANDARD
  by default, the username EKS derives from an IAM role. The local control plane's token webhook
  authenticates with them (lib/engine/control-plane/token-webhook.ts); access policies: eks_api.py.
- Pod Identity associations (Create/Describe/List/Update/DeletePodIdentityAssociation): one per
  namespace and service account, ids `a-` and 17 characters as on EKS. No pod receives credentials.
"""
import json
import re
import string
import uuid
from datetime import datetime, timezone
from urllib.parse import unquote

from moto.eks import responses as eks_responses
from moto.eks import urls as eks_urls
from moto.eks.exceptions import InvalidParameterException, ResourceInUseException, ResourceNotFoundException
from moto.moto_api._internal import mock_random as random

_ADDON_VERSIONS = {
    "vpc-cni": "v1.19.2-eksbuild.1",
    "eks-pod-identity-agent": "v1.3.4-eksbuild.1",
    "metrics-server": "v0.7.2-eksbuild.1",
    "amazon-cloudwatch-observability": "v2.6.0-eksbuild.1",
    "coredns": "v1.11.4-eksbuild.2",
    "kube-proxy": "v1.31.3-eksbuild.2",
}
_ADDON_NAMESPACES = {"amazon-cloudwatch-observability": "amazon-cloudwatch", "metrics-server": "kube-system"}


def _now() -> float:
    return datetime.now(timezone.utc).timestamp()


def _not_found(message: str, **ids):
    return ResourceNotFoundException(
        clusterName=ids.get("cluster"), nodegroupName=None, fargateProfileName=None, addonName=ids.get("addon"), message=message
    )


def _cluster(self, name: str):
    cluster = self.eks_backend.clusters.get(name)
    if cluster is None:
        raise _not_found(f"No cluster found for name: {name}.", cluster=name)
    for store in ("envstack_addons", "envstack_access_entries", "envstack_associations", "envstack_updates"):
        if not hasattr(cluster, store):
            setattr(cluster, store, {})
    return cluster


def _path(self) -> list[str]:
    """The path's parts after /clusters/: [cluster, collection, item...] (an item may hold slashes: an ARN)."""
    tail = unquote(self.path.split("?", 1)[0]).split("/clusters/", 1)[1]
    cluster, _, rest = tail.partition("/")
    collection, _, item = rest.partition("/")
    return [cluster, collection, item]


def _body(self) -> dict:
    return json.loads(self.body or "{}") if self.body else {}


def _arn(self, kind: str, *parts: str) -> str:
    return f"arn:aws:eks:{self.region}:{self.current_account}:{kind}/{'/'.join(parts)}"


# --- Pod Identity associations ---------------------------------------------------------------


def _new_association(self, cluster, namespace: str, service_account: str, role_arn: str, tags=None, owner=None) -> dict:
    for a in cluster.envstack_associations.values():
        if a["namespace"] == namespace and a["serviceAccount"] == service_account:
            raise ResourceInUseException(
                clusterName=cluster.name, nodegroupName=None, addonName=None,
                message=f"Association already exists for {namespace}/{service_account}: {a['associationId']}",
            )
    if not role_arn or not namespace or not service_account:
        raise InvalidParameterException(message="namespace, serviceAccount and roleArn are required")
    association_id = "a-" + "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(17))
    created = _now()
    record = {
        "clusterName": cluster.name, "namespace": namespace, "serviceAccount": service_account, "roleArn": role_arn,
        "associationArn": _arn(self, "podidentityassociation", cluster.name, association_id),
        "associationId": association_id, "tags": tags or {}, "createdAt": created, "modifiedAt": created,
        "disableSessionTags": False,
    }
    if owner:
        record["ownerArn"] = owner
    cluster.envstack_associations[association_id] = record
    return record


def _association(self):
    cluster_name, _, association_id = _path(self)
    record = _cluster(self, cluster_name).envstack_associations.get(association_id)
    if record is None:
        raise _not_found(f"No Pod Identity Association found with id {association_id}", cluster=cluster_name)
    return record


def create_pod_identity_association(self):
    cluster = _cluster(self, _path(self)[0])
    b = _body(self)
    record = _new_association(self, cluster, b.get("namespace"), b.get("serviceAccount"), b.get("roleArn"), b.get("tags"))
    return json.dumps({"association": record})


def describe_pod_identity_association(self):
    return json.dumps({"association": _association(self)})


def update_pod_identity_association(self):
    record = _association(self)
    b = _body(self)
    for key in ("roleArn", "disableSessionTags", "targetRoleArn"):
        if key in b:
            record[key] = b[key]
    record["modifiedAt"] = _now()
    return json.dumps({"association": record})


def delete_pod_identity_association(self):
    record = _association(self)
    del _cluster(self, record["clusterName"]).envstack_associations[record["associationId"]]
    return json.dumps({"association": record})


def list_pod_identity_associations(self):
    keys = ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId", "ownerArn")
    found = _cluster(self, _path(self)[0]).envstack_associations.values()
    return json.dumps({"associations": [{k: a[k] for k in keys if k in a} for a in found]})


# --- Add-ons ---------------------------------------------------------------------------------


def _addon(self):
    cluster_name, _, name = _path(self)
    name = name.removesuffix("/update")  # UpdateAddon: POST .../addons/<name>/update
    record = _cluster(self, cluster_name).envstack_addons.get(name)
    if record is None:
        raise _not_found(f"No addon: {name} found in cluster: {cluster_name}", cluster=cluster_name, addon=name)
    return record


def create_addon(self):
    cluster = _cluster(self, _path(self)[0])
    b = _body(self)
    name = b.get("addonName")
    if name in cluster.envstack_addons:
        raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, addonName=name, message=f"Addon already exists: {name}")
    arn = _arn(self, "addon", cluster.name, name, str(uuid.uuid4()))
    namespace = (b.get("namespaceConfig") or {}).get("namespace") or _ADDON_NAMESPACES.get(name, "kube-system")
    associations = [
        _new_association(self, cluster, namespace, p.get("serviceAccount"), p.get("roleArn"), owner=arn)["associationArn"]
        for p in b.get("podIdentityAssociations") or []
    ]
    created = _now()
    record = {
        "addonName": name, "clusterName": cluster.name, "status": "ACTIVE",
        "addonVersion": b.get("addonVersion") or _ADDON_VERSIONS.get(name, "v1.0.0-eksbuild.1"),
        "health": {"issues": []}, "addonArn": arn, "createdAt": created, "modifiedAt": created,
        "tags": b.get("tags") or {}, "podIdentityAssociations": associations,
    }
    for key in ("serviceAccountRoleArn", "configurationValues"):
        if b.get(key):
            record[key] = b[key]
    if b.get("namespaceConfig"):
        record["namespaceConfig"] = {"namespace": namespace}
    cluster.envstack_addons[name] = record
    return json.dumps({"addon": record})


def describe_addon(self):
    return json.dumps({"addon": _addon(self)})


def list_addons(self):
    return json.dumps({"addons": sorted(_cluster(self, _path(self)[0]).envstack_addons)})


def update_addon(self):
    record = _addon(self)
    b = _body(self)
    for key in ("addonVersion", "serviceAccountRoleArn", "configurationValues"):
        if key in b:
            record[key] = b[key]
    record["modifiedAt"] = _now()
    update = {"id": str(uuid.uuid4()), "status": "Successful", "type": "AddonUpdate", "params": [], "createdAt": _now(), "errors": []}
    _cluster(self, record["clusterName"]).envstack_updates[update["id"]] = update
    return json.dumps({"update": update})


def describe_update(self):
    cluster_name, _, update_id = _path(self)
    update = _cluster(self, cluster_name).envstack_updates.get(update_id)
    if update is None:
        raise _not_found(f"No update found for ID: {update_id}", cluster=cluster_name)
    return json.dumps({"update": update})


def delete_addon(self):
    record = _addon(self)
    cluster = _cluster(self, record["clusterName"])
    for arn in record["podIdentityAssociations"]:
        cluster.envstack_associations.pop(arn.rsplit("/", 1)[1], None)
    del cluster.envstack_addons[record["addonName"]]
    return json.dumps({"addon": {**record, "status": "DELETING"}})


# --- Access entries --------------------------------------------------------------------------

_ROLE = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/(?:.*/)?([^/]+)$")


def _entry(self):
    cluster_name, _, principal = _path(self)
    record = _cluster(self, cluster_name).envstack_access_entries.get(principal)
    if record is None:
        raise _not_found(f"The specified principalArn could not be found: {principal}", cluster=cluster_name)
    return record


def create_access_entry(self):
    cluster = _cluster(self, _path(self)[0])
    b = _body(self)
    principal = b.get("principalArn") or ""
    if principal in cluster.envstack_access_entries:
        raise ResourceInUseException(
            clusterName=cluster.name, nodegroupName=None, addonName=None,
            message=f"The specified access entry resource is already in use on this cluster: {principal}",
        )
    role = _ROLE.match(principal)
    username = f"arn:aws:sts::{role.group(1)}:assumed-role/{role.group(2)}/{{{{SessionName}}}}" if role else principal
    created = _now()
    record = {
        "clusterName": cluster.name, "principalArn": principal, "kubernetesGroups": b.get("kubernetesGroups") or [],
        "accessEntryArn": _arn(self, "access-entry", cluster.name, *principal.split(":")[-1].split("/"), str(uuid.uuid4())),
        "createdAt": created, "modifiedAt": created, "tags": b.get("tags") or {},
        "username": b.get("username") or username, "type": b.get("type") or "STANDARD",
    }
    cluster.envstack_access_entries[principal] = record
    return json.dumps({"accessEntry": record})


def describe_access_entry(self):
    return json.dumps({"accessEntry": _entry(self)})


def update_access_entry(self):
    record = _entry(self)
    b = _body(self)
    for key in ("kubernetesGroups", "username"):
        if key in b:
            record[key] = b[key]
    record["modifiedAt"] = _now()
    return json.dumps({"accessEntry": record})


def delete_access_entry(self):
    record = _entry(self)
    del _cluster(self, record["clusterName"]).envstack_access_entries[record["principalArn"]]
    return "{}"


def list_access_entries(self):
    return json.dumps({"accessEntries": sorted(_cluster(self, _path(self)[0]).envstack_access_entries)})


for _handler in (
    create_pod_identity_association, describe_pod_identity_association, update_pod_identity_association,
    delete_pod_identity_association, list_pod_identity_associations, create_addon, describe_addon, list_addons,
    update_addon, describe_update, delete_addon, create_access_entry, describe_access_entry, update_access_entry,
    delete_access_entry, list_access_entries,
):
    setattr(eks_responses.EKSResponse, _handler.__name__, _handler)

for _collection in ("addons", "access-entries", "pod-identity-associations", "updates"):
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/" + _collection + "$"] = eks_urls.response.dispatch
    eks_urls.url_paths["{0}/clusters/(?P<name>[^/]+)/" + _collection + "/(?P<item>.+)$"] = eks_urls.response.dispatch
