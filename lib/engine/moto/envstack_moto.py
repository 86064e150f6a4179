"""moto's server, with what the project's emulator loop needs and moto 5.2.5 lacks.

Started by lib/engine/local.ts instead of `moto_server` (same arguments). The additions:

- Percentile statistics (`p99`, `p95.5`, ...) in GetMetricData / GetMetricStatistics, computed with
  the nearest-rank method over the raw values of each period. moto computes only Sum, Average,
  Minimum, Maximum and SampleCount, so the rollout gate's p99 latency check would read no data.
  (README: emulator gaps, `percentileStatistics`.)
- ListRecoveryPointsByBackupVault (an existing vault has none: moto runs no backup jobs). The AWS
  provider lists a vault's recovery points before it deletes a `force_destroy` vault (dev's), and
  moto answers that route with an HTML 404, so `cdktf destroy dev` failed.
- A delete marker that can be disposed of. In a bucket whose versioning was suspended (the engine
  removes aws_s3_bucket_versioning before the bucket), DeleteObjects of a key whose history holds a
  delete marker (every `.tflock` of the S3-native state lock leaves one) fails in moto with
  AttributeError (HTTP 500, retried for minutes), so destroying bootstrap (the force_destroy state
  bucket on the emulator) hung.
"""
import json
import math
import re
import sys
from urllib.parse import unquote

from moto.backup import responses as backup_responses
from moto.backup import urls as backup_urls
from moto.cloudwatch import models
from moto.s3 import models as s3_models

_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?)")
_original = models.Statistics.get_statistics_for_type


def _get_statistics_for_type(self, stat):
    match = _PERCENTILE.fullmatch(stat)
    if match is None:
        return _original(self, stat)
    values = sorted(self.metric_single_values_list)
    if not values:
        return None
    rank = math.ceil(float(match.group(1)) / 100.0 * len(values))
    return values[min(len(values), max(rank, 1)) - 1]


models.Statistics.get_statistics_for_type = _get_statistics_for_type


def _list_recovery_points_by_backup_vault(self):
    name = unquote(self.path.split("/backup-vaults/", 1)[1].split("/", 1)[0])
    self.backup_backend.describe_backup_vault(name)  # ResourceNotFoundException for an unknown vault
    return json.dumps({"RecoveryPoints": []})


if not hasattr(s3_models.FakeDeleteMarker, "dispose"):
    s3_models.FakeDeleteMarker.dispose = lambda self, garbage=False: None  # holds no data to free

backup_responses.BackupResponse.list_recovery_points_by_backup_vault = _list_recovery_points_by_backup_vault
backup_urls.url_paths["{0}/backup-vaults/(?P<name>[^/]+)/recovery-points/$"] = backup_urls.response.dispatch

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
