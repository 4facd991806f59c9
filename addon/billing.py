"""What a provider says it billed a request to, and whether it refused a request as third-party.

Anthropic answers a subscription request with the ``anthropic-ratelimit-unified-*`` family:
``representative-claim`` names the limit the request counted against (``five_hour``,
``seven_day``, ``seven_day_opus`` ...), ``status`` says whether the plan allowed it, and
``overage-status`` whether extra usage paid for it instead. The ChatGPT backend answers Codex with
``x-codex-*`` (the plan windows in use, the active limit). Subscription requests Anthropic does
not take for Claude Code's own were reported to be refused with a 400 ("Third-party apps now draw
from your extra usage, not your plan limits", "You're out of extra usage") or billed as overage.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

_PREFIXES = ("anthropic-ratelimit-", "x-codex-", "x-ratelimit-")
_UNIFIED = "anthropic-ratelimit-unified-"
_OVERAGE_PAID = frozenset({"allowed", "allowed_warning"})
_REFUSAL = re.compile(
    r"third[- ]party (?:apps|applications|clients)|out of extra usage|draw from (?:your )?extra usage",
    re.IGNORECASE,
)
_REFUSAL_STATUSES = frozenset({400, 403})
_MAX_HEADER_VALUE = 200
_MAX_MESSAGE = 300


@dataclass(frozen=True)
class BillingSignal:
    """The billing facts of one response."""

    bucket: str | None = None
    """The claim the request counted against, e.g. ``five_hour`` or ``overage``; None when the
    provider did not say (API keys get no plan headers)."""
    status: str | None = None
    """The plan's verdict: ``allowed``, ``allowed_warning`` or ``rejected``."""
    headers: dict[str, str] = field(default_factory=dict)
    """Every rate-limit and billing header of the response, lower-cased names."""

    def as_json(self) -> str | None:
        return json.dumps(self.headers, sort_keys=True, separators=(",", ":")) if self.headers else None


def billing_from_headers(headers: Iterable[tuple[str, str]]) -> BillingSignal:
    """Reads the rate-limit family of a response's headers; anything else is ignored."""
    found: dict[str, str] = {}
    for name, value in headers:
        name = str(name).lower()
        if name.startswith(_PREFIXES):
            found[name] = str(value)[:_MAX_HEADER_VALUE]
    return BillingSignal(bucket=_bucket(found), status=found.get(_UNIFIED + "status"), headers=found)


def _bucket(headers: dict[str, str]) -> str | None:
    if _UNIFIED + "representative-claim" in headers or _UNIFIED + "status" in headers:
        plan_refused = headers.get(_UNIFIED + "status") == "rejected"
        if plan_refused and headers.get(_UNIFIED + "overage-status") in _OVERAGE_PAID:
            return "overage"  # the plan said no and extra usage paid
        return headers.get(_UNIFIED + "representative-claim") or headers.get(_UNIFIED + "status")
    if "x-codex-active-limit" in headers:
        return headers["x-codex-active-limit"]
    if any(name.startswith("x-codex-primary-") for name in headers):
        return "codex"
    return None


def billing_from_codex_event(event: dict[str, Any]) -> BillingSignal | None:
    """A ``codex.rate_limits`` event of the ChatGPT backend's socket, as a signal."""
    if event.get("type") != "codex.rate_limits":
        return None
    limits = event.get("rate_limits") if isinstance(event.get("rate_limits"), dict) else {}
    reached = limits.get("limit_reached") is True or limits.get("allowed") is False
    name = event.get("metered_limit_name") or event.get("limit_name") or "codex"
    headers = {"codex.rate_limits": json.dumps(limits, sort_keys=True)[:_MAX_HEADER_VALUE]}
    if isinstance(event.get("plan_type"), str):
        headers["codex.plan_type"] = event["plan_type"]
    return BillingSignal(bucket="limit_reached" if reached else str(name),
                         status="rejected" if reached else "allowed", headers=headers)


def refusal_in(status: int | None, body: bytes | str | None) -> str | None:
    """The provider's message when a response refuses a request as coming from a third-party
    client or bills it to exhausted extra usage; None for every other answer."""
    if status not in _REFUSAL_STATUSES or not body:
        return None
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    message = _error_message(text)
    match = _REFUSAL.search(message)
    return message[:_MAX_MESSAGE] if match else None


def refusal_in_event(event: dict[str, Any]) -> str | None:
    """The same for an error event of a WebSocket turn (Codex): ``{"type": "error", "status": 400, ...}``."""
    if event.get("type") not in ("error", "response.failed"):
        return None
    status = event.get("status") or event.get("status_code") or 400
    return refusal_in(status if isinstance(status, int) else 400, json.dumps(event))


def _error_message(text: str) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        return text.strip()
    error = doc.get("error") if isinstance(doc, dict) else None
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        return error["message"]
    return text.strip()
