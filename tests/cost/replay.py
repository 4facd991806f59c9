"""Claude Code traces through the product's own path: each request body through the rewrite
worker's function, the transcript's usage as the provider's answer, priced and judged by the
addon's ``CostKeeper``, as the proxy does when a flow ends."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from headroom_mitm.addon import providers
from headroom_mitm.addon.cost.flow_cost import CostKeeper
from headroom_mitm.addon.flow_entry import build_entry
from headroom_mitm.addon.flow_state import FlowState
from headroom_mitm.addon.providers._summary import ResponseSummary
from headroom_mitm.addon.providers.anthropic import usage_from_fields
from headroom_mitm.addon.request_body import RequestBody, process_request_body
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.rules.prices import load_prices

from trace_bodies import claude_code_turns


@dataclass
class Replayed:
    entry: FlowEntry
    body: RequestBody
    usage: dict[str, Any]
    """The transcript's ``message.usage`` for this request."""


def replay(path: Path, rules: Any, mode: str = "cache", keeper: CostKeeper | None = None) -> Iterator[Replayed]:
    wire = providers.for_request("api.anthropic.com", "/v1/messages")
    keeper = keeper or CostKeeper(load_prices())
    for body_doc, record in claude_code_turns(path):
        usage = record["message"]["usage"]
        result = process_request_body(json.dumps(body_doc).encode(), wire, rules, mode)
        at = datetime.fromisoformat(record["timestamp"].replace("Z", "+00:00"))
        state = FlowState(started_at=at, started=0.0, host="api.anthropic.com", path="/v1/messages",
                          method="POST", wire=wire, mode=mode)
        state.absorb(result)
        state.status_code = 200
        state.summary = ResponseSummary(usage=usage_from_fields(usage), model=body_doc["model"], events=1)
        entry = build_entry(state)
        keeper.settle(entry, result.cost)
        yield Replayed(entry, result, usage)
