"""moto's server, with what the project's emulator loop needs and moto 5.2.5 lacks.

Started by lib/engine/local.ts instead of `moto_server` (same arguments). The one addition:

- Percentile statistics (`p99`, `p95.5`, ...) in GetMetricData / GetMetricStatistics, computed with
  the nearest-rank method over the raw values of each period. moto computes only Sum, Average,
  Minimum, Maximum and SampleCount, so the rollout gate's p99 latency check would read no data.
  (README: emulator gaps, `percentileStatistics`.)
"""
import math
import re
import sys

from moto.cloudwatch import models

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

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main())
