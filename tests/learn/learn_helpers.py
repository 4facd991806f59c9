"""Build tool-call records and logs for tests without going through a transcript file."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from headroom_mitm.learn.records import CallRecord
from shared_data import data_missing

TRACES = Path(__file__).resolve().parents[3] / "shared" / "data" / "traces"


def require_traces(*parts: str) -> Path:
    """A path under the shared agent traces; skips the test clearly when they are absent."""
    path = TRACES.joinpath(*parts)
    if not path.exists():
        data_missing(f"agent traces not found at {path}")
    return path

START = datetime(2026, 1, 5, 9, 0, 0)


def bash_session(session_id: str, steps: list[tuple[str, int, str]], project: str = "/work/app") -> list[CallRecord]:
    """Calls of one session: (command, exit code, output) in order, mini-swe-agent style."""
    return [
        CallRecord(
            session_id=session_id,
            project=project,
            call_id="",
            tool="bash",
            arguments={"command": command},
            output=f"<returncode>{code}</returncode>\n<output>\n{output}</output>",
            is_error=code != 0,
            exit_code=code,
            position=position,
            seen_at=START + timedelta(minutes=position),
        )
        for position, (command, code, output) in enumerate(steps)
    ]


def store(target: str, records: list[CallRecord], source: str = "proxy") -> None:
    """Write ``records`` into the flow log at ``target`` the way the proxy writes tool calls."""
    from headroom_mitm.addon.store.engine import make_engine
    from headroom_mitm.addon.store.entries import ToolCallEntry
    from headroom_mitm.addon.store.persist import write_tool_calls
    from headroom_mitm.addon.store.schema import ensure_schema

    engine = make_engine(target)
    ensure_schema(engine)
    with engine.begin() as connection:
        write_tool_calls(
            connection,
            [
                ToolCallEntry(
                    session_id=r.session_id, call_id=r.call_id, tool=r.tool, arguments=r.arguments,
                    output=r.output, is_error=r.is_error, position=r.position, project=r.project,
                    source=source, exit_code=r.exit_code, seen_at=r.seen_at,
                )
                for r in records
            ],
        )
    engine.dispose()
