"""Candidate join tokens: one room only, a bounded lifetime, and the interviewer dispatched with the candidate's preset.

The token lets its holder join exactly one room. It carries a room configuration that dispatches the SIMA agent (by
its explicit agent name) into that room with the candidate's name, role and level as job metadata, which the worker
reads as the interview's preset.

Example::

    >>> from livekit.api import TokenVerifier
    >>> jwt = candidate_token("key", "secret" * 6, room="iv-42", identity="ada", agent_name="sima-interviewer",
    ...                       role="backend", seniority="mid")
    >>> TokenVerifier("key", "secret" * 6).verify(jwt).video.room
    'iv-42'
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

from livekit.api import AccessToken, RoomAgentDispatch, RoomConfiguration, VideoGrants

DEFAULT_TTL = timedelta(minutes=15)
MAX_TTL = timedelta(hours=2)  # an interview lasts 25 minutes at most; a token should not outlive the day
_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_NAME = re.compile(r"^[\w.@:-]{1,128}$")


class TokenError(ValueError):
    """A token cannot be made as asked; the message says which value is wrong."""


def parse_duration(text: str, maximum: timedelta) -> timedelta:
    """A duration like `15m`, `90s`, `1h30m`, `2d12h` or `7d`, within (0, `maximum`]; ValueError says what is wrong.

    >>> parse_duration("1d12h", timedelta(days=2)), parse_duration("90s", timedelta(hours=1))
    (datetime.timedelta(days=1, seconds=43200), datetime.timedelta(seconds=90))
    """
    m = _DURATION.match(text.strip().lower())
    if not text.strip() or not m:
        raise ValueError(f"'{text}' is not a duration like 15m, 90s, 1h30m or 2d")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in m.groups())
    duration = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if not timedelta(0) < duration <= maximum:
        raise ValueError(f"{text} is outside (0, {_compact(maximum)}]")
    return duration


def _compact(duration: timedelta) -> str:
    """`2h`, `30d`, `1h30m`: a duration written the way it is typed."""
    seconds = int(duration.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{n}{unit}" for n, unit in parts if n) or "0s"


def parse_ttl(text: str) -> timedelta:
    """A token lifetime like `15m`, `90s`, `1h30m` or `2h`, within (0, 2h].

    >>> parse_ttl("1h30m")
    datetime.timedelta(seconds=5400)
    """
    try:
        return parse_duration(text, MAX_TTL)
    except ValueError as exc:
        raise TokenError(f"--ttl: {exc}") from None


def preset_metadata(*, name: str | None = None, role: str | None = None, seniority: str | None = None,
                    invitation_id: str | None = None) -> str:
    """The job metadata the worker reads as the interview's preset (see :func:`pipeline.worker.candidate_preset`)
    and, from the web app, the invitation the interview belongs to (:func:`pipeline.worker.invitation_of`)."""
    fields = {"candidate_name": name, "role": role, "seniority": seniority, "invitation_id": invitation_id}
    return json.dumps({k: v for k, v in fields.items() if v}, ensure_ascii=False)


def candidate_token(
    api_key: str,
    api_secret: str,
    *,
    room: str,
    identity: str,
    agent_name: str,
    name: str | None = None,
    role: str | None = None,
    seniority: str | None = None,
    ttl: timedelta = DEFAULT_TTL,
    invitation_id: str | None = None,
) -> str:
    """A signed JWT for one candidate in one room, dispatching the interviewer into it."""
    if not api_key or not api_secret:
        raise TokenError("set $LIVEKIT_API_KEY and $LIVEKIT_API_SECRET (the LiveKit server's key pair)")
    for option, value in (("--room", room), ("--identity", identity)):
        if not _NAME.match(value):
            raise TokenError(f"{option}: '{value}' must be 1–128 letters, digits or . _ - @ :")
    if not timedelta(0) < ttl <= MAX_TTL:
        raise TokenError(f"--ttl: must be more than 0 and at most {MAX_TTL}")
    metadata = preset_metadata(name=name, role=role, seniority=seniority, invitation_id=invitation_id)
    token = (
        AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name(name or identity)
        .with_ttl(ttl)
        .with_metadata(metadata)
        .with_grants(VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True,
                                 can_publish_data=True, can_update_own_metadata=False))
        .with_room_config(RoomConfiguration(agents=[RoomAgentDispatch(agent_name=agent_name, metadata=metadata)]))
    )
    return token.to_jwt()
