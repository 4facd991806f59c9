"""Real SDK clients as an agent would build them: real host names, trust and proxy from the env.

Each client records the exact bytes it sent, so a test can compare them with what the fake
provider received.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import anthropic
import httpx
import openai

READ_TIMEOUT_S = 8.0
"""A stream whose first event has not arrived by then is being held back by the proxy."""


@dataclass
class SentBodies:
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def only(self) -> bytes:
        assert len(self.requests) == 1, f"the client sent {len(self.requests)} requests"
        return self.requests[0].read()


def _timeout() -> httpx.Timeout:
    return httpx.Timeout(30.0, read=READ_TIMEOUT_S)


def anthropic_client(api_key: str = "sk-ant-api03-test-key-not-secret") -> tuple[anthropic.Anthropic, SentBodies]:
    sent = SentBodies()
    http_client = anthropic.DefaultHttpxClient(event_hooks={"request": [sent]}, timeout=_timeout())
    client = anthropic.Anthropic(api_key=api_key, max_retries=0, timeout=_timeout(), http_client=http_client)
    assert str(client.base_url).startswith("https://api.anthropic.com")
    return client, sent


def anthropic_subscription_client(token: str) -> tuple[anthropic.Anthropic, SentBodies]:
    """The SDK as a subscription login uses it: a bearer token and the OAuth beta, no API key."""
    sent = SentBodies()
    http_client = anthropic.DefaultHttpxClient(event_hooks={"request": [sent]}, timeout=_timeout())
    client = anthropic.Anthropic(
        api_key=None, auth_token=token, max_retries=0, timeout=_timeout(), http_client=http_client,
        default_headers={"anthropic-beta": "oauth-2025-04-20"},
    )
    return client, sent


def openai_client(api_key: str = "sk-proj-test-key-not-secret") -> tuple[openai.OpenAI, SentBodies]:
    sent = SentBodies()
    http_client = openai.DefaultHttpxClient(event_hooks={"request": [sent]}, timeout=_timeout())
    client = openai.OpenAI(api_key=api_key, max_retries=0, timeout=_timeout(), http_client=http_client)
    assert str(client.base_url).startswith("https://api.openai.com")
    return client, sent


def httpx_client() -> httpx.Client:
    """Plain httpx (Gemini, Codex-style bodies): HTTPS_PROXY and SSL_CERT_FILE from the env."""
    return httpx.Client(timeout=_timeout())
