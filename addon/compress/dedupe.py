"""An output identical to an earlier one in the conversation becomes a reference to it.

Only ever refers backward (``ctx.earlier_outputs`` holds what came before), so the bytes sent
for earlier turns never change and the prompt cache keeps hitting.
"""

from __future__ import annotations

import hashlib
from typing import Any, Mapping

from ._base import Compressed, Context, smaller_or_unchanged, unchanged
from .markers import marker, ref_of


def compress(text: str, params: Mapping[str, Any], ctx: Context) -> Compressed:
    if len(text) < int(params.get("min_chars", 200)) or not ctx.earlier_outputs:
        return unchanged(text)
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    earlier_call = ctx.earlier_outputs.get(digest)
    if not earlier_call or earlier_call == ctx.call_id:
        return unchanged(text)
    note = marker("dedupe", f"identical to the output of call {earlier_call}", ref_of(text))
    return smaller_or_unchanged(text, note, (text,))
