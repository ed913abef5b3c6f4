"""What the simulated candidate hears: how long after their last word the interviewer answers, for every answer.

LiveKit's `e2e_latency` metric exists only for a reply to one committed user turn; an answer the turn detection cut
in two (a pause after a finished sentence) is answered by a reply without it, and such replies are the slow ones.
These figures come from the audio itself: the candidate's microphone notes when each answer's last voiced sample
was played, the agent's speaker when each reply's first frame was, so every answer counts.

>>> timing = ReplyTiming()
>>> timing.answer(start=10.0, end=14.0, text="I led it."); timing.reply(14.8)   # answered 0.8 s after the end
>>> timing.answer(start=20.0, end=25.0); timing.reply(22.5)      # the agent spoke over the answer
>>> timing.reply(26.0)
>>> summary = timing.summary(); summary.answers, summary.delays_s, summary.talk_overs, summary.said
(2, [0.8, 1.0], 1, ['I led it.', ''])
"""

from __future__ import annotations

import bisect

import numpy as np
from pydantic import BaseModel

VOICED = 300  # |int16 sample| above this is speech, below is the synthesiser's padding and room noise


def voiced_seconds(samples: np.ndarray, rate: int) -> float:
    """Seconds from the start of `samples` to the end of their last voiced sample (0 if none is voiced).

    >>> voiced_seconds(np.array([0, 900, 0, 0], dtype=np.int16), 4)
    0.5
    """
    voiced = np.flatnonzero(np.abs(samples.astype(np.int32)) > VOICED)
    return float(voiced[-1] + 1) / rate if len(voiced) else 0.0


class ReplyTimingSummary(BaseModel):
    """`answers`: the answers the candidate spoke; `delays_s`: per answer that got a reply, seconds from its last
    voiced sample to the reply's first audio; `talk_overs`: answers the agent began a reply during (not in
    `delays_s`: its reply to the rest is counted); `said`: each answer's words as the candidate spoke them, in
    order (what a transcript of the interview is checked against)."""

    answers: int = 0
    delays_s: list[float]
    talk_overs: int
    said: list[str] = []


class ReplyTiming:
    """Answers (first and last voiced moment) and reply starts, on one monotonic clock, in any order."""

    def __init__(self) -> None:
        self.answers: list[tuple[float, float, str]] = []  # (start, end, words)
        self.replies: list[float] = []

    def answer(self, *, start: float, end: float, text: str = "") -> None:
        self.answers.append((start, end, text))

    def reply(self, at: float) -> None:
        bisect.insort(self.replies, at)

    def summary(self) -> ReplyTimingSummary:
        delays, talk_overs = [], 0
        answers = sorted(self.answers)
        for i, (start, end, _) in enumerate(answers):
            first = bisect.bisect_right(self.replies, start)
            if first < len(self.replies) and self.replies[first] < end:
                talk_overs += 1
            after = bisect.bisect_left(self.replies, end)
            # a reply after the next answer began belongs to that one: this answer got none
            next_start = answers[i + 1][0] if i + 1 < len(answers) else float("inf")
            if after < len(self.replies) and self.replies[after] < next_start:
                delays.append(round(self.replies[after] - end, 3))
        return ReplyTimingSummary(answers=len(answers), delays_s=delays, talk_overs=talk_overs,
                                  said=[text for *_, text in answers])
