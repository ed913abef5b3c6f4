"""End of turn from the candidate's words, read by a small language model (`turn_detection: language-model`).

A pause after "I first checked" or "we chose Postgres over" is a thinking pause: no sentence ends there, but the
last word is a verb or a preposition that the word list (engine/turn_words.yaml) cannot call unfinished without
also catching "...that is what I checked." A language model can: the probability it gives to the answer ending
right here (the chat template's end of message, or a full stop, next) is near zero after "I first checked" and
clearly above it after "...and rolled back the last deploy". This is how LiveKit's own text turn detector works (a
fine-tuned Qwen2.5-0.5B); that model is a download, impossible here, so SIMA reads the probability from the Qwen2.5
0.5B it already ships (pipeline/local/weights.py), run in-process by llama.cpp: one copy per process, one request
at a time, its context cache kept between requests.

:class:`LanguageTurnDetector` speaks LiveKit's text turn-detector protocol (`predict_end_of_turn(chat_ctx)`): the
words first (:mod:`pipeline.turn_text`: words still pending, or a last word no sentence ends on, is 0 at once), then
the model. The probability is below `unlikely_threshold` mid-thought, so LiveKit waits `endpointing.max_delay`
before ending the turn, and `min_delay` otherwise. The model reads only the answer's last :data:`WINDOW` words, so a
decision costs what one short piece does however long the answer is, and the detector reads ahead: the question
when the candidate starts to answer, and each transcript as it comes (early transcription's pieces and its guess at
the first short pause, usually in before the VAD has made sure of the silence). In bench/turn_detection.py it cut
none of 48 thinking pauses, where the word rule alone let 12 be cut; it is the local profile's turn detection
(README, Performance).

Example::

    >>> model = CompletionModel.load(Path(".cache/sima/models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"))
    ... # doctest: +SKIP
    >>> round(model.end_probability("What did you check first?", "When the pager went off I first checked"), 3)
    ... # doctest: +SKIP
    0.001
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from pathlib import Path

import numpy as np
from livekit.agents import AgentSession, llm
from livekit.agents.language import LanguageCode
from livekit.agents.voice.events import ConversationItemAddedEvent, UserInputTranscribedEvent, UserStateChangedEvent

from pipeline.turn_text import Hearing

log = logging.getLogger(__name__)

SYSTEM = "You are interviewing a candidate for a job."
END_TEXTS = (".", "!", "?")  # besides the end of the message: what the model may write where the answer ends
N_CTX = 2048  # tokens: a question and a long answer (a 2-minute answer is about 400)
CHUNK = 16  # tokens read at a time: another request waits at most this long for a reading that gives way
# words of the answer the model reads: a decision then costs what one short piece does however long the answer is
# (a whole 12-second answer read at once took 1.0 s beside Whisper), and the words before barely move it
WINDOW = 12
_TRAILING = ".,;:!?…-–— "
_loaded: dict[tuple[Path, int | None], CompletionModel] = {}
_loading = threading.Lock()


def prompt(question: str, said: str) -> str:
    """The chat, in Qwen's template, up to the candidate's last word: the model's next token tells whether the
    candidate's message ends there. Only the last :data:`WINDOW` words are given (after "..." if there were more);
    they are lower-cased and their trailing punctuation dropped (a transcriber writes a full stop at the end of each
    piece it hears).

    >>> print(prompt("What did you check first?", "I first checked."))
    <|im_start|>system
    You are interviewing a candidate for a job.<|im_end|>
    <|im_start|>assistant
    What did you check first?<|im_end|>
    <|im_start|>user
    i first checked
    >>> prompt("", "When the pager went off at night I first checked the dashboards and then the logs").split("\\n")[-1]
    '... off at night i first checked the dashboards and then the logs'
    """
    asked = f"<|im_start|>assistant\n{question.strip()}<|im_end|>\n" if question.strip() else ""
    words = said.split()
    text = " ".join(words[-WINDOW:]).rstrip(_TRAILING).lower()
    return f"<|im_start|>system\n{SYSTEM}<|im_end|>\n{asked}<|im_start|>user\n{'... ' * (len(words) > WINDOW)}{text}"


class CompletionModel:
    """A GGUF chat model run in-process (llama.cpp), asked one thing: how likely the candidate's message ends here.

    Thread-safe (one request at a time); :meth:`load` keeps one per model file and process.
    """

    def __init__(self, path: Path, *, n_threads: int | None = None) -> None:
        from llama_cpp import Llama

        started = time.perf_counter()
        self.path = path
        self._llama = Llama(str(path), n_ctx=N_CTX, n_threads=n_threads or os.cpu_count() or 1, verbose=False,
                            logits_all=False)
        self._lock = threading.Lock()
        self._count = threading.Lock()
        self._waiting = 0  # requests waiting for the model
        ends = [self._llama.tokenize(b"<|im_end|>", add_bos=False, special=True)[0]]
        ends += [self._llama.tokenize(text.encode(), add_bos=False)[0] for text in END_TEXTS]
        self._ends = np.array(sorted(set(ends)))
        self._vocab = self._llama.n_vocab()
        log.info("loaded the turn model %s in %.2f s", path.name, time.perf_counter() - started)

    @classmethod
    def load(cls, path: Path, n_threads: int | None = None) -> CompletionModel:
        """The process's model for `path` (loaded now if it is not yet)."""
        key = (path.resolve(), n_threads)
        with _loading:
            if key not in _loaded:
                _loaded[key] = cls(path, n_threads=n_threads)
            return _loaded[key]

    def end_probability(self, question: str, said: str, *, give_way: bool = False) -> float | None:
        """P(the candidate's message ends after `said`), in answer to `question` (blocking: call it in a thread).

        With `give_way`, a reading done only to fill the cache stops (None) as soon as another request waits: what
        it has read stays cached, and a turn's decision never waits more than one :data:`CHUNK` for it.
        """
        tokens = self._llama.tokenize(prompt(question, said).encode(), add_bos=False, special=True)
        tokens = tokens[-(N_CTX - 1):]
        with self._count:
            self._waiting += 1
        with self._lock:
            with self._count:
                self._waiting -= 1
            model = self._llama
            # the context cache holds the previous request's tokens: only those after the common start are read
            cached = model.input_ids[:model.n_tokens]
            common = 0
            for a, b in zip(cached, tokens, strict=False):
                if a != b:
                    break
                common += 1
            model.n_tokens = min(common, len(tokens) - 1)  # the last token is read again: its logits are needed
            rest = tokens[model.n_tokens:]
            for i in range(0, len(rest), CHUNK):
                if give_way and self._waiting:
                    return None
                model.eval(rest[i:i + CHUNK])
            logits = np.ctypeslib.as_array(model._ctx.get_logits(), shape=(self._vocab,))
            top = logits.max()
            weights = np.exp(logits - top)
            return float(weights[self._ends].sum() / weights.sum())


class LanguageTurnDetector(Hearing):
    """LiveKit's text turn-detector protocol: the words first (engine/turn_text.py), then the model's probability
    that the answer ends here. One per session (:meth:`for_session`); the model is shared.

    >>> import asyncio
    >>> ctx = llm.ChatContext()
    >>> _ = ctx.add_message(role="user", content="We chose Postgres mainly because")
    >>> asyncio.run(LanguageTurnDetector(model=None, unlikely_threshold=0.01).predict_end_of_turn(ctx))
    0.0
    """

    def __init__(self, model: CompletionModel | None, *, unlikely_threshold: float,
                 words: frozenset[str] | None = None) -> None:
        self.turn_model = model
        self.threshold = unlikely_threshold
        self.words = words
        self._session: AgentSession | None = None
        self._said: list[str] = []  # this turn's final transcripts so far
        self._read: dict[tuple[str, str], asyncio.Future[float]] = {}  # (question, words) -> probability, this turn
        self._reading: asyncio.Task[None] | None = None
        self._newest: str | None = None  # the newest text not read yet

    def for_session(self) -> LanguageTurnDetector:
        return LanguageTurnDetector(self.turn_model, unlikely_threshold=self.threshold, words=self.words)

    @property
    def model(self) -> str:
        return self.turn_model.path.stem if self.turn_model else "text-cues"

    @property
    def provider(self) -> str:
        return "sima"

    async def unlikely_threshold(self, language: LanguageCode | None) -> float | None:
        return self.threshold

    async def supports_language(self, language: LanguageCode | None) -> bool:
        return True  # the words and the prompt are English; another language is read as well as the model can

    def listen(self, session: AgentSession) -> None:
        super().listen(session)
        self._session = session
        session.on("conversation_item_added", self._item_added)

    async def aclose(self) -> None:
        """Wait for the reading under way (a model call in a thread cannot be cancelled)."""
        if self._reading is not None:
            await self._reading
        await asyncio.gather(*self._read.values(), return_exceptions=True)

    def _item_added(self, ev: ConversationItemAddedEvent) -> None:
        if isinstance(ev.item, llm.ChatMessage) and ev.item.role == "user":
            self._said, self._read = [], {}  # the turn is committed

    def _question(self) -> str:
        """What the agent said last (the end-of-turn decision reads the agent's chat context too)."""
        try:
            agent = self._session.current_agent if self._session is not None else None
        except RuntimeError:  # the session has not started (or has stopped) its agent
            return ""
        return _last(agent.chat_ctx, "assistant") if agent is not None else ""

    def heard(self, ev: UserInputTranscribedEvent) -> None:
        super().heard(ev)
        text = ev.transcript.strip()
        if not text:
            return
        so_far = " ".join([*self._said, text])
        if ev.is_final:
            self._said.append(text)
        # read it now, while the candidate is still speaking or pausing: the end of the turn then finds it cached
        self._read_ahead(so_far)

    def state_changed(self, ev: UserStateChangedEvent) -> None:
        super().state_changed(ev)
        if self.speaking and not self._said:  # an answer begins: the question is read while it is spoken
            self._read_ahead("")

    def _read_ahead(self, said: str) -> None:
        if self.turn_model is None:
            return
        self._newest = said
        if self._reading is None or self._reading.done():
            self._reading = asyncio.create_task(self._read_newest(), name="sima-turn-model-read")

    async def _read_newest(self) -> None:
        while self._newest is not None:
            text, self._newest = self._newest, None
            await self._probability(self._question(), text, give_way=True)

    async def _probability(self, question: str, said: str, *, give_way: bool = False) -> float | None:
        """Read once per turn and text: the end of the turn awaits the reading begun when its words came (unless
        that reading gave way to another request: then it reads them itself)."""
        assert self.turn_model is not None
        key = (question, said)
        if key not in self._read:
            self._read[key] = asyncio.ensure_future(asyncio.to_thread(
                self.turn_model.end_probability, question, said, give_way=give_way))
        # shielded: a decision cancelled by new speech leaves the reading to whoever needs it next
        probability = await asyncio.shield(self._read[key])
        if probability is None:
            self._read.pop(key, None)
            if not give_way:
                return await self._probability(question, said)
        return probability

    async def predict_end_of_turn(self, chat_ctx: llm.ChatContext, *, timeout: float | None = None) -> float:
        said = _last(chat_ctx, "user")
        if self.unfinished(said):
            return 0.0
        if self.turn_model is None:
            return 1.0
        started = time.perf_counter()
        probability = await self._probability(_last(chat_ctx, "assistant"), said)
        assert probability is not None  # a decision's own reading never gives way
        log.debug("turn model: %.3f after %r (%.0f ms)", probability, said[-40:],
                  1000 * (time.perf_counter() - started))
        return probability


def _last(chat_ctx: llm.ChatContext, role: str) -> str:
    return next((m.text_content or "" for m in reversed(chat_ctx.messages()) if m.role == role), "")
