"""Migrations on SQLite and Postgres: the newest revision is exactly the models' schema, a database from before
migrations is adopted with its data, and downgrades undo upgrades."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from storage.migrate import FIRST_REVISION, alembic_config, current, head, upgrade
from storage.models import Base
from storage.store import Store, normalise_url


def _differences(url: str) -> list[object]:
    engine = create_engine(normalise_url(url))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def test_the_newest_revision_is_the_models_schema(store_url: str) -> None:
    Store(store_url).close()
    assert _differences(store_url) == []
    engine = create_engine(normalise_url(store_url))
    assert current(engine) == head()
    engine.dispose()


def test_a_database_made_before_migrations_is_stamped_and_upgraded(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    engine = create_engine(normalise_url(store_url))
    with engine.begin() as conn:  # what `create_all` made before this revision: the first revision's tables
        command.upgrade(alembic_config(conn), FIRST_REVISION)
        conn.execute(text("DROP TABLE alembic_version"))
        conn.execute(text("INSERT INTO interviews (id, created_at, updated_at) VALUES ('old', :t, :t)"),
                     {"t": datetime(2026, 1, 1)})
    assert current(engine) is None
    assert upgrade(engine) == head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM interviews")).scalars().all() == ["old"]
    engine.dispose()
    assert _differences(store_url) == []


def test_downgrade_to_the_first_revision_and_back(store_url: str) -> None:
    Store(store_url).close()
    engine = create_engine(normalise_url(store_url))
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), FIRST_REVISION)
    assert "webhook_deliveries" not in inspect(engine).get_table_names()
    assert current(engine) == FIRST_REVISION
    upgrade(engine)
    engine.dispose()
    assert _differences(store_url) == []


def test_store_opens_an_up_to_date_database_without_migrating(store_url: str) -> None:
    Store(store_url).close()
    s = Store(store_url)
    s.create_interview("iv", candidate_name=None, role=None, level=None, started_at=datetime.now(UTC),
                       config_hash=None)
    s.close()


def test_processes_starting_at_once_migrate_once(store_url: str, tmp_path: Path) -> None:
    (tmp_path / "db").mkdir(exist_ok=True)
    from concurrent.futures import ThreadPoolExecutor

    def start() -> str:
        engine = create_engine(normalise_url(store_url))
        try:
            return upgrade(engine)
        finally:
            engine.dispose()

    with ThreadPoolExecutor(4) as pool:
        assert set(pool.map(lambda _: start(), range(4))) == {head()}
    assert _differences(store_url) == []
