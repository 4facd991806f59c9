"""Find error -> recovery episodes inside one session.

An episode is a failing call followed, later in the same session, by a changed call of the same
tool (and, for shell commands, the same program or purpose) that works. Re-running the very same
command until it passes is not an episode: whatever fixed it happened elsewhere (an edit, the
red-green loop of test-driven work), so there is no "use X instead" to learn.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from headroom_mitm.learn.normalize import flags_of, program_of
from headroom_mitm.learn.outcome import CallView, Outcome, is_test_command, test_segment, view_of
from headroom_mitm.learn.records import CallRecord

# how many later calls to look through for the recovery
LOOKAHEAD = 15


@dataclass(frozen=True)
class Episode:
    session_id: str
    project: str | None
    tool: str
    trigger: str  # program of the failing call ("git push", "Read")
    trigger_command: str
    signature: str  # normalised error line
    raw_error: str
    fix_program: str
    fix_flags: tuple[str, ...]
    fix_command: str
    same_program: bool  # the recovery changed only arguments
    seen_at: datetime | None


@dataclass(frozen=True)
class TestRun:
    """A test command that ran (passing or failing tests): evidence of how tests run here."""

    session_id: str
    project: str | None
    program: str
    command: str
    seen_at: datetime | None


_PROBE = re.compile(r"(?:^|\s)(?:--version|--help|-V|-h)(?:\s|$)")


def related(failed: CallView, candidate: CallView) -> bool:
    """Whether ``candidate`` is another attempt at what ``failed`` tried to do.

    For shell commands: the same program, or two ways of running tests. A call that merely
    touches the same file (rewriting the script that crashed, listing its folder) is not.
    """
    if failed.tool != candidate.tool:
        return False
    if failed.tool != "bash":
        return True
    if _PROBE.search(candidate.command):
        return False  # asking a tool its version is checking, not doing the job
    if failed.program == candidate.program:
        return True
    failed_test, candidate_test = is_test_command(failed.command), is_test_command(candidate.command)
    if failed_test and candidate_test:
        return True
    # "python -m django.test" -> "python tests/runtests.py": the same interpreter, now running tests
    same_executable = failed.program.split(" ")[0] == candidate.program.split(" ")[0]
    return same_executable and (failed_test or candidate_test)


def session_episodes(views: list[CallView]) -> Iterator[Episode]:
    for index, failed in enumerate(views):
        if failed.outcome is not Outcome.FAILED:
            continue
        for candidate in views[index + 1 : index + 1 + LOOKAHEAD]:
            if candidate.outcome is Outcome.IGNORED or not related(failed, candidate):
                continue
            if candidate.outcome is Outcome.FAILED:
                continue  # another failed attempt; keep looking for the one that worked
            if candidate.command == failed.command:
                break  # the same call passed later: fixed elsewhere, nothing to learn here
            same_program = candidate.program == failed.program and flags_of(
                candidate.command
            ) == flags_of(failed.command)
            yield Episode(
                session_id=failed.record.session_id,
                project=failed.record.project,
                tool=failed.tool,
                trigger=failed.program,
                trigger_command=failed.command,
                signature=failed.signature,
                raw_error=failed.raw_error,
                fix_program=candidate.program,
                fix_flags=flags_of(candidate.command) if candidate.tool == "bash" else (),
                fix_command=candidate.command,
                same_program=same_program,
                seen_at=failed.record.when(),
            )
            break


def session_test_runs(views: list[CallView]) -> Iterator[TestRun]:
    for view in views:
        if view.tool != "bash" or not view.may_run_tests():
            continue
        if view.outcome not in (Outcome.OK, Outcome.TESTS_FAILED):
            continue
        segment = test_segment(view.command)
        if segment is None:
            continue
        program = program_of(segment)
        if program.split(" ")[0] in ("grep", "find", "ls", "cat", "echo", "head", "tail", "sed"):
            continue
        record = view.record
        yield TestRun(record.session_id, record.project, program, segment, record.when())


def by_session(records: Iterable[CallRecord]) -> Iterator[list[CallRecord]]:
    """Consecutive records of one session at a time (the input is ordered by session)."""
    current: list[CallRecord] = []
    current_id: str | None = None
    for record in records:
        if record.session_id != current_id and current:
            yield current
            current = []
        current_id = record.session_id
        current.append(record)
    if current:
        yield current


def views_of(records: list[CallRecord]) -> list[CallView]:
    return [view_of(record) for record in records]
