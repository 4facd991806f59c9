"""What each provider answers, as JSON documents and as streamed events.

Streams are ``(event name or None, data)`` pairs; the server frames them as SSE or WebSocket
messages.
"""

from __future__ import annotations

from typing import Any, Iterator

# Distinctive numbers so a test can tell the fake's usage apart from anything computed locally.
ANTHROPIC_USAGE = {
    "input_tokens": 1234,
    "output_tokens": 56,
    "cache_read_input_tokens": 789,
    "cache_creation_input_tokens": 321,
}
OPENAI_CHAT_USAGE = {"prompt_tokens": 2345, "completion_tokens": 67, "cached_tokens": 1024}
OPENAI_RESPONSES_USAGE = {"input_tokens": 3456, "output_tokens": 78, "cached_tokens": 2048}
GEMINI_USAGE = {"prompt": 4567, "candidates": 89, "cached": 512}

Events = Iterator[tuple[str | None, dict[str, Any]]]


def invalid_json_error(host: str) -> dict[str, Any]:
    if host == "api.anthropic.com":
        return {"type": "error", "error": {"type": "invalid_request_error", "message": "invalid JSON body"}}
    return {"error": {"message": "We could not parse the JSON body of your request.", "type": "invalid_request_error"}}


def model_list(host: str) -> dict[str, Any]:
    if host == "api.anthropic.com":
        model = {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5",
                 "created_at": "2025-09-29T00:00:00Z"}
        return {"data": [model], "has_more": False, "first_id": model["id"], "last_id": model["id"]}
    return {"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}]}


def anthropic_message(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_fake_01", "type": "message", "role": "assistant",
        "model": payload.get("model", "claude-sonnet-4-5"),
        "content": [{"type": "text", "text": "Hello from the fake."}],
        "stop_reason": "end_turn", "stop_sequence": None,
        "usage": dict(ANTHROPIC_USAGE),
    }


def anthropic_events(payload: dict[str, Any]) -> Events:
    usage = ANTHROPIC_USAGE
    start_usage = {**usage, "output_tokens": 1}
    yield "message_start", {"type": "message_start", "message": {
        "id": "msg_fake_01", "type": "message", "role": "assistant", "content": [],
        "model": payload.get("model", "claude-sonnet-4-5"), "stop_reason": None,
        "stop_sequence": None, "usage": start_usage}}
    yield "content_block_start", {"type": "content_block_start", "index": 0,
                                  "content_block": {"type": "text", "text": ""}}
    yield "ping", {"type": "ping"}
    for piece in ("Hello", " from", " the fake."):
        yield "content_block_delta", {"type": "content_block_delta", "index": 0,
                                      "delta": {"type": "text_delta", "text": piece}}
    yield "content_block_stop", {"type": "content_block_stop", "index": 0}
    yield "message_delta", {"type": "message_delta",
                            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                            "usage": dict(usage)}
    yield "message_stop", {"type": "message_stop"}


def _chat_usage() -> dict[str, Any]:
    u = OPENAI_CHAT_USAGE
    return {"prompt_tokens": u["prompt_tokens"], "completion_tokens": u["completion_tokens"],
            "total_tokens": u["prompt_tokens"] + u["completion_tokens"],
            "prompt_tokens_details": {"cached_tokens": u["cached_tokens"]},
            "completion_tokens_details": {"reasoning_tokens": 0}}


def chat_completion(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake", "object": "chat.completion", "created": 1750000000,
        "model": payload.get("model", "gpt-4o"),
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "Hello from the fake."}}],
        "usage": _chat_usage(),
    }


def chat_chunks(payload: dict[str, Any]) -> Events:
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1750000000,
            "model": payload.get("model", "gpt-4o")}
    yield None, {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                      "finish_reason": None}]}
    for piece in ("Hello", " from", " the fake."):
        yield None, {**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
    yield None, {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if (payload.get("stream_options") or {}).get("include_usage"):
        yield None, {**base, "choices": [], "usage": _chat_usage()}


def _responses_usage() -> dict[str, Any]:
    u = OPENAI_RESPONSES_USAGE
    return {"input_tokens": u["input_tokens"], "output_tokens": u["output_tokens"],
            "total_tokens": u["input_tokens"] + u["output_tokens"],
            "input_tokens_details": {"cached_tokens": u["cached_tokens"]},
            "output_tokens_details": {"reasoning_tokens": 0}}


def responses_object(payload: dict[str, Any], *, completed: bool = True) -> dict[str, Any]:
    message = {"id": "msg_fake", "type": "message", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "Hello from the fake.", "annotations": []}]}
    return {
        "id": "resp_fake", "object": "response", "created_at": 1750000000,
        "status": "completed" if completed else "in_progress",
        "model": payload.get("model", "gpt-5"), "output": [message] if completed else [],
        "parallel_tool_calls": True, "tool_choice": "auto", "tools": [],
        "usage": _responses_usage() if completed else None,
    }


def responses_events(payload: dict[str, Any]) -> Events:
    """The event sequence of a streamed Responses answer with one text message."""
    in_progress = responses_object(payload, completed=False)
    done = responses_object(payload)
    message = done["output"][0]
    part = message["content"][0]
    where = {"item_id": message["id"], "output_index": 0}
    events: list[tuple[str, dict[str, Any]]] = [
        ("response.created", {"response": in_progress}),
        ("response.in_progress", {"response": in_progress}),
        ("response.output_item.added", {"output_index": 0, "item": {**message, "status": "in_progress", "content": []}}),
        ("response.content_part.added", {**where, "content_index": 0, "part": {**part, "text": ""}}),
        *(("response.output_text.delta", {**where, "content_index": 0, "delta": piece})
          for piece in ("Hello", " from", " the fake.")),
        ("response.output_text.done", {**where, "content_index": 0, "text": part["text"]}),
        ("response.content_part.done", {**where, "content_index": 0, "part": part}),
        ("response.output_item.done", {"output_index": 0, "item": message}),
        ("response.completed", {"response": done}),
    ]
    for number, (name, data) in enumerate(events):
        yield name, {"type": name, "sequence_number": number, **data}


def gemini_response(model: str, *, final: bool, text: str = "Hello from the fake.") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    answer: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
    if final:
        u = GEMINI_USAGE
        candidate["finishReason"] = "STOP"
        answer["usageMetadata"] = {"promptTokenCount": u["prompt"], "candidatesTokenCount": u["candidates"],
                                   "cachedContentTokenCount": u["cached"],
                                   "totalTokenCount": u["prompt"] + u["candidates"]}
    return answer


def gemini_events(model: str) -> Events:
    yield None, gemini_response(model, final=False, text="Hello")
    yield None, gemini_response(model, final=False, text=" from")
    yield None, gemini_response(model, final=True, text=" the fake.")


def chatgpt_accounts(account_id: str) -> dict[str, Any]:
    """``/backend-api/wham/accounts/check``: Codex with a ChatGPT login reads its workspace's
    routing here before its first turn and gives up ("workspace routing discovery failed")
    without it. No residency constraint: Codex keeps talking to chatgpt.com."""
    account = {"id": account_id, "plan_type": "plus", "workspace_backend_origin": "https://chatgpt.com",
               "account_routing_override": "NO_CONSTRAINT"}
    return {"accounts": [account], "account_ordering": [account_id]}
