"""Two wordings of everything the interviewer says: an instruction for the LLM, and the exact words to speak.

Every step the driver takes is a :class:`Line`. `say` tells an LLM what to say next (prompt_templates/events/);
`words` is what to say, word for word (prompt_templates/spoken/). Under `phrasing: verbatim` the code speaks `words`
as they are; under `phrasing: llm` they are the spoken fallback when the LLM cannot be reached. Bank questions appear
in `words` exactly as the bank writes them, appended by the code (a template cannot drop them); candidate words reach
templates only through :func:`~engine.instructions.prompt_context`'s Untrusted quoting.

Example::

    >>> phrasing = Phrasing(prompts, engine, tools=False)      # doctest: +SKIP
    >>> phrasing.question("What is a deadlock?").words          # doctest: +SKIP
    'What is a deadlock?'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from engine.events import Event, InterviewEnded, PhaseEntered, PhaseTimeout, TimeWarning
from engine.instructions import prompt_context, render_event
from engine.interview import InterviewEngine
from engine.prompts import PromptLibrary

RESUMED_TEMPLATE = "events/resumed.j2"
SPOKEN_EVENTS: dict[type[Event], str] = {
    TimeWarning: "spoken/time_warning.j2",
    PhaseTimeout: "spoken/phase_timeout.j2",
    InterviewEnded: "spoken/goodbye.j2",
}
GREETING, TRANSITION = "spoken/greeting.j2", "spoken/transition.j2"
FOLLOW_UP, RESUMED, HIRING_TEAM = "spoken/follow_up.j2", "spoken/resumed.j2", "spoken/hiring_team.j2"
REPEAT, ANSWER_LATER = "spoken/repeat.j2", "spoken/answer_later.j2"

_WONDERING = re.compile(
    r"\b((I'?d|I would) like to (ask|know)|I want to (ask|know)|I have a question|I was wondering|I wonder)\b", re.I)
_REPEAT = re.compile(
    r"\b((can|could|would|will) you (please )?(repeat|say (that|it) again|ask (that|it) again)|please repeat"
    r"|repeat (the|that|your) question|didn'?t (catch|hear|get|understand) (that|it|the question|you)"
    r"|come again|pardon)\b", re.I)
REPEAT_MAX_WORDS = 15  # a request to repeat is short; a long answer that mentions repeating is an answer
QUESTION_MAX_WORDS = 30  # a question asked instead of an answer is short; a long answer may end on a question


def asks_question(text: str) -> bool:
    """Whether the candidate asked something (speech-to-text punctuates questions with "?").

    >>> asks_question("How does the team work?"), asks_question("I was wondering about on-call")
    (True, True)
    >>> asks_question("What I'd add is that I enjoy automation.")
    False
    """
    return "?" in text or bool(_WONDERING.search(text))


def asks_instead(text: str) -> bool:
    """Whether the candidate answered with a question of their own (what do you mean? how does the team work?).

    >>> asks_instead("Do you mean unit tests or integration tests?"), asks_instead("I'd use canaries. Why? Less risk.")
    (True, False)
    """
    return text.rstrip().endswith("?") and len(text.split()) <= QUESTION_MAX_WORDS


def asks_to_repeat(text: str) -> bool:
    """Whether the candidate asked to hear the question again.

    >>> asks_to_repeat("Sorry, could you repeat the question?"), asks_to_repeat("I'd repeat the load test.")
    (True, False)
    """
    return len(text.split()) <= REPEAT_MAX_WORDS and bool(_REPEAT.search(text))


@dataclass(frozen=True)
class Line:
    """One thing to say, both ways: `say` for the LLM, `words` to speak ("" where only an LLM can answer)."""

    say: str
    words: str = ""

    @staticmethod
    def join(lines: Iterable[Line]) -> Line:
        """The lines in order, as one.

        >>> Line.join([Line("Warn.", "Time is short."), Line("Ask.", "Why?")])
        Line(say='Warn.\\nAsk.', words='Time is short. Why?')
        """
        lines = list(lines)
        return Line("\n".join(x.say for x in lines if x.say), " ".join(x.words for x in lines if x.words))


class Phrasing:
    """Words and instructions for one interview; `tools` is False in guided mode (no tool is ever mentioned)."""

    def __init__(self, prompts: PromptLibrary, engine: InterviewEngine, *, tools: bool):
        self.prompts = prompts
        self.engine = engine
        self.tools = tools

    def _context(self, **extra: Any) -> dict[str, Any]:
        return {**prompt_context(self.engine, tools=self.tools), **extra}

    def _spoken(self, template: str, **extra: Any) -> str:
        """A spoken template's words on one line (template line breaks are layout, not pauses)."""
        return " ".join(self.prompts.render(template, **self._context(**extra)).split())

    def _with_question(self, words: str) -> str:
        """`words`, then the current bank question exactly as written."""
        question = self.engine.current_question
        return " ".join(w for w in (words, question.text if question else "") if w)

    def event(self, event: Event) -> Line:
        """What to say about an engine event; a phase's first question follows its transition."""
        say = render_event(self.prompts, self.engine, event, tools=self.tools)
        if isinstance(event, PhaseEntered):
            name = GREETING if event.previous is None else TRANSITION
            return Line(say, self._with_question(self._spoken(name, event=event)))
        return Line(say, self._spoken(SPOKEN_EVENTS[type(event)], event=event))

    def question(self, text: str, *, follow_up: bool = False) -> Line:
        """Put a bank question (or its follow-up) to the candidate."""
        kind = "follow-up" if follow_up else "question"
        if self.tools:
            return Line(f"Ask this {kind} now, in your own words: {text}", text)
        # a small model in guided mode gets the exact words, not a paraphrase
        return Line(f"Reply with a short acknowledgement, then put this {kind} to the candidate, word for word, "
                    f"and stop; you never answer it yourself: \"{text}\"", text)

    def probe(self) -> Line:
        """A follow-up of the interviewer's own, where the bank has none left."""
        words = self._spoken(FOLLOW_UP)
        if self.tools:
            return Line("Ask one short follow-up of your own on the candidate's last answer, about the same question.",
                        words)
        return Line("Ask the candidate one short follow-up question about their last answer. Do not answer it "
                    "yourself.", words)

    def _last_asked(self) -> str:
        """The last thing put to the candidate: the bank's follow-up if one was asked, else the question."""
        question = self.engine.current_question
        if question is None:
            return ""
        used = self.engine.asked_in_phase()[-1].follow_ups_used
        follow_ups = question.follow_ups[:used]
        return follow_ups[-1] if follow_ups else question.text

    def repeat(self) -> Line:
        """The candidate asked to hear the last question again."""
        text = self._last_asked()
        return Line(f"The candidate asked to hear the question again: repeat it, word for word: \"{text}\"",
                    f"{self._spoken(REPEAT)} {text}")

    def answer_later(self) -> Line:
        """The candidate asked a question instead of answering: theirs waits for the end, the last question stands."""
        text = self._last_asked()
        return Line("The candidate asked a question instead of answering. If it asks what the interview question "
                    "means, clarify it in one sentence without hinting at an answer; otherwise say there is time for "
                    f"their questions at the end. Then put the question again, word for word: \"{text}\"",
                    f"{self._spoken(ANSWER_LATER)} {text}")

    def hiring_team(self) -> Line:
        """The candidate asked something only the hiring team can answer (a wrap-up question)."""
        return Line("", self._spoken(HIRING_TEAM))

    def resumed(self) -> Line:
        """Welcome back, and the current question again."""
        say = self.prompts.render(RESUMED_TEMPLATE, **self._context())
        return Line(say, self._with_question(self._spoken(RESUMED)))
