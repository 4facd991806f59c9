"""What a shell command changes, and what it then runs.

Agents without an edit tool edit with the shell: ``cat <<'EOF' > f.py ... EOF`` writes a file,
``sed -i ... f.py`` edits one, and the same command often goes on to run something
(``... EOF`` then ``python f.py``). Mining needs both halves: the run is what failed or passed,
the writes are candidate fixes.
"""

from __future__ import annotations

import re
from functools import lru_cache

from headroom_mitm.learn.normalize import split_shell

__all__ = ["file_writes", "run_part", "doing_part", "READ_ONLY_PROGRAMS"]

# cat <<'EOF' > path | cat > path <<EOF | tee path <<EOF, with the terminator word
_HEREDOC = re.compile(
    r"(?:cat\s*<<-?\s*(['\"]?)(?P<t1>\w+)\1\s*>>?\s*(?P<p1>\S+)"
    r"|cat\s*>>?\s*(?P<p2>\S+)\s*<<-?\s*(['\"]?)(?P<t2>\w+)\5"
    r"|tee\s+(?:-a\s+)?(?P<p3>\S+)\s*<<-?\s*(['\"]?)(?P<t3>\w+)\8)"
)
_TOUCH = re.compile(r"(?:^|[;&|\n]\s*)touch\s+(?P<files>[^;&|\n]+)")
_SED_IN_PLACE = re.compile(r"(?:^|[;&|\n]\s*)sed\s+(?:-\w*\s+)*-i")

# programs that only look: never a fix
READ_ONLY_PROGRAMS = frozenset(
    (
        "ls", "cat", "nl", "head", "tail", "grep", "egrep", "rg", "find", "echo", "printf", "wc",
        "which", "pwd", "file", "stat", "tree", "less", "more", "diff", "sed", "type", "git status",
        "git diff", "git log", "git show", "git branch", "git grep", "python -c", "python3 -c",
    )
)

# first steps of a command list that prepare the act rather than being it
_PREPARATORY = re.compile(r"^(?:mkdir|touch|export|source|cd|chmod)\b")
# an output that says which step of ``git add x && git commit`` failed: the commit's hooks
_COMMIT_HOOK = re.compile(r"pre-commit|commit-msg hook|hook declined", re.I)


@lru_cache(maxsize=16384)
def file_writes(command: str) -> tuple[tuple[str, str | None], ...]:
    """(path, new content or None when unknown) for each file the command writes or edits."""
    writes: list[tuple[str, str | None]] = []
    if "<<" in command:
        for found in _HEREDOC.finditer(command):
            path = found["p1"] or found["p2"] or found["p3"]
            terminator = found["t1"] or found["t2"] or found["t3"]
            body_start = command.find("\n", found.end())
            if body_start == -1:
                continue
            end = re.search(rf"^\s*{re.escape(terminator)}\s*$", command[body_start + 1 :], re.M)
            content = command[body_start + 1 : body_start + 1 + end.start()] if end else None
            writes.append((path.strip("'\""), content))
    for found in _TOUCH.finditer(command):
        for token in split_shell(found["files"]):
            if not token.startswith("-"):
                writes.append((token, ""))
    if "sed" in command and _SED_IN_PLACE.search(command):
        for line in re.split(r"\n|&&|;", command):
            if re.match(r"^\s*sed\s+(?:-\w*\s+)*-i", line):
                tokens = split_shell(line)
                if len(tokens) >= 3 and not tokens[-1].startswith("-"):
                    writes.append((tokens[-1], None))
    return tuple(writes)


@lru_cache(maxsize=16384)
def run_part(command: str) -> str:
    """The command without its heredoc bodies: what is run once the files are written ("" when
    the command only writes files)."""
    if "<<" not in command:
        return command
    kept: list[str] = []
    lines = command.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        found = _HEREDOC.search(line)
        if found:
            terminator = found["t1"] or found["t2"] or found["t3"]
            index += 1
            while index < len(lines) and lines[index].strip() != terminator:
                index += 1
            index += 1
            rest = line[found.end() :].strip().lstrip("&;").strip()
            if rest:
                kept.append(rest)
            continue
        kept.append(line)
        index += 1
    return "\n".join(part for part in kept if part.strip())


def doing_part(command: str, output: str = "") -> str:
    """A command list without the steps that only prepare it (``mkdir app && touch
    app/__init__.py && python run.py`` runs ``run.py``). When the output says a commit hook
    refused, ``git add x && git commit`` is the commit."""
    if "&&" not in command and ";" not in command and "\n" not in command:
        return command
    return _doing_part(command, bool(_COMMIT_HOOK.search(output[:2000])))


@lru_cache(maxsize=16384)
def _doing_part(command: str, hook_refused: bool) -> str:
    steps = [step.strip() for step in re.split(r"\s*(?:&&|;|\n)\s*", command) if step.strip()]
    while len(steps) > 1 and _PREPARATORY.match(steps[0]):
        steps = steps[1:]
    if len(steps) > 1 and steps[0].startswith("git add") and hook_refused:
        steps = steps[1:]
    return " && ".join(steps)
