"""moto's server, with what the project's emulator loop needs and moto 5.2.5 lacks.

Started by lib/engine/local.ts instead of `moto_server` (same arguments). Distribution statistics
(percentiles, trimmed counts, percentile ranks) are not here: the emulator proxy answers them from
the values pushed through it (lib/engine/metric-distributions.ts). The additions:

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
import sys
from urllib.parse import unquote

from moto.backup import responses as backup_responses
from moto.backup import urls as backup_urls
from moto.s3 import models as s3_models


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
