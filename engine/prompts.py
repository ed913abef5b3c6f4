"""Prompt templates: Jinja with StrictUndefined, and candidate input that can only ever enter as quoted data.

Anything the candidate said (their name, the role as they phrased it, transcript text) is wrapped in
:class:`Untrusted`. The environment's `finalize` hook renders every Untrusted value as a JSON string literal with
control characters removed and a length cap, so a template cannot accidentally paste candidate words in as
instructions.

Example::

    >>> lib = PromptLibrary(Path("prompt_templates"))          # doctest: +SKIP
    >>> print(lib.render("system.j2", **ctx))                  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
import traceback
from pathlib import Path
from typing import Any

import jinja2

from engine.yamlsrc import SourceError, SourceProblem

MAX_UNTRUSTED_CHARS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


class Untrusted(str):
    """A string that came from the candidate; rendered only as a quoted, sanitised literal."""

    __slots__ = ()

    def quoted(self, limit: int = MAX_UNTRUSTED_CHARS) -> str:
        clean = " ".join(_CONTROL.sub(" ", str(self)).split())
        if len(clean) > limit:
            clean = clean[:limit] + "…"
        return json.dumps(clean, ensure_ascii=False)


def untrusted(value: str | None) -> Untrusted | None:
    return None if value is None else Untrusted(value)


def _finalize(value: Any) -> Any:
    return value.quoted() if isinstance(value, Untrusted) else value


class PromptLibrary:
    """The templates of one folder; errors name the template file and line."""

    def __init__(self, root: Path):
        self.root = root
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(root)),
            undefined=jinja2.StrictUndefined,
            finalize=_finalize,
            autoescape=False,  # plain-text prompts, not HTML
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=False,
        )
        self.env.filters["quoted"] = lambda v, limit=MAX_UNTRUSTED_CHARS: Untrusted(str(v)).quoted(limit)

    def render(self, name: str, **context: Any) -> str:
        try:
            return self.env.get_template(name).render(**context).strip()
        except jinja2.TemplateSyntaxError as exc:
            raise SourceError([SourceProblem(str(self.root / (exc.name or name)), exc.lineno, "", exc.message or "")]
                              ) from exc
        except jinja2.TemplateNotFound as exc:
            raise SourceError([SourceProblem(str(self.root / name), 0, "", f"template not found: {exc.name}")]) from exc
        except jinja2.UndefinedError as exc:
            file, line = self._template_frame(exc, name)
            raise SourceError([SourceProblem(file, line, "", exc.message or "undefined value")]) from exc

    def _template_frame(self, exc: BaseException, name: str) -> tuple[str, int]:
        """Jinja rewrites tracebacks so template frames carry the template's own file and line."""
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if frame.filename.endswith(".j2"):
                return frame.filename, frame.lineno or 0
        return str(self.root / name), 0

    def check_syntax(self) -> list[SourceProblem]:
        """Parse every template; return one problem per file that does not compile."""
        problems = []
        for path in sorted(self.root.rglob("*.j2")):
            try:
                self.env.parse(path.read_text(encoding="utf-8"), name=str(path.relative_to(self.root)))
            except jinja2.TemplateSyntaxError as exc:
                problems.append(SourceProblem(str(path), exc.lineno, "", exc.message or "syntax error"))
        return problems
