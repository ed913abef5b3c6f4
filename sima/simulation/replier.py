"""What a simulated candidate says: scripted lines first, then replies from an LLM playing the persona.

Example::

    replier = PersonaReplier(persona, prompts, client, model="qwen")
    text = await replier.reply("Could you introduce yourself?")
"""

from __future__ import annotations

import logging
from typing import Any

from openai import AsyncOpenAI

from engine.prompts import PromptLibrary
from sima.simulation.persona import Persona

log = logging.getLogger(__name__)
HISTORY_TURNS = 6  # the persona needs only the recent exchange; a short context keeps a small model fast
FALLBACK_REPLY = "Sorry, could you repeat the question?"


class PersonaReplier:
    def __init__(self, persona: Persona, prompts: PromptLibrary, client: AsyncOpenAI | None, model: str):
        self.persona = persona
        self.client = client
        self.model = model
        self.system = prompts.render("persona.j2", persona=persona)
        self.history: list[dict[str, Any]] = []
        self._scripted = list(persona.scripted_answers)

    async def reply(self, agent_text: str) -> str:
        self.history.append({"role": "user", "content": agent_text})
        if self._scripted:
            text = self._scripted.pop(0)
        elif self.client is None:
            text = FALLBACK_REPLY  # a scripted persona whose script ran out
        else:
            text = await self._generate()
        self.history.append({"role": "assistant", "content": text})
        return text

    async def _generate(self) -> str:
        messages = [{"role": "system", "content": self.system}, *self.history[-HISTORY_TURNS:]]
        resp = await self.client.chat.completions.create(  # type: ignore[union-attr]
            model=self.model, messages=messages, temperature=0.7,  # type: ignore[arg-type]
            max_tokens=int(self.persona.answer_words[1] * 1.6) + 8,
        )
        text = (resp.choices[0].message.content or "").strip()
        words = text.split()
        if len(words) > self.persona.answer_words[1]:
            # cut at the last sentence end inside the word budget, so speech doesn't stop mid-thought
            cut = " ".join(words[: self.persona.answer_words[1]])
            end = max(cut.rfind("."), cut.rfind("?"), cut.rfind("!"))
            text = cut[: end + 1] if end > len(cut) // 2 else cut + "."
        if not text:
            log.warning("persona LLM returned nothing; using a fallback line")
            text = FALLBACK_REPLY
        return text
