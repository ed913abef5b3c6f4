"""The LLM's only words under `phrasing: verbatim`: a short acknowledgement of the candidate's answer.

The model gets a prompt of its own (prompt_templates/guided/acknowledge.j2, with the answer as quoted data), at most
:data:`MAX_TOKENS` tokens, one attempt and :data:`TIMEOUT` seconds. Where the engine's rules leave an answer open
(its words share nothing with the question), it first tags the answer `[on topic]` or `[off topic]` (a few tokens:
the model's judgement, which the engine weighs after its own rules, see :mod:`engine.answers`), then writes the
acknowledgement; the tag's instruction comes after the answer, so the prompt's fixed start stays in the server's
cache either way. An acknowledgement alone is waited for at most :data:`PATIENCE` past the end of the answer, and a
:func:`neutral` one stands in for it if it is not in by then: on two cores a request asked once the answer is over
takes 0.5-0.9 s, the longest part of the wait that a short answer's reply had (README, Performance). The step waits
for the model's tag (the engine weighs it), but the candidate does not: past :data:`PATIENCE`, one of the
:data:`HOLDING` words is said at once, and the model's acknowledgement is then left out. What it writes is cut to
its first sentence and dropped entirely unless that sentence is a plain acknowledgement (:func:`clean`): small
models parrot their instructions, echo the candidate, ask or answer questions, and slip into assistant talk. One
that opens like the previous one is replaced by a neutral alternative, so two turns in a row never sound the same.
The acknowledgement is optional by design: the words the code speaks after it never depend on it.

Example::

    >>> reply = await acknowledge(llm, prompts, "I led the Postgres migration.", phase="experience")
    ... # doctest: +SKIP
    >>> reply.label, reply.words("I led the Postgres migration.", then="What went wrong?")  # doctest: +SKIP
    (<AnswerKind.ANSWER: 'answer'>, 'Thank you, that gives me a clear picture.')
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from livekit.agents import APIConnectOptions, llm

from engine.answers import AnswerKind
from engine.prompts import PromptLibrary, untrusted

log = logging.getLogger(__name__)

TEMPLATE = "guided/acknowledge.j2"
MAX_TOKENS = 24
MAX_WORDS = 12
TIMEOUT = 5.0  # seconds; past this the candidate has waited long enough: the words go out without it
PATIENCE = 0.3  # seconds past the end of an answer that a reply waits for an acknowledgement with no tag
WARM_UP_TIMEOUT = 60.0
TEMPERATURE = 0.5
DRAFT_COVER = 0.25  # a draft written for at least this share of the answer's words stands for the whole answer
ECHO_WORDS = 4  # this many words in a row shared with the prompt, the answer or the words that follow: an echo
_ATTEMPT = APIConnectOptions(max_retry=0, timeout=TIMEOUT)

_MARKUP = re.compile(r'[*_`"“”]')  # emphasis and quotes around the words: dropped, the words kept
_PREFIX = re.compile(r"^\s*[\w ]{1,20}:\s+")  # "Interviewer: ...", "SIMA: ..."
_SENTENCE = re.compile(r"^(.+?[.!?])(?=\s|$)")
_PLAIN = re.compile(r"[A-Za-z][A-Za-z ,.!'’-]*")  # words and light punctuation: no digits, markup, emojis
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')  # the prompt's examples (which may be echoed) and its quoted data
_WORD = re.compile(r"[a-z']+")
_LABEL = re.compile(r"^\s*[\[(<]?\s*(on|off)[\s_-]*topic\s*[\])>]?\s*[:.|\u2013-]*\s*", re.I)
_LABELS = {"on": AnswerKind.ANSWER, "off": AnswerKind.OFF_TOPIC}
OPENING_WORDS = 2  # two acknowledgements in a row opening with the same words sound mechanical
# said instead of an acknowledgement that would repeat the last one's opening: neutral, never judging
ALTERNATIVES = ("Okay, thank you.", "Got it.", "I see, thanks.", "Alright, understood.", "Thanks for that.")
# said at once while the model still reads an answer the engine waits on: they neither thank nor judge, as what
# follows may be a request to answer the question after all
HOLDING = ("Okay.", "Alright.", "I see.")
# an acknowledgement says one of these; anything else (a greeting, an opinion, an answer of its own) is not one
_ACKNOWLEDGING = re.compile(
    r"\b(thanks?|thank you|okay|ok|alright|all right|got it|i see|understood|noted|nice to meet you|makes sense|"
    r"appreciate\w*|clear)\b", re.I)
# assistant talk, verdicts on the answer, and the prompt's own vocabulary: never part of a plain acknowledgement
_BANNED = re.compile(
    r"\b(assist\w*|help|welcome|sorry|apolog\w*|feedback|AI|model|candidate|interview\w*|acknowledg\w*|"
    r"instruction\w*|question\w*|word for word|score\w*|correct\w*|incorrect|right answer|wrong|excellent|perfect|"
    r"impressive|great answer|good answer|SIMA)\b", re.I)


def label(raw: str) -> tuple[AnswerKind | None, str]:
    """The model's on/off-topic tag (None if it wrote none) and the text after it.

    >>> label("[off topic] Okay, thanks.")
    (<AnswerKind.OFF_TOPIC: 'off_topic'>, 'Okay, thanks.')
    >>> label("Thank you, that's helpful.")
    (None, "Thank you, that's helpful.")
    """
    m = _LABEL.match(raw)
    return (_LABELS[m.group(1).lower()], raw[m.end():]) if m else (None, raw)


def _opening(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text.lower())[:OPENING_WORDS])


def _opens_alike(text: str, other: str) -> bool:
    """Whether the two open with the same words (as far as the shorter opening goes: "Okay." as "Okay, thanks.")."""
    a, b = _opening(text), _opening(other)
    n = min(len(a), len(b))
    return n > 0 and a[:n] == b[:n]


def vary(ack: str, previous: str) -> str:
    """`ack`, or a neutral alternative if it opens like the `previous` acknowledgement.

    >>> vary("Got it, thank you.", "Got it, thanks."), vary("Thank you.", "Got it.")
    ('Okay, thank you.', 'Thank you.')
    """
    if not _opens_alike(ack, previous):
        return ack
    log.info("acknowledgement replaced (opens like the last one): %r", ack)
    return next(a for a in ALTERNATIVES if not _opens_alike(a, previous))


def neutral(previous: str, among: tuple[str, ...] = ALTERNATIVES) -> str:
    """A neutral acknowledgement (`among` in turn), never opening like the `previous` one.

    >>> neutral(""), neutral("Okay, thank you."), neutral("Got it."), neutral("Thanks for that.")
    ('Okay, thank you.', 'Got it.', 'I see, thanks.', 'Okay, thank you.')
    >>> neutral("Okay, thank you.", among=HOLDING), neutral("I see.", among=HOLDING)
    ('Alright.', 'Okay.')
    """
    openings = [_opening(a) for a in among]
    after = openings.index(_opening(previous)) + 1 if _opening(previous) in openings else 0
    turn = among[after:] + among[:after]
    return next(a for a in turn if not _opens_alike(a, previous))


def _ngrams(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i:i + ECHO_WORDS]) for i in range(len(words) - ECHO_WORDS + 1)}


def clean(text: str, *, avoid: Iterable[str] = ()) -> str:
    """The model's first sentence if it is a plain acknowledgement, else "" (with the reason logged).

    `avoid` are texts it must not echo (the prompt's instructions, the answer, the words spoken after it).

    >>> clean("Thank you, that's helpful. Could you tell me more?")
    "Thank you, that's helpful."
    >>> clean("Interviewer: Got it, thanks")
    'Got it, thanks.'
    >>> clean("Can you give an example?"), clean("You're welcome! How can I assist you?"), clean("10")
    ('', '', '')
    >>> clean("Hello, Ada Novak! This interview will last 22 minutes."), clean("I would roll back first.")
    ('', '')
    >>> clean("Please introduce yourself, then say that we are moving on.", avoid=["Please introduce yourself"])
    ''
    """
    text = " ".join(_PREFIX.sub("", _MARKUP.sub("", text), count=1).split()).strip(" '")
    match = _SENTENCE.match(text)
    sentence = match.group(1) if match else text
    if not match and sentence:
        sentence += "."  # the model stopped without a full stop; a short remark is still a sentence
    reason = None
    if not sentence.strip(".!"):
        reason = "empty"
    elif "?" in sentence:
        reason = "a question"
    elif len(sentence.split()) > MAX_WORDS:
        reason = "too long"
    elif not _PLAIN.fullmatch(sentence):
        reason = "not plain speech"
    elif _BANNED.search(sentence) or not _ACKNOWLEDGING.search(sentence):
        reason = "not an acknowledgement"
    elif any(_ngrams(sentence) & _ngrams(other) for other in avoid):
        reason = "an echo"
    if reason:
        log.info("acknowledgement dropped (%s): %r", reason, text)
        return ""
    return sentence


async def _generate(model: llm.LLM, prompt: str) -> str:
    """The model's reply to `prompt`, read up to its first sentence end."""
    ctx = llm.ChatContext()
    ctx.add_message(role="system", content=[prompt])
    text = ""
    async with model.chat(chat_ctx=ctx, conn_options=_ATTEMPT,
                          extra_kwargs={"max_tokens": MAX_TOKENS, "temperature": TEMPERATURE}) as stream:
        async for chunk in stream:
            text += (chunk.delta.content or "") if chunk.delta else ""
            if _SENTENCE.match(text.strip()):
                break  # one sentence is all that is used: leaving early frees the model sooner
    return text


async def warm_up(model: llm.LLM, prompts: PromptLibrary) -> None:
    """One acknowledgement request, its answer unused: the first request to a local model pays for loading it
    (seconds on a busy machine), which would otherwise cost the candidate's first acknowledgement."""
    prompt = prompts.render(TEMPLATE, answer=untrusted("Hello."), phase="introduction")
    try:
        await asyncio.wait_for(_generate(model, prompt), WARM_UP_TIMEOUT)
    except Exception as exc:  # nothing depends on it
        log.debug("warm-up request failed: %r", exc)


@dataclass(frozen=True)
class Draft:
    """An acknowledgement written for the start of an answer while the candidate was still speaking."""

    answer: str
    prompt: str
    raw: str

    @property
    def label(self) -> AnswerKind | None:
        """The model's on/off-topic reading of the answer, if it gave one."""
        return label(self.raw)[0]

    def words(self, answer: str, *, then: str, previous: str = "", phase: str = "") -> str:
        """What to say before `then`: the model's acknowledgement if it is a plain one ("" if not), never opening
        like the `previous` one; "nice to meet you" only in the introduction."""
        ack = clean(label(self.raw)[1], avoid=[_QUOTED.sub(" ", self.prompt), answer, then])
        if "meet you" in ack.lower() and phase != "introduction":
            log.info("acknowledgement dropped (a greeting after the introduction): %r", ack)
            ack = ""
        return vary(ack, previous)

    def covers(self, answer: str) -> bool:
        """True if this was written for the first DRAFT_COVER or more of `answer`'s words."""
        said, whole = _WORD.findall(self.answer.lower()), _WORD.findall(answer.lower())
        return bool(said) and whole[:len(said)] == said and len(said) >= DRAFT_COVER * len(whole)


async def draft(model: llm.LLM, prompts: PromptLibrary, answer: str, *, phase: str, tag: bool = True
                ) -> Draft | None:
    """An acknowledgement of the answer so far (an interim transcript), to say at once when the answer is over if
    it was written for most of it: an acknowledgement says nothing of the answer's content, and the model's time
    (about 0.5 s on the 0.5B) then passes while the candidate is still talking. None if the model failed."""
    prompt = prompts.render(TEMPLATE, answer=untrusted(answer), phase=phase, tag=tag)
    try:
        raw = await asyncio.wait_for(_generate(model, prompt), TIMEOUT)
    except Exception as exc:  # the acknowledgement is then asked for when the answer is over
        log.debug("draft acknowledgement failed: %r", exc)
        return None
    return Draft(answer, prompt, raw)


async def acknowledge(model: llm.LLM, prompts: PromptLibrary, answer: str, *, phase: str,
                      drafted: Draft | None = None, tag: bool = True) -> Draft | None:
    """The model's reply for `answer` (its tag and acknowledgement): a `drafted` one that covers the answer is used
    without asking the model again; None when the model failed (nothing is then said before the words). `tag`
    asks for the on/off-topic tag too (a few tokens more: only where it can matter, see engine.answers.needs_model).
    """
    if drafted is not None and drafted.covers(answer):
        return drafted
    prompt = prompts.render(TEMPLATE, answer=untrusted(answer), phase=phase, tag=tag)
    try:
        raw = await asyncio.wait_for(_generate(model, prompt), TIMEOUT)
    except Exception as exc:  # any failure only costs the acknowledgement; the words still follow
        log.warning("no acknowledgement: the LLM failed: %r", exc)
        return None
    return Draft(answer, prompt, raw)
