"""moto's server, with what the project's emulator loop needs and moto 5.2.5 lacks.

Started by lib/engine/local.ts instead of `moto_server` (same arguments). Distribution statistics
(percentiles, trimmed counts, percentile ranks) are not here: the emulator proxy answers them from
the values pushed through it (lib/engine/metric-distributions.ts). The additions in their own
modules, each patching moto when imported:

- backup_selections.py: AWS Backup selections (CreateBackupSelection and the rest).
- elasticache_groups.py: replication groups with their member clusters, DeleteCacheSubnetGroup,
  user groups that are active.
- eks_access.py: EKS add-ons, access entries and Pod Identity associations.
- eks_node_groups.py: EKS node groups with their Auto Scaling group.
- deploy_roles.py: the account's deploy role exists once assumed (as on AWS, where it is made out of band).
- ssm_invocations.py: SSM Run Command invocations that fail or time out on a marker (tests only).
- eks_api.py: a cluster's endpoint and CA as the local control plane's (once it runs), access policy
  associations, and the cluster creator's admin access entry.
- presigned_sts.py: presigned GetCallerIdentity (EKS tokens) routed, attributed and signature-checked.

The additions in this file:

- ListRecoveryPointsByBackupVault (an existing vault has none: moto runs no backup jobs). The AWS
  provider lists a vault's recovery points before it deletes a `force_destroy` vault (dev's), and
  moto answers that route with an HTML 404, so `cdktf destroy dev` failed.
- A delete marker that can be disposed of. In a bucket whose versioning was suspended (the engine
  removes aws_s3_bucket_versioning before the bucket), DeleteObjects of a key whose history holds a
  delete marker (every `.tflock` of the S3-native state lock leaves one) fails in moto with
  AttributeError (HTTP 500, retried for minutes), so destroying bootstrap (the force_destroy state
  bucket on the emulator) hung.
- An EKS cluster as EKS makes it: its cluster security group (EKS creates one in the cluster's VPC
  and reports it as resourcesVpcConfig.clusterSecurityGroupId; the stacks attach the slots' node
  ports to it, and moto reported none) deleted with the cluster, and the access configuration it was
  created with (moto dropped it, so every plan would change it).
- The ACM certificate an environment names (`certificateArn`: issued and DNS-validated in the real
  account, out of band). moto holds none, and creating an HTTPS listener with it failed with
  CertificateNotFound, which the provider retries for minutes: the first listener that uses an ARN
  gets a self-signed stand-in certificate under exactly that ARN.
- Accounts by access key id: an access key id of 12 digits acts as that account (moto 5.2.5 maps
  only the keys it issued: IAM users' and AssumeRole's, the latter in the role's account; any other
  key is the default account 123456789012). The local target gives each environment credentials of
  its own account this way (lib/stacks/target.ts emulatorCredentials), and a test can act with
  another environment's (ENVSTACK_EMULATOR_ACCOUNT).
"""
import json
import re
import sys
from urllib.parse import unquote

from moto.backup import responses as backup_responses
from moto.iam import models as iam_models
from moto.backup import urls as backup_urls
from moto.acm import models as acm_models
from moto.ec2.models import ec2_backends
from moto.eks import models as eks_models
from moto.eks import responses as eks_responses
from moto.core import responses as core_responses
from moto.s3 import models as s3_models

import backup_selections  # noqa: F401  (patches moto on import)
import eks_access  # noqa: F401
import eks_api  # noqa: F401
import eks_node_groups  # noqa: F401
import elasticache_groups  # noqa: F401
import instance_refresh  # noqa: F401
import presigned_sts  # noqa: F401
import read_backs  # noqa: F401
import ssm_invocations  # noqa: F401
import deploy_roles  # noqa: F401


def _list_recovery_points_by_backup_vault(self):
    name = unquote(self.path.split("/backup-vaults/", 1)[1].split("/", 1)[0])
    self.backup_backend.describe_backup_vault(name)  # ResourceNotFoundException for an unknown vault
    return json.dumps({"RecoveryPoints": []})


if not hasattr(s3_models.FakeDeleteMarker, "dispose"):
    s3_models.FakeDeleteMarker.dispose = lambda self, garbage=False: None  # holds no data to free

_ACCOUNT_KEY = re.compile(r"^\d{12}$")
_issued_key_account = iam_models.get_account_id_from


def _account_id_from(access_key: str) -> str:
    if access_key and _ACCOUNT_KEY.match(access_key):
        return access_key
    return _issued_key_account(access_key)


# moto.core.responses imports it from moto.iam.models at each request: replacing it there is enough.
iam_models.get_account_id_from = _account_id_from
# moto reads an access key id from the Authorization header only when it has 20 characters.
core_responses.BaseResponse.access_key_regex = re.compile(
    r"AWS.*(?P<access_key>(?<![A-Z0-9])(?:[A-Z0-9]{20}|\d{12})(?![A-Z0-9]))[:/]"
)

backup_responses.BackupResponse.list_recovery_points_by_backup_vault = _list_recovery_points_by_backup_vault
backup_urls.url_paths["{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$"] = backup_urls.response.dispatch

_create_cluster = eks_responses.EKSResponse.create_cluster
_delete_cluster = eks_models.EKSBackend.delete_cluster


def _create_cluster_as_eks(self):
    result = _create_cluster(self)
    cluster = self.eks_backend.clusters[self._get_param("name")]
    access = self._get_param("accessConfig") or {}
    cluster.access_config = {
        "authenticationMode": access.get("authenticationMode", "CONFIG_MAP"),
        "bootstrapClusterCreatorAdminPermissions": access.get("bootstrapClusterCreatorAdminPermissions", True),
    }
    subnets = cluster.resources_vpc_config.get("subnetIds") or []
    if subnets:
        ec2 = ec2_backends[self.current_account][self.region]
        vpc_id = ec2.get_subnet(subnets[0]).vpc_id
        group = ec2.create_security_group(
            name=f"eks-cluster-sg-{cluster.name}",
            description="EKS created security group applied to ENI that is attached to EKS Control Plane master nodes, as well as any managed workloads.",
            vpc_id=vpc_id,
            tags={"aws:eks:cluster-name": cluster.name, f"kubernetes.io/cluster/{cluster.name}": "owned"},
        )
        cluster.resources_vpc_config = {**cluster.resources_vpc_config, "clusterSecurityGroupId": group.id, "vpcId": vpc_id}
    return result


def _delete_cluster_as_eks(self, name):
    cluster = self.clusters.get(name)
    group = (cluster.resources_vpc_config or {}).get("clusterSecurityGroupId") if cluster else None
    deleted = _delete_cluster(self, name)
    if group:
        try:
            ec2_backends[self.account_id][self.region_name].delete_security_group(group_id=group)
        except Exception:  # already gone, or still referenced: EKS leaves it then too
            pass
    return deleted


_set_certificate_in_use_by = acm_models.AWSCertificateManagerBackend.set_certificate_in_use_by


def _certificate_in_use_by(self, arn, load_balancer_name):
    if arn not in self._certificates:
        bundle = acm_models.CertBundle.generate_cert("envstack.local", self.account_id, self.region_name)
        bundle.arn = arn
        self._certificates[arn] = bundle
    return _set_certificate_in_use_by(self, arn, load_balancer_name)


acm_models.AWSCertificateManagerBackend.set_certificate_in_use_by = _certificate_in_use_by
eks_responses.EKSResponse.create_cluster = _create_cluster_as_eks
eks_models.EKSBackend.delete_cluster = _delete_cluster_as_eks

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
