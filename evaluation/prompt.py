"""The judge's messages: instructions and the interview, rendered from prompt_templates/evaluation_*.j2.

Transcript text, notes, warnings, the candidate's name and the position reach the templates only as
:class:`~engine.prompts.Untrusted` values or through the `quoted` filter, so "ignore your rubric" said by a candidate
arrives as a quoted string the judge is told to treat as data.

Example::

    >>> messages = judge_messages(PromptLibrary(Path("prompt_templates")), record)   # doctest: +SKIP
    >>> [m["role"] for m in messages]                                                 # doctest: +SKIP
    ['system', 'user']
"""

from __future__ import annotations

from typing import Any

from engine.prompts import PromptLibrary, untrusted
from engine.transcript import InterviewRecord

SYSTEM_TEMPLATE = "evaluation_judge.j2"
INTERVIEW_TEMPLATE = "evaluation_transcript.j2"
MAX_TURN_CHARS = 4000  # a long spoken answer is ~600 words; the cap only stops pathological input


def judge_context(record: InterviewRecord) -> dict[str, Any]:
    return {
        "candidate_name": untrusted(record.candidate_name),
        "position": untrusted(record.position),
        "level": record.level.value if record.level else None,
        "duration_minutes": round(record.duration_seconds / 60, 1),
        "end_reason": untrusted(record.end_reason),  # may carry the interviewer LLM's own words
        "questions": [q.model_dump() for q in record.questions],
        "notes": record.notes,
        "warnings": record.warnings,
        "turns": [{"index": t.index, "speaker": t.speaker.value, "phase": t.phase.value if t.phase else None,
                   "text": t.text} for t in record.turns if t.text.strip()],
        "max_turn_chars": MAX_TURN_CHARS,
    }


def judge_messages(prompts: PromptLibrary, record: InterviewRecord) -> list[dict[str, str]]:
    context = judge_context(record)
    return [
        {"role": "system", "content": prompts.render(SYSTEM_TEMPLATE, **context)},
        {"role": "user", "content": prompts.render(INTERVIEW_TEMPLATE, **context)},
    ]
