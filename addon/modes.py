"""The proxy's modes: what it may rewrite (``headroom_mode``; the README's "Modes")."""

from __future__ import annotations

from typing import Literal, get_args

__all__ = ["MODES", "Mode", "parse_mode"]

Mode = Literal["cache", "token", "off"]
"""cache: each tool output compressed once, earlier turns never touched; token: earlier turns
rewritten too, at checkpoints; off: every flow logged, none rewritten."""

MODES: tuple[Mode, ...] = get_args(Mode)


def parse_mode(text: str) -> Mode:
    """``text`` as a mode; a ValueError names the modes there are."""
    for mode in MODES:
        if text == mode:
            return mode
    raise ValueError(f"unknown mode {text!r} (known: {', '.join(MODES)})")
