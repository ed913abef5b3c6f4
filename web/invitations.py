"""Making invitations, from the dashboard or `sima invite`: validated, stored, and turned into the candidate's link.

Example::

    >>> parse_expiry("48h"), parse_expiry("2d12h"), parse_expiry("30m")
    (datetime.timedelta(days=2), datetime.timedelta(days=2, seconds=43200), datetime.timedelta(seconds=1800))
    >>> candidate_link("https://sima.example.com/", "abc")
    'https://sima.example.com/i/abc'
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from engine.banks import BankSet
from engine.phases import Level
from pipeline.tokens import parse_duration
from storage.models import InvitationRow, utcnow
from storage.store import Store
from web.repo import create_invitation

MAX_EXPIRY = timedelta(days=30)


class InvitationError(ValueError):
    """An invitation that cannot be made as asked; one `field: message` per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def parse_expiry(text: str) -> timedelta:
    """A link's lifetime like `48h`, `7d`, `1d12h` or `90m`, within (0, 30 days]."""
    return parse_duration(text, MAX_EXPIRY)


class InvitationRequest(BaseModel):
    candidate_name: str = Field(min_length=1, max_length=200)
    role: str = Field(min_length=1, max_length=120)
    seniority: Level
    mode: Literal["voice", "text"] = "voice"
    expires: str = "48h"

    @field_validator("candidate_name", "role", "expires")
    @classmethod
    def _strip(cls, v: str) -> str:
        return v.strip()

    @field_validator("expires")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_expiry(v)
        return v


def invite(store: Store, banks: BankSet, *, candidate_name: str, role: str, seniority: str, mode: str = "voice",
           expires: str = "48h", created_by: int | None = None) -> tuple[InvitationRow, str]:
    """Validate and store an invitation; returns it and its link's secret. The role is a bank's slug or a name
    that matches one (`Backend Developer`, `backend`)."""
    try:
        req = InvitationRequest(candidate_name=candidate_name, role=role, seniority=seniority,  # type: ignore[arg-type]
                                mode=mode, expires=expires)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise InvitationError([f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]) from None
    slug = req.role if req.role in banks.banks else banks.match_role(req.role)
    if slug is None:
        raise InvitationError([f"role: '{req.role}' matches no question bank; known: {', '.join(sorted(banks.banks))}"])
    return create_invitation(store, candidate_name=req.candidate_name, role=slug, level=req.seniority.value,
                             mode=req.mode, expires_at=utcnow() + parse_expiry(req.expires), created_by=created_by)


def candidate_link(public_url: str, secret: str) -> str:
    return f"{public_url.rstrip('/')}/i/{secret}"
