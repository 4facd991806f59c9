"""Real databases for the flow log tests: a SQLite file in a temp dir, and (when it is reachable)
the PostgreSQL at 127.0.0.1:5432, each test in a schema of its own so parallel runs never meet."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

POSTGRES_URL = os.environ.get("HEADROOM_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"

_postgres_problem: str | None | bool = False  # False: not checked yet; None: reachable


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (checked once per run)."""
    global _postgres_problem
    if _postgres_problem is False:
        try:
            import psycopg

            plain_url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
            with psycopg.connect(plain_url, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            _postgres_problem = None
        except Exception as exc:  # any failure means: skip, and say why
            _postgres_problem = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {exc}"
    return _postgres_problem  # type: ignore[return-value]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections see only a fresh schema, dropped after the test."""
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    import psycopg

    schema = f"headroom_test_{uuid.uuid4().hex[:12]}"
    plain_url = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain_url, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain_url, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The flow log target under test: a SQLite path, or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "logs" / "flows.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def traces_dir() -> Path:
    path = SHARED_DATA / "traces"
    if not path.is_dir():
        pytest.skip(f"agent traces not found at {path}")
    return path
