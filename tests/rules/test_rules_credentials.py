"""``credentials:``: how far a request may be rewritten, by the credential it carries."""

from __future__ import annotations

import pytest

from headroom_mitm.rules import check_rules, load_rules
from rules_fakes import FAKE_REGISTRY, write

ATTESTED_SUBSCRIPTION = ("anthropic", "subscription", True)


def test_shipped_defaults_keep_attested_subscriptions_and_verify_other_subscriptions() -> None:
    policies = load_rules(None).credentials
    assert policies.decide(*ATTESTED_SUBSCRIPTION).policy == "keep"
    assert policies.decide("openai-responses", "subscription", False).policy == "verify"
    assert policies.decide("anthropic", "api_key", True).policy == "rewrite"
    assert policies.decide("gemini", "none", False).policy == "rewrite"
    assert policies.decide(*ATTESTED_SUBSCRIPTION).rule.startswith("default.yaml:")


def test_a_file_that_replaces_the_default_still_gets_the_shipped_entries_after_its_own(tmp_path) -> None:
    path = write(tmp_path, "rules:\n  - compress: dedupe\n"
                           "credentials:\n  - name: api-keys-kept\n    credential: api_key\n    policy: keep\n")
    policies = load_rules(path, FAKE_REGISTRY).credentials
    assert policies.decide("anthropic", "api_key", False).policy == "keep"
    assert policies.decide("anthropic", "api_key", False).rule == "rules.yaml:4 (api-keys-kept)"
    assert policies.decide(*ATTESTED_SUBSCRIPTION).policy == "keep"  # not loosened by leaving it out


def test_a_file_can_loosen_the_safety_net_only_by_saying_so(tmp_path) -> None:
    path = write(tmp_path, "extends: default\ncredentials:\n"
                           "  - {provider: anthropic, credential: subscription, attested: true, policy: verify}\n")
    policies = load_rules(path).credentials
    assert policies.decide(*ATTESTED_SUBSCRIPTION).policy == "verify"
    assert policies.decide("openai-chat", "subscription", True).policy == "keep"  # other providers


@pytest.mark.parametrize("text, line, fragment", [
    ("credentials:\n  - credential: subscription\n", 2, "missing 'policy'"),
    ("credentials:\n  - policy: trust\n", 2, "unknown policy 'trust'"),
    ("credentials:\n  - credential: oauth\n    policy: keep\n", 2, "unknown credential 'oauth'"),
    ("credentials:\n  - policy: keep\n    attested: yes please\n", 3, "attested must be true or false"),
    ("credentials:\n  - policy: [keep, verify]\n", 2, "not a list"),
    ("credentials:\n  - policy: keep\n    providers: [anthropic]\n", 3, "unknown key 'providers', did you mean 'provider'?"),
    ("credentials: keep\n", 1, "credentials must be a list"),
])
def test_credentials_problems_name_file_line_and_what_is_wrong(tmp_path, text, line, fragment) -> None:
    path = write(tmp_path, text)
    rule_set, errors = check_rules(path, FAKE_REGISTRY)
    assert rule_set is None and len(errors) == 1, [str(e) for e in errors]
    assert (errors[0].path, errors[0].line) == (path, line)
    assert fragment in errors[0].message
