"""Signed webhooks from the durable outbox: "interview.finished" and "evaluation.done", POSTed as JSON to every
configured URL until the receiver answers 2xx, with waits from `webhooks.retry_schedule_seconds` between attempts
(the last wait repeats for ever), so a receiver that is down gets everything once it is back.

Each request carries `X-Sima-Event`, `X-Sima-Delivery` (the event id, the same for every URL and every retry: use it
to drop duplicates) and `X-Sima-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret from
$SIMA_WEBHOOK_SECRET>`. A receiver checks it with :func:`verify`.

Example::

    >>> header = signature(b'{"event": "evaluation.done"}', b"s3cret", timestamp=1700000000)
    >>> header[:15]
    't=1700000000,v1'
    >>> verify(b'{"event": "evaluation.done"}', header, b"s3cret", now=1700000100)
    True
    >>> verify(b'{"event": "forged"}', header, b"s3cret", now=1700000100)
    False
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import time
from datetime import timedelta

import httpx

from sima.ops import metrics
from sima.ops.settings import WebhookSettings
from storage.models import utcnow
from storage.outbox import Delivery, Outbox
from storage.store import Store

log = logging.getLogger(__name__)

MAX_AGE_SECONDS = 300  # a receiver refuses signatures older than this (replays)


def signature(body: bytes, secret: bytes, *, timestamp: int) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str, secret: bytes, *, now: float | None = None,
           max_age: float = MAX_AGE_SECONDS) -> bool:
    """Whether `header` is a valid, recent signature of `body` (the receiver's side)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > max_age:
        return False
    return hmac.compare_digest(signature(body, secret, timestamp=timestamp), header)


def retry_wait(attempts: int, settings: WebhookSettings) -> float:
    """The wait after the `attempts`-th failed attempt.

    >>> [retry_wait(n, WebhookSettings(retry_schedule_seconds=[1, 5])) for n in (1, 2, 3)]
    [1.0, 5.0, 5.0]
    """
    schedule = settings.retry_schedule_seconds
    return float(schedule[min(attempts, len(schedule)) - 1])


async def _send(client: httpx.AsyncClient, delivery: Delivery, secret: bytes) -> str | None:
    """POST one delivery; None when the receiver took it, else what went wrong."""
    body = json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "User-Agent": "sima-webhooks", "X-Sima-Event": delivery.event,
               "X-Sima-Delivery": delivery.event_id,
               "X-Sima-Signature": signature(body, secret, timestamp=int(time.time()))}
    try:
        response = await client.post(delivery.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}: {response.text[:200]}"


async def send_due(store: Store, settings: WebhookSettings, *, owner: str, stop: asyncio.Event | None = None) -> int:
    """Send every delivery that is due now; return how many the receivers took."""
    outbox = Outbox(store)
    secret = os.environ.get(settings.secret_env, "").encode()
    sent = 0
    async with httpx.AsyncClient(timeout=settings.timeout_seconds) as client:
        while stop is None or not stop.is_set():
            delivery = await asyncio.to_thread(outbox.claim, owner, settings.lease_seconds)
            if delivery is None:
                break
            error = (f"${settings.secret_env} is not set: webhooks are never sent unsigned" if not secret
                     else await _send(client, delivery, secret))
            if error is None:
                await asyncio.to_thread(outbox.delivered, delivery.id, owner)
                metrics.WEBHOOK_ATTEMPTS.labels(outcome="delivered").inc()
                log.info("webhook %s (%s) delivered to %s", delivery.event, delivery.interview_id, delivery.url)
                sent += 1
                continue
            wait = retry_wait(delivery.attempts + 1, settings)
            await asyncio.to_thread(outbox.failed, delivery.id, owner, error=error,
                                    retry_at=utcnow() + timedelta(seconds=wait))
            metrics.WEBHOOK_ATTEMPTS.labels(outcome="failed").inc()
            log.warning("webhook %s to %s failed (%s); attempt %d, next in %.0f s", delivery.event, delivery.url,
                        error, delivery.attempts + 1, wait)
    return sent
