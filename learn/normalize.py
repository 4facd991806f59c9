"""Make tool calls from different agents comparable.

Agents name the same tool differently and phrase the same error with different paths, numbers
and ids. Everything here is a pure function of its input so that mining stays deterministic.

Tool-name table (the normalised name on the left):

| normalised | names agents send |
|---|---|
| ``bash``   | Bash, bash, shell, shell_command, exec_command, local_shell, run_shell_command, run_terminal_cmd, execute_command, terminal, container.exec; SWE-agent shell actions |
| ``read``   | Read, read_file, view_file, View, ReadFile, open (SWE-agent), str_replace_editor/str_replace_based_edit_tool with ``command: view`` |
| ``edit``   | Edit, MultiEdit, edit, edit_file, apply_patch, search_replace, replace, NotebookEdit, insert, str_replace_editor (str_replace, insert, undo_edit) |
| ``write``  | Write, write_file, create_file, create (SWE-agent), str_replace_editor ``command: create`` |
| ``search`` | Grep, grep, grep_search, Glob, glob, file_search, codebase_search, search_dir, search_file, find_file, LS, list_dir |
| ``web``    | WebFetch, WebSearch, web_search, fetch |

Any other name is kept, lower-cased.
"""

from __future__ import annotations

import json
import re
import shlex
from functools import lru_cache
from typing import Any

_TOOL_NAMES: dict[str, str] = {}
for _normalised, _names in {
    "bash": (
        "bash shell shell_command exec_command local_shell run_shell_command run_terminal_cmd "
        "execute_command terminal container.exec"
    ),
    "read": "read read_file view_file view readfile open",
    "edit": "edit multiedit edit_file apply_patch search_replace replace notebookedit insert",
    "write": "write write_file create_file create",
    "search": (
        "grep grep_search glob file_search codebase_search search_dir search_file find_file "
        "ls list_dir"
    ),
    "web": "webfetch websearch web_search fetch",
}.items():
    for _name in _names.split():
        _TOOL_NAMES[_name] = _normalised

_EDITOR_TOOLS = {"str_replace_editor", "str_replace_based_edit_tool"}
_EDITOR_COMMANDS = {"view": "read", "create": "write"}


def normalize_tool(name: str, arguments: Any = None) -> str:
    """The agent-independent name of a tool ("Bash", "exec_command" and "shell" are all "bash")."""
    lowered = (name or "").strip().lower()
    if lowered in _EDITOR_TOOLS:
        command = arguments.get("command") if isinstance(arguments, dict) else None
        return _EDITOR_COMMANDS.get(str(command), "edit")
    return _TOOL_NAMES.get(lowered, lowered)


def parse_arguments(raw: Any) -> Any:
    """Arguments as stored (JSON text) back to a value; non-JSON text stays a string."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def shell_command_of(arguments: Any) -> str:
    """The shell command line a bash-like call ran, whatever the agent's argument shape."""
    if isinstance(arguments, str):
        return arguments.strip()
    if isinstance(arguments, list):
        # ["bash", "-lc", "cmd"] (Codex) or an argv
        if len(arguments) >= 3 and arguments[1] in ("-c", "-lc", "-ic"):
            return str(arguments[-1]).strip()
        return " ".join(shlex.quote(str(part)) for part in arguments)
    if isinstance(arguments, dict):
        for key in ("command", "cmd", "script", "input"):
            if key in arguments and arguments[key]:
                return shell_command_of(arguments[key])
        action = arguments.get("action")
        if isinstance(action, dict):
            return shell_command_of(action)
    return ""


# --- shell command structure -------------------------------------------------------------

_REDIRECTION = re.compile(r"\s*(?:\d?>&\d|&?>>?\s*/dev/null|\d>\s*/dev/null|<\s*/dev/null)")
_TRAILING_PAGER = re.compile(r"(?:\s*\|\s*(?:head|tail|less|more|cat)\b[^|]*)+$")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_WRAPPERS = {"sudo", "time", "nice", "nohup", "command", "exec", "env"}
_SUBCOMMAND_PROGRAMS = {
    "git", "npm", "npx", "yarn", "pnpm", "bun", "mix", "cargo", "go", "pip", "pip3", "uv",
    "poetry", "docker", "bundle", "rails", "dotnet", "gh", "kubectl", "conda", "rake", "make",
    "deno", "swift", "gradle", "mvn", "brew", "apt", "apt-get", "pdm", "hatch", "tox", "nox",
}
_PYTHON = re.compile(r"^(?:.*/)?python(?:\d(?:\.\d+)?)?$")
_OPTIONS_WITH_VALUE = {"-C", "-c", "--git-dir", "--work-tree", "--prefix", "--manifest-path"}


# a shell word: a quoted string, or a run of anything else up to whitespace (quotes inside kept)
_WORD = re.compile(r"""(?:'[^']*'|"(?:\\.|[^"\\])*"|[^\s'"]+)+|['"]\S*""")


def split_shell(command: str) -> list[str]:
    """Tokens of a shell command line, quotes removed. A regex rather than ``shlex``: this runs
    for every call in the log, and ``shlex`` is forty times slower; unbalanced quotes are
    tolerated instead of raising."""
    return [_unquote(word) for word in _WORD.findall(command)]


def _unquote(word: str) -> str:
    if "'" not in word and '"' not in word:
        return word
    parts = re.findall(r"""'([^']*)'|"((?:\\.|[^"\\])*)"|([^'"]+)|(['"])""", word)
    return "".join(single or double.replace('\\"', '"') or bare or stray for single, double, bare, stray in parts)


@lru_cache(maxsize=65536)
def simplify_command(command: str) -> str:
    """The part of a command line that says what was run.

    Drops a leading ``cd DIR &&``, output plumbing (``2>&1``, ``| head -50``) and
    whitespace, so ``cd /repo && pytest -x 2>&1 | tail -20`` and ``pytest -x`` compare equal.
    """
    text = command.strip()
    first_line = text.splitlines()[0] if text else ""
    if first_line.rstrip().endswith("<<'EOF'") or "<<" in first_line:
        text = first_line  # a heredoc body is content, not the command
    while True:
        match = re.match(r"^\s*cd\s+(?:\"[^\"]*\"|'[^']*'|[^\s;&|]+)\s*(?:&&|;)\s*", text)
        if not match:
            break
        text = text[match.end():]
    text = _REDIRECTION.sub("", text)
    text = _TRAILING_PAGER.sub("", text)
    return re.sub(r"\s+", " ", text).strip()


def _first_segment(command: str) -> str:
    """The first simple command of a pipeline or list."""
    return re.split(r"\s*(?:&&|\|\||;|\|)\s*", command, maxsplit=1)[0]


def command_tokens(command: str) -> list[str]:
    """Tokens of the first simple command, without env assignments and wrappers like ``sudo``."""
    tokens = split_shell(_first_segment(simplify_command(command)))
    while tokens and (_ENV_ASSIGNMENT.match(tokens[0]) or tokens[0] in _WRAPPERS):
        tokens = tokens[1:]
    if tokens and tokens[0] == "timeout" and len(tokens) > 1:
        tokens = tokens[2:]
    return tokens


@lru_cache(maxsize=65536)
def program_of(command: str) -> str:
    """What a command runs, at the grain lessons are about.

    ``git push origin x`` -> ``git push``; ``python -m pytest a.py`` -> ``python -m pytest``;
    ``python3 tests/runtests.py x`` -> ``python3 tests/runtests.py``; ``rm -rf x`` -> ``rm``.
    The executable is kept as written (``python`` and ``/usr/bin/python3`` can differ in what
    is installed), except for paths under a home directory, which become their base name.
    """
    tokens = command_tokens(command)
    if not tokens:
        return ""
    executable = tokens[0].removeprefix("./")  # ./bin/test and bin/test run the same thing
    if is_personal_path(executable):
        executable = executable.rsplit("/", 1)[-1]
    rest = tokens[1:]
    if _PYTHON.match(executable):
        if rest[:1] == ["-m"] and len(rest) > 1:
            return f"{executable} -m {rest[1]}"
        if rest[:1] == ["-c"]:
            return f"{executable} -c"
        script = next((token for token in rest if not token.startswith("-")), "")
        return f"{executable} {_display_path(script)}".strip()
    base = executable.rsplit("/", 1)[-1]
    if base in _SUBCOMMAND_PROGRAMS:
        skip_next = False
        for token in rest:
            if skip_next:
                skip_next = False
                continue
            if token in _OPTIONS_WITH_VALUE:
                skip_next = True
                continue
            if token.startswith("-"):
                continue
            return f"{executable} {token}"
    return executable


@lru_cache(maxsize=65536)
def flags_of(command: str) -> tuple[str, ...]:
    """The options a command passes, sorted: how a working call differs in kind, not in paths."""
    tokens = command_tokens(command)[1:]
    flags = {token.split("=", 1)[0] for token in tokens if token.startswith("-") and token != "-"}
    return tuple(sorted(flags))


# --- text normalisation -------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HASH = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,64}\b", re.I)
_PATH = re.compile(
    r"(?:(?<=\s)|(?<=^)|(?<=[\"'`(=:]))"
    r"(?:~|\.{1,2})?(?:/[\w.@+-]+)+/?"
    r"|\b[\w.-]+(?:/[\w.@+-]+)+"
    r"|\b[\w-]+\.(?:py|pyi|js|jsx|ts|tsx|mjs|cjs|json|jsonl|ya?ml|toml|md|txt|cfg|ini|rs|go|rb|"
    r"ex|exs|heex|java|kt|c|h|cc|cpp|hpp|cs|sh|sql|db|html|css|scss|lock|log|bak|new|orig|out)\b(?!\.\w)"
)
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?![\w.])")
_LINE_COL = re.compile(r"(<path>):\d+(?::\d+)?")
_QUOTED_PLACEHOLDER = re.compile(r"(['\"`])(<(?:path|n|id|hash)>)\1")

# a path under somebody's home directory, up to the end of the path
# (Claude Code also spells a home path into folder names: /tmp/claude-1000/-home-alice-project)
PERSONAL_PATH = re.compile(
    r"(?:/home|/Users)/[^\s'\"`:;,)]+|[A-Za-z]:\\Users\\[^\s'\"`;,)]+|-(?:home|Users)-[^\s/'\"`]+"
)


# never advice, whoever names it and whatever worked: forcing past a check, deleting recursively
FORCING = re.compile(r"(?:^|\s)(?:--force|--no-verify|-f|-rf|-fr)(?:\s|$)|\brm -r")


def is_personal_path(text: str) -> bool:
    """Whether ``text`` contains a path under somebody's home directory."""
    return bool(PERSONAL_PATH.search(text))


def _display_path(token: str) -> str:
    if is_personal_path(token):
        return "<path>"
    return token


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


def normalize_message(text: str) -> str:
    """An error message with its run-specific parts replaced by placeholders.

    Paths become ``<path>``, numbers ``<n>``, uuids ``<id>``, hex hashes ``<hash>``. Words are
    never dropped: "No module named x" keeps its "No", "has no upstream" keeps its "no".
    """
    text = strip_ansi(text)
    text = _UUID.sub("<id>", text)
    text = _PATH.sub("<path>", text)
    text = _LINE_COL.sub(r"\1", text)
    text = _HASH.sub("<hash>", text)
    text = _NUMBER.sub("<n>", text)
    text = _QUOTED_PLACEHOLDER.sub(r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def relativize(text: str, project: str | None) -> str:
    """Paths under the project become project-relative; other home-directory paths ``<path>``."""
    if project and project.startswith(("/", "~")):
        root = project.rstrip("/")
        text = re.sub(re.escape(root) + r"(?=/|\b)/?", "", text)
    return PERSONAL_PATH.sub("<path>", text)


# --- what is missing --------------------------------------------------------------------------

_MISSING_NAME = (
    re.compile(r"(?:^|[\s:/])([\w.+-]+): (?:command )?not found\s*$"),  # bash, sh, dash
    re.compile(r"command not found: ([\w.+-]+)"),  # zsh
    re.compile(r"'([\w.+-]+)' is not recognized as an internal or external command"),  # cmd.exe
    re.compile(r"No module named ['\"]?([\w.]+)['\"]?"),  # python
)


def missing_name(error: str) -> str | None:
    """The program or Python module an error says is not installed ("pytest" for both
    "bash: pytest: command not found" and "No module named pytest"); None for other errors.

    ``python -m pkg`` on a package without ``__main__`` also says "No module named
    pkg.__main__": the package is there, it just cannot be run that way, so that is not missing.
    """
    for pattern in _MISSING_NAME:
        found = pattern.search(error)
        if found:
            name = found.group(1).rstrip(".")
            if name.endswith("__main__") or not name:
                return None
            return name
    return None


# an error about a path that is not there: the arguments were wrong, not the tool
NO_SUCH_PATH = re.compile(
    r"No such file or directory|does not exist|cannot access|can't open file|not found: <path>|"
    r"file or directory not found",
    re.I,
)
