from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from shared_data import data_missing

FIXTURES = Path(__file__).parent / "fixtures"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/trace_bodies.py


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def shared_data() -> Path:
    from trace_bodies import shared_data_dir

    data = shared_data_dir()
    if data is None:
        expected = Path(__file__).resolve().parents[2].parent / "shared" / "data"
        data_missing(f"shared test data not found at {expected}")
    return data
