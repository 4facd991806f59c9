"""What a test does when ../shared/data (real traces, request bodies, tiktoken encodings) is not
beside the project: skip, naming what is missing where; or, under .ci/run, which sets
HEADROOM_TESTS_NEED_DATA=1, fail, so a run without the data is never green."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import NoReturn

import pytest

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
NEED_DATA = "HEADROOM_TESTS_NEED_DATA"
# tiktoken caches an encoding under the sha1 of its download address
O200K_CACHE_NAME = hashlib.sha1(b"https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken").hexdigest()


def data_required() -> bool:
    return os.environ.get(NEED_DATA, "") not in ("", "0")


def data_missing(reason: str) -> NoReturn:
    """Skip with ``reason``, or fail with it when the run needs the data."""
    if data_required():
        pytest.fail(f"{reason} ({NEED_DATA} is set: this run needs ../shared/data)", pytrace=False)
    pytest.skip(reason)


def tiktoken_cache_dir() -> Path:
    """Where the tokenizer looks: TIKTOKEN_CACHE_DIR when set, else ../shared/data/tiktoken."""
    configured = os.environ.get("TIKTOKEN_CACHE_DIR")
    return Path(configured) if configured else SHARED_DATA / "tiktoken"


def has_o200k(directory: Path) -> bool:
    return (directory / O200K_CACHE_NAME).is_file()
