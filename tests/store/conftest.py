"""Real databases for the flow log tests: a SQLite file in a temp dir, and (when it is reachable)
the PostgreSQL at 127.0.0.1:5432, each test in a schema of its own so parallel runs never meet."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_data import data_missing

SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


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
        data_missing(f"agent traces not found at {path}")
    return path
