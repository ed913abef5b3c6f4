"""The `storage:` section of config.yaml."""

from __future__ import annotations

from pydantic import Field

from engine.settings import Strict


class StorageSettings(Strict):
    url: str = Field(default="sqlite:///sima.db", description="SQLAlchemy URL: a SQLite file, or postgresql+psycopg://")
    retention_days: float | None = Field(default=None, gt=0, description="interviews older than this are deleted "
                                         "with everything kept about them (by `sima evaluations worker`); None: "
                                         "kept until deleted by hand")
