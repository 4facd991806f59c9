"""Real request bodies (../shared/data/wire) and traces, skipped with a reason when absent."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable

import pytest

from trace_bodies import shared_data_dir, wire_bodies
from shared_data import data_missing

os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(Path(__file__).resolve().parents[3] / "shared" / "data" / "tiktoken"))


@pytest.fixture
def wire() -> Callable[[str], list[tuple[str, Any]]]:
    """``wire("aider-0.86.2")``: that client's bodies, in order, as (raw text, parsed)."""

    def bodies(client: str) -> list[tuple[str, Any]]:
        found = wire_bodies(client)
        if not found:
            data = shared_data_dir() or Path(__file__).resolve().parents[3] / "shared" / "data"
            data_missing(f"request bodies of {client} not found under {data / 'wire'}")
        return [(raw, json.loads(raw)) for raw in found]

    return bodies


@pytest.fixture
def shared_traces() -> Path:
    data = shared_data_dir()
    if data is None:
        data_missing(f"trace data not found at {Path(__file__).resolve().parents[3] / 'shared' / 'data'}")
    return data / "traces"
