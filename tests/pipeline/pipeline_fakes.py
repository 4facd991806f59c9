"""Small compressors with obvious behaviour, and bodies built around them, for pipeline tests."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from headroom_mitm.addon.compress._base import Compressed, CompressorSpec, ParamSpec
from headroom_mitm.rules import load_rules


def _head(text, params, ctx):
    lines = text.splitlines()
    if len(lines) <= params["lines"]:
        return Compressed(text)
    dropped = "\n".join(lines[params["lines"]:])
    return Compressed("\n".join(lines[: params["lines"]]) + f"\n[headroom: head {len(lines) - params['lines']} lines elided]",
                      originals=(dropped,))


def _squeeze(text, params, ctx):
    return Compressed("\n".join(" ".join(line.split()) for line in text.split("\n")))


def _same_as(text, params, ctx):
    import hashlib

    earlier = ctx.earlier_outputs.get(hashlib.sha256(text.encode()).hexdigest())
    return Compressed(f"[headroom: dedupe same as call {earlier}]" if earlier else text)


def _boom(text, params, ctx):
    raise RuntimeError("compressor bug")


def _longer(text, params, ctx):
    return Compressed(text + " and more")


def _spec(name, fn, lossless, **params):
    return CompressorSpec(name=name, fn=fn, params=params, lossless=lossless)


REGISTRY = {
    "head": _spec("head", _head, False, lines=ParamSpec(int, 3)),
    "squeeze": _spec("squeeze", _squeeze, True),
    "same_as": _spec("same_as", _same_as, True),
    "boom": _spec("boom", _boom, True),
    "longer": _spec("longer", _longer, True),
}

RULES = """\
protected_tools: [Secret]
verbatim_tools: [Exact]
files:
  read_tools: [Read]
  write_tools: [Write]
  edit_tools: [Edit]
  path_arguments: [file_path]
token_mode:
  edited_reads_min_age: 4
  step_turns: 1   # these tests are about what token mode retires; when is tested on its own
rules:
  - name: old-logs
    tool: Log
    mode: token
    min_age: 2
    compress: {head: {lines: 1}}
  - {name: reads, tool: Read, compress: [same_as, squeeze]}
  - {name: logs, tool: Log, compress: [same_as, head]}
  - {name: broken, tool: Flaky, compress: [squeeze, boom]}
  - {name: grows, tool: Grow, compress: longer}
  - {name: everything, compress: [same_as, squeeze]}
"""


def _load_trace_bodies() -> Any:
    # imported by file: putting tests/ on sys.path would let tests/rules shadow the rules package
    path = Path(__file__).resolve().parents[1] / "trace_bodies.py"
    spec = importlib.util.spec_from_file_location("trace_bodies", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("trace_bodies", module)
    spec.loader.exec_module(module)
    return module


trace_bodies = _load_trace_bodies()


def fake_rules(tmp_path: Path, text: str = RULES):
    path = tmp_path / "rules.yaml"
    path.write_text(text, encoding="utf-8")
    return load_rules(str(path), REGISTRY)


RETRIEVE_TOOL = {"name": "mcp__headroom__headroom_retrieve", "description": "Read what a marker's #ref stands for.",
                 "input_schema": {"type": "object", "properties": {"ref": {"type": "string"}}}}
"""The retrieve tool as Claude Code declares it once `headroom mcp` is registered: lossy
compression only runs in requests that declare it."""


def anthropic_body(calls: list[tuple[str, dict[str, Any], str]], model: str = "claude-test",
                   retrieval: bool = True) -> dict[str, Any]:
    """A Messages body with one assistant tool call and its result per entry; ``retrieval``
    declares the retrieve tool (the model can get dropped text back)."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "start"}]
    for index, (tool, arguments, output) in enumerate(calls):
        call_id = f"toolu_{index:02d}"
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": call_id, "name": tool, "input": arguments}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": call_id, "content": output}]})
    body = {"model": model, "max_tokens": 100, "system": "You code.", "messages": messages}
    if retrieval:
        body["tools"] = [RETRIEVE_TOOL]
    return body


def raw(body: dict[str, Any]) -> str:
    return json.dumps(body)
