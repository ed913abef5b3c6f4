"""The `store` fixture: every storage and queue test runs on a SQLite file and, when SIMA_TEST_POSTGRES_URL is set
(see .ci/postgres.sh), on a real Postgres server too."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from storage.store import Store, normalise_url

POSTGRES_ENV = "SIMA_TEST_POSTGRES_URL"


def _postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        if os.environ.get("CI"):  # .ci/run starts a throwaway server: there its absence is a failure
            pytest.fail(f"CI needs ${POSTGRES_ENV} (.ci/run starts PostgreSQL with .ci/postgres.sh)")
        pytest.skip(f"Postgres run needs ${POSTGRES_ENV}: eval \"$(.ci/postgres.sh start)\"")
    # Each test starts from an empty database (no tables, no migration record); the throwaway server holds nothing else.
    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db' / 'sima.db'}"
    return _postgres_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = Store(store_url)
    yield s
    s.close()
