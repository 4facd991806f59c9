"""A stand-in compressor registry, so rule tests do not depend on which compressors exist."""

from __future__ import annotations

from pathlib import Path

from headroom_mitm.addon.compress._base import Compressed, CompressorSpec, ParamSpec
from headroom_mitm.addon.tool_output import ToolOutput


def _unchanged(text, params, ctx):
    return Compressed(text)


def _spec(name: str, lossless: bool, **params: ParamSpec) -> CompressorSpec:
    return CompressorSpec(name=name, fn=_unchanged, params=params, lossless=lossless)


FAKE_REGISTRY = {
    "json_table": _spec("json_table", True, min_rows=ParamSpec(int, 3)),
    "json_sample": _spec("json_sample", False, max_items=ParamSpec(int, 20), ratio=ParamSpec(float, 0.5)),
    "log": _spec("log", False, context=ParamSpec(int, 2)),
    "dedupe": _spec("dedupe", True),
}


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def output(tool: str = "Bash", text: str = "x", provider: str = "anthropic", is_error: bool = False) -> ToolOutput:
    return ToolOutput(provider=provider, path=("messages", 1, "content", 0, "content"), text=text,
                      tool_name=tool, is_error=is_error)
