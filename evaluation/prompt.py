"""The judge's messages for one question exchange, rendered from prompt_templates/evaluation_{answer,exchange}.j2.

The system message is the same for every call (a local llama.cpp server then reuses its computed prefix); the user
message holds only that exchange and its rubric. Everything said in the interview reaches the template only through
the `quoted` filter, and the candidate's words arrive with any instruction to the evaluator already cut out.

Example::

    >>> messages = answer_messages(PromptLibrary(Path("prompt_templates")), record, exchange)   # doctest: +SKIP
    >>> [m["role"] for m in messages]                                                            # doctest: +SKIP
    ['system', 'user']
"""

from __future__ import annotations

from engine.prompts import PromptLibrary, untrusted
from engine.transcript import InterviewRecord
from evaluation.exchanges import Exchange, asks

SYSTEM_TEMPLATE = "evaluation_answer.j2"
EXCHANGE_TEMPLATE = "evaluation_exchange.j2"
# Prompt tokens dominate a local judge's time (~72 tokens/s here): a very long answer is cut (its quotes must then
# come from what is kept). 2400 characters is about 400 spoken words.
MAX_ANSWER_CHARS = 2400


def answer_messages(prompts: PromptLibrary, record: InterviewRecord, exchange: Exchange) -> list[dict[str, str]]:
    rubric = exchange.rubric
    follow_ups = [t.text for t in exchange.asked if asks(t.text) and t.text != exchange.question]
    user = prompts.render(
        EXCHANGE_TEMPLATE,
        position=untrusted(record.position),
        level=record.level.value if record.level else None,
        question=exchange.question,
        follow_ups=follow_ups,
        expected_points=rubric.expected_points,
        misconceptions=rubric.misconceptions,
        anchors=rubric.anchors,
        answer=exchange.answer_text(),
        max_chars=MAX_ANSWER_CHARS,
    )
    return [{"role": "system", "content": prompts.render(SYSTEM_TEMPLATE)}, {"role": "user", "content": user}]
