"""API keys a client sends, wherever they sit, never reach the flow log's files."""

from __future__ import annotations

import pytest

from . import payloads
from .clients import anthropic_client, httpx_client, openai_client
from .conftest import Proxy
from .fake_provider import FakeProvider
from .harness import wait_for_rows

pytestmark = pytest.mark.e2e

ANTHROPIC_KEY = "sk-ant-api03-PLANTEDk3yA7bQ9xZ2mW4vR8tY6uP0sD5fG1hJ3lK7nB2cX9zA4qE6wR8tYu-PlAnTeD1AA"
OPENAI_KEY = "sk-proj-PLANTEDq7Wm2Zx9Lk4Rt8Yp3Vn6Bc1Hd5Jf0Gs2Ka7Qe9Tu4Io6Pl8Mn3Xb5Cv1Dz7Ew"
GEMINI_KEY = "AIzaSyPLANTEDc8Xq2Wm5Zr9Tk3Lp7Vn1Bd4Hf6"
# Shaped like a GitHub token: only its shape can tell it is a secret.
TOOL_OUTPUT_TOKEN = "ghp_PLANTEDr4Nd0mT0k3nV4lu3Xy9Zq2Wm5Lk8Rt1"
TOOL_OUTPUT_MARKER = "deploy-step-PLANTED-visible-context"
"""Plain text beside the secrets: it must be in the log, or the test would pass on an empty file."""

SECRETS = (ANTHROPIC_KEY, OPENAI_KEY, GEMINI_KEY, TOOL_OUTPUT_TOKEN)


def _tool_output() -> str:
    # The agent printed its environment: the request's own key, and a token of another kind.
    return (
        f"{TOOL_OUTPUT_MARKER}\n"
        f"ANTHROPIC_API_KEY={ANTHROPIC_KEY}\n"
        f"OPENAI_API_KEY={OPENAI_KEY}\n"
        f"GITHUB_TOKEN={TOOL_OUTPUT_TOKEN}\n"
        "\x1b[32mdone\x1b[0m\n"
    )


def _log_bytes(db_path) -> bytes:
    files = [db_path.with_name(db_path.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_planted_keys_are_absent_from_every_database_file(proxy: Proxy, fake: FakeProvider) -> None:
    anthropic, _ = anthropic_client(api_key=ANTHROPIC_KEY)  # sent as x-api-key
    openai, _ = openai_client(api_key=OPENAI_KEY)  # sent as Authorization: Bearer
    anthropic.messages.create(model="claude-sonnet-4-5", max_tokens=64,
                              messages=payloads.anthropic_messages(_tool_output()))
    openai.chat.completions.create(model="gpt-4o", messages=payloads.openai_chat_messages(_tool_output()))
    with httpx_client() as client:  # Gemini's key in the URL
        response = client.post(
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent",
            params={"key": GEMINI_KEY},
            content=payloads.compact_json({"contents": payloads.gemini_contents(_tool_output())}),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 200

    # The keys did reach the provider: the proxy must not strip what the provider needs.
    [to_gemini] = fake.requests_to("/v1beta/models/gemini-2.5-pro:generateContent")
    assert to_gemini.query["key"] == [GEMINI_KEY]
    assert fake.only_request("/v1/messages").header("x-api-key") == ANTHROPIC_KEY

    wait_for_rows(proxy.db_path, "flows", 3)
    wait_for_rows(proxy.db_path, "tool_calls", 1)
    proxy.process.stop()  # flush and close the log before reading its files

    stored = _log_bytes(proxy.db_path)
    assert TOOL_OUTPUT_MARKER.encode() in stored, "the tool outputs were not logged at all"
    for secret in SECRETS:
        for needle in (secret, secret[-16:]):
            assert needle.encode() not in stored, f"{needle!r} is in the flow log"
            assert needle.encode("utf-16-le") not in stored, f"{needle!r} is in the flow log (UTF-16)"
