"""The one marker grammar: everything a compressor inserts into a tool output looks like this.

    [headroom: <kind> <detail> #<ref>]

- ``kind``   the compressor that wrote it, lowercase letters, digits and ``_`` (``lines``,
             ``log``, ``json_sample``, ``reread`` ...).
- ``detail`` optional free text for the reader: what was done and how much, e.g.
             ``120 lines elided`` or ``numbered 1-240 arrow``. It never contains ``[``, ``]``,
             ``#`` or a line break, so one regular expression reads every marker.
- ``ref``    optional: the first 12 hex digits of the sha256 of the original content the
             compressor set aside. The proxy stores that content in its originals table under
             the full hash, so ``#3fa9c01b22de`` finds it again. Lossless re-renderings carry no
             ref: the text itself is enough to restore the original.

A marker is one whole line of its own, so it never fuses with the content around it; the one
exception is ``long_lines``, whose marker stands inside the line it cuts so the line count holds.
Examples::

    [headroom: lines numbered 1-240 arrow]
    [headroom: log 1180 lines elided #3fa9c01b22de]
    [headroom: reread identical to the read in call toolu_01AbC #9c1d0e2f7a44]
    [headroom: seen lines 30-54 of call step-7, numbered 103-127 tab]

``MARKER_RE`` matches one marker anywhere in a text; ``parse_marker`` reads a line that is
exactly one marker.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

__all__ = ["MARKER_RE", "Marker", "marker", "parse_marker", "ref_of"]

MARKER_RE = re.compile(
    r"\[headroom: (?P<kind>[a-z0-9_]+)(?: (?P<detail>[^\[\]#\r\n]*?))?(?: #(?P<ref>[0-9a-f]{12}))?\]"
)

_KIND_RE = re.compile(r"[a-z0-9_]+")
_FORBIDDEN_IN_DETAIL = re.compile(r"[\[\]#\r\n]")
REF_LENGTH = 12


@dataclass(frozen=True)
class Marker:
    kind: str
    detail: str
    ref: str | None


def ref_of(original: str) -> str:
    """The short reference a marker carries for content set aside in the originals table."""
    return hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:REF_LENGTH]


def marker(kind: str, detail: str = "", ref: str | None = None) -> str:
    """Render one marker. ``detail`` is sanitised so the result always parses back."""
    if not _KIND_RE.fullmatch(kind):
        raise ValueError(f"marker kind must be lowercase letters, digits or _: {kind!r}")
    if ref is not None and not re.fullmatch(r"[0-9a-f]{12}", ref):
        raise ValueError(f"marker ref must be 12 lowercase hex digits (see ref_of): {ref!r}")
    clean = " ".join(_FORBIDDEN_IN_DETAIL.sub(" ", detail).split())
    text = f"[headroom: {kind}"
    if clean:
        text += f" {clean}"
    if ref:
        text += f" #{ref}"
    return text + "]"


def parse_marker(line: str) -> Marker | None:
    """The marker that is exactly ``line``, or None."""
    match = MARKER_RE.fullmatch(line)
    if not match:
        return None
    return Marker(match["kind"], match["detail"] or "", match["ref"])
