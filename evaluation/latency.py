"""Per-turn latency figures summarised for the report: count, mean, median, 95th percentile and worst.

Example::

    >>> from engine.transcript import Speaker
    >>> t = [Turn(index=i, speaker=Speaker.AGENT, text="ok", metrics=TurnMetrics(e2e_latency=v))
    ...      for i, v in enumerate([0.8, 1.0, 1.2, 3.0])]
    >>> latency_summary(t)["e2e_latency"].model_dump()
    {'count': 4, 'mean': 1.5, 'p50': 1.0, 'p95': 3.0, 'max': 3.0}
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from pydantic import BaseModel

from engine.transcript import Turn, TurnMetrics


class LatencyStat(BaseModel):
    count: int
    mean: float
    p50: float
    p95: float
    max: float


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile, `q` in [0, 100]: the smallest sample with at least q % of the samples at or below
    it, so always a value that was really measured. The one percentile of SIMA's reports and benchmarks.

    >>> percentile([1, 2, 3, 4], 50), percentile(list(range(1, 11)), 90), percentile([5, 1], 0)
    (2, 9, 1)
    """
    if not samples:
        raise ValueError("no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile {q} is not in [0, 100]")
    ordered = sorted(samples)
    # rounded first: 0.07 * 100 is 7.000000000000001 in floating point, which must not become rank 8
    rank = math.ceil(round(q * len(ordered) / 100, 9))
    return ordered[max(0, rank - 1)]


def latency_summary(turns: list[Turn]) -> dict[str, LatencyStat]:
    """One entry per metric that at least one turn has, in seconds, rounded to milliseconds."""
    out: dict[str, LatencyStat] = {}
    for name in TurnMetrics.model_fields:
        values = sorted(v for t in turns if t.metrics and (v := getattr(t.metrics, name)) is not None)
        if values:
            out[name] = LatencyStat(count=len(values), mean=round(statistics.fmean(values), 3),
                                    p50=percentile(values, 50), p95=percentile(values, 95), max=values[-1])
    return out
