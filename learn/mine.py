"""Turn episodes from many sessions into patterns with evidence.

Evidence is the number of distinct sessions a pattern occurred in: a conversation that repeats
a failed call in every later request, or fails the same way five times, still counts once.
Error lines that differ only in names (branches, files) are grouped: exact after normalisation
first, then by character n-gram similarity.
"""

from __future__ import annotations

import logging
import re
import shlex
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from learn.episodes import Episode, TestRun, by_session, session_episodes, session_test_runs, views_of
from learn.normalize import command_tokens, program_of, relativize
from learn.records import CallRecord

logger = logging.getLogger(__name__)

__all__ = ["Pattern", "MiningResult", "mine", "select_patterns", "project_root"]

# error lines at least this similar (cosine of char n-gram TF-IDF) are taken as the same error
SIMILARITY = 0.72


@dataclass
class Pattern:
    """A lesson: what fails, what works instead, and how often that was seen."""

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

    @property
    def evidence(self) -> int:
        return len(self.sessions)

    @property
    def scope(self) -> str:
        """"all" when the pattern recurs across projects, else its one project."""
        return "all" if len(self.projects) != 1 else self.projects[0]

    def as_json(self) -> dict:
        return {
            "kind": self.kind,
            "tool": self.tool,
            "trigger": self.trigger,
            "error": self.error,
            "fix": self.fix,
            "evidence": self.evidence,
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
    """Patterns from tool calls ordered by session (then position). Memory grows with the number
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


def _widen(first: datetime | None, last: datetime | None, when: datetime | None) -> tuple:
    if when is None:
        return first, last
    return (when if first is None or when < first else first, when if last is None or when > last else last)


def _episode_patterns(episodes: list[Episode]) -> list[Pattern]:
    by_trigger: dict[tuple[str, str], list[Episode]] = defaultdict(list)
    for episode in episodes:
        by_trigger[(episode.tool, episode.trigger)].append(episode)
    patterns: list[Pattern] = []
    for (tool, trigger), group in sorted(by_trigger.items()):
        groups = group_messages(Counter(episode.signature for episode in group))
        by_lesson: dict[tuple, list[Episode]] = defaultdict(list)
        for episode in group:
            if episode.same_program:
                fix_key: tuple = ("<same>",)
            elif episode.fix_program == episode.trigger:
                fix_key = (episode.fix_program, episode.fix_flags)  # e.g. rm -> rm -f
            else:
                fix_key = (_family(episode.fix_program), ())
            by_lesson[(groups[episode.signature], fix_key)].append(episode)
        for (_, fix_key), members in sorted(by_lesson.items(), key=lambda item: str(item[0])):
            patterns.append(_pattern(tool, trigger, fix_key, members))
    return patterns


def _family(program: str) -> str:
    """Programs that are the same fix: ``python3 tests/runtests.py`` and ``tests/runtests.py``."""
    return re.sub(r"^\S*python[\d.]*\s+(?!-)", "", program)


def _pattern(tool: str, trigger: str, fix_key: tuple, members: list[Episode]) -> Pattern:
    sessions = sorted({episode.session_id for episode in members})
    projects = sorted({episode.project or "" for episode in members})
    first = last = None
    for episode in members:
        first, last = _widen(first, last, episode.seen_at)
    one_per_session = list({episode.session_id: episode for episode in members}.values())
    raw_errors = [episode.raw_error for episode in one_per_session]
    error = merge_variants([episode.signature for episode in one_per_session])
    fix_commands = [relativize(episode.fix_command, episode.project) for episode in one_per_session]
    if tool == "bash":
        programs = Counter(episode.fix_program for episode in one_per_session)
        fix_program = trigger if fix_key == ("<same>",) else min(programs, key=lambda p: (-programs[p], p))
        fix = generalize_command(fix_commands, fix_program, raw_errors)
        trigger_text = trigger
    else:
        fix = merge_variants(fix_commands, "<arg>")
        trigger_text = trigger
    return Pattern(
        kind="fix-arguments" if fix_key == ("<same>",) else "use-instead",
        tool=tool,
        trigger=relativize(trigger_text, None),
        error=relativize(error, None),
        fix=relativize(fix, None),
        sessions=sessions,
        projects=projects,
        first_seen=first,
        last_seen=last,
        examples=[relativize(episode.trigger_command, episode.project)[:200] for episode in one_per_session[:3]],
    )


def _test_patterns(test_runs: dict[tuple[str | None, str], _TestEvidence]) -> list[Pattern]:
    """The test command that works in each project: the one that ran in the most sessions."""
    best: dict[str | None, tuple[str, _TestEvidence]] = {}
    for (project, program), evidence in sorted(test_runs.items(), key=lambda item: (str(item[0][0]), item[0][1])):
        current = best.get(project)
        if current is None or len(evidence.sessions) > len(current[1].sessions):
            best[project] = (program, evidence)
    patterns = []
    for project, (program, evidence) in sorted(best.items(), key=lambda item: str(item[0])):
        patterns.append(
            Pattern(
                kind="test-command",
                tool="bash",
                trigger="",
                error="",
                fix=relativize(generalize_command(evidence.commands, program, []), None),
                sessions=sorted(evidence.sessions),
                projects=[project or ""],
                first_seen=evidence.first,
                last_seen=evidence.last,
            )
        )
    return patterns


def select_patterns(patterns: list[Pattern], project: str | None, min_evidence: int) -> list[Pattern]:
    """The patterns that apply to ``project`` (a path; None for every project): its own, plus
    those that recur across projects."""
    chosen = []
    for pattern in patterns:
        if pattern.evidence < min_evidence:
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
