"""The YAML rule language: which provider hosts to intercept and what to do with each tool output.

``load_rules(path)`` reads and validates a file (``None``: the shipped ``default.yaml``);
``RuleSet.decide(...)`` answers for one tool output; ``RulesWatcher`` follows a file as it changes.
The schema is documented in ``rules/README.md``.
"""

from headroom_mitm.rules.errors import RulesError, RulesErrors
from headroom_mitm.rules.loader import DEFAULT_RULES_PATH, check_rules, load_rules
from headroom_mitm.rules.match import BUILTIN_HOSTS, Decision, Rule, RuleSet
from headroom_mitm.rules.schema import KINDS, MODES, PROVIDERS, Step
from headroom_mitm.rules.watch import RulesWatcher

__all__ = [
    "BUILTIN_HOSTS",
    "DEFAULT_RULES_PATH",
    "Decision",
    "KINDS",
    "MODES",
    "PROVIDERS",
    "Rule",
    "RuleSet",
    "RulesError",
    "RulesErrors",
    "RulesWatcher",
    "Step",
    "check_rules",
    "load_rules",
]
