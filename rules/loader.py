"""Loading a rule file into a ``RuleSet``: the shipped default, a replacement, or an extension."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Iterable, Mapping

from headroom_mitm.rules.credentials import CredentialPolicies, CredentialRule
from headroom_mitm.rules.errors import RulesError, RulesErrors
from headroom_mitm.rules.framing_builtin import BUILTIN_FRAMINGS
from headroom_mitm.rules.match import BUILTIN_HOSTS, FileTools, Rule, RuleSet, compile_globs
from headroom_mitm.rules.registry import DECLARED, CompressorInfo
from headroom_mitm.rules.schema import RuleFile, read_rule_file
from headroom_mitm.rules.token_mode import TokenModePolicy

logger = logging.getLogger(__name__)

DEFAULT_RULES_PATH = Path(__file__).with_name("default.yaml")


Registry = Mapping[str, CompressorInfo] | Iterable[CompressorInfo]
"""The compressors a file may name: by name, or a list of them."""


def compressor_registry() -> dict[str, CompressorInfo]:
    """Compressor name -> declaration, from ``rules/registry.py``."""
    return normalise_registry(DECLARED)


def normalise_registry(registry: Registry) -> dict[str, CompressorInfo]:
    if isinstance(registry, Mapping):
        return dict(registry)
    return {spec.name: spec for spec in registry}


def check_rules(path: str | None, registry: Registry | None = None) -> tuple[RuleSet | None, list[RulesError]]:
    """Every problem in a rule file (and its base), plus the rule set when there is none."""
    reg = compressor_registry() if registry is None else normalise_registry(registry)
    default_text = DEFAULT_RULES_PATH.read_text(encoding="utf-8")
    default_file, errors = read_rule_file(DEFAULT_RULES_PATH.name, default_text, reg)
    if path is None:
        return (None, errors) if errors else (_build([default_file], reg), [])
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [RulesError(str(path), 1, f"cannot read the rule file: {exc}")]
    user_file, user_errors = read_rule_file(str(path), text, reg)
    if user_errors:
        return None, sorted(user_errors, key=lambda e: e.line)
    if user_file.extends == "default":
        if errors:  # the shipped file must not name a compressor this install lacks
            return None, errors
        return _build([default_file, user_file], reg), []
    return _build([user_file], reg, safety_net=default_file), []


def load_rules(path: str | None = None, registry: Registry | None = None) -> RuleSet:
    """The rules in ``path`` (None: the shipped ``default.yaml``); raises ``RulesError``."""
    rule_set, errors = check_rules(path, registry)
    if errors:
        raise RulesErrors(errors)
    assert rule_set is not None
    return rule_set


def _build(files: list[RuleFile], registry: Mapping[str, Any], safety_net: RuleFile | None = None) -> RuleSet:
    """Merge a base and the file that extends it: see rules/README.md, "Extending the default".

    ``safety_net`` is the shipped file when it is replaced rather than extended: its
    ``credentials`` entries still follow the file's own."""
    hosts = set(BUILTIN_HOSTS)
    protected: list[str] = []
    verbatim: list[str] = []
    file_lists: dict[str, list[str]] = {}
    token_mode: dict[str, Any] = {}
    framings: list[Any] = []
    rules: list[Rule] = []
    credentials: list[CredentialRule] = []
    prices: dict[str, Any] = {}
    for rule_file in ([safety_net] if safety_net else []) + files:  # base first
        source = Path(rule_file.path).name
        credentials = [CredentialRule(spec, source) for spec in rule_file.credentials] + credentials
    for rule_file in files:  # base first
        hosts.update(rule_file.hosts)
        protected += [p for p in rule_file.protected_tools if p not in protected]
        verbatim += [p for p in rule_file.verbatim_tools if p not in verbatim]
        for key, values in rule_file.files.items():
            bucket = file_lists.setdefault(key, [])
            bucket += [v for v in values if v not in bucket]
        token_mode.update(rule_file.token_mode)
        prices.update(rule_file.prices)
        framings = list(rule_file.framings) + framings  # the extending file's are tried first
        source = Path(rule_file.path).name
        # the extending file's rules come first, so they win over the base's
        rules = [Rule.build(spec, source) for spec in rule_file.rules] + rules
    return RuleSet(
        provider_hosts=frozenset(hosts),
        protected_tools=tuple(protected),
        verbatim_tools=tuple(verbatim),
        rules=tuple(rules),
        files=FileTools(
            read_re=compile_globs(file_lists.get("read_tools")),
            write_re=compile_globs(file_lists.get("write_tools")),
            edit_re=compile_globs(file_lists.get("edit_tools")),
            shell_re=compile_globs(file_lists.get("shell_tools")),
            path_arguments=tuple(file_lists.get("path_arguments", ())),
        ),
        token_mode=TokenModePolicy.from_settings(token_mode),
        credentials=CredentialPolicies(tuple(credentials)),
        prices=prices,
        registry=dict(registry),
        sources=tuple(Path(f.path).name for f in files),
        framings=tuple(framings) + BUILTIN_FRAMINGS,
        _protected_re=compile_globs(protected),
        _verbatim_re=compile_globs(verbatim),
    )
