"""Logs at a given point of the schema's history, and a copy of the revisions with one more."""

from __future__ import annotations

import shutil
from pathlib import Path

FIXTURES = Path(__file__).with_name("fixtures")
V1_SQLITE = FIXTURES / "flows-v1.db"
V1_POSTGRESQL = FIXTURES / "flows-v1-postgresql.sql"


def sqlite_log_from_before_migrations(folder: Path) -> Path:
    """A copy of the real file the release before migrations wrote."""
    path = folder / "flows.db"
    shutil.copyfile(V1_SQLITE, path)
    return path


def postgres_log_from_before_migrations(url: str) -> None:
    """Load the schema and rows the release before migrations wrote into ``url``'s (empty) schema."""
    import psycopg

    from headroom_mitm.addon.store.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            assert isinstance(raw, psycopg.Connection)
            raw.execute(V1_POSTGRESQL.read_text())
    finally:
        engine.dispose()


def revisions_with_one_more(folder: Path, upgrade_body: str, revision: str = "r9001") -> Path:
    """The shipped revisions plus ``revision`` on top of the newest, whose ``upgrade()`` runs
    ``upgrade_body`` (a newer release, as far as the shipped code can tell)."""
    from headroom_mitm.addon.store.migrations import SCRIPT_LOCATION
    from headroom_mitm.addon.store.schema import head_revision

    location = folder / "migrations"
    shutil.copytree(SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    (location / "versions" / f"{revision}_test.py").write_text(
        "import sqlalchemy as sa\n"
        "from alembic import op\n\n"
        f"revision = {revision!r}\n"
        f"down_revision = {head_revision()!r}\n"
        "branch_labels = None\ndepends_on = None\n\n\n"
        "def upgrade() -> None:\n"
        f"    {upgrade_body}\n\n\n"
        "def downgrade() -> None:\n    pass\n"
    )
    return location


def baseline_revisions(folder: Path) -> Path:
    """The shipped revisions up to the baseline alone: a fresh log made from them is what the
    baseline creates, whatever later revisions add."""
    from headroom_mitm.addon.store.migrations import SCRIPT_LOCATION

    location = folder / "baseline-migrations"
    shutil.copytree(SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    for revision in (location / "versions").glob("r*.py"):
        if not revision.name.startswith("r0001_"):
            revision.unlink()
    return location
