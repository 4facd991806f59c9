"""Deciding, for one tool output, what the rules say to do with it. First match wins."""

from __future__ import annotations

import fnmatch
import functools
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Mapping, Protocol

from headroom_mitm.rules.credentials import CredentialPolicies
from headroom_mitm.rules.framing_shape import Framing
from headroom_mitm.rules.registry import CompressorInfo, is_retrieve_tool
from headroom_mitm.rules.schema import RuleSpec, Step

if TYPE_CHECKING:  # rules.token_mode builds on compile_globs below
    from headroom_mitm.rules.token_mode import TokenModePolicy

Action = Literal["protect", "verbatim", "keep", "compress"]

BUILTIN_HOSTS = frozenset({
    "api.anthropic.com",
    "api.openai.com",
    "chatgpt.com",
    "generativelanguage.googleapis.com",
    "openrouter.ai",
})
"""Hosts intercepted whatever the rule file says; a file can only add to them."""


class Output(Protocol):
    """What a rule reads of a tool output (``addon.tool_output.ToolOutput`` is one)."""

    @property
    def provider(self) -> str: ...
    @property
    def tool_name(self) -> str: ...
    @property
    def is_error(self) -> bool: ...


@dataclass(frozen=True)
class Decision:
    """What to do with one tool output, and which rule said so."""

    action: Action
    compressor: str | None = None
    """The compressor's name, or names joined by '+' when the rule chains several."""
    rule: str = ""
    """Where the decision comes from, readable: ``default.yaml:42 (file-reads)``."""
    steps: tuple[Step, ...] = ()
    """The compressors to apply, in order (empty unless ``action == "compress"``)."""

    @property
    def params(self) -> dict[str, Mapping[str, Any]]:
        """Compressor name -> the parameters it runs with, for one compressor as for a chain."""
        return {step.name: step.params for step in self.steps}


def compile_globs(patterns: tuple[str, ...] | list[str] | None) -> re.Pattern[str] | None:
    """One case-insensitive regex for a list of globs (tool and model names ignore case)."""
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(p)})" for p in patterns), re.IGNORECASE)


@dataclass(frozen=True)
class Rule:
    """A rule ready to match: its conditions compiled, its origin kept for messages."""

    spec: RuleSpec
    source: str
    """The file name (not the full path) the rule was read from."""
    tool_re: re.Pattern[str] | None
    model_re: re.Pattern[str] | None

    @classmethod
    def build(cls, spec: RuleSpec, source: str) -> "Rule":
        return cls(spec, source, compile_globs(spec.tool), compile_globs(spec.model))

    @property
    def label(self) -> str:
        return f"{self.source}:{self.spec.line} ({self.spec.name})"

    def matches(self, output: Output, kind: str, tokens: int, model: str, mode: str, age: int) -> bool:
        s = self.spec
        if s.mode is not None and mode not in s.mode:
            return False
        if s.tool is not None and not (self.tool_re and self.tool_re.match(output.tool_name or "")):
            return False
        if s.kind is not None and kind not in s.kind:
            return False
        if s.min_tokens is not None and tokens < s.min_tokens:
            return False
        if s.max_tokens is not None and tokens > s.max_tokens:
            return False
        if s.provider is not None and output.provider not in s.provider:
            return False
        if s.model is not None and not (model and self.model_re and self.model_re.match(model)):
            return False
        if s.is_error is not None and output.is_error != s.is_error:
            return False
        if s.min_age is not None and age < s.min_age:
            return False
        return True


@dataclass(frozen=True)
class FileTools:
    """Which tools read or write files, so re-reads and stale reads can be recognised."""

    read_re: re.Pattern[str] | None
    write_re: re.Pattern[str] | None
    """Tools that replace a whole file (its new content is in the call itself)."""
    edit_re: re.Pattern[str] | None
    """Tools that change part of a file."""
    shell_re: re.Pattern[str] | None
    path_arguments: tuple[str, ...]

    def access(self, tool_name: str, arguments: Any) -> tuple[str, str] | None:
        """("read" | "write" | "edit", path) when this call reads, rewrites or edits one named file."""
        if self.shell_re and self.shell_re.match(tool_name or ""):
            path = _cat_path(arguments)
            return ("read", path) if path else None
        which = None
        if self.write_re and self.write_re.match(tool_name or ""):
            which = "write"
        elif self.edit_re and self.edit_re.match(tool_name or ""):
            which = "edit"
        elif self.read_re and self.read_re.match(tool_name or ""):
            which = "read"
        if which is None or not isinstance(arguments, Mapping):
            return None
        for key in self.path_arguments:
            value = arguments.get(key)
            if isinstance(value, str) and value:
                return which, value
        return None


def _cat_path(arguments: Any) -> str | None:
    """The file of a plain ``cat FILE`` / ``cat -n FILE`` shell command, else None."""
    command = arguments.get("command") if isinstance(arguments, Mapping) else arguments
    if not isinstance(command, str):
        return None
    return _cat_path_of(command)


@functools.lru_cache(maxsize=4096)
def _cat_path_of(command: str) -> str | None:
    """Shell words are a pure function of the command; agents resend the same commands with
    every request of a conversation, so each is split once."""
    if any(c in command for c in "|;&><`$\n"):
        return None
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    if len(words) == 2 and words[0] == "cat":
        return words[1]
    if len(words) == 3 and words[0] == "cat" and words[1] == "-n":
        return words[2]
    return None


@dataclass(frozen=True)
class RuleSet:
    """The rules in force: hosts to intercept, tools to leave alone, and the ordered rules."""

    provider_hosts: frozenset[str]
    protected_tools: tuple[str, ...]
    verbatim_tools: tuple[str, ...]
    rules: tuple[Rule, ...]
    files: FileTools
    token_mode: TokenModePolicy
    """What token mode may retire from earlier turns."""
    registry: Mapping[str, CompressorInfo]
    """Compressor name -> its declaration, as validated against."""
    sources: tuple[str, ...]
    """The files this set was read from, the base first."""
    framings: tuple[Framing, ...] = ()
    """ the shapes of command outputs agents send outside tool calls
    (the rule files' first, then the built-in ones)."""
    credentials: CredentialPolicies = field(default_factory=CredentialPolicies)
    """How far a request may be rewritten, by its credential (``credentials:``)."""
    prices: Mapping[str, Any] = field(default_factory=dict)
    """``prices:`` entries of the rule files, over the shipped price table (``addon/cost``)."""
    _protected_re: re.Pattern[str] | None = None
    _verbatim_re: re.Pattern[str] | None = None

    def is_protected(self, tool_name: str) -> bool:
        return bool(self._protected_re and self._protected_re.match(tool_name or ""))

    def is_verbatim(self, tool_name: str) -> bool:
        return bool(self._verbatim_re and self._verbatim_re.match(tool_name or ""))

    def decide(self, output: Output, kind: str, tokens: int, model: str,
               mode: str = "cache", age: int = 0) -> Decision:
        """What to do with ``output``. ``age`` (later tool turns) is only known in token mode."""
        if is_retrieve_tool(output.tool_name):
            return Decision("protect", rule="retrieval: an original the model asked for")
        if self.is_protected(output.tool_name):
            return Decision("protect", rule="protected_tools")
        if self.is_verbatim(output.tool_name):
            return Decision("verbatim", rule="verbatim_tools")
        for rule in self.rules:
            if rule.matches(output, kind, tokens, model, mode, age):
                steps = rule.spec.steps
                if not steps:
                    return Decision("keep", rule=rule.label)
                return Decision("compress", "+".join(s.name for s in steps), rule.label, steps)
        return Decision("keep", rule="no rule matched")

    def describe(self) -> str:
        """A one-paragraph summary for ``headroom rules check``."""
        kept = sum(1 for r in self.rules if not r.spec.steps)
        return (f"{len(self.rules)} rules ({len(self.rules) - kept} compress, {kept} keep), "
                f"{len(self.provider_hosts)} provider hosts, {len(self.protected_tools)} protected "
                f"and {len(self.verbatim_tools)} verbatim tool patterns; from {' + '.join(self.sources)}")
