"""An EKS cluster's Kubernetes API in the local loop, and who may use it, as EKS decides it.

- The API server: with ENVSTACK_EKS_API_FILE set (lib/engine/local.ts sets it per emulator) and the
  file written (the emulator's `serveKubernetesApi`, once the local control plane runs), every
  cluster's `endpoint` and `certificateAuthority.data` are the local control plane's, so a client
  that reads them from DescribeCluster (envctl, lib/aws/eks.ts) reaches a real API server. Without
  the file, moto's fake endpoint and CA stay.
- Access policy associations (AssociateAccessPolicy, ListAssociatedAccessPolicies,
  DisassociateAccessPolicy) on eks_access.py's access entries.
- The cluster creator's admin access: created with `bootstrapClusterCreatorAdminPermissions` (true
  unless the request says false), a cluster gets an access entry for the principal that created it
  (the role, for an assumed-role session) with AmazonEKSClusterAdminPolicy on the cluster, as EKS
  does. The stacks create their clusters so (lib/constructs/eks/cluster.ts): the deploy role that
  applies them is the cluster's admin.
"""
import json
import os
import re
from datetime import datetime, timezone
from urllib.parse import unquote

from moto.eks import responses as eks_responses
from moto.eks.exceptions import InvalidParameterException, ResourceNotFoundException
from moto.sts.models import sts_backends

import eks_access

_POLICY = re.compile(r"^arn:aws[\w-]*:eks::aws:cluster-access-policy/[A-Za-z0-9]+$")
CLUSTER_ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"


def _local_api() -> dict | None:
    path = os.environ.get("ENVSTACK_EKS_API_FILE")
    if not path or not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def _point_at_local_api(cluster) -> None:
    api = _local_api()
    if api:
        cluster.endpoint = api["endpoint"]
        cluster.certificate_authority = {"data": api["certificateAuthority"]}


_describe_cluster = eks_responses.EKSResponse.describe_cluster
_create_cluster = eks_responses.EKSResponse.create_cluster


def _describe_cluster_local(self):
    cluster = self.eks_backend.clusters.get(self._get_param("name"))
    if cluster is not None:
        _point_at_local_api(cluster)
    return _describe_cluster(self)


def _creator_principal(self) -> str:
    """The IAM principal the request was signed by: the role of an assumed-role session, else the user."""
    backend = sts_backends[self.current_account]["aws"]
    role = None
    for by_partition in sts_backends.values():
        for b in by_partition.values():
            role = role or b.get_assumed_role_from_access_key(self.get_access_key())
    if role:
        return role.role_arn
    return backend.get_caller_identity(self.get_access_key(), self.region)[1]


def _create_cluster_with_creator(self):
    result = _create_cluster(self)
    cluster = self.eks_backend.clusters[self._get_param("name")]
    _point_at_local_api(cluster)
    if (self._get_param("accessConfig") or {}).get("bootstrapClusterCreatorAdminPermissions", True):
        principal = _creator_principal(self)
        record = eks_access._cluster(self, cluster.name)
        now = datetime.now(timezone.utc).timestamp()
        role = eks_access._ROLE.match(principal)
        record.envstack_access_entries[principal] = {
            "clusterName": cluster.name, "principalArn": principal, "kubernetesGroups": [], "type": "STANDARD",
            "accessEntryArn": eks_access._arn(self, "access-entry", cluster.name, *principal.split(":")[-1].split("/"), "creator"),
            "createdAt": now, "modifiedAt": now, "tags": {},
            "username": f"arn:aws:sts::{role.group(1)}:assumed-role/{role.group(2)}/{{{{SessionName}}}}" if role else principal,
            "envstack_policies": {CLUSTER_ADMIN: {"policyArn": CLUSTER_ADMIN, "accessScope": {"type": "cluster", "namespaces": []},
                                                  "associatedAt": now, "modifiedAt": now}},
        }
    return result


def _entry_and_policy(self):
    """The access entry of the path `/clusters/<name>/access-entries/<principal>/access-policies[/<policy>]`, and the policy."""
    tail = unquote(self.path.split("?", 1)[0]).split("/clusters/", 1)[1]
    cluster_name, _, rest = tail.partition("/access-entries/")
    principal, _, policy = rest.partition("/access-policies")
    entry = eks_access._cluster(self, cluster_name).envstack_access_entries.get(principal)
    if entry is None:
        raise ResourceNotFoundException(
            clusterName=cluster_name, nodegroupName=None, fargateProfileName=None, addonName=None,
            message=f"The specified principalArn could not be found: {principal}",
        )
    entry.setdefault("envstack_policies", {})
    return entry, policy.lstrip("/")


def associate_access_policy(self):
    entry, _ = _entry_and_policy(self)
    b = json.loads(self.body or "{}") if self.body else {}
    policy, scope = b.get("policyArn") or "", b.get("accessScope") or {}
    if not _POLICY.match(policy) or scope.get("type") not in ("cluster", "namespace"):
        raise InvalidParameterException(message="policyArn must be an EKS cluster access policy and accessScope.type cluster or namespace")
    if scope["type"] == "namespace" and not scope.get("namespaces"):
        raise InvalidParameterException(message="a namespace access scope needs namespaces")
    now = datetime.now(timezone.utc).timestamp()
    association = {"policyArn": policy, "accessScope": {"type": scope["type"], "namespaces": scope.get("namespaces") or []},
                   "associatedAt": entry["envstack_policies"].get(policy, {}).get("associatedAt", now), "modifiedAt": now}
    entry["envstack_policies"][policy] = association
    return json.dumps({"clusterName": entry["clusterName"], "principalArn": entry["principalArn"], "associatedAccessPolicy": association})


def list_associated_access_policies(self):
    entry, _ = _entry_and_policy(self)
    return json.dumps({"clusterName": entry["clusterName"], "principalArn": entry["principalArn"],
                       "associatedAccessPolicies": list(entry["envstack_policies"].values())})


def disassociate_access_policy(self):
    entry, policy = _entry_and_policy(self)
    entry["envstack_policies"].pop(policy, None)
    return "{}"


def _without_policies(handler):
    """Access entries as EKS returns them: the policy associations are not part of an entry."""
    def wrapped(self):
        body = handler(self)
        data = json.loads(body)
        if isinstance(data.get("accessEntry"), dict):
            data["accessEntry"] = {k: v for k, v in data["accessEntry"].items() if k != "envstack_policies"}
        return json.dumps(data)
    return wrapped


for _name in ("describe_access_entry", "update_access_entry"):
    setattr(eks_responses.EKSResponse, _name, _without_policies(getattr(eks_responses.EKSResponse, _name)))
for _handler in (associate_access_policy, list_associated_access_policies, disassociate_access_policy):
    setattr(eks_responses.EKSResponse, _handler.__name__, _handler)
eks_responses.EKSResponse.describe_cluster = _describe_cluster_local
eks_responses.EKSResponse.create_cluster = _create_cluster_with_creator
