"""Token counts: o200k_base when it loads, one warning and an estimate when it cannot."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from shared_data import data_missing, has_o200k, tiktoken_cache_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _run_python(code: str, cache_dir: Path) -> subprocess.CompletedProcess[str]:
    environment = dict(os.environ)
    environment["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    # any download attempt is refused at once instead of waiting on a network that is not there
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        environment[name] = "http://127.0.0.1:9"
    environment.pop("NO_PROXY", None)
    environment.pop("no_proxy", None)
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, cwd=PROJECT_ROOT, timeout=120
    )


_REPORT = """
import json, logging
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
from headroom_mitm.addon.tokens import count_tokens, tokenizer_name
texts = ["", "hello world", "naïve café ✓ " * 400, "x" * 5000, "<|endoftext|> is plain text here"]
print(json.dumps({"name": tokenizer_name(), "counts": [count_tokens(t) for t in texts],
                  "again": [count_tokens(t) for t in texts]}))
"""


def _o200k_cache() -> Path:
    """TIKTOKEN_CACHE_DIR (or ../shared/data/tiktoken) when it holds o200k_base."""
    cache = tiktoken_cache_dir()
    if not has_o200k(cache):
        data_missing(f"o200k_base is not in {cache} (set TIKTOKEN_CACHE_DIR to a tiktoken cache holding it)")
    return cache


def test_exact_counts_match_tiktoken_and_repeat() -> None:
    result = _run_python(
        _REPORT + "import tiktoken; enc = tiktoken.get_encoding('o200k_base');"
        "print(json.dumps([len(enc.encode_ordinary(t)) for t in texts]))",
        _o200k_cache(),
    )
    assert result.returncode == 0, result.stderr
    report_line, reference_line = result.stdout.strip().splitlines()
    report = json.loads(report_line)
    assert report["name"] == "o200k_base"
    assert report["counts"] == json.loads(reference_line)
    assert report["again"] == report["counts"]
    assert "WARNING" not in result.stderr


def test_without_the_encoding_counts_are_estimated_with_one_warning(tmp_path: Path) -> None:
    empty_cache = tmp_path / "empty-cache"
    empty_cache.mkdir()
    result = _run_python(_REPORT, empty_cache)

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    texts = ["", "hello world", "naïve café ✓ " * 400, "x" * 5000, "<|endoftext|> is plain text here"]
    assert report["name"].startswith("estimate")
    # one token per 3.7 UTF-8 bytes, rounded up (integer arithmetic: no float rounding surprises)
    assert report["counts"] == [-(-len(text.encode()) * 10 // 37) for text in texts]
    assert report["again"] == report["counts"]
    warnings = [line for line in result.stderr.splitlines() if line.startswith("WARNING")]
    assert len(warnings) == 1 and "estimated" in warnings[0]


def test_counts_in_process_are_memoised_consistently(monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _o200k_cache()
    # for this test only: a tokenizer this process already loaded keeps the cache it came from
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache))
    from headroom_mitm.addon.tokens import count_tokens, tokenizer_name

    if tokenizer_name() != "o200k_base":
        data_missing(f"this process could not load o200k_base (TIKTOKEN_CACHE_DIR={cache})")
    import tiktoken

    encoding = tiktoken.get_encoding("o200k_base")
    long_text = "def handler(event):\n    return {'status': 200}\n" * 300
    for text in (long_text, long_text, long_text + "tail", long_text[:-1], long_text):
        assert count_tokens(text) == len(encoding.encode_ordinary(text))
