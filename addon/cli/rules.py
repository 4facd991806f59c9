"""``headroom rules check`` and ``headroom rules explain``: see what a rule file says and does."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

CHECK_EXAMPLES = """\
examples:
  headroom rules check my-rules.yaml
  headroom rules check --json my-rules.yaml
"""

EXPLAIN_EXAMPLES = """\
examples:
  headroom rules explain body.json
  headroom rules explain --rules my-rules.yaml --mode token - < body.json
  headroom rules explain --json body.json | jq '.outputs[] | select(.changed)'
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rules", help="check a rule file, or explain what rules do to a body",
                                   description="Work with the YAML compression rules (schema: rules/README.md).")
    commands = parser.add_subparsers(dest="rules_command", metavar="COMMAND")

    check = commands.add_parser(
        "check", help="validate a rule file", epilog=CHECK_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Validate a rule file: exit 0 with a summary, or exit 1 with each problem as FILE:LINE: message.")
    check.add_argument("file", nargs="?", metavar="FILE", help="rule file (default: the shipped default.yaml)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=run_check)

    from headroom_mitm.addon.cli.compress import add_common_arguments

    explain = commands.add_parser(
        "explain", help="show which rule matched each tool output of a request body",
        epilog=EXPLAIN_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="For one request body, list every tool output: the rule that matched, what it "
        "did, and the tokens before and after.")
    add_common_arguments(explain)
    explain.add_argument("body", nargs="?", default="-", metavar="BODY", help="body file, or - for stdin (default)")
    explain.add_argument("--json", action="store_true", help="print the result as JSON")
    explain.set_defaults(func=run_explain)
    parser.set_defaults(func=lambda args: (parser.print_help(), 2)[1])


def run_check(args: argparse.Namespace) -> int:
    from headroom_mitm.rules import check_rules

    rule_set, errors = check_rules(args.file)
    name = args.file or "default.yaml"
    if args.json:
        print(json.dumps({
            "file": name,
            "ok": not errors,
            "errors": [{"path": e.path, "line": e.line, "message": e.message} for e in errors],
            "summary": rule_set.describe() if rule_set else None,
        }, indent=2))
    elif errors:
        for error in errors:
            print(error, file=sys.stderr)
        print(f"{name}: {len(errors)} problem{'s' if len(errors) != 1 else ''}", file=sys.stderr)
    else:
        assert rule_set is not None
        print(f"{name}: ok: {rule_set.describe()}")
    return 1 if errors else 0


def run_explain(args: argparse.Namespace) -> int:
    from headroom_mitm.addon.cli.compress import BodyError, parse_body
    from headroom_mitm.addon.modes import parse_mode
    from headroom_mitm.addon.pipeline import compress_body
    from headroom_mitm.rules import RulesError, load_rules

    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        print(f"headroom rules explain: {exc}", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args.body == "-" else open(args.body, encoding="utf-8").read()
        doc, wire = parse_body(text, args.provider)
    except (OSError, BodyError) as exc:
        print(f"headroom rules explain: {exc}", file=sys.stderr)
        return 1
    outcome = compress_body(text, doc, wire, rules, parse_mode(args.mode))
    rows = [_row(index, report) for index, report in enumerate(outcome.outputs)]
    if args.json:
        print(json.dumps({"format": wire.name, "mode": args.mode, "outputs": rows,
                          "tokens_before": outcome.tokens_before, "tokens_after": outcome.tokens_after},
                         indent=2, ensure_ascii=False))
        return 0
    print(_table(rows))
    ratio = outcome.tokens_after / outcome.tokens_before if outcome.tokens_before else 1.0
    print(f"\n{len(rows)} tool outputs ({wire.name}, {args.mode} mode): "
          f"{outcome.tokens_before} -> {outcome.tokens_after} tokens ({ratio:.3f})")
    return 0


def _row(index: int, report: Any) -> dict[str, Any]:
    return {
        "index": index,
        "tool": report.output.tool_name,
        "call_id": report.output.call_id,
        "kind": report.kind,
        "action": report.action,
        "compressor": report.compressor,
        "rule": report.rule,
        "tokens_before": report.tokens_before,
        "tokens_after": report.tokens_after,
        "changed": report.changed,
        "note": report.note,
    }


def _table(rows: list[dict[str, Any]]) -> str:
    headers = ("#", "tool", "kind", "action", "compressor", "rule", "before", "after", "note")
    lines = [headers] + [
        (str(r["index"]), r["tool"] or "?", r["kind"], r["action"] if r["changed"] or r["action"] != "compress" else "compress (unchanged)",
         r["compressor"] or "", r["rule"], str(r["tokens_before"]), str(r["tokens_after"]), r["note"])
        for r in rows
    ]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    numeric = {0, 6, 7}
    return "\n".join(
        "  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip()
        for line in lines
    )
