"""Recruiter authentication: argon2 password hashes, random secrets kept as digests, and a login rate limit.

Example::

    >>> hashed = hash_password("correct horse")
    >>> verify_password(hashed, "correct horse"), verify_password(hashed, "wrong")
    (True, False)
    >>> limiter = LoginLimiter(attempts=2, window_seconds=60, clock=lambda: 0.0)
    >>> limiter.fail("1.2.3.4"); limiter.fail("1.2.3.4"); limiter.blocked("1.2.3.4")
    True
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import defaultdict, deque
from collections.abc import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current parameters
MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def new_secret() -> str:
    """256 random bits, URL-safe: session cookies, invitation links, CSRF tokens."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What the database keeps of a secret: a leaked table lets nobody log in or open a link."""
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


class LoginLimiter:
    """At most `attempts` failed logins per key (client address, user name) in a sliding window.

    Kept in the server process: one `sima serve` process guards its own door (behind several processes, each counts
    alone, so the limit multiplies by their number).
    """

    def __init__(self, *, attempts: int, window_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.attempts = attempts
        self.window = window_seconds
        self.clock = clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures[key]
        while failures and failures[0] <= self.clock() - self.window:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(k)) >= self.attempts for k in keys)

    def fail(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self.clock())

    def clear(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)
