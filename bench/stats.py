"""Percentiles for benchmark samples: the reports' own nearest-rank percentile (evaluation/latency.py), so a
benchmark's P90 and a report's are the same statistic.

>>> percentile([0.8, 1.0, 1.2, 3.0], 50)
1.0
"""

from __future__ import annotations

from evaluation.latency import percentile

__all__ = ["percentile"]
