"""Turn what the addon saw of one provider call into the flow log's entry."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from headroom_mitm.addon.flow_state import FlowState
from headroom_mitm.addon.redact import redact_url_path
from headroom_mitm.addon.request_body import OutputChange
from headroom_mitm.addon.store.entries import FlowEntry, ToolCallEntry
from headroom_mitm.addon.tool_output import ToolOutput


def tool_call_entries(
    outputs: Iterable[ToolOutput], session_id: str, project: str | None, provider: str,
    changes: Sequence[OutputChange | None] = (),
) -> list[ToolCallEntry]:
    """One entry per tool call: a result split over several text blocks is joined back. The
    output is stored as the agent sent it, its framing included (the pieces of one frame are one
    text), with the exit code the framing states. ``changes`` (per output) adds what
    compression made of it: the compressors, tokens before and after, the text sent."""
    calls: dict[tuple[int, str], ToolCallEntry] = {}
    stored_paths: set[tuple] = set()
    for index, output in enumerate(outputs):
        change = changes[index] if index < len(changes) else None
        if change is not None:
            _add_change(calls.get((output.turn, output.call_id)), change)  # joined below if new
        if output.path in stored_paths:
            continue  # another piece of a frame already stored whole
        stored_paths.add(output.path)
        text = output.frame.frame.outer if output.frame is not None else output.text
        key = (output.turn, output.call_id)
        entry = calls.get(key)
        if entry is None:
            calls[key] = ToolCallEntry(
                session_id=session_id,
                call_id=output.call_id,
                tool=output.tool_name,
                arguments=output.arguments,
                output=text,
                is_error=output.is_error,
                provider=provider,
                position=len(calls),
                project=project,
                source="proxy",
                exit_code=output.exit_code,
            )
            if change is not None:
                _add_change(calls[key], change)
        else:
            entry.output += "\n" + text
            entry.is_error = entry.is_error or output.is_error
            if entry.exit_code is None:
                entry.exit_code = output.exit_code
    return list(calls.values())


def _add_change(entry: ToolCallEntry | None, change: OutputChange) -> None:
    if entry is None:
        return
    names = [n for n in (entry.compressor or "").split("+") if n]
    names += [n for n in change.compressor.split("+") if n and n not in names]
    entry.compressor = "+".join(names)
    entry.tokens_before = (entry.tokens_before or 0) + change.tokens_before
    entry.tokens_after = (entry.tokens_after or 0) + change.tokens_after
    entry.sent = change.sent if entry.sent is None else entry.sent + "\n" + change.sent


def build_entry(state: FlowState) -> FlowEntry:
    """The log entry of a flow that has ended."""
    body = state.body
    summary = state.summary
    usage = summary.usage if summary is not None and not summary.usage.is_empty else None
    provider = state.wire.name if state.wire is not None else ""
    errors = [text for text in (state.error, summary.error if summary else None, *state.notes) if text]
    return FlowEntry(
        host=state.host,
        path=redact_url_path(state.path),
        method=state.method,
        provider=provider,
        model=body.model or (summary.model if summary and summary.model else ""),
        started_at=state.started_at,
        transport=state.transport,
        status_code=state.status_code,
        latency_ms=state.latency_ms,
        request_bytes_before=state.request_bytes,
        request_bytes_after=len(body.new_body) if body.new_body is not None else state.request_bytes,
        tokens_before=body.tokens_before,
        tokens_after=body.tokens_after,
        usage_input=usage.uncached_input_tokens if usage else None,  # the log bills cache apart
        usage_output=usage.output_tokens if usage else None,
        usage_cache_read=usage.cache_read_tokens if usage else None,
        usage_cache_write=usage.cache_write_tokens if usage else None,
        usage_cache_write_1h=usage.cache_write_1h_tokens if usage else None,
        stop_reason=summary.stop_reason if summary else None,
        mode=state.mode,
        session_id=body.session_id or None,
        project=body.project,
        error="; ".join(errors) or None,
        tool_outputs=len(body.outputs),
        tool_outputs_rewritten=body.rewritten,
        tool_calls=tool_call_entries(body.outputs, body.session_id, body.project, provider, body.changes),
        originals=body.originals,
        agent=state.agent,
        credential_kind=state.credential.kind,
        credential_id=state.credential.id,
        attested=body.attested,
        policy=body.gate.policy if body.gate else None,
        unmodified_reason=body.gate.reason if body.gate else None,
        billing_bucket=state.billing.bucket if state.billing else None,
        billing=state.billing.as_json() if state.billing else None,
        refusal=state.refusal,
        limited=state.limited,
        retried=state.retried or None,
        breaker_trip=state.trip,
        known_secrets=state.secrets,
    )
