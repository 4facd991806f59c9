"""``headroom compress``: one request body (or a JSONL batch) through the same pipeline as the proxy."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from headroom_mitm.addon.modes import MODES, Mode, parse_mode
from headroom_mitm.addon.providers import FORMAT_NAMES, WireFormat, by_name

if TYPE_CHECKING:  # the rules are loaded only when a command runs
    from headroom_mitm.addon.prefix_reuse import PrefixReuse
    from headroom_mitm.rules import RuleSet

EXAMPLES = """\
examples:
  headroom compress body.json > smaller.json
  headroom compress --mode token --rules my-rules.yaml < body.json
  headroom compress --jsonl --provider openai-chat bodies.jsonl > out.jsonl
"""


class BodyError(ValueError):
    """A request body that cannot be compressed; it is passed on unchanged."""


def guess_format(doc: Any) -> str:
    """The wire format a request body is written in, told from its shape alone."""
    if not isinstance(doc, dict):
        raise BodyError("the body is not a JSON object")
    if isinstance(doc.get("contents"), list):
        return "gemini"
    messages = doc.get("messages")
    if isinstance(messages, list):
        return "anthropic" if _looks_anthropic(doc, messages) else "openai-chat"
    if "input" in doc:
        return "openai-responses"
    raise BodyError("cannot tell the body's format (no messages, input or contents); pass --provider")


def _looks_anthropic(doc: dict[str, Any], messages: list[Any]) -> bool:
    if "system" in doc or "anthropic_version" in doc:
        return True
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("role") in ("system", "developer", "tool") or "tool_calls" in message:
            return False
        content = message.get("content")
        if isinstance(content, list) and any(
            isinstance(block, dict) and block.get("type") in ("tool_use", "tool_result") for block in content
        ):
            return True
    model = doc.get("model")
    return isinstance(model, str) and model.startswith("claude")


def parse_body(text: str, provider: str) -> tuple[dict[str, Any], WireFormat]:
    """(parsed body, wire format) for a body's text; raises ``BodyError``."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise BodyError(f"not JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise BodyError("the body is not a JSON object")
    name = guess_format(doc) if provider == "auto" else provider
    return doc, by_name(name)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rules", metavar="FILE", help="rule file (default: the shipped rules/default.yaml)")
    parser.add_argument("--mode", choices=MODES, default="cache",
                        help="cache (default): never changes earlier turns; token: may, for more savings")
    parser.add_argument("--provider", choices=("auto", *FORMAT_NAMES), default="auto",
                        help="the body's wire format (default: guessed from its shape)")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compress",
        help="compress the tool outputs of request bodies, as the proxy would",
        description="Read one request body (FILE or stdin) and print it with its tool outputs "
        "compressed under the rules. With --jsonl, read one body per line and write one per line, "
        "in order; a line that cannot be parsed is written back unchanged and reported on stderr.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common_arguments(parser)
    parser.add_argument("--jsonl", action="store_true", help="one body per line in, one per line out")
    parser.add_argument("file", nargs="?", default="-", metavar="FILE", help="body file, or - for stdin (default)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from headroom_mitm.rules import RulesError, load_rules

    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        print(f"headroom compress: {exc}", file=sys.stderr)
        return 2
    try:
        source = sys.stdin if args.file == "-" else open(args.file, encoding="utf-8", newline="")
    except OSError as exc:
        print(f"headroom compress: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    with source:
        if args.jsonl:
            return _run_jsonl(source, sys.stdout, rules, parse_mode(args.mode), args.provider)
        return _run_one(source.read(), sys.stdout, rules, parse_mode(args.mode), args.provider)


def compress_text(text: str, rules: RuleSet, mode: Mode, provider: str, reuse: PrefixReuse | None = None) -> str:
    """One body's text, compressed; raises ``BodyError`` for a body it cannot read.
    ``reuse``: the memory the bodies of one batch share, so that each works only on what it
    adds to the one before (the result is the same)."""
    from headroom_mitm.addon.pipeline import compress_body

    if reuse is None:
        doc, wire = parse_body(text, provider)
        return compress_body(text, doc, wire, rules, mode).text
    try:
        body = reuse.parse(text)
    except ValueError as exc:
        raise BodyError(f"not JSON: {exc}") from exc
    if not isinstance(body.doc, dict):
        raise BodyError("the body is not a JSON object")
    wire = by_name(guess_format(body.doc) if provider == "auto" else provider)
    outcome = reuse.compress(body, wire, rules, mode, None)
    reuse.remember(body, rules.framings)
    return outcome.text


def _run_one(text: str, out: TextIO, rules: RuleSet, mode: Mode, provider: str) -> int:
    try:
        result = compress_text(text, rules, mode, provider)
    except BodyError as exc:
        out.write(text)  # nothing lost: the body goes on as it came
        print(f"headroom compress: {exc}; body written unchanged", file=sys.stderr)
        return 1
    out.write(result)
    return 0


def _run_jsonl(source: TextIO, out: TextIO, rules: RuleSet, mode: Mode, provider: str) -> int:
    from headroom_mitm.addon.prefix_reuse import PrefixReuse

    reuse = PrefixReuse()  # a batch of one conversation's requests repeats each one's turns
    failed = 0
    for number, line in enumerate(source, start=1):
        body, newline = (line[:-1], "\n") if line.endswith("\n") else (line, "")
        if body.endswith("\r"):
            body, newline = body[:-1], "\r" + newline
        if not body.strip():
            out.write(line)
            continue
        try:
            body = compress_text(body, rules, mode, provider, reuse)
        except Exception as exc:  # one bad line must not lose the others
            failed += 1
            reason = str(exc) if isinstance(exc, BodyError) else f"{type(exc).__name__}: {exc}"
            print(f"headroom compress: line {number}: {reason}; written unchanged", file=sys.stderr)
        out.write(body + newline)
    return 1 if failed else 0
