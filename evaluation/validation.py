"""One-line descriptions of pydantic validation errors, for judge replies and transcript files alike.

Example::

    >>> from pydantic import TypeAdapter, ValidationError
    >>> try:
    ...     TypeAdapter(list[int]).validate_python([1, "x"])
    ... except ValidationError as exc:
    ...     print(first_error(exc, "turns."))
    turns.1: Input should be a valid integer, unable to parse string as an integer (1 error(s))
"""

from __future__ import annotations

from pydantic import ValidationError


def first_error(exc: ValidationError, prefix: str = "") -> str:
    """Where the first problem is, what it is, and how many problems there are in all."""
    first = exc.errors()[0]
    where = prefix + ".".join(str(p) for p in first["loc"])
    return f"{where or 'value'}: {first['msg']} ({exc.error_count()} error(s))"
