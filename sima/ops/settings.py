"""The `evaluation_worker:`, `webhooks:` and `metrics:` sections of config.yaml (`resume:` is the pipeline's,
`storage.retention_days` the store's)."""

from __future__ import annotations

from pydantic import Field, field_validator

from engine.settings import Strict


class EvaluationWorkerSettings(Strict):
    poll_seconds: float = Field(default=2.0, gt=0, description="how often an idle worker looks for work")
    retry_backoff_seconds: float = Field(default=30.0, gt=0, description="wait before a failed job is tried "
                                         "again; doubles after each failure")
    retry_backoff_max_seconds: float = Field(default=3600.0, gt=0, description="the longest wait between tries "
                                             "(a failed job is never given up)")
    housekeeping_seconds: float = Field(default=60.0, gt=0, description="how often journals are replayed into the "
                                        "database and abandoned interviews ended")
    retention_every_seconds: float = Field(default=3600.0, gt=0, description="how often retention is enforced")


class WebhookSettings(Strict):
    urls: list[str] = Field(default_factory=list, description="receivers of interview.finished and evaluation.done")
    secret_env: str = Field(default="SIMA_WEBHOOK_SECRET", description="environment variable holding the HMAC key")
    retry_schedule_seconds: list[float] = Field(
        default_factory=lambda: [10.0, 30.0, 60.0, 300.0, 1800.0],
        description="waits after the 1st, 2nd, ... failed attempt; the last repeats for ever")
    timeout_seconds: float = Field(default=10.0, gt=0)
    lease_seconds: float = Field(default=60.0, gt=0)

    @field_validator("urls")
    @classmethod
    def _http(cls, urls: list[str]) -> list[str]:
        bad = [u for u in urls if not u.startswith(("http://", "https://"))]
        if bad:
            raise ValueError(f"not an http(s) URL: {', '.join(bad)}")
        return urls

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _schedule(cls, waits: list[float]) -> list[float]:
        if not waits or any(w <= 0 for w in waits):
            raise ValueError("give at least one wait, each > 0 seconds")
        return waits


class MetricsSettings(Strict):
    host: str = Field(default="127.0.0.1", description="address the /metrics endpoint listens on")
    port: int | None = Field(default=9464, ge=0, le=65535, description="None: no metrics endpoint")
