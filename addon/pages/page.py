"""What a page answers, whichever way it was asked for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    status: int
    content_type: str
    body: bytes
