"""Reading one rule file into typed values, with a file:line error for anything wrong.

The file is parsed with ``yaml.compose`` so every key and value keeps its line number; each
section has a checker that turns nodes into plain values or records a ``RulesError``. Nothing
here merges files or matches outputs (see ``loader`` and ``match``).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import yaml

from headroom_mitm.rules.credentials import CREDENTIAL_KINDS, POLICIES, CredentialRuleSpec
from headroom_mitm.rules.errors import RulesError

KINDS = ("json", "log", "test", "search", "diff", "file_read", "text")
MODES = ("cache", "token")
PROVIDERS = ("anthropic", "openai-chat", "openai-responses", "gemini")
KEEP = "keep"
"""The reserved compressor name meaning: leave the output as it is."""

_HOST_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")


@dataclass(frozen=True)
class Step:
    """One compressor a rule applies, with its parameters (defaults filled in)."""

    name: str
    params: Mapping[str, Any]


@dataclass(frozen=True)
class RuleSpec:
    """One entry of ``rules:`` as written; ``None`` for a condition the rule does not set."""

    line: int
    name: str
    steps: tuple[Step, ...]
    """Compressors applied in order; empty means ``keep``."""
    tool: tuple[str, ...] | None = None
    kind: tuple[str, ...] | None = None
    min_tokens: int | None = None
    max_tokens: int | None = None
    provider: tuple[str, ...] | None = None
    model: tuple[str, ...] | None = None
    is_error: bool | None = None
    mode: tuple[str, ...] | None = None
    min_age: int | None = None


@dataclass
class RuleFile:
    """Everything one file says, validated but not yet merged with what it extends."""

    path: str
    extends: str | None = None
    hosts: list[str] = field(default_factory=list)
    protected_tools: list[str] = field(default_factory=list)
    verbatim_tools: list[str] = field(default_factory=list)
    files: dict[str, list[str]] = field(default_factory=dict)
    token_mode: dict[str, Any] = field(default_factory=dict)
    framings: list[Any] = field(default_factory=list)
    """``rules.framing_shape.Framing`` entries, in the file's order."""
    rules: list[RuleSpec] = field(default_factory=list)
    credentials: list[CredentialRuleSpec] = field(default_factory=list)
    prices: dict[str, Any] = field(default_factory=dict)
    """model -> ``addon.cost.prices.Price``: entries over the shipped price table."""


FILES_KEYS = ("read_tools", "write_tools", "edit_tools", "shell_tools", "path_arguments")
TOKEN_MODE_KEYS = ("stale_reads", "edited_reads_min_age", "repeated_calls", "idle_outputs", "step_turns")
REPEATED_CALLS_KEYS = ("tools", "ignore_arguments")
IDLE_OUTPUTS_KEYS = ("min_age", "idle_turns", "tools", "after_change")
RULE_CONDITIONS = ("tool", "kind", "min_tokens", "max_tokens", "provider", "model", "is_error",
                   "mode", "min_age")
RULE_KEYS = ("name", *RULE_CONDITIONS, "compress")
CREDENTIAL_RULE_KEYS = ("name", "provider", "credential", "attested", "policy")
TOP_KEYS = ("version", "extends", "hosts", "protected_tools", "verbatim_tools", "files",
            "token_mode", "framings", "credentials", "prices", "rules")


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable glob, or None. fnmatch silently accepts broken brackets."""
    if not pattern.strip():
        return "empty glob"
    if pattern != pattern.strip():
        return f"glob {pattern!r} has leading or trailing spaces"
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "[":
            j = i + 1
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1  # a ']' right after '[' or '[!' is a literal member of the set
            close = pattern.find("]", j)
            if close == -1:
                return f"bad glob {pattern!r}: '[' at position {i} is never closed"
            i = close + 1
            continue
        if pattern[i] == "]":
            return f"bad glob {pattern!r}: ']' at position {i} has no '['"
        i += 1
    return None


class _Checker:
    """Walks the composed YAML of one file, collecting every problem instead of stopping at one."""

    def __init__(self, path: str, registry: Mapping[str, Any]) -> None:
        self.path = path
        self.registry = registry
        self.errors: list[RulesError] = []
        self._constructor = yaml.SafeLoader("")

    # -- helpers ---------------------------------------------------------------------------
    def fail(self, node: yaml.Node, message: str) -> None:
        self.errors.append(RulesError(self.path, node.start_mark.line + 1, message))

    def scalar(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def mapping(self, node: yaml.Node, where: str, known: tuple[str, ...],
                noun: str = "key") -> list[tuple[str, yaml.Node, yaml.Node]]:
        """The (key, key node, value node) entries of a mapping, flagging unknown/duplicate keys."""
        if not isinstance(node, yaml.MappingNode):
            self.fail(node, f"{where} must be a mapping, got {_kind_of(node)}")
            return []
        entries, seen = [], set()
        for key_node, value_node in node.value:
            key = self.scalar(key_node) if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.fail(key_node, f"{where}: keys must be strings")
                continue
            if key in seen:
                self.fail(key_node, f"{where}: duplicate key '{key}'")
                continue
            seen.add(key)
            if key not in known:
                self.fail(key_node, f"{where}: unknown {noun} '{key}'{_suggest(key, known)}"
                          f" (known: {', '.join(known) or 'none'})")
                continue
            entries.append((key, key_node, value_node))
        return entries

    def typed(self, node: yaml.Node, where: str, expected: type | tuple[type, ...]) -> Any:
        types = expected if isinstance(expected, tuple) else (expected,)
        wants_collection = any(t in (list, tuple, dict) for t in types)
        if not isinstance(node, yaml.ScalarNode) and not wants_collection:
            self.fail(node, f"{where} must be {_type_name(expected)}, got {_kind_of(node)}")
            return None
        value = self.scalar(node)
        if isinstance(value, list) and tuple in types and list not in types:
            value = tuple(value)
        if not _is_instance(value, expected):
            self.fail(node, f"{where} must be {_type_name(expected)}, got {_value_kind(value)} {value!r}")
            return None
        return value

    def strings(self, node: yaml.Node, where: str, check: Callable[[str], str | None] | None = None) -> list[str] | None:
        """A string or a list of strings (each optionally checked), as a list."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out: list[str] = []
        ok = True
        for item in items:
            value = self.typed(item, where, str)
            if value is None:
                ok = False
                continue
            problem = check(value) if check else None
            if problem:
                self.fail(item, f"{where}: {problem}")
                ok = False
                continue
            out.append(value)
        return out if ok else None

    def non_negative_int(self, node: yaml.Node, where: str) -> int | None:
        value = self.typed(node, where, int)
        if value is not None and value < 0:
            self.fail(node, f"{where} must be 0 or more, got {value}")
            return None
        return value

    # -- sections --------------------------------------------------------------------------
    def file(self, root: yaml.Node | None) -> RuleFile:
        result = RuleFile(path=self.path)
        if root is None:
            return result
        for key, key_node, value in self.mapping(root, "the rule file", TOP_KEYS):
            if key == "version":
                version = self.typed(value, "version", int)
                if version is not None and version != 1:
                    self.fail(value, f"unsupported version {version} (this release reads version 1)")
            elif key == "extends":
                extends = self.typed(value, "extends", str)
                if extends is not None and extends != "default":
                    self.fail(value, f"extends: unknown base {extends!r} (the only base is 'default')")
                result.extends = extends
            elif key == "hosts":
                result.hosts = [h.lower() for h in self.strings(value, "hosts", _host_problem) or []]
            elif key in ("protected_tools", "verbatim_tools"):
                setattr(result, key, self.strings(value, key, glob_problem) or [])
            elif key == "files":
                for sub, _, sub_value in self.mapping(value, "files", FILES_KEYS):
                    check = None if sub == "path_arguments" else glob_problem
                    result.files[sub] = self.strings(sub_value, f"files.{sub}", check) or []
            elif key == "token_mode":
                self.token_mode(value, result.token_mode)
            elif key == "framings":
                from headroom_mitm.rules.framings import check_framings

                result.framings = check_framings(self, value)
            elif key == "credentials":
                result.credentials = self.credential_rules(value)
            elif key == "prices":
                from headroom_mitm.rules.prices import PricesError, parse_price_section

                try:
                    result.prices = parse_price_section(self.path, value)
                except PricesError as exc:  # already names file and line
                    line, _, message = str(exc).removeprefix(f"{self.path}:").partition(": ")
                    self.errors.append(RulesError(self.path, int(line) if line.isdigit() else 1, message))
            elif key == "rules":
                if not isinstance(value, yaml.SequenceNode):
                    self.fail(value, f"rules must be a list of rules, got {_kind_of(value)}")
                    continue
                for index, rule_node in enumerate(value.value):
                    rule = self.rule(rule_node, index)
                    if rule is not None:
                        result.rules.append(rule)
        return result

    def token_mode(self, node: yaml.Node, into: dict[str, Any]) -> None:
        """``token_mode``'s settings; ``repeated_calls`` and ``idle_outputs`` are sub-mappings,
        or ``false`` to turn them off (stored as None)."""
        for sub, _, value in self.mapping(node, "token_mode", TOKEN_MODE_KEYS):
            where = f"token_mode.{sub}"
            checked: Any = None
            if sub == "stale_reads":
                checked = self.typed(value, where, bool)
            elif sub in ("edited_reads_min_age", "step_turns"):
                checked = self.non_negative_int(value, where)
            elif isinstance(value, yaml.ScalarNode) and self.scalar(value) is False:
                into[sub] = None
                continue
            elif sub == "repeated_calls":
                checked = {}
                for name, _, item in self.mapping(value, where, REPEATED_CALLS_KEYS):
                    found = self.strings(item, f"{where}.{name}", glob_problem if name == "tools" else None)
                    if found is not None:
                        checked[name] = tuple(found)
            else:  # idle_outputs
                checked = {}
                entries = self.mapping(value, where, IDLE_OUTPUTS_KEYS)
                for name, _, item in entries:
                    if name == "tools":
                        found = self.strings(item, f"{where}.{name}", glob_problem)
                    elif name == "after_change":
                        found = self.typed(item, f"{where}.{name}", bool)
                    else:
                        found = self.non_negative_int(item, f"{where}.{name}")
                    if found is not None:
                        checked[name] = tuple(found) if name == "tools" else found
                if isinstance(value, yaml.MappingNode) and all(name != "min_age" for name, _, _ in entries):
                    self.fail(value, f"{where} needs min_age (how many tool turns old an output must be)")
                if "min_age" not in checked:
                    checked = None
            if checked is not None:
                into[sub] = checked

    def credential_rules(self, node: yaml.Node) -> list[CredentialRuleSpec]:
        if not isinstance(node, yaml.SequenceNode):
            self.fail(node, f"credentials must be a list of entries, got {_kind_of(node)}")
            return []
        found = (self.credential_rule(item, index) for index, item in enumerate(node.value))
        return [spec for spec in found if spec is not None]

    def credential_rule(self, node: yaml.Node, index: int) -> CredentialRuleSpec | None:
        errors_before = len(self.errors)
        where = f"credentials entry {index + 1}"
        fields: dict[str, Any] = {}
        for key, _, value in self.mapping(node, where, CREDENTIAL_RULE_KEYS):
            at = f"{where}: {key}"
            if key == "name":
                fields["name"] = self.typed(value, at, str)
            elif key == "provider":
                fields[key] = self.strings(value, at, lambda v: _choice_problem("provider", v, PROVIDERS))
            elif key == "credential":
                fields[key] = self.strings(value, at, lambda v: _choice_problem("credential", v, CREDENTIAL_KINDS))
            elif key == "attested":
                fields[key] = self.typed(value, at, bool)
            else:
                fields[key] = self.strings(value, at, lambda v: _choice_problem("policy", v, POLICIES))
        if isinstance(node, yaml.MappingNode) and "policy" not in fields and len(self.errors) == errors_before:
            self.fail(node, f"{where}: missing 'policy' (one of {', '.join(POLICIES)})")
        if len(self.errors) != errors_before:
            return None
        policies = fields.pop("policy")
        if len(policies) != 1:
            self.fail(node, f"{where}: policy is one of {', '.join(POLICIES)}, not a list")
            return None
        name = fields.pop("name", None) or where
        conditions = {k: (tuple(v) if isinstance(v, list) else v) for k, v in fields.items()}
        return CredentialRuleSpec(line=node.start_mark.line + 1, name=name, policy=policies[0], **conditions)

    def rule(self, node: yaml.Node, index: int) -> RuleSpec | None:
        errors_before = len(self.errors)
        line = node.start_mark.line + 1
        where = f"rule {index + 1}"
        fields: dict[str, Any] = {}
        steps: tuple[Step, ...] | None = None
        for key, key_node, value in self.mapping(node, where, RULE_KEYS):
            at = f"{where}: {key}"
            if key == "name":
                fields["name"] = self.typed(value, at, str)
            elif key in ("tool", "model"):
                fields[key] = self.strings(value, at, glob_problem)
            elif key == "kind":
                fields[key] = self.strings(value, at, lambda v: _choice_problem("kind", v, KINDS))
            elif key == "provider":
                fields[key] = self.strings(value, at, lambda v: _choice_problem("provider", v, PROVIDERS))
            elif key == "mode":
                fields[key] = self.strings(value, at, lambda v: _choice_problem("mode", v, MODES))
            elif key in ("min_tokens", "max_tokens", "min_age"):
                fields[key] = self.non_negative_int(value, at)
            elif key == "is_error":
                fields[key] = self.typed(value, at, bool)
            elif key == "compress":
                steps = self.steps(value, where)
        if isinstance(node, yaml.MappingNode) and steps is None and len(self.errors) == errors_before:
            self.fail(node, f"{where}: missing 'compress' (a compressor name, a list of them, or 'keep')")
        if len(self.errors) != errors_before:
            return None
        name = fields.pop("name", None) or f"rule {index + 1}"
        conditions = {k: (tuple(v) if isinstance(v, list) else v) for k, v in fields.items()}
        return RuleSpec(line=line, name=name, steps=steps or (), **conditions)

    def steps(self, node: yaml.Node, where: str) -> tuple[Step, ...] | None:
        """``compress:`` is a name, ``{name: {params}}``, or a list of those, or ``keep``."""
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if isinstance(node, yaml.SequenceNode) and not items:
            self.fail(node, f"{where}: compress must name at least one compressor (or 'keep')")
            return None
        steps: list[Step] = []
        for item in items:
            step = self.step(item, where)
            if step is None:
                return None
            steps.append(step)
        names = [s.name for s in steps]
        if KEEP in names:
            if len(names) > 1:
                self.fail(node, f"{where}: 'keep' cannot be combined with compressors")
                return None
            return ()
        return tuple(steps)

    def step(self, node: yaml.Node, where: str) -> Step | None:
        params_node: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            if len(node.value) != 1:
                self.fail(node, f"{where}: a compressor with parameters is written "
                          "'name: {param: value}' (one name per list item)")
                return None
            name_node, params_node = node.value[0]
        else:
            name_node = node
        name = self.typed(name_node, f"{where}: compress", str)
        if name is None:
            return None
        if name == KEEP:
            if params_node is not None:
                self.fail(name_node, f"{where}: 'keep' takes no parameters")
                return None
            return Step(KEEP, {})
        spec = self.registry.get(name)
        if spec is None:
            known = ", ".join(sorted(self.registry)) or "none registered"
            self.fail(name_node, f"unknown compressor '{name}'{_suggest(name, tuple(self.registry))}"
                      f" (known: {known}, or keep)")
            return None
        return Step(name, self.params(spec, params_node, f"{where}: {name}"))

    def params(self, spec: Any, node: yaml.Node | None, where: str) -> dict[str, Any]:
        given: dict[str, Any] = {}
        if node is not None and not (isinstance(node, yaml.ScalarNode) and self.scalar(node) is None):
            known = tuple(spec.params)
            for key, _, value_node in self.mapping(node, where, known, noun="parameter"):
                param = spec.params[key]
                value = self.typed(value_node, f"{where}: parameter '{key}'", _param_types(param.type))
                if value is not None:
                    given[key] = float(value) if _wants_float_only(param.type) else value
        return {key: given.get(key, param.default) for key, param in spec.params.items()}


def read_rule_file(path: str, text: str, registry: Mapping[str, Any]) -> tuple[RuleFile, list[RulesError]]:
    """Parse and validate one file's text; returns what was understood and every problem found."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        return RuleFile(path=path), [RulesError(path, line, f"YAML syntax error: {problem}")]
    except yaml.YAMLError as exc:
        return RuleFile(path=path), [RulesError(path, 1, f"YAML error: {exc}")]
    checker = _Checker(path, registry)
    result = checker.file(root)
    return result, checker.errors


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.75)
    return f", did you mean '{close[0]}'?" if close else ""


def _host_problem(host: str) -> str | None:
    # a glob such as *.openai.azure.com is allowed: check it as if each wildcard were a letter
    if glob_problem(host) or not _HOST_RE.match(host.lower().replace("*", "x").replace("?", "x")):
        return f"{host!r} is not a host name (write it without scheme, port or path)"
    return None


def _choice_problem(what: str, value: str, choices: tuple[str, ...]) -> str | None:
    if value not in choices:
        return f"unknown {what} {value!r} (known: {', '.join(choices)})"
    return None


def _param_types(expected: type | tuple[type, ...]) -> tuple[type, ...]:
    types = expected if isinstance(expected, tuple) else (expected,)
    # an integer is a fine value for a float parameter
    return types + ((int,) if float in types and int not in types else ())


def _wants_float_only(expected: type | tuple[type, ...]) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    return float in types and int not in types


def _is_instance(value: Any, expected: type | tuple[type, ...]) -> bool:
    types = expected if isinstance(expected, tuple) else (expected,)
    if isinstance(value, bool) and bool not in types:
        return False  # yaml's true/false must not pass as a number
    return isinstance(value, types)


def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string",
             list: "a list", dict: "a mapping"}
    types = expected if isinstance(expected, tuple) else (expected,)
    return " or ".join(names.get(t, t.__name__) for t in types)


def _kind_of(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "a value"


def _value_kind(value: Any) -> str:
    if value is None:
        return "nothing"
    return {bool: "boolean", int: "integer", float: "number", str: "string"}.get(type(value), type(value).__name__)
