"""Which kind of credential a request carries, named by a digest, never by the secret."""

from __future__ import annotations

import pytest

from headroom_mitm.addon.agents import agent_of, agent_name
from headroom_mitm.addon.credentials import classify, credential_id


@pytest.mark.parametrize("headers, host, kind", [
    ({"x-api-key": "sk-ant-api03-abc"}, "api.anthropic.com", "api_key"),
    ({"authorization": "Bearer sk-ant-oat01-abc"}, "api.anthropic.com", "subscription"),
    # Claude Code says "oauth" in its beta list whatever the token looks like (CLAUDE_CODE_OAUTH_TOKEN)
    ({"Authorization": "Bearer opaque", "anthropic-beta": "claude-code-20250219, oauth-2025-04-20"},
     "api.anthropic.com", "subscription"),
    ({"authorization": "Bearer sk-proj-abc"}, "api.openai.com", "api_key"),
    ({"authorization": "Bearer eyJhbGciOi.payload.sig"}, "chatgpt.com", "subscription"),
    ({"authorization": "Bearer sk-or-v1-abc"}, "openrouter.ai", "api_key"),
    ({"x-goog-api-key": "AIzaSyabc"}, "generativelanguage.googleapis.com", "api_key"),
    ({"authorization": "Bearer ya29.a0abc"}, "generativelanguage.googleapis.com", "subscription"),
    ({"content-type": "application/json"}, "api.anthropic.com", "none"),
    ({"authorization": "Basic dXNlcjpwdw=="}, "api.anthropic.com", "none"),
])
def test_credential_kind(headers, host, kind) -> None:
    assert classify(headers, host).kind == kind


def test_gemini_key_in_the_query_is_an_api_key() -> None:
    assert classify({}, "generativelanguage.googleapis.com", {"key": "AIzaSyabc"}).kind == "api_key"


def test_the_id_names_the_credential_without_holding_it() -> None:
    secret = "sk-ant-oat01-" + "s3cr3t" * 8
    found = classify({"authorization": f"Bearer {secret}"}, "api.anthropic.com")
    other = classify({"authorization": "Bearer sk-ant-oat01-another-login"}, "api.anthropic.com")
    assert found.id == credential_id(secret) and len(found.id) == 16
    assert found.id not in secret and other.id != found.id
    assert classify({}, "api.anthropic.com").id is None


@pytest.mark.parametrize("headers, agent", [
    ({"user-agent": "claude-cli/2.1.197 (external, sdk-cli)"}, "claude-cli/2.1.197"),
    ({"user-agent": "codex_cli_rs/0.171.0 (Debian 12; x86_64) xterm", "originator": "codex_cli_rs"},
     "codex_cli_rs/0.171.0"),
    ({"user-agent": "Python/3.11 websockets/13.1", "originator": "codex_cli_rs"}, "codex_cli_rs"),
    ({}, None),
])
def test_agent_is_the_first_product_of_the_user_agent(headers, agent) -> None:
    assert agent_of(headers) == agent


def test_agents_are_grouped_without_their_version() -> None:
    assert agent_name("claude-cli/2.1.197") == "claude-cli"
    assert agent_name(None) == "unknown"
