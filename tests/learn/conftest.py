"""Fixtures for the learning tests: the real agent traces, real databases, and helpers that
write the tool-call rows the proxy would write."""

from __future__ import annotations

from pathlib import Path

import pytest

from learn_helpers import require_traces


@pytest.fixture
def traces() -> Path:
    return require_traces()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def log_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "flows.db")
    return request.getfixturevalue("postgres_url")
