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
from dataclasses import dataclass, field, replace
from datetime import datetime

from headroom_mitm.learn.episodes import (
    SCRIPT,
    Episode,
    HarnessRejection,
    TestRun,
    by_session,
    session_episodes,
    session_rejections,
    session_test_runs,
    views_of,
)
from headroom_mitm.learn.projects import pool_clones, repository_of
from headroom_mitm.learn.normalize import FORCING, NO_SUCH_PATH, command_tokens, flags_of, missing_name, program_of, relativize
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

    kind: str  # "use-instead" | "fix-arguments" | "fix-between" | "named-fix" | "harness" | "test-command"
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
    turns: int = 0
    """Calls the agent spent on this failure, summed over sessions: what it cost."""
    wrong: str | None = None
    """For a wrong path that recurs: the path the sessions tried (the fix names the right one)."""
    interpreter: str | None = None
    """For a module missing under one interpreter only: that interpreter (the real cause)."""
    after_edit: bool = False
    """For "fix-between": the failure followed an edit of a file, in most sessions."""
    command: str | None = None
    """The failing command itself, when the same one failed so in several sessions."""
    group: str = ""
    """The cause, independent of the project: patterns of one cause and fix in several
    projects are one lesson that recurs across them."""

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
            "turns": self.turns,
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
    rejections: list[HarnessRejection] = []
    test_runs: dict[tuple[str | None, str], _TestEvidence] = {}
    calls = sessions = 0
    for session in by_session(records):
        sessions += 1
        calls += len(session)
        views = views_of(session, repository_of)
        episodes.extend(session_episodes(views))
        rejections.extend(session_rejections(views))
        for run in session_test_runs(views):
            test_runs.setdefault((run.project, run.program), _TestEvidence()).add(run)
    pooled = pool_clones({e.project for e in episodes if e.project} | {key[0] for key in test_runs if key[0]})
    episodes = [replace(e, project=pooled.get(e.project or "", e.project)) for e in episodes]
    rejections = [replace(r, project=pooled.get(r.project or "", r.project)) for r in rejections]
    merged_runs: dict[tuple[str | None, str], _TestEvidence] = {}
    for (project, program), evidence in test_runs.items():
        key = (pooled.get(project or "", project), program)
        merged_runs[key] = _merged_evidence([merged_runs[key], evidence]) if key in merged_runs else evidence
    patterns = _episode_patterns(episodes) + harness_patterns(rejections) + _test_patterns(merged_runs)
    patterns.sort(key=_rank)
    logger.info("mined %d calls in %d sessions: %d episodes, %d patterns", calls, sessions, len(episodes), len(patterns))
    return MiningResult(patterns, calls, sessions, len(episodes))


def _rank(pattern: Pattern) -> tuple:
    """Most useful first: seen in the most sessions, then costing the agent the most turns."""
    kind_order = {"harness": 0, "named-fix": 1, "use-instead": 2, "fix-between": 3, "fix-arguments": 4, "test-command": 5}
    return (-pattern.evidence, -pattern.turns, kind_order.get(pattern.kind, 6), pattern.trigger, pattern.error, pattern.fix)


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
            self.commands.append(relativize(run.command, run.cwd))
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
    changed = [episode for episode in episodes if episode.kind == "changed"]
    between = [episode for episode in episodes if episode.kind == "between"]
    named = [episode for episode in episodes if episode.kind == "named"]
    patterns = _changed_patterns(changed) + _between_patterns(between) + _named_patterns(named)
    return _merge_across_projects(patterns)


def _changed_patterns(episodes: list[Episode]) -> list[Pattern]:
    """One pattern per cause of failure and project, with every fix that worked for it ranked.

    The cause is the missing program or module when that is what the error says, whichever
    command ran into it (``pytest``, ``python -m pytest``); otherwise the failing program and
    its group of equivalent error lines. Calling the same program again with other arguments
    is a lesson of its own (kind "fix-arguments"), not a rival fix. Causes are told apart per
    project: two repositories can fail the same way and need different fixes.
    """
    groups = _signature_groups(episodes, lambda episode: (episode.tool, episode.trigger))
    by_cause: dict[tuple, dict[tuple, list[Episode]]] = defaultdict(lambda: defaultdict(list))
    for episode in episodes:
        missing = _missing(episode)
        if missing is not None:
            cause: tuple = ("missing", episode.tool, missing)
        else:
            cause = ("error", episode.tool, episode.trigger, groups[(episode.tool, episode.trigger)][episode.signature])
        by_cause[(episode.project or "", *cause)][_fix_key(episode)].append(episode)

    patterns: list[Pattern] = []
    for cause, by_fix in sorted(by_cause.items(), key=lambda item: str(item[0])):
        missing = cause[3] if cause[1] == "missing" else None
        same = by_fix.pop(("<same>",), None)
        if same:
            patterns.append(_pattern(cause[2], {("<same>",): same}, missing, str(cause[1:])))
        if by_fix:
            patterns.append(_pattern(cause[2], by_fix, missing, str(cause[1:])))
    return patterns


def _signature_groups(episodes: list[Episode], key_of) -> dict:
    """Per key (tool and trigger), each error signature to the leader of its group of
    near-identical ones (missing programs are grouped by name instead)."""
    by_key: dict[tuple, Counter[str]] = defaultdict(Counter)
    originals: dict[tuple, set[str]] = defaultdict(set)
    for episode in episodes:
        if episode.kind == "changed":
            if _missing(episode) is None:
                by_key[key_of(episode)][episode.signature] += 1
            continue
        # errors that differ only in a name the run chose (a table, a test app) are one error
        key = key_of(episode)
        by_key[key][_masked(episode.signature)] += 1
        originals[key].add(episode.signature)
    groups = {key: group_messages(signatures) for key, signatures in by_key.items()}
    for key, signatures in originals.items():
        groups[key] = {signature: groups[key][_masked(signature)] for signature in signatures}
    return groups


_RUN_NAME = re.compile(r"\b\w*_\w+\b")


def _masked(signature: str) -> str:
    return _RUN_NAME.sub("<name>", signature)


def _trigger_family(episode: Episode) -> str:
    """What failed, at the grain of a lesson: any ``python X.py`` is "running a script"."""
    if re.match(r"^\S*python[\d.]*\s+\S+\.py$", episode.trigger):
        return f"{episode.trigger.split(' ', 1)[0].rsplit('/', 1)[-1].rstrip('0123456789.')} <script>"
    return episode.trigger


def _by_cause(episodes: list[Episode]) -> list[tuple[tuple[str, str, str], list[Episode]]]:
    """Episodes by (tool, what failed, group of equivalent errors), in a stable order."""
    groups = _signature_groups(episodes, lambda episode: (episode.tool, _trigger_family(episode)))
    by_cause: dict[tuple[str, str, str], list[Episode]] = defaultdict(list)
    for episode in episodes:
        family = _trigger_family(episode)
        by_cause[(episode.tool, family, groups[(episode.tool, family)][episode.signature])].append(episode)
    return sorted(by_cause.items())


def _between_patterns(episodes: list[Episode]) -> list[Pattern]:
    """Failures fixed by something done between the failure and the same call passing: kept
    when one kind of fix (a file edited, a program run) recurs for the error across sessions."""
    patterns = []
    for (tool, family, leader), members in _by_cause(episodes):
        members = _one_per_session(members)
        by_kind: dict[str, set[str]] = defaultdict(set)
        for episode in members:
            for kind in episode.fixes:
                by_kind[kind].add(episode.session_id)
        kept = sorted(
            (kind for kind, ids in by_kind.items() if len(ids) >= 2 and _says_what(kind, members)),
            key=lambda k: (-len(by_kind[k]), k),
        )
        if not kept:
            continue
        fixed = [episode for episode in members if set(episode.fixes) & set(kept)]
        ranked = [(_between_fix_text(kind, fixed), len(by_kind[kind])) for kind in kept[:3]]
        patterns.append(
            _summary(
                "fix-between", tool, family, fixed, ranked,
                after_edit=sum(episode.after_edit for episode in fixed) * 2 > len(fixed),
                group=str(("between", tool, family, leader)),
            )
        )
    return patterns


def _says_what(kind: str, members: list[Episode]) -> bool:
    """"The script was changed" is no advice unless the changes have something in common."""
    return kind != f"edit:{SCRIPT}" or _between_fix_text(kind, members) != "change the script"


def _between_fix_text(kind: str, members: list[Episode]) -> str:
    what, _, target = kind.partition(":")
    if what == "repair":
        return "repair"
    if what == "run":
        return target
    if target != SCRIPT:
        return f"{'create' if what == 'create' else 'edit'} {target}"
    # what the changed scripts call that the failing ones did not, in most of them
    added = Counter(name for episode in members if f"edit:{SCRIPT}" in episode.fixes for name in set(episode.added))
    edited = sum(1 for episode in members if f"edit:{SCRIPT}" in episode.fixes)
    common = sorted((name for name, count in added.items() if count >= 2 and count * 2 >= edited), key=lambda n: (-added[n], n))
    return "change the script: " + ", ".join(f"{name}()" for name in common[:3]) if common else "change the script"


def _named_patterns(episodes: list[Episode]) -> list[Pattern]:
    """Failures whose error names the fix, run by the session before the next attempt."""
    patterns = []
    for (tool, family, leader), members in _by_cause(episodes):
        sessions_of: dict[str, set[str]] = {}
        for episode in members:
            for command in episode.fixes:
                sessions_of.setdefault(command, set()).add(episode.session_id)
        ranked = [(command, len(ids)) for command, ids in sessions_of.items()]
        patterns.append(_summary("named-fix", tool, family, members, ranked, group=str(("named", tool, family, leader))))
    return patterns


def _summary(kind: str, tool: str, trigger: str, members: list[Episode], ranked: list[tuple[str, int]], **extra) -> Pattern:
    one_per_session = _one_per_session(members)
    first = last = None
    for episode in members:
        first, last = _widen(first, last, episode.seen_at)
    return Pattern(
        kind=kind,
        tool=tool,
        command=_recurring_command(trigger, members) if tool == "bash" else None,
        trigger=relativize(trigger, None),
        error=relativize(merge_variants([episode.signature for episode in one_per_session]), None),
        fix=ranked[0][0],
        sessions=sorted({episode.session_id for episode in members}),
        projects=sorted({episode.project or "" for episode in members}),
        first_seen=first,
        last_seen=last,
        examples=[relativize(episode.trigger_command, episode.cwd)[:200] for episode in one_per_session[:3]],
        triggers=[relativize(trigger, None)],
        fixes=ranked,
        turns=sum(episode.turns for episode in members),
        **extra,
    )


def harness_patterns(rejections: list[HarnessRejection]) -> list[Pattern]:
    """One pattern per kind of harness rejection, in the harness's words."""
    by_kind: dict[str, list[HarnessRejection]] = defaultdict(list)
    for rejection in rejections:
        by_kind[rejection.rejection.kind].append(rejection)
    patterns = []
    for kind, members in sorted(by_kind.items()):
        sessions = sorted({member.session_id for member in members})
        triggers = Counter(member.trigger for member in {m.session_id + m.trigger: m for m in members}.values())
        first = last = None
        for member in members:
            first, last = _widen(first, last, member.seen_at)
        patterns.append(
            Pattern(
                kind="harness",
                tool=kind,
                trigger=min(triggers, key=lambda name: (-triggers[name], name)),
                error=members[0].rejection.message,
                fix=members[0].rejection.rule,
                sessions=sessions,
                projects=sorted({member.project or "" for member in members}),
                first_seen=first,
                last_seen=last,
                triggers=sorted(triggers, key=lambda name: (-triggers[name], name)),
                turns=len(members),
                group=str(("harness", kind)),
            )
        )
    return patterns


def _merge_across_projects(patterns: list[Pattern]) -> list[Pattern]:
    """Patterns of one cause with one fix in several projects become one lesson that recurs
    across them (its scope is "all"); a cause fixed differently per project stays per project."""
    merged: dict[tuple, Pattern] = {}
    for pattern in patterns:
        key = (pattern.kind, pattern.tool, pattern.group, pattern.fix, pattern.missing, pattern.interpreter, pattern.wrong)
        if key not in merged:
            merged[key] = pattern
            continue
        into = merged[key]
        fixes: Counter[str] = Counter()
        for fix, count in into.ranked_fixes + pattern.ranked_fixes:
            fixes[fix] += count
        merged[key] = replace(
            into,
            sessions=sorted(set(into.sessions) | set(pattern.sessions)),
            projects=sorted(set(into.projects) | set(pattern.projects)),
            first_seen=_widen(into.first_seen, into.last_seen, pattern.first_seen)[0],
            last_seen=_widen(into.first_seen, into.last_seen, pattern.last_seen)[1],
            examples=(into.examples + pattern.examples)[:3],
            triggers=list(dict.fromkeys(into.triggers + pattern.triggers)),
            fixes=sorted(fixes.items(), key=lambda item: (-item[1], item[0])),
            turns=into.turns + pattern.turns,
            advice=into.advice or pattern.advice,
        )
    return list(merged.values())


def _missing(episode: Episode) -> str | None:
    return missing_name(episode.raw_error) if episode.tool == "bash" else None


def _fix_key(episode: Episode) -> tuple:
    if episode.same_program or FORCING.search(episode.fix_command):
        return ("<same>",)  # forcing past the error is no other way of doing it
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


def _recurring_command(trigger: str, members: list[Episode]) -> str | None:
    """The failing command itself, as far as every session's first failing one agrees on it
    (``pytest lib/x/tests/test_axes.py`` timing out in two sessions), when that says more than
    the program; None when the sessions agree on nothing more."""
    firsts = [command_tokens(relativize(e.trigger_command, e.cwd)) for e in _first_per_session(members)]
    if len(firsts) < 2:
        return None
    common: list[str] = []
    for words in zip(*firsts):
        if len(set(words)) != 1:
            break
        common.append(words[0])
    command = " ".join(common)
    if len(common) <= len(trigger.split(" ")) or len(command) > 80 or not any("/" in w or "." in w for w in common):
        return None
    return command


def _first_per_session(members: list[Episode]) -> list[Episode]:
    return list({episode.session_id: episode for episode in reversed(members)}.values())


def _one_per_session(members: list[Episode]) -> list[Episode]:
    return list({episode.session_id: episode for episode in members}.values())


def _fix_text(tool: str, trigger: str, fix_key: tuple, members: list[Episode]) -> str | None:
    """The fix as advice: a command with placeholders for what varied. None when the sessions
    only agree that the program was called differently: each added other options (``ls -F``,
    ``ls -la`` after a wrong path), so the options were not the fix."""
    one_per_session = _one_per_session(members)
    raw_errors = [episode.raw_error for episode in one_per_session]
    fix_commands = [relativize(episode.fix_command, episode.cwd) for episode in one_per_session]
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


def _pattern(tool: str, by_fix: dict[tuple, list[Episode]], missing: str | None, group: str) -> Pattern:
    members = [episode for group_members in by_fix.values() for episode in group_members]
    trigger_sessions: dict[str, set[str]] = defaultdict(set)
    for episode in members:
        trigger_sessions[episode.trigger].add(episode.session_id)
    triggers = sorted(trigger_sessions, key=lambda t: (-len(trigger_sessions[t]), t))

    merged: dict[str, set[str]] = defaultdict(set)
    unclear: set[str] = set()
    for fix_key, fix_group in sorted(by_fix.items(), key=lambda item: str(item[0])):
        lead = Counter(episode.trigger for episode in fix_group)
        text = _fix_text(tool, min(lead, key=lambda t: (-lead[t], t)), fix_key, fix_group)
        if text is not None and FORCING.search(text):
            text = None  # never advise forcing past a check, whatever worked
        # two fix keys can read the same once generalised
        (merged[text] if text is not None else unclear).update(episode.session_id for episode in fix_group)
    ranked = sorted(((text, len(ids)) for text, ids in merged.items()), key=lambda item: (-item[1], item[0]))
    if not ranked:  # no fix that reads as advice: keep the pattern as data only
        ranked = [(relativize(program_of(members[0].fix_command) or members[0].fix_program, None), len(unclear))]

    same = ("<same>",) in by_fix
    pattern = _summary(
        "fix-arguments" if same else "use-instead", tool, triggers[0], members, ranked,
        missing=missing, group=group, advice=bool(merged) and not same,
    )
    pattern.triggers = [relativize(trigger, None) for trigger in triggers]
    if same:
        wrong, right, fixes = _recurring_wrong_path(members)
        if wrong is not None:
            pattern.wrong, pattern.fix, pattern.fixes = wrong, right, fixes
        pattern.advice = wrong is not None
    if missing is not None:
        pattern.interpreter = _only_interpreter_lacking(missing, triggers, ranked)
    return pattern




def _recurring_wrong_path(members: list[Episode]) -> tuple[str | None, str, list[tuple[str, int]]]:
    """A wrong path is a fact worth writing only when the same one recurs across sessions:
    (the wrong path, the right one, [(right one, sessions)]); (None, ...) otherwise."""
    wrong_by_session: dict[str, tuple[str, str]] = {}
    for episode in members:
        if not _PATH_FACT.search(episode.signature):
            continue
        wrong = _named_path(relativize(episode.raw_error, episode.cwd))
        right = _changed_argument(episode) if NO_SUCH_PATH.search(episode.signature) else ""
        if wrong and right is not None:
            wrong_by_session.setdefault(episode.session_id, (wrong, right))
    counts = Counter(wrong_by_session.values())
    if counts:
        (wrong, right), count = min(counts.items(), key=lambda item: (-item[1], item[0]))
        if count >= 2:
            return wrong, right, [(right, count)]
    fix = members[0].fix_program
    return None, fix, [(fix, len({episode.session_id for episode in members}))]


_PATH_TOKEN = re.compile(r"(?:[\w.-]+/)+[\w.-]+|[\w-]+\.\w{1,5}\b")
# errors that name a path as a fact about the repository
_PATH_FACT = re.compile(NO_SUCH_PATH.pattern + r"|ignored by one of your \.gitignore", re.I)


def _named_path(error: str) -> str | None:
    found = _PATH_TOKEN.findall(error)
    return found[-1] if found else None


def _changed_argument(episode: Episode) -> str | None:
    """The argument the working call has in place of the failing one's path."""
    before, after = set(command_tokens(episode.trigger_command)), command_tokens(episode.fix_command)
    new = [token for token in after if token not in before and _PATH_TOKEN.fullmatch(token)]
    return relativize(new[0], episode.cwd) if len(new) == 1 else None


def _only_interpreter_lacking(missing: str, triggers: list[str], ranked: list[tuple[str, int]]) -> str | None:
    """"No module named pytest" from ``/usr/bin/python3 -m pytest`` while ``pytest`` works: the
    module is there, that interpreter is not the project's. The interpreter, or None."""
    interpreters = {trigger.split(" ", 1)[0] for trigger in triggers}
    if len(interpreters) != 1:
        return None
    interpreter = interpreters.pop()
    if not interpreter.startswith("/") or not re.search(r"python[\d.]*$", interpreter):
        return None
    fix = ranked[0][0]
    runs_missing = _family(program_of(fix)) == missing or fix.split(" ")[0].rsplit("/", 1)[-1] == missing
    return interpreter if runs_missing else None


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
    if project is not None and not any(_within(candidate, project) for p in patterns for candidate in p.projects):
        return []  # a project the log knows nothing about: even lessons of every project may not hold there
    chosen = []
    for pattern in patterns:
        # an error that names its own fix is one session's worth of evidence by itself
        needed = max(1, min_evidence - 1) if pattern.kind == "named-fix" else min_evidence
        if not pattern.advice or pattern.fix_evidence < needed:
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
