"""Word error rate, for transcript checks in tests and benchmarks.

>>> word_error_rate("An event-driven design.", "an event driven design")
0.0
>>> word_error_rate("one two three four", "one too three")
0.5
"""

from __future__ import annotations

import re


def words(text: str) -> list[str]:
    """Lower-case words; hyphens split words and other punctuation is dropped, so spelling choices don't count."""
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    """(substitutions + deletions + insertions) / reference words, by word-level edit distance."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return float(bool(hyp))
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
