"""Fixtures every test folder may use: a private HEADROOM_HOME, and the PostgreSQL on this machine
in a schema per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_URL = os.environ.get("HEADROOM_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_PLAIN_POSTGRES_URL = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://")

@pytest.fixture(autouse=True, scope="session")
def private_headroom_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Nothing a test runs (in-process or a subprocess) may write the user's ~/.headroom."""
    previous = os.environ.get("HEADROOM_HOME")
    os.environ["HEADROOM_HOME"] = str(tmp_path_factory.mktemp("headroom-home"))
    yield
    if previous is None:
        os.environ.pop("HEADROOM_HOME", None)
    else:
        os.environ["HEADROOM_HOME"] = previous


_postgres_problem: str | None | bool = False  # False: not checked yet; None: reachable


def postgres_unavailable() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can (checked once per run)."""
    global _postgres_problem
    if _postgres_problem is False:
        try:
            import psycopg

            with psycopg.connect(_PLAIN_POSTGRES_URL, connect_timeout=3) as connection:
                connection.execute("SELECT 1")
            _postgres_problem = None
        except Exception as exc:  # any failure means: skip, and say why
            _postgres_problem = f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {exc}"
    return _postgres_problem  # type: ignore[return-value]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose connections see only a fresh schema, dropped after the test, so parallel runs
    never meet."""
    problem = postgres_unavailable()
    if problem:
        pytest.skip(problem)
    import psycopg

    schema = f"headroom_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_PLAIN_POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(_PLAIN_POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
