"""Budgets and rate limits: a request over one gets a 429 in its provider's own error format,
with ``Retry-After``, and never goes upstream. Off unless an option sets one.

    headroom_budget  USD per hour, day or month (UTC calendar periods), total or per provider:
                     ``5/day``, ``anthropic:20/month``, ``openai:1.5/hour``
    headroom_rpm     requests per minute (the last 60 seconds): ``60``, ``anthropic:50``
    headroom_tpm     request tokens per minute, as the proxy counts the body it would send

Spend is the billed USD of the flows the price table could price; a proxy that starts reads the
current periods' spend from its flow log, so a restart does not reset a budget.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

__all__ = ["Budget", "Rate", "Limits", "Refusal", "parse_budgets", "parse_rates", "period_start",
           "refusal_body"]

PERIODS = ("hour", "day", "month")
_BUDGET = re.compile(r"^(?:(?P<provider>[a-z][a-z0-9-]*):)?\$?(?P<amount>\d+(?:\.\d+)?)/(?P<period>hour|day|month)$")
_RATE = re.compile(r"^(?:(?P<provider>[a-z][a-z0-9-]*):)?(?P<limit>\d+)$")
_WINDOW_S = 60.0


class LimitError(ValueError):
    """A budget or rate that cannot be read; the message names it and shows the form."""


@dataclass(frozen=True)
class Budget:
    usd: float
    period: str
    provider: str | None
    """None: all providers together. "openai" covers openai-chat and openai-responses."""

    def covers(self, provider: str) -> bool:
        return _covers(self.provider, provider)

    def describe(self) -> str:
        return f"${self.usd:g}/{self.period}" + (f" for {self.provider}" if self.provider else "")


@dataclass(frozen=True)
class Rate:
    limit: int
    provider: str | None

    def covers(self, provider: str) -> bool:
        return _covers(self.provider, provider)


@dataclass(frozen=True)
class Refusal:
    reason: str
    """What the client is told and the flow row says."""
    retry_after_s: int


def _covers(scope: str | None, provider: str) -> bool:
    return scope is None or provider == scope or provider.startswith(scope + "-")


def parse_budgets(values: Sequence[str]) -> list[Budget]:
    budgets = []
    for value in values:
        match = _BUDGET.match(value.strip().lower())
        if not match or float(match["amount"]) <= 0:
            raise LimitError(f"headroom_budget={value!r}: give USD per hour, day or month, for all providers "
                             "or one: 5/day, anthropic:20/month, openai:1.5/hour")
        budgets.append(Budget(float(match["amount"]), match["period"], match["provider"]))
    return budgets


def parse_rates(name: str, values: Sequence[str]) -> list[Rate]:
    rates = []
    for value in values:
        match = _RATE.match(value.strip().lower())
        if not match or int(match["limit"]) <= 0:
            raise LimitError(f"{name}={value!r}: give a whole number per minute, for all providers or one: "
                             "60, anthropic:50")
        rates.append(Rate(int(match["limit"]), match["provider"]))
    return rates


def period_start(period: str, now: datetime) -> datetime:
    now = now.astimezone(timezone.utc)
    if period == "hour":
        return now.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        return now.replace(hour=0, minute=0, second=0, microsecond=0)
    return now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _period_end(period: str, now: datetime) -> datetime:
    start = period_start(period, now)
    if period == "hour":
        return start + timedelta(hours=1)
    if period == "day":
        return start + timedelta(days=1)
    return (start + timedelta(days=32)).replace(day=1)


class Limits:
    """The limits in force and what has been spent and sent against them."""

    def __init__(self, budgets: Sequence[Budget] = (), rpm: Sequence[Rate] = (), tpm: Sequence[Rate] = ()) -> None:
        self.budgets, self.rpm, self.tpm = list(budgets), list(rpm), list(tpm)
        self._spent: list[tuple[datetime, str, float]] = []
        self._sent: deque[tuple[float, str, int]] = deque()

    @property
    def active(self) -> bool:
        return bool(self.budgets or self.rpm or self.tpm)

    def seed(self, spent: Iterable[tuple[datetime, str, float]]) -> None:
        """Spend the flow log holds, (when, provider, USD): replaces what was counted so far."""
        self._spent = list(spent)

    def spend(self, provider: str, usd: float, at: datetime) -> None:
        if self.budgets and usd:
            self._spent.append((at, provider, usd))

    def check(self, provider: str, tokens: int, now: datetime, clock: float) -> Refusal | None:
        """A refusal when a limit is reached; else the request is counted against the rates."""
        for budget in self.budgets:
            if not budget.covers(provider):
                continue
            start = period_start(budget.period, now)
            spent = sum(usd for at, p, usd in self._spent if at >= start and budget.covers(p))
            if spent >= budget.usd:
                wait = max(1, int((_period_end(budget.period, now) - now).total_seconds() + 0.999))
                return Refusal(f"budget {budget.describe()} reached: ${spent:.4f} spent this {budget.period}", wait)
        while self._sent and clock - self._sent[0][0] >= _WINDOW_S:
            self._sent.popleft()
        for rate, what, weight in [(r, "requests", 1) for r in self.rpm] + [(r, "tokens", tokens) for r in self.tpm]:
            if not rate.covers(provider):
                continue
            recent = [(at, w) for at, p, w in self._sent_of(what) if rate.covers(p)]
            if sum(w for _, w in recent) + weight > rate.limit and recent:
                scope = f" for {rate.provider}" if rate.provider else ""
                wait = max(1, int(_WINDOW_S - (clock - recent[0][0]) + 0.999))
                return Refusal(f"{rate.limit} {what} per minute{scope} reached", wait)
        self._sent.append((clock, provider, tokens))
        if len(self._spent) > 100_000:  # keep a month at most
            oldest = period_start("month", now)
            self._spent = [s for s in self._spent if s[0] >= oldest]
        return None

    def _sent_of(self, what: str) -> list[tuple[float, str, int]]:
        return [(at, p, 1 if what == "requests" else tokens) for at, p, tokens in self._sent]


def refusal_body(provider: str, refusal: Refusal) -> tuple[bytes, dict[str, str]]:
    """The 429's body and headers, in the format the provider's own SDKs read."""
    message = f"headroom: {refusal.reason}; retry after {refusal.retry_after_s}s"
    if provider == "anthropic":
        doc: dict[str, object] = {"type": "error", "error": {"type": "rate_limit_error", "message": message}}
    elif provider == "gemini":
        doc = {"error": {"code": 429, "message": message, "status": "RESOURCE_EXHAUSTED"}}
    else:  # openai-chat, openai-responses
        doc = {"error": {"message": message, "type": "requests", "param": None, "code": "rate_limit_exceeded"}}
    headers = {"content-type": "application/json", "retry-after": str(refusal.retry_after_s),
               "x-headroom-limited": "1"}
    return json.dumps(doc).encode(), headers
