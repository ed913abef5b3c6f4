"""The webhook outbox, sender side. The store writes an event's deliveries (one per URL) in the same transaction as
what it reports (an interview ended, an evaluation stored: see `Store(webhook_urls=...)`); senders lease them here
the way evaluation workers lease jobs, so several senders (every `sima evaluations worker`) never send one delivery
at the same time, one that dies loses nothing, and a delivery is retried until the receiver answers 2xx.

Example::

    >>> outbox = Outbox(Store("sqlite:///sima.db", webhook_urls=["https://ats.example/hook"]))   # doctest: +SKIP
    >>> delivery = outbox.claim("sender-1", lease_seconds=30)                                    # doctest: +SKIP
    >>> outbox.delivered(delivery.id, "sender-1")                                                # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update

from storage.models import DeliveryStatus, WebhookDeliveryRow, utcnow
from storage.store import Store


@dataclass(frozen=True)
class Delivery:
    id: int
    event_id: str
    event: str
    interview_id: str | None
    url: str
    payload: dict[str, Any]
    attempts: int  # before this one
    owner: str | None
    status: DeliveryStatus
    last_error: str | None
    next_attempt_at: datetime
    delivered_at: datetime | None


def _delivery(row: WebhookDeliveryRow) -> Delivery:
    return Delivery(id=row.id, event_id=row.event_id, event=row.event, interview_id=row.interview_id, url=row.url,
                    payload=row.payload, attempts=row.attempts, owner=row.lease_owner,
                    status=DeliveryStatus(row.status), last_error=row.last_error,
                    next_attempt_at=row.next_attempt_at, delivered_at=row.delivered_at)


class Outbox:
    def __init__(self, store: Store):
        self.store = store

    def claim(self, owner: str, lease_seconds: float) -> Delivery | None:
        """Lease the oldest delivery that is due (pending and its time has come, or leased and expired)."""
        now = utcnow()
        due = or_((WebhookDeliveryRow.status == DeliveryStatus.PENDING.value)
                  & (WebhookDeliveryRow.next_attempt_at <= now),
                  (WebhookDeliveryRow.status == DeliveryStatus.RUNNING.value)
                  & (WebhookDeliveryRow.lease_expires_at < now))
        pick = (select(WebhookDeliveryRow.id).where(due).order_by(WebhookDeliveryRow.id).limit(1)
                .with_for_update(skip_locked=True))
        stmt = (update(WebhookDeliveryRow).where(WebhookDeliveryRow.id == pick.scalar_subquery())
                .values(status=DeliveryStatus.RUNNING.value, lease_owner=owner,
                        lease_expires_at=now + timedelta(seconds=lease_seconds))
                .returning(WebhookDeliveryRow))
        with self.store.session() as s, s.begin():
            row = s.scalars(stmt).first()
            return _delivery(row) if row else None

    def _owned(self, delivery_id: int, owner: str) -> Any:
        return ((WebhookDeliveryRow.id == delivery_id) & (WebhookDeliveryRow.lease_owner == owner)
                & (WebhookDeliveryRow.status == DeliveryStatus.RUNNING.value))

    def delivered(self, delivery_id: int, owner: str) -> None:
        now = utcnow()
        with self.store.session() as s, s.begin():
            s.execute(update(WebhookDeliveryRow).where(self._owned(delivery_id, owner))
                      .values(status=DeliveryStatus.DELIVERED.value, attempts=WebhookDeliveryRow.attempts + 1,
                              last_error=None, lease_owner=None, lease_expires_at=None, delivered_at=now))

    def failed(self, delivery_id: int, owner: str, *, error: str, retry_at: datetime) -> None:
        """This attempt failed; the delivery waits until `retry_at` (it is never given up)."""
        with self.store.session() as s, s.begin():
            s.execute(update(WebhookDeliveryRow).where(self._owned(delivery_id, owner))
                      .values(status=DeliveryStatus.PENDING.value, attempts=WebhookDeliveryRow.attempts + 1,
                              last_error=error[:2000], lease_owner=None, lease_expires_at=None,
                              next_attempt_at=retry_at))

    def deliveries(self, *, interview_id: str | None = None) -> list[Delivery]:
        with self.store.session() as s:
            query = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)
            if interview_id is not None:
                query = query.where(WebhookDeliveryRow.interview_id == interview_id)
            return [_delivery(r) for r in s.scalars(query)]

    def undelivered(self) -> int:
        with self.store.session() as s:
            return int(s.scalar(select(func.count()).where(
                WebhookDeliveryRow.status != DeliveryStatus.DELIVERED.value)) or 0)
