"""One request body through the product: parse, find tool outputs, compress, count.

Runs on the rewrite worker thread, never on the event loop. Whatever goes wrong, the answer says
so and carries no new body, so the original bytes go upstream untouched.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from headroom_mitm.addon.billing_guard import ALWAYS, Gate, RewritePermit
from headroom_mitm.addon.budget import Deadline, OverBudget
from headroom_mitm.addon.conversation import body_tokens, fallback_session_id
from headroom_mitm.addon.cost.flow_cost import CostFacts
from headroom_mitm.addon.cost.prefix import Part, conversation_of, first_new_turn, message_part, prefix_of
from headroom_mitm.addon.modes import Mode
from headroom_mitm.addon.pipeline import OutputReport, compress_body, retrieval_declared
from headroom_mitm.addon.providers._base import WireFormat
from headroom_mitm.addon.tokens import count_tokens
from headroom_mitm.addon.prefix_reuse import Body, PrefixReuse
from headroom_mitm.addon.tool_output import ToolOutput
from headroom_mitm.rules import RuleSet

logger = logging.getLogger(__name__)


@dataclass
class RequestBody:
    """What the addon learned from, and did to, one request body."""

    new_body: bytes | None = None
    """The rewritten body, or None to forward the original bytes."""
    outputs: list[ToolOutput] = field(default_factory=list)
    model: str = ""
    session_id: str = ""
    project: str | None = None
    tokens_before: int | None = None
    tokens_after: int | None = None
    rewritten: int = 0
    originals: dict[str, str] = field(default_factory=dict)
    retrieval: bool = False
    """The request declared the retrieve tool, so lossy compression was allowed."""
    error: str | None = None
    attested: bool = False
    """The body carries its client's attestation (Claude Code's billing line)."""
    gate: Gate | None = None
    """What the credential policy allowed for this body."""
    changes: list["OutputChange | None"] = field(default_factory=list)
    """Per output (as ``outputs``): what compression did to it, None where it was unchanged."""
    cost: CostFacts | None = None


@dataclass(frozen=True)
class OutputChange:
    compressor: str
    tokens_before: int
    tokens_after: int
    sent: str


def process_request_body(raw: bytes | str, wire: WireFormat, rules: RuleSet, mode: Mode,
                         retrieval: bool = False, permit: RewritePermit = ALWAYS,
                         reuse: PrefixReuse | None = None, budget_s: float | None = None) -> RequestBody:
    """``retrieval``: the model is known to have the retrieve tool even if this body does not
    declare it (a WebSocket turn after one that did). ``permit`` says, by the request's
    credential, whether the body may be rewritten. ``reuse``: the owner's memory of its
    conversations' previous requests, so that only a body's new turns are worked on (the
    answer is the same without it). ``budget_s``: past that many seconds of work the body is
    forwarded unmodified and the answer's error says so."""
    result = RequestBody()
    try:
        text = raw if isinstance(raw, str) else raw.decode("utf-8")
        body = reuse.parse(text) if reuse is not None else None
        doc = body.doc if body is not None else json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        result.error = f"body is not JSON, forwarded unmodified ({type(exc).__name__})"
        return result
    except RecursionError:  # the parser's own limit on depth: no client nests that deep
        result.error = "body is JSON nested too deep to read, forwarded unmodified"
        return result
    if not isinstance(doc, dict):
        result.error = "body is not a JSON object, forwarded unmodified"
        return result
    deadline = Deadline(budget_s) if budget_s is not None else None
    try:
        _describe(result, doc, wire, reuse, body, deadline)
        result.attested = wire.attestation(doc) is not None
        result.gate = permit.for_body(result.attested)
        if mode == "off" or not result.gate.rewrite:
            result.outputs = (reuse.outputs(body, wire, rules.framings) if reuse is not None and body is not None
                              else wire.extract(doc, rules.framings))
            result.retrieval = retrieval or retrieval_declared(wire, doc)  # for a socket's later turns
            result.cost = CostFacts(prefix_of(doc, messages=_message_parts(doc, reuse, body)))
        else:
            _compress(result, text, doc, wire, rules, mode, retrieval, reuse, body, deadline)
        if reuse is not None and body is not None:
            reuse.remember(body, rules.framings)
    except OverBudget as exc:  # what was done is memoised: the conversation's next request goes on from it
        return RequestBody(model=result.model, session_id=result.session_id, project=result.project,
                           error=f"{exc}: forwarded unmodified")
    except Exception as exc:  # never worse than no proxy: forward the original bytes
        logger.warning("could not process a %s request body", wire.name, exc_info=True)
        result.new_body = None
        result.error = f"{type(exc).__name__}: {exc}"
    return result


def _describe(result: RequestBody, doc: dict[str, Any], wire: WireFormat, reuse: PrefixReuse | None,
              body: Body | None, deadline: Deadline | None = None) -> None:
    result.model = wire.model(doc) or ""
    result.session_id = wire.session_hint(doc) or fallback_session_id(doc, wire.name)
    result.project = wire.working_directory(doc)
    count = deadline.counting(count_tokens) if deadline is not None else count_tokens
    result.tokens_before = (reuse.body_tokens(body, count) if reuse is not None and body is not None
                            else body_tokens(doc, count))
    result.tokens_after = result.tokens_before


def _compress(result: RequestBody, text: str, doc: dict[str, Any], wire: WireFormat, rules: RuleSet,
              mode: Mode, retrieval: bool, reuse: PrefixReuse | None, body: Body | None,
              deadline: Deadline | None = None) -> None:
    declared = retrieval or retrieval_declared(wire, doc)
    lossy = True if declared else None
    if reuse is not None and body is not None:
        outcome = reuse.compress(body, wire, rules, mode, lossy, deadline)
    else:
        outcome = compress_body(text, doc, wire, rules, mode, lossy=lossy, deadline=deadline)
    result.retrieval = declared or outcome.lossy  # named in a note (Codex's deferred namespaces): a socket's later turns too
    result.outputs = [report.output for report in outcome.outputs]
    result.originals = dict(outcome.originals)
    _cost_facts(result, doc, outcome.outputs, _message_parts(doc, reuse, body))
    if outcome.text is text or outcome.text == text:
        return
    result.new_body = outcome.text.encode("utf-8")
    result.rewritten = sum(1 for report in outcome.outputs if report.changed)
    saved = (outcome.tokens_before or 0) - (outcome.tokens_after or 0)
    result.tokens_after = max(0, (result.tokens_before or 0) - saved)


def _cost_facts(result: RequestBody, doc: dict[str, Any], reports: list[OutputReport],
                messages: list[Part] | None) -> None:
    """What pricing needs: tokens removed from outputs new in this request and from repeated
    ones, and the body's prefix digests with the proxy's rewrites folded in."""
    new_from = first_new_turn(doc)
    saved_new = saved_repeated = 0
    rewritten: dict[int, list[str]] = {}
    for report in reports:
        if not report.changed:
            result.changes.append(None)
            continue
        result.changes.append(OutputChange(report.compressor or report.note or "rewritten",
                                           report.tokens_before, report.tokens_after, report.text))
        rewritten.setdefault(report.output.turn, []).append(report.text)
        saved = report.tokens_before - report.tokens_after
        if report.output.turn >= new_from:
            saved_new += saved
        else:
            saved_repeated += saved
    result.cost = CostFacts(prefix_of(doc, rewritten, messages), saved_new, saved_repeated)


def _message_parts(doc: dict[str, Any], reuse: PrefixReuse | None, body: Body | None) -> list[Part] | None:
    """Each turn's part for the prompt-cache digests; the repeated turns' from the earlier request."""
    if reuse is None or body is None or body.indexed is None or conversation_of(doc) is not body.indexed.turns:
        return None
    return reuse.per_turn(body, "cost.message_part", message_part)
