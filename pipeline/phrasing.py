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

from collections.abc import Iterable, Sequence
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
APOLOGY = "spoken/apology.j2"
# what the engine's moves (engine/moves.py) sound like
SIMPLER, REDIRECT = "spoken/simpler.j2", "spoken/redirect.j2"
SILENCE, ENGLISH = "spoken/silence.j2", "spoken/english.j2"
DECLINE, CONDUCT_WARNING = "spoken/decline.j2", "spoken/conduct_warning.j2"
PROBE_CLAIM, MOVE_ON, LATE = "spoken/probe_claim.j2", "spoken/move_on.j2", "spoken/late_answer.j2"

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

    def probe(self, missed: Sequence[str] = ()) -> Line:
        """A follow-up of the interviewer's own, where the bank has none left (or none aimed at the expected points
        the answer `missed`: bank text, so it may be named to the LLM)."""
        words = self._spoken(FOLLOW_UP)
        if self.tools:
            return Line("Ask one short follow-up of your own on the candidate's last answer, about the same question.",
                        words)
        aim = (" that invites them to cover what their answer left out (" + "; ".join(missed) + "), without hinting "
               "at the answer") if missed else " about their last answer"
        return Line(f"Ask the candidate one short follow-up question{aim}. Do not answer it yourself.", words)

    def _last_asked(self) -> str:
        """The last thing put to the candidate: the bank's follow-up if one was asked, else the question."""
        question = self.engine.current_question
        if question is None:
            return ""
        asked = self.engine.asked_in_phase()[-1].follow_ups_asked
        return question.follow_ups[asked[-1]] if asked else question.text

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

    def scripted(self, template: str, **extra: Any) -> Line:
        """A spoken template's words, to be said as they are (an LLM in guided mode is told to say them)."""
        words = self._spoken(template, **extra)
        return Line(f"Say this to the candidate, word for word, and stop: \"{words}\"", words)

    def again(self, template: str, **extra: Any) -> Line:
        """A spoken template's words, then the last question put to the candidate again, word for word."""
        text = self._last_asked()
        words = " ".join(w for w in (self._spoken(template, **extra), text) if w)
        return Line(f"Say this to the candidate, word for word, and stop: \"{words}\"", words)

    def hiring_team(self) -> Line:
        """The candidate asked something only the hiring team can answer (a wrap-up question)."""
        return Line("", self._spoken(HIRING_TEAM))

    def apology(self) -> str:
        """What to say when the LLM failed and there are no words of a step to say instead: sorry, and the current
        question again, so the candidate answers once more and the next reply tries the LLM again."""
        return self._with_question(self._spoken(APOLOGY))

    def resumed(self) -> Line:
        """Welcome back, and the current question again."""
        say = self.prompts.render(RESUMED_TEMPLATE, **self._context())
        return Line(say, self._with_question(self._spoken(RESUMED)))
