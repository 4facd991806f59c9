"""Turn episodes from many sessions into patterns with evidence.

Evidence is the number of distinct sessions a pattern occurred in: a conversation that repeats
a failed call in every later request, or fails the same way five times, still counts once.
Error lines that differ only in names (branches, files) are grouped: exact after normalisation
first, then by character n-gram similarity. A program or module that is not installed is one
cause however it was invoked, and the different fixes that worked for one cause are ranked in one
pattern rather than written as lines that contradict each other.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from headroom_mitm.learn.episodes import Episode, TestRun, by_session, session_episodes, session_test_runs, views_of
from headroom_mitm.learn.normalize import NO_SUCH_PATH, command_tokens, flags_of, missing_name, program_of, relativize
from headroom_mitm.learn.records import CallRecord

logger = logging.getLogger(__name__)

__all__ = ["Pattern", "MiningResult", "mine", "select_patterns", "project_root"]

# error lines at least this similar (cosine of char n-gram TF-IDF) are taken as the same error
SIMILARITY = 0.72


@dataclass
class Pattern:
    """A lesson: what fails, what works instead, and how often that was seen.

    One failure can have been fixed differently in different sessions (two repositories sharing
    a working directory, say): ``fixes`` ranks every fix by the sessions it worked in, ``fix``
    is the first of them, and ``evidence`` counts the sessions of them all.
    """

    kind: str  # "use-instead" | "fix-arguments" | "test-command"
    tool: str
    trigger: str
    error: str
    fix: str
    sessions: list[str]
    projects: list[str]
    first_seen: datetime | None
    last_seen: datetime | None
    examples: list[str] = field(default_factory=list)
    triggers: list[str] = field(default_factory=list)
    """Every command that failed this way, most sessions first (``trigger`` is the first)."""
    fixes: list[tuple[str, int]] = field(default_factory=list)
    """(fix, sessions it worked in), most sessions first; empty means just ``fix``."""
    missing: str | None = None
    """The program or module that is not installed, when that is the failure."""
    advice: bool = True
    """False for a failure whose only lesson is "the arguments were corrected" (a typo in
    ad-hoc code, a mistyped line range): mined and reported as data, never written as advice."""

    @property
    def evidence(self) -> int:
        return len(self.sessions)

    @property
    def ranked_fixes(self) -> list[tuple[str, int]]:
        return self.fixes or [(self.fix, self.evidence)]

    @property
    def fix_evidence(self) -> int:
        """Sessions in which the advised fix (the first) worked."""
        return self.ranked_fixes[0][1]

    @property
    def scope(self) -> str:
        """"all" when the pattern recurs across projects, else its one project."""
        return "all" if len(self.projects) != 1 else self.projects[0]

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "tool": self.tool,
            "trigger": self.trigger,
            "triggers": self.triggers or ([self.trigger] if self.trigger else []),
            "missing": self.missing,
            "error": self.error,
            "fix": self.fix,
            "fixes": [{"fix": fix, "evidence": count} for fix, count in self.ranked_fixes],
            "evidence": self.evidence,
            "advice": self.advice,
            "sessions": self.sessions,
            "projects": self.projects,
            "scope": self.scope,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
        }


@dataclass
class MiningResult:
    patterns: list[Pattern]
    calls: int
    sessions: int
    episodes: int


def mine(records: Iterable[CallRecord]) -> MiningResult:
    """Patterns from tool calls ordered by ``chronological_key``. Memory grows with the number
    of episodes and distinct errors, not with the number of calls."""
    episodes: list[Episode] = []
    test_runs: dict[tuple[str | None, str], _TestEvidence] = {}
    calls = sessions = 0
    for session in by_session(records):
        sessions += 1
        calls += len(session)
        views = views_of(session)
        episodes.extend(session_episodes(views))
        for run in session_test_runs(views):
            test_runs.setdefault((run.project, run.program), _TestEvidence()).add(run)
    patterns = _episode_patterns(episodes) + _test_patterns(test_runs)
    patterns.sort(key=_rank)
    logger.info("mined %d calls in %d sessions: %d episodes, %d patterns", calls, sessions, len(episodes), len(patterns))
    return MiningResult(patterns, calls, sessions, len(episodes))


def _rank(pattern: Pattern) -> tuple:
    kind_order = {"use-instead": 0, "fix-arguments": 1, "test-command": 2}
    return (-pattern.evidence, kind_order.get(pattern.kind, 3), pattern.trigger, pattern.error, pattern.fix)


# --- grouping --------------------------------------------------------------------------------


def group_messages(messages: Counter[str]) -> dict[str, str]:
    """Map each message to the most frequent member of its group of near-identical messages."""
    distinct = sorted(messages, key=lambda text: (-messages[text], text))
    if len(distinct) <= 1:
        return {text: text for text in distinct}
    from sklearn.feature_extraction.text import TfidfVectorizer

    # characters, not words: no stop-word list can drop a "not" or a "no" from an error
    vectors = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False).fit_transform(distinct)
    similarity = (vectors @ vectors.T).toarray()
    leaders: list[int] = []
    assignment: dict[str, str] = {}
    for index, text in enumerate(distinct):
        leader = next((lead for lead in leaders if similarity[index, lead] >= SIMILARITY), None)
        if leader is None:
            leaders.append(index)
            leader = index
        assignment[text] = distinct[leader]
    return assignment


def merge_variants(texts: list[str], placeholder: str = "…") -> str:
    """One text for several variants: where same-length variants differ word by word, the
    differing words become ``placeholder``; otherwise the most common variant."""
    counts = Counter(texts)
    common = min(counts, key=lambda text: (-counts[text], text))
    words = common.split(" ")
    same_length = [text.split(" ") for text in counts if len(text.split(" ")) == len(words)]
    if len(same_length) < 2:
        return common
    merged = [word if all(variant[i] == word for variant in same_length) else placeholder for i, word in enumerate(words)]
    if merged.count(placeholder) * 3 > len(merged):
        return common  # too different to merge into one readable line
    return " ".join(merged)


# --- commands as advice ----------------------------------------------------------------------

_FILEISH = re.compile(r"\.[A-Za-z0-9]{1,6}$")


def _placeholder(token: str, raw_errors: list[str]) -> str:
    if any(f"branch {token}" in error for error in raw_errors):
        return "<branch>"
    if "/" in token or _FILEISH.search(token):
        return "<file>" if _FILEISH.search(token) else "<path>"
    return "<arg>"


def generalize_command(commands: list[str], program: str, raw_errors: list[str], limit: int = 90) -> str:
    """A command as advice: the program and its options as the sessions used them, with the
    arguments that vary (or name files) replaced by placeholders."""
    program_tokens = program.split(" ")
    tokenised = [command_tokens(command) for command in commands if command]
    tokenised = [tokens for tokens in tokenised if tokens]
    if not tokenised:
        return program
    lengths = Counter(len(tokens) for tokens in tokenised)
    length = min(lengths, key=lambda n: (-lengths[n], n))
    rows = [tokens for tokens in tokenised if len(tokens) == length]
    program_tokens = program_of(shlex.join(rows[0])).split(" ") or program_tokens
    result: list[str] = []
    for position in range(length):
        column = [row[position] for row in rows]
        counts = Counter(column)
        token = min(counts, key=lambda t: (-counts[t], t))
        fixed = position < len(program_tokens) or token.startswith("-")
        # one example of this shape among differently shaped commands: its arguments vary too
        varies = len(counts) > 1 or (len(rows) == 1 and len(tokenised) > 1)
        if not fixed and (varies or "/" in token or _FILEISH.search(token) or re.search(r"\s", token) or len(token) > 40):
            token = _placeholder(token, raw_errors)
        if result and token == result[-1] and token.startswith("<"):
            continue  # "rm <file> <file> <file>" reads better as "rm <file>"
        result.append(token)
    text = " ".join(_quote(token) for token in result)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _quote(token: str) -> str:
    if token.startswith("<") and token.endswith(">"):
        return token
    if re.search(r"[\s\"'$`\\|&;()]", token):
        return "'" + token.replace("'", "'\\''") + "'"
    return token


# --- patterns --------------------------------------------------------------------------------


@dataclass
class _TestEvidence:
    sessions: set[str] = field(default_factory=set)
    commands: list[str] = field(default_factory=list)
    first: datetime | None = None
    last: datetime | None = None

    def add(self, run: TestRun) -> None:
        if run.session_id not in self.sessions and len(self.commands) < 200:
            self.commands.append(relativize(run.command, run.project))
        self.sessions.add(run.session_id)
        self.first, self.last = _widen(self.first, self.last, run.seen_at)


def _merged_evidence(parts: list[_TestEvidence]) -> _TestEvidence:
    merged = _TestEvidence()
    for part in parts:
        merged.sessions |= part.sessions
        merged.commands.extend(part.commands)
        merged.first, merged.last = _widen(merged.first, merged.last, part.first)
        merged.first, merged.last = _widen(merged.first, merged.last, part.last)
    return merged


def _widen(first: datetime | None, last: datetime | None, when: datetime | None) -> tuple:
    if when is None:
        return first, last
    return (when if first is None or when < first else first, when if last is None or when > last else last)


def _episode_patterns(episodes: list[Episode]) -> list[Pattern]:
    """One pattern per cause of failure, with every fix that worked for it ranked.

    The cause is the missing program or module when that is what the error says, whichever
    command ran into it (``pytest``, ``python -m pytest``); otherwise the failing program and
    its group of equivalent error lines. Calling the same program again with other arguments
    is a lesson of its own (kind "fix-arguments"), not a rival fix.
    """
    groups: dict[tuple[str, str], dict[str, str]] = {}
    by_trigger: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for episode in episodes:
        if _missing(episode) is None:
            by_trigger[(episode.tool, episode.trigger)][episode.signature] += 1
    for key, signatures in by_trigger.items():
        groups[key] = group_messages(signatures)

    by_cause: dict[tuple, dict[tuple, list[Episode]]] = defaultdict(lambda: defaultdict(list))
    for episode in episodes:
        missing = _missing(episode)
        if missing is not None:
            cause: tuple = ("missing", episode.tool, missing)
        else:
            cause = ("error", episode.tool, episode.trigger, groups[(episode.tool, episode.trigger)][episode.signature])
        by_cause[cause][_fix_key(episode)].append(episode)

    patterns: list[Pattern] = []
    for cause, by_fix in sorted(by_cause.items(), key=lambda item: str(item[0])):
        missing = cause[2] if cause[0] == "missing" else None
        same = by_fix.pop(("<same>",), None)
        if same:
            patterns.append(_pattern(cause[1], {("<same>",): same}, missing))
        if by_fix:
            patterns.append(_pattern(cause[1], by_fix, missing))
    return patterns


def _missing(episode: Episode) -> str | None:
    return missing_name(episode.raw_error) if episode.tool == "bash" else None


def _fix_key(episode: Episode) -> tuple:
    if episode.same_program:
        return ("<same>",)
    if episode.fix_program == episode.trigger:
        return ("<flags>", episode.fix_program)  # e.g. rm -> rm -f, git push -> git push -u
    return (_family(episode.fix_program),)


def _family(program: str) -> str:
    """Programs that are the same fix: ``python3 tests/runtests.py`` and ``tests/runtests.py``,
    ``python -m pytest`` and ``pytest``."""
    return re.sub(r"^\S*python[\d.]*\s+(?:-m\s+)?", "", program).removeprefix("./")


def _short_flags(flags: Iterable[str]) -> set[str]:
    """``-rf`` is ``-r`` and ``-f``: compare options one by one."""
    split: set[str] = set()
    for flag in flags:
        if re.fullmatch(r"-[A-Za-z]{2,}", flag):
            split.update(f"-{letter}" for letter in flag[1:])
        else:
            split.add(flag)
    return split


def _one_per_session(members: list[Episode]) -> list[Episode]:
    return list({episode.session_id: episode for episode in members}.values())


def _fix_text(tool: str, trigger: str, fix_key: tuple, members: list[Episode]) -> str | None:
    """The fix as advice: a command with placeholders for what varied. None when the sessions
    only agree that the program was called differently: each added other options (``ls -F``,
    ``ls -la`` after a wrong path), so the options were not the fix."""
    one_per_session = _one_per_session(members)
    raw_errors = [episode.raw_error for episode in one_per_session]
    fix_commands = [relativize(episode.fix_command, episode.project) for episode in one_per_session]
    if tool != "bash":
        return relativize(merge_variants(fix_commands, "<arg>"), None)
    programs = Counter(episode.fix_program for episode in one_per_session)
    fix_program = trigger if fix_key == ("<same>",) else min(programs, key=lambda p: (-programs[p], p))
    fix = generalize_command(fix_commands, fix_program, raw_errors)
    if fix_key[0] == "<flags>" and len(one_per_session) > 1:
        added = [
            _short_flags(episode.fix_flags) - _short_flags(flags_of(episode.trigger_command))
            for episode in one_per_session
        ]
        common = sorted(set.intersection(*added))
        if not common:
            return None
        if len({episode.fix_flags for episode in one_per_session}) > 1:
            # what every session added is the fix (``rm -f`` and ``rm -rf``: ``-f``)
            words = [word for word in fix.split(" ") if not word.startswith("-")]
            length = len(fix_program.split(" "))
            fix = " ".join(words[:length] + common + words[length:])
    return relativize(fix, None)


def _pattern(tool: str, by_fix: dict[tuple, list[Episode]], missing: str | None) -> Pattern:
    members = [episode for group in by_fix.values() for episode in group]
    sessions = sorted({episode.session_id for episode in members})
    projects = sorted({episode.project or "" for episode in members})
    first = last = None
    for episode in members:
        first, last = _widen(first, last, episode.seen_at)

    trigger_sessions: dict[str, set[str]] = defaultdict(set)
    for episode in members:
        trigger_sessions[episode.trigger].add(episode.session_id)
    triggers = sorted(trigger_sessions, key=lambda t: (-len(trigger_sessions[t]), t))

    merged: dict[str, set[str]] = defaultdict(set)
    unclear: set[str] = set()
    for fix_key, group in sorted(by_fix.items(), key=lambda item: str(item[0])):
        lead = Counter(episode.trigger for episode in group)
        text = _fix_text(tool, min(lead, key=lambda t: (-lead[t], t)), fix_key, group)
        # two fix keys can read the same once generalised
        (merged[text] if text is not None else unclear).update(episode.session_id for episode in group)
    ranked = sorted(((text, len(ids)) for text, ids in merged.items()), key=lambda item: (-item[1], item[0]))
    if not ranked:  # no fix that reads as advice: keep the pattern as data only
        ranked = [(relativize(program_of(members[0].fix_command) or members[0].fix_program, None), len(unclear))]

    one_per_session = _one_per_session(members)
    error = merge_variants([episode.signature for episode in one_per_session])
    same = ("<same>",) in by_fix
    return Pattern(
        kind="fix-arguments" if same else "use-instead",
        tool=tool,
        trigger=relativize(triggers[0], None),
        error=relativize(error, None),
        fix=ranked[0][0],
        sessions=sessions,
        projects=projects,
        first_seen=first,
        last_seen=last,
        examples=[relativize(episode.trigger_command, episode.project)[:200] for episode in one_per_session[:3]],
        triggers=[relativize(trigger, None) for trigger in triggers],
        fixes=ranked,
        missing=missing,
        advice=bool(merged) and (not same or bool(NO_SUCH_PATH.search(error))),
    )


def _test_patterns(test_runs: dict[tuple[str | None, str], _TestEvidence]) -> list[Pattern]:
    """The test command that works in each project: the one that ran in the most sessions, and
    the runners that worked in other sessions of the same project (two repositories can share a
    working directory)."""
    families: dict[tuple[str | None, str], list[tuple[str, _TestEvidence]]] = defaultdict(list)
    for (project, program), evidence in sorted(test_runs.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        families[(project, _family(program))].append((program, evidence))
    by_project: dict[str | None, list[tuple[str, _TestEvidence]]] = defaultdict(list)
    for (project, _), members in families.items():
        # ``./tests/runtests.py`` and ``python3 tests/runtests.py`` are one runner: show the
        # spelling used in the most sessions, count the sessions of every spelling
        program, _ = min(members, key=lambda item: (-len(item[1].sessions), item[0]))
        by_project[project].append((program, _merged_evidence([evidence for _, evidence in members])))
    patterns = []
    for project, runners in sorted(by_project.items(), key=lambda item: str(item[0])):
        runners.sort(key=lambda item: (-len(item[1].sessions), item[0]))
        program, evidence = runners[0]
        fixes = [
            (relativize(generalize_command(other.commands, name, []), None), len(other.sessions))
            for name, other in runners
        ]
        patterns.append(
            Pattern(
                kind="test-command",
                tool="bash",
                trigger="",
                error="",
                fix=fixes[0][0],
                sessions=sorted(evidence.sessions),
                projects=[project or ""],
                first_seen=evidence.first,
                last_seen=evidence.last,
                fixes=fixes,
            )
        )
    return patterns


def select_patterns(patterns: list[Pattern], project: str | None, min_evidence: int) -> list[Pattern]:
    """The patterns worth writing down for ``project`` (a path; None for every project): its
    own, plus those that recur across projects, whose advised fix worked in at least
    ``min_evidence`` sessions."""
    chosen = []
    for pattern in patterns:
        if not pattern.advice or pattern.fix_evidence < min_evidence:
            continue
        if project is None or pattern.scope == "all" and pattern.kind != "test-command":
            chosen.append(pattern)
        elif any(_within(candidate, project) for candidate in pattern.projects):
            chosen.append(pattern)
    return chosen


def _within(path: str, root: str) -> bool:
    """``path`` is ``root`` or below it, or ``root`` is below ``path`` (learning from a
    subfolder of a project still finds the project's patterns)."""
    return _under(path, root) or (bool(path) and _under(root, path))


def _under(path: str, root: str) -> bool:
    root = root.rstrip("/") or "/"
    return path == root or path.startswith(root + "/") or root == "/"


def project_root(given: str, patterns: list[Pattern]) -> str:
    """The folder to write into for ``given``: the project in the log that contains it, if any."""
    containing = [name for pattern in patterns for name in pattern.projects if name and _under(given, name)]
    return max(containing, key=len) if containing else given
