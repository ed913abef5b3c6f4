"""Schema migrations (Alembic, under storage/migrations/): `sima db upgrade`, also run whenever a Store opens.

A database made before migrations existed (by `create_all`, with today's first-revision tables and no
`alembic_version`) is stamped at the first revision, then upgraded like any other. Processes that start at once take
a lock first (Postgres: an advisory lock; SQLite: a lock file beside the database), so only one of them migrates.

Example::

    >>> import tempfile
    >>> from sqlalchemy import create_engine
    >>> engine = create_engine(f"sqlite:///{tempfile.mkdtemp()}/sima.db")
    >>> upgrade(engine) == head()
    True
    >>> current(engine) == head()
    True
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
FIRST_REVISION = "0001_initial"
# Serialises migrations when several workers start at once against one Postgres database.
_SCHEMA_LOCK_KEY = 0x5149_4D41


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head() -> str:
    """The newest revision; one head only (a second one means two revisions chained onto the same parent)."""
    heads = _scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"storage/migrations has {len(heads)} heads {heads}: chain one revision onto the other")
    return heads[0]


def current(engine: Engine) -> str | None:
    """The database's revision, or None if it was never migrated."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _SCHEMA_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _SCHEMA_LOCK_KEY})
                conn.commit()
        return
    database = engine.url.database or ""
    with open(f"{database}.migrate.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the database to `revision` (the newest by default); return the revision it is at."""
    target = head() if revision == "head" else revision
    if current(engine) == target:  # the common case, every start: no lock, no Alembic run
        return target
    with _migration_lock(engine):
        with engine.begin() as conn:
            before = MigrationContext.configure(conn).get_current_revision()
            config = alembic_config(conn)
            if before is None and inspect(conn).has_table("interviews"):
                log.info("database made before migrations: stamping it at %s", FIRST_REVISION)
                command.stamp(config, FIRST_REVISION)
            command.upgrade(config, revision)
        now = current(engine)
    if now != before:
        log.info("database migrated from %s to %s", before or "nothing", now)
    return now or ""
