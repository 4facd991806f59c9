"""Real tool outputs from ../shared/data/traces, read at test time."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from shared_data import data_missing

REPO = Path(__file__).resolve().parents[2]
TRACES = REPO.parent / "shared" / "data" / "traces"


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_compressors", REPO / "scripts" / "bench_compressors.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_compressors", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def trace_outputs():
    if not (TRACES / "claude-code").is_dir():
        data_missing(f"trace data not found at {TRACES}")
    return list(_bench_module().iter_tool_outputs(TRACES))
