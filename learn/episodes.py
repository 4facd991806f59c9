"""Find error -> recovery episodes inside one session.

Three kinds, all starting from a failing call:

- ``changed``: a later, changed call of the same tool (and, for shell commands, the same
  program or purpose) works: "use X instead".
- ``between``: the very same call works later, or fails differently: whatever ran in between
  fixed it. The calls in between (files edited, programs run) are candidate fixes; mining keeps
  one only when the same kind of fix recurs for the same error across sessions.
- ``named``: the error itself names the fix ("Run 'mix format' to fix", a hook's ``[CREDO]``
  check), the session ran it, and the next attempt no longer asks for it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from headroom_mitm.learn.harness import REPLY_TOOL, Rejection, rejection_of
from headroom_mitm.learn.normalize import FORCING, NO_SUCH_PATH, flags_of, program_of, relativize
from headroom_mitm.learn.outcome import CallView, Outcome, is_test_command, test_segment, view_of
from headroom_mitm.learn.records import CallRecord
from headroom_mitm.learn.shell_edits import READ_ONLY_PROGRAMS

# how many later calls to look through for the recovery
LOOKAHEAD = 15

# a fix kind standing for "the script the failing command runs was changed"
SCRIPT = "<script>"


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
    kind: str = "changed"  # "changed" | "between" | "named"
    fixes: tuple[str, ...] = ()
    """For "between": the kinds of fix made in between ("edit:config/test.exs", "run:mix deps.get",
    "edit:<script>"); for "named": the commands the error named that ran."""
    added: tuple[str, ...] = ()
    """For an "edit:<script>" fix: the calls the new script makes that the old one did not."""
    after_edit: bool = False  # the failing call came right after an edit of a file
    turns: int = 1  # calls from the failure to the recovery
    cwd: str | None = None  # the folder the session ran in, to make its paths relative


@dataclass(frozen=True)
class TestRun:
    """A test command that ran (passing or failing tests): evidence of how tests run here."""

    session_id: str
    project: str | None
    program: str
    command: str
    seen_at: datetime | None
    cwd: str | None = None


@dataclass(frozen=True)
class HarnessRejection:
    session_id: str
    project: str | None
    rejection: Rejection
    trigger: str  # what was refused: a reply, or the program whose output was too long
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
    # "python -m django.test" -> "python tests/runtests.py": two ways of running tests
    if is_test_command(failed.command) and is_test_command(candidate.command):
        return True
    # "git add x && git commit -m ..." commits too
    raw = candidate.raw_command
    if "&&" not in raw or failed.program not in raw:
        return False
    return any(program_of(step) == failed.program for step in raw.split("&&")[1:])


def _episode(failed: CallView, candidate: CallView, kind: str = "changed", **extra: object) -> Episode:
    same_program = candidate.program == failed.program and flags_of(candidate.command) == flags_of(failed.command)
    return Episode(
        session_id=failed.record.session_id,
        project=failed.project,
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
        kind=kind,
        cwd=failed.record.project,
        **extra,  # type: ignore[arg-type]
    )


def session_episodes(views: Sequence[CallView]) -> Iterator[Episode]:
    for index, failed in enumerate(views):
        if failed.outcome not in (Outcome.FAILED, Outcome.TESTS_FAILED) or failed.tool == REPLY_TOOL:
            continue
        yield from _named_fixes(views, index)
        tests_failed = failed.outcome is Outcome.TESTS_FAILED
        if tests_failed and not can_teach_a_fix(failed.signature):
            continue  # tests failing while the code is written: the fix is the work itself
        for offset, candidate in enumerate(views[index + 1 : index + 1 + LOOKAHEAD]):
            if candidate.outcome is Outcome.IGNORED or not related(failed, candidate):
                continue
            same_call = candidate.command == failed.command
            # tests that ran and failed count as a working runner, unless tests failing was the problem
            still_failing = candidate.outcome is Outcome.FAILED or (
                candidate.outcome is Outcome.TESTS_FAILED and tests_failed
            )
            if still_failing:
                if not same_call and not (tests_failed and is_test_command(candidate.command)):
                    continue  # another failed attempt at it
                if candidate.signature == failed.signature:
                    continue  # the same failure again; keep looking for the one that worked
                # the same call, or the same tests, now fail differently: this failure was fixed
            if same_call or still_failing or tests_failed:
                if not can_teach_a_fix(failed.signature):
                    break
                between = views[index + 1 : index + 1 + offset]
                edited = _edited_before(views, index)
                fixes, added = _fixes_between(
                    failed, between, candidate, views[max(0, index - LOOKAHEAD) : index + 1], edited
                )
                if fixes:
                    yield _episode(
                        failed, candidate, "between", fixes=fixes, added=added,
                        after_edit=bool(edited), turns=offset + 1,
                    )
                break
            yield _episode(failed, candidate, turns=offset + 1)
            break


# a test that failed: fixed in the code under test, which is the work, not a lesson
_TEST_FAILURE = re.compile(r"^FAILED |AssertionError|Assertion with|assert |\bexpected\b.*\bgot\b|\d+ failed", re.I)
# errors that say too little to tie a fix to ("AssertionError", "FAILED (errors=<n>)")
_VAGUE_ERROR = re.compile(r"^(?:\w+(?:Error|Exception)|FAILED \(.*\)|Traceback \(most recent call last\):?|<n>)$")


def can_teach_a_fix(signature: str) -> bool:
    """Whether what was done before the same call passed can be a lesson for this error: not
    for a vague one, a failing test (its fix is the work), or a path not there yet (whatever
    created it)."""
    return bool(signature) and not (
        _VAGUE_ERROR.match(signature) or _TEST_FAILURE.search(signature) or NO_SUCH_PATH.search(signature)
    )


def _edited_before(views: Sequence[CallView], index: int) -> set[str]:
    """Files edited in place (``sed -i``: nobody saw the result) by the failing call or the two
    before it, other than the script it runs."""
    script = _script_of(views[index])
    edited: set[str] = set()
    for earlier in views[max(0, index - 2) : index + 1]:
        if earlier.tool == "bash":
            edited |= {
                relativize(path, earlier.record.project).removeprefix("./")
                for path, content in earlier.writes
                if content is None
            }
    edited.discard(script or "")
    return edited


_SCRIPT_RUN = re.compile(r"^\S*python[\d.]*\s+(?:-u\s+)?(?P<script>[^\s-]\S*\.py)\b")


def _script_of(view: CallView) -> str | None:
    found = _SCRIPT_RUN.match(view.command)
    return found["script"].removeprefix("./") if found else None


_CALLED = re.compile(r"\b([A-Za-z_][\w.]*)\(")


# a fix kind standing for "the file an in-place edit broke was repaired or restored"
REPAIR = "repair:edited"


def _fixes_between(
    failed: CallView, between: Sequence[CallView], candidate: CallView, earlier: Sequence[CallView], edited: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The kinds of change made from the failure up to the call that passed: files written or
    edited (the candidate's own writes included: ``cat <<EOF > x.py ... EOF`` then ``python x.py``)
    and programs run that do more than look."""
    script = _script_of(failed)
    kinds: set[str] = set()
    added: set[str] = set()
    old_script = _last_content(earlier, script)
    for view in [*between, candidate]:
        for path, content in view.writes:
            relative = relativize(path, view.record.project).removeprefix("./")
            if relative in edited:
                kinds.add(REPAIR)
            elif script and relative == script:
                kinds.add(f"edit:{SCRIPT}")
                if content is not None and old_script is not None:
                    added |= set(_CALLED.findall(content)) - set(_CALLED.findall(old_script))
            else:
                kinds.add(f"{'create' if content == '' else 'edit'}:{relative}")
        if view is candidate or view.tool != "bash" or view.outcome is not Outcome.OK:
            continue
        program = view.program
        if program and program not in READ_ONLY_PROGRAMS and not view.writes:
            if program == "git checkout" and any(word.removeprefix("./") in edited for word in view.command.split(" ")):
                kinds.add(REPAIR)
            elif program != failed.program and not is_test_command(view.command):
                kinds.add(f"run:{_as_fix(view)}")
    return tuple(sorted(kinds)), tuple(sorted(added))


def _as_fix(view: CallView) -> str:
    """A command as a fix: its program and options, files as ``<file>``."""
    words: list[str] = []
    keep = len(view.program.split(" "))
    for position, word in enumerate(view.command.split(" ")):
        if position >= keep and ("/" in word or re.search(r"\.\w{1,5}$", word)) and not word.startswith("-"):
            word = "<file>"
        if not (words and word == words[-1] == "<file>"):
            words.append(word)
    return " ".join(words)[:60]


def _last_content(earlier: Sequence[CallView], script: str | None) -> str | None:
    """What the failing call's script held when it failed, if the session wrote it whole."""
    if script is None:
        return None
    for view in reversed(earlier):
        for path, content in view.writes:
            if relativize(path, view.record.project).removeprefix("./") == script:
                return content
    return None


# fixes an error names: "Run 'mix format' to fix", git's "use\n\n    git push --set-upstream ...",
# "pip install x"; and a hook's checks by name ("[CREDO]"), fixed by running that tool
_NAMED_COMMANDS = (
    re.compile(r"""[Rr]un ['"`]([^'"`\n]+)['"`] to fix"""),
    re.compile(r"""[Rr]un `([^`\n]+)`"""),
)
_NAMED_CHECK = re.compile(r"\[([A-Z][A-Z_]{2,})\]")
_NAMES_A_FIX = re.compile(r"""[Rr]un ['"`]|\[[A-Z][A-Z_]{2,}\]""")


def _named_fixes(views: Sequence[CallView], index: int) -> Iterator[Episode]:
    failed = views[index]
    if not _NAMES_A_FIX.search(failed.record.output or ""):
        return  # names no command ("Run 'x'") and no check ("[CREDO]"): most failures
    body = failed.body
    commands = {program_of(found) for pattern in _NAMED_COMMANDS for found in pattern.findall(body)}
    checks = set(_NAMED_CHECK.findall(body))
    if not commands and not checks:
        return
    later = views[index + 1 : index + 1 + LOOKAHEAD]
    retry = next((offset for offset, view in enumerate(later) if view.outcome is not Outcome.IGNORED and related(failed, view)), None)
    if retry is None:
        return
    retry_body = later[retry].body if later[retry].outcome is not Outcome.OK else ""
    confirmed: dict[str, None] = {}
    for view in later[:retry]:
        if view.tool != "bash" or view.outcome is not Outcome.OK or FORCING.search(view.command):
            continue
        tool_word = view.program.rsplit(" ", 1)[-1].upper()
        named_check = tool_word in checks and f"[{tool_word}]" not in retry_body
        named_command = view.program in commands and not any(
            program_of(found) == view.program for pattern in _NAMED_COMMANDS for found in pattern.findall(retry_body)
        )
        if named_check or named_command:
            confirmed.setdefault(view.program, None)
    if confirmed:
        yield _episode(failed, later[retry], "named", fixes=tuple(confirmed), turns=retry + 1)


def session_rejections(views: Iterable[CallView]) -> Iterator[HarnessRejection]:
    """Turns the harness refused: a reply without one bash block, an output too long to show."""
    for view in views:
        output = view.record.output or ""
        if view.tool != REPLY_TOOL and "too long" not in output[:400]:
            continue
        rejection = rejection_of(output)
        if rejection is None:
            continue
        trigger = "a reply" if view.tool == REPLY_TOOL else view.program
        yield HarnessRejection(view.record.session_id, view.project, rejection, trigger, view.record.when())


def session_test_runs(views: Iterable[CallView]) -> Iterator[TestRun]:
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
        yield TestRun(record.session_id, view.project, program, segment, record.when(), record.project)


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


def views_of(records: list[CallRecord], project_of: object = None) -> list[CallView]:
    """Views of a session's calls; ``project_of`` maps a call's project to its repository."""
    resolve = project_of if callable(project_of) else (lambda project: project)
    return [view_of(record, resolve(record.project)) for record in records]
