"""Which of a question's expected points an answer touched, and which bank follow-up targets the ones it missed.

Plain lexical overlap of content words, compared by their first :data:`STEM` letters (so "deploys" meets
"deployment"): fast, deterministic and explainable, which is what a rule needs. The rubric's own verbs
("describes", "mentions", "explains") say how to judge, not what to say, so they never count.

Example::

    >>> points = ["names a rollback plan", "mentions monitoring or alerts", "explains the root cause"]
    >>> sorted(covered_points("A rollback first, then I watch the alerts dashboard.", points))
    [0, 1]
    >>> follow_ups = ["How would you find the root cause afterwards?", "Who would you tell?"]
    >>> pick_follow_up(follow_ups, [points[2]], used=[])
    0
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

STEM = 5
_WORD = re.compile(r"[a-z][a-z0-9+#]*")


def word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` (word lists written as prose)."""
    return frozenset(text.split())


# function words, and the rubric's vocabulary about judging (not about the subject)
_STOP = word_set("""
a about above after again against all also an and any are as at be because been before being below between both but
by can could did do does doing done down during each either few for from further had has have having he her here
hers him his how i if in into is it its itself just like may me might more most much must my no nor not now of off
on once only or other our out over own per same she should so some such than that the their theirs them then there
these they this those through to too under until up very via was we were what when where which while who whom why
will with would you your yours able any clear clearly concrete concretely describes describe described mentions
mention explains explain explained names name gives give shows show states state uses use using briefly specific
specifically example examples least rather whether good well way ways thing things something someone one two
candidate answer answers point points talks talk discusses discuss notes note lists list identifies identify
think thinking thought today yesterday tomorrow now going get got really lot kind sort want know yes yeah okay
""")


def stems(text: str) -> set[str]:
    """The content words of `text`, cut to their first STEM letters.

    >>> sorted(stems("Describes the deployment of caches"))
    ['cache', 'deplo']
    """
    return {w[:STEM] for w in _WORD.findall(text.lower()) if w not in _STOP and len(w) > 2}


def covered_points(answer: str, points: Sequence[str]) -> set[int]:
    """Indices of the expected points that share a content word with `answer`."""
    said = stems(answer)
    return {i for i, point in enumerate(points) if stems(point) & said}


def overlap(text: str, others: Iterable[str]) -> int:
    """How many content words `text` shares with `others` taken together."""
    theirs: set[str] = set()
    for other in others:
        theirs |= stems(other)
    return len(stems(text) & theirs)


def pick_follow_up(follow_ups: Sequence[str], missed: Sequence[str], *, used: Iterable[int]) -> int | None:
    """The unused follow-up sharing most words with the `missed` points (the first on a tie), or None if no
    unused follow-up touches any of them."""
    used = set(used)
    scored = [(overlap(text, missed), -i) for i, text in enumerate(follow_ups) if i not in used]
    if not scored:
        return None
    best, neg_index = max(scored)
    return -neg_index if best > 0 else None
