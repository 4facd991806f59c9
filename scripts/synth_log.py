"""Synthesise a large flow log from the real agent traces, for benchmarking ``headroom learn``.

The real transcripts under ../shared/data/traces are imported once; their sessions are then
copied (with new session ids, spread over many projects) until the log holds the asked number of
tool calls. Copies are made inside SQLite (INSERT ... SELECT), so a million rows take seconds.

    python scripts/synth_log.py /tmp/big.db --calls 1000000
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TRACES = REPO.parent / "shared" / "data" / "traces"
sys.path.insert(0, str(REPO))

# copies are spread over this many projects, so scoping has work to do
PROJECTS = 25

_COLUMNS = "session_id, project, call_id, tool, arguments, output, is_error, exit_code, provider, seen_at, position, source"


def synthesize(path: Path, calls: int, traces: Path = TRACES) -> int:
    """Write a SQLite flow log of about ``calls`` tool calls at ``path``; return the row count."""
    from headroom_mitm.learn.log import import_transcripts, open_log

    if not traces.is_dir():
        raise SystemExit(f"agent traces not found at {traces}")
    path.unlink(missing_ok=True)
    engine = open_log(str(path), create=True)
    import_transcripts([traces], engine)
    engine.dispose()
    connection = sqlite3.connect(path)
    base = connection.execute("SELECT COUNT(*) FROM tool_calls").fetchone()[0]
    copies = max(1, -(-calls // base))
    with connection:
        connection.execute("CREATE TEMP TABLE base AS SELECT * FROM tool_calls ORDER BY session_id, position")
        for copy in range(1, copies):
            remaining = calls - copy * base
            if remaining <= 0:
                break
            connection.execute(
                f"INSERT INTO tool_calls (fingerprint, {_COLUMNS}) "
                f"SELECT fingerprint || ':{copy}', session_id || ':{copy}', "
                f"COALESCE(project, '') || '-{copy % PROJECTS}', "
                f"call_id, tool, arguments, output, is_error, exit_code, provider, seen_at, position, source "
                f"FROM base LIMIT {min(base, remaining)}"
            )
    total = connection.execute("SELECT COUNT(*) FROM tool_calls").fetchone()[0]
    connection.close()
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--calls", type=int, default=1_000_000)
    args = parser.parse_args()
    started = time.perf_counter()
    total = synthesize(args.path, args.calls)
    size_mb = args.path.stat().st_size / 1e6
    print(f"{total} tool calls, {size_mb:.0f} MB, written in {time.perf_counter() - started:.1f} s: {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
