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

from pydantic import BaseModel

from engine.transcript import Turn, TurnMetrics


class LatencyStat(BaseModel):
    count: int
    mean: float
    p50: float
    p95: float
    max: float


def _rank(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile: always a value that was really measured."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def latency_summary(turns: list[Turn]) -> dict[str, LatencyStat]:
    """One entry per metric that at least one turn has, in seconds, rounded to milliseconds."""
    out: dict[str, LatencyStat] = {}
    for name in TurnMetrics.model_fields:
        values = sorted(v for t in turns if t.metrics and (v := getattr(t.metrics, name)) is not None)
        if values:
            out[name] = LatencyStat(count=len(values), mean=round(statistics.fmean(values), 3),
                                    p50=_rank(values, 0.5), p95=_rank(values, 0.95), max=values[-1])
    return out
