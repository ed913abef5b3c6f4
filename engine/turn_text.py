"""Is a candidate mid-thought, by what they have said? A transcript ending on a word that cannot end a sentence.

Used by turn detection (pipeline/turn_text.py): an answer whose transcript so far ends on "and", "because", "the",
"to", "was", "um"... is unfinished, so the turn waits for more, whatever the pause sounds like. Which words count is
data (engine/turn_words.yaml: closed word classes, and why some common enders are left out); a trailing ellipsis or
dash, a transcriber's mark for speech that trails off, counts too. Anything else is "don't know", not "finished":
the caller leaves those to the audio model or to VAD silence.

Example::

    >>> ends_unfinished("I built the payments service in Go and")
    True
    >>> ends_unfinished("We moved it to Kubernetes last year because...")
    True
    >>> ends_unfinished("I mostly work in Python.")
    False
    >>> ends_unfinished("We set it up, and so on.")
    False
    >>> ends_unfinished("")
    False
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import yaml

WORDS_FILE = Path(__file__).resolve().parent / "turn_words.yaml"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_TRAILING_OFF = ("...", "…", "-", "—", "–")


@cache
def unfinished_words(path: Path = WORDS_FILE) -> frozenset[str]:
    """Every word of the data file's classes, lower case.

    >>> {"and", "the", "um", "it's"} <= unfinished_words() and "on" not in unfinished_words()
    True
    """
    classes: dict[str, list[str]] = yaml.safe_load(path.read_text())
    return frozenset(str(word).lower() for words in classes.values() for word in words)


def last_words(text: str, n: int = 2) -> list[str]:
    """The transcript's last `n` words (fewer if it has fewer), lower case, without punctuation (curly apostrophes
    made straight); none if it ends on something else than a word.

    >>> last_words("It’s the, um,"), last_words("What's 2 + 2?"), last_words("Go")
    (['the', 'um'], [], ['go'])
    """
    tail = text.lower().replace("’", "'").rstrip()[-80:]
    matches = list(_WORD.finditer(tail))
    if not matches or tail[matches[-1].end():].strip(" \t\n.,;:!?\"')") != "":
        return []
    return [m.group(0) for m in matches[-n:]]


def ends_unfinished(text: str, words: frozenset[str] | None = None) -> bool:
    """Whether `text` stops where no sentence ends: on one of `words` (default: :func:`unfinished_words`; an entry
    of two words is matched against the last two), or on a trailing-off mark.

    >>> ends_unfinished("The main trade off was"), ends_unfinished("and so", frozenset({"so"}))
    (True, True)
    >>> ends_unfinished("We checked the logs and then"), ends_unfinished("It was better back then.")
    (True, False)
    """
    stripped = text.rstrip()
    if stripped.endswith(_TRAILING_OFF):
        return True
    tail = last_words(stripped)
    known = unfinished_words() if words is None else words
    return bool(tail) and (tail[-1] in known or " ".join(tail) in known)
