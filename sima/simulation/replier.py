"""What a simulated candidate says: scripted lines first, then replies from an LLM playing the persona.

Replies stream sentence by sentence, so a spoken persona starts talking after its first sentence, as a person
does, instead of after the model has written the whole answer (seconds, for a local model).

Example::

    replier = PersonaReplier(persona, prompts, client, model="qwen")
    text = await replier.reply("Could you introduce yourself?")
    async for sentence in replier.stream("What did you build there?"):
        ...
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator

from openai import AsyncOpenAI

from engine.prompts import PromptLibrary
from sima.simulation.persona import Persona

log = logging.getLogger(__name__)
FALLBACK_REPLY = "Sorry, could you repeat the question?"
# a sentence ends at . ! or ? followed by a space: "2.5" and "Node.js" stay whole
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# what a voice would read out: markdown emphasis, headings, code ticks, and list markers at the start of a line
# (the model writes "steps:\n\n1. **Find the callers**: ..." however it is told to speak)
_MARKUP = re.compile(r"[*_`#]+|(?:^|\n)\s*(?:\d+[.)]|[-•])(?=\s)")
# small models sometimes drop the role ("As an AI language model...", "I'm sorry, but I can't assist"): a first
# sentence like that is thrown away and the reply written again
_OUT_OF_ROLE = re.compile(
    r"\b(?:as|i'?m|i am) (?:just )?an ai\b|\bcan(?:not|'t) (?:assist|help) (?:you )?with\b|\bcan(?:not|'t) provide\b",
    re.IGNORECASE,
)
ATTEMPTS = 3


class PersonaReplier:
    """Each reply is written from the persona and the agent's latest words alone: with its own earlier answers in
    view, a small model copies them ("I was the one who...") until every answer is the same sentence."""

    def __init__(self, persona: Persona, prompts: PromptLibrary, client: AsyncOpenAI | None, model: str):
        self.persona = persona
        self.client = client
        self.model = model
        self.system = prompts.render("persona.j2", persona=persona)
        self._scripted = list(persona.scripted_answers)

    async def reply(self, agent_text: str) -> str:
        """The whole reply to what the agent said."""
        return " ".join([sentence async for sentence in self.stream(agent_text)])

    async def stream(self, agent_text: str) -> AsyncIterator[str]:
        """The reply to what the agent said, a sentence at a time, within the persona's word budget."""
        if self._scripted:
            for sentence in _SENTENCE_END.split(self._scripted.pop(0).strip()):
                yield sentence
            return
        if self.client is not None:
            for attempt in range(1, ATTEMPTS + 1):
                sentences = self._generate(agent_text)
                async with contextlib.aclosing(sentences):
                    first = await anext(sentences, None)
                    if first is not None and not _OUT_OF_ROLE.search(first):
                        yield first
                        async for sentence in sentences:
                            yield sentence
                        return
                log.info("persona reply %d/%d out of role or empty: %r", attempt, ATTEMPTS, first)
        yield FALLBACK_REPLY  # a scripted persona whose script ran out, or a model that would not stay in role

    async def _generate(self, agent_text: str) -> AsyncIterator[str]:
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": agent_text}]
        chunks = await self.client.chat.completions.create(  # type: ignore[union-attr]
            model=self.model, messages=messages, temperature=0.7, stream=True,  # type: ignore[arg-type]
            max_tokens=int(self.persona.answer_words[1] * 1.6) + 8,
        )
        budget = _Budget(*self.persona.answer_words)
        pending = ""
        cut_off = False  # the model hit max_tokens: what is pending is half a sentence
        try:
            async for chunk in chunks:
                if not chunk.choices:
                    continue
                pending = _MARKUP.sub(" ", pending + (chunk.choices[0].delta.content or ""))
                cut_off = chunk.choices[0].finish_reason == "length"
                *sentences, pending = _SENTENCE_END.split(pending)
                for sentence in filter(str.strip, sentences):
                    if (said := budget.take(sentence)) is None:
                        return
                    yield said
        finally:
            await chunks.close()
        if pending.strip() and not (cut_off and budget.met) and (said := budget.take(pending)) is not None:
            yield said if said[-1] in ".!?" else said + "."


class _Budget:
    """Whole sentences while the reply is under `low` words or the next one still fits under `high`; a sentence
    that alone would overrun `high` is cut there."""

    def __init__(self, low: int, high: int):
        self.low, self.high, self.words = low, high, 0

    @property
    def met(self) -> bool:
        return self.words >= self.low

    def take(self, sentence: str) -> str | None:
        """`sentence` as it may be said, or None once the budget is spent."""
        words = sentence.split()
        if self.met and self.words + len(words) > self.high:
            return None
        room = self.high - self.words
        self.words += min(len(words), room)
        return " ".join(words) if len(words) <= room else " ".join(words[:room]).rstrip(",;:") + "."
