"""What moto 5.2.5 read back differently from what it was given, or failed on, for the stacks' EC2,
RDS and AWS Backup resources (each made every plan after an apply show changes, or an update fail):

- Launch templates: CreateLaunchTemplate's own TagSpecifications (resource type `launch-template`,
  which tag the template) were added to the template data's TagSpecifications (those the template
  gives its instances and volumes), so the provider read back one block more than it was given.
  Here they tag the template only, as on AWS.
- Launch template versions: CreateLaunchTemplateVersion stored UserData as the plain string it
  received, and moto's Auto Scaling then failed (AssertionError, HTTP 500, retried for ever) on any
  group scaled from that version. Here it is stored as CreateLaunchTemplate stores it (base64).
- DB parameter groups: ModifyDBParameterGroup stored parameters without a Source, and the
  provider keeps only parameters whose Source is `user` (or that match its configuration by a
  source): every read dropped them. Here a modified parameter's Source is `user`, as on AWS, and
  DescribeDBParameters honours its Source filter.
- DB instances: Performance Insights (enabled, its KMS key, its retention) was not kept, so an
  instance that enables it read back as not enabling it.
- Security group rules naming another group: their description was read from the CIDR range only,
  so a rule that references a group came back without the description it was given.
- AWS Backup ListTags: moto took the ARN from the second-to-last path segment, which is right only
  with a trailing slash; the provider's SDK sends none, so vaults and plans read back without tags.
"""
import json
from urllib.parse import unquote

from moto.backup import responses as backup_responses
from moto.core.responses import ActionResult
from moto.ec2.models import launch_templates as lt_models
from moto.ec2.models import security_groups as sg_models
from moto.ec2.utils import parse_user_data
from moto.rds import models as rds_models
from moto.rds import responses as rds_responses
from moto.rds.exceptions import DBParameterGroupNotFoundError

_create_launch_template = lt_models.LaunchTemplateBackend.create_launch_template
_create_version = lt_models.LaunchTemplate.create_version


def _create_launch_template_tagging_only_itself(self, name, description, template_data, tag_spec):
    specs = [s for s in template_data.get("TagSpecifications") or [] if s.get("ResourceType") != "launch-template"]
    if specs:
        template_data["TagSpecifications"] = specs
    else:
        template_data.pop("TagSpecifications", None)
    return _create_launch_template(self, name, description, template_data, tag_spec)


def _create_version_with_encoded_user_data(self, data, description):
    if isinstance(data.get("UserData"), str):
        data = {**data, "UserData": parse_user_data(data["UserData"])}
    return _create_version(self, data, description)


_modify_db_parameter_group = rds_models.RDSBackend.modify_db_parameter_group


def _modify_as_user(self, db_parameter_group_name, db_parameter_group_parameters):
    parameters = [{**p, "Source": "user"} for p in db_parameter_group_parameters]
    return _modify_db_parameter_group(self, db_parameter_group_name, parameters)


def _describe_db_parameters_by_source(self):
    name = self.params.get("DBParameterGroupName")
    groups = self.backend.describe_db_parameter_groups({"db_parameter_group_name": name})
    if not groups:
        raise DBParameterGroupNotFoundError(name)
    source = self.params.get("Source")
    parameters = [p for p in groups[0].parameters.values() if source is None or p.get("Source") == source]
    return ActionResult({"Parameters": parameters})


def _list_tags_by_arn(self):
    resource_arn = unquote(self.path.split("?", 1)[0].split("/tags/", 1)[1].rstrip("/"))
    return json.dumps({"Tags": self.backup_backend.list_tags(resource_arn=resource_arn)})


_create_db_instance = rds_models.RDSBackend.create_db_instance


def _create_db_instance_with_insights(self, db_kwargs):
    database = _create_db_instance(self, db_kwargs)
    enabled = str(db_kwargs.get("enable_performance_insights", "")).lower() == "true"
    database.PerformanceInsightsEnabled = enabled
    if enabled:
        database.PerformanceInsightsKMSKeyId = db_kwargs.get("performance_insights_kms_key_id")
        database.PerformanceInsightsRetentionPeriod = int(db_kwargs.get("performance_insights_retention_period") or 7)
    return database


def _rule_description(self):
    return self.ip_range.get("Description") or (self.source_group or {}).get("Description")


sg_models.SecurityGroupRule.description = property(_rule_description)
lt_models.LaunchTemplateBackend.create_launch_template = _create_launch_template_tagging_only_itself
lt_models.LaunchTemplate.create_version = _create_version_with_encoded_user_data
rds_models.RDSBackend.modify_db_parameter_group = _modify_as_user
rds_models.RDSBackend.create_db_instance = _create_db_instance_with_insights
rds_responses.RDSResponse.describe_db_parameters = _describe_db_parameters_by_source
backup_responses.BackupResponse.list_tags = _list_tags_by_arn
