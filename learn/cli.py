"""``headroom learn`` and ``headroom import``."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

from headroom_mitm.learn.mine import Pattern, mine, project_root, select_patterns
from headroom_mitm.learn.projects import folder_names, is_path, repository_of
from headroom_mitm.learn.write import AGENT_FILES, MAX_LINES, BlockError, plan_changes, render_line, render_lines

logger = logging.getLogger(__name__)

__all__ = ["register", "run_learn", "run_import"]

LEARN_EXAMPLE = """\
examples:
  headroom learn ~/.headroom/flows.db                  # this project: write CLAUDE.md, AGENTS.md, .cursor/rules/headroom.mdc
  headroom learn flows.db --project all --dry-run      # every project in the log: show the diffs only
  headroom learn postgresql://team@db/headroom --json  # patterns as data, nothing written
"""

IMPORT_EXAMPLE = """\
examples:
  headroom import ~/.claude/projects ~/.codex/sessions
  headroom import runs/*.traj.json --db /tmp/flows.db
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    learn = subparsers.add_parser(
        "learn",
        help="mine the flow log for recurring failures and write them into CLAUDE.md / AGENTS.md",
        description="Find tool calls that failed and the changed call that worked, across sessions, "
        "and write them as short advice into the files each agent reads at startup. "
        "Offline and deterministic: no model is called.",
        epilog=LEARN_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    learn.add_argument(
        "source",
        nargs="?",
        default=None,
        help="the flow log: a SQLite file or a SQLAlchemy URL, or @FILE holding it "
        "(default: $HEADROOM_DB, else ~/.headroom/flows.db)",
    )
    learn.add_argument(
        "--project",
        default=None,
        help="whose patterns to learn: a project path (default: the current directory) or 'all'",
    )
    learn.add_argument(
        "--out",
        default=None,
        help="folder to write the files into (default: each project's root); with --project all, "
        "one folder per project under it, named for the repository",
    )
    learn.add_argument(
        "--min-evidence", type=int, default=2, help="distinct sessions a pattern needs (default: 2)"
    )
    learn.add_argument(
        "--agents",
        default="claude,codex,cursor",
        help="which files to write: claude (CLAUDE.md), codex (AGENTS.md), cursor "
        "(.cursor/rules/headroom.mdc); default: all three",
    )
    learn.add_argument("--max-lines", type=int, default=MAX_LINES, help=argparse.SUPPRESS)
    learn.add_argument("--dry-run", action="store_true", help="print the diff it would apply, write nothing")
    learn.add_argument("--json", action="store_true", help="print the patterns as JSON, write nothing")
    learn.set_defaults(func=run_learn)

    importer = subparsers.add_parser(
        "import",
        help="load agent transcripts (Claude Code, Codex, mini-swe-agent, SWE-agent) into the flow log",
        description="Read transcripts into the flow log's tool_calls so `headroom learn` can use "
        "history too. Paths may be files or folders (searched recursively). A call already in the "
        "log, from an earlier import or from the proxy, is not stored twice.",
        epilog=IMPORT_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("paths", nargs="+", help="transcript files or folders")
    importer.add_argument(
        "--db", default=None, help="the flow log, or @FILE holding it (default: $HEADROOM_DB, else ~/.headroom/flows.db)"
    )
    importer.add_argument("--json", action="store_true", help="print the counts as JSON")
    importer.set_defaults(func=run_import)


def _agents(text: str) -> list[str]:
    agents = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [agent for agent in agents if agent not in AGENT_FILES]
    if unknown or not agents:
        raise ValueError(f"--agents: unknown {', '.join(unknown) or '(none)'}; choose from {', '.join(AGENT_FILES)}")
    return agents


def run_learn(args: argparse.Namespace) -> int:
    from headroom_mitm.addon.cli.flow_log import run_on_flow_log
    from headroom_mitm.learn.log import read_calls

    try:
        agents = _agents(args.agents)
    except ValueError as exc:
        print(f"headroom learn: {exc}", file=sys.stderr)
        return 1
    if args.min_evidence < 1:
        print("headroom learn: --min-evidence must be at least 1", file=sys.stderr)
        return 1
    mined = []

    def read(engine, _target: str) -> int:
        mined.append(mine(read_calls(engine)))
        return 0

    status = run_on_flow_log(
        "learn", args.source, read, sys.stderr,
        missing_hint="Import transcripts (headroom import) or run the proxy first.\n",
    )
    if status:
        return status
    result = mined[0]
    everything = args.project == "all"
    project = None if everything else _project_key(args.project)
    chosen = select_patterns(result.patterns, project, args.min_evidence)

    if args.json:
        print(json.dumps({"patterns": [dict(p.as_json(), line=render_line(p)) for p in chosen]}, indent=2))
        return 0

    targets = _targets(chosen, project, everything, args.out)
    changes = []
    missing_roots: list[tuple[Path, int]] = []
    for root, patterns in targets:
        lines = render_lines(patterns, args.max_lines)
        # a folder under --out is made for its project; a project's own root must exist
        if not root.is_dir() and not (everything and args.out is not None):
            missing_roots.append((root, len(lines)))
            continue
        try:
            changes.extend(plan_changes(root, lines, agents))
        except BlockError as exc:
            print(f"headroom learn: {exc}", file=sys.stderr)
            return 1

    _print_summary(result.calls, result.sessions, chosen, args.min_evidence)
    if args.dry_run and any(change.changed for change in changes):
        print()
    for change in changes:
        for warning in change.warnings:
            print(f"headroom learn: {warning}", file=sys.stderr)
        if args.dry_run:
            sys.stdout.write(change.diff())
        elif change.changed:
            change.apply()
            print(f"{'removed' if change.after is None else 'wrote'} {change.path}")
        elif change.before is not None:
            print(f"unchanged {change.path}")
    # stdout first: the notes below must not land in the middle of the table or a diff
    sys.stdout.flush()
    for root, count in missing_roots:
        lessons = f"{count} lesson{'s' if count != 1 else ''}"
        print(
            f"headroom learn: {'no diff' if args.dry_run else 'nothing written'} for {root}: that folder does not exist here "
            f"({lessons} for it; use --out DIR to write them elsewhere)",
            file=sys.stderr,
        )
    return 0


def _project_key(given: str | None) -> str:
    """The repository a --project path (default: the current directory) belongs to."""
    path = str(Path(given or os.getcwd()).expanduser().resolve())
    return repository_of(path) or path


def _targets(
    chosen: list[Pattern], project: str | None, everything: bool, out: str | None
) -> list[tuple[Path, list[Pattern]]]:
    """(folder, its patterns) for every file set to write.

    One project: its root, or --out. Every project: each one's root, or with --out one folder
    per project under it, named for the repository, so the lessons of two repositories never
    share a file.
    """
    if not everything:
        root = Path(out).expanduser() if out is not None else Path(project_root(project or os.getcwd(), chosen))
        return [(root, chosen)]
    projects = sorted({name for pattern in chosen for name in pattern.projects if name})
    if out is None:
        return [(Path(name), select_patterns(chosen, name, 1)) for name in projects if is_path(name)] + [
            (Path(name), select_patterns(chosen, name, 1)) for name in projects if not is_path(name)
        ]
    folders = folder_names(projects)
    return [(Path(out).expanduser() / folders[name], select_patterns(chosen, name, 1)) for name in projects]


def _print_summary(calls: int, sessions: int, chosen: list[Pattern], min_evidence: int) -> None:
    print(f"{calls} tool calls in {sessions} sessions; {len(chosen)} patterns with evidence >= {min_evidence}")
    if not chosen:
        return
    print(f"{'sessions':>8}  {'kind':<13}  lesson")
    for pattern in chosen:
        print(f"{pattern.evidence:>8}  {pattern.kind:<13}  {render_line(pattern)[2:]}")


def run_import(args: argparse.Namespace) -> int:
    from headroom_mitm.addon.cli.flow_log import run_on_flow_log
    from headroom_mitm.addon.store.target import describe_target
    from headroom_mitm.learn.importers import TranscriptError
    from headroom_mitm.learn.log import import_transcripts

    done = []

    def load(engine, target: str) -> int:
        try:
            done.append((import_transcripts(args.paths, engine), target))
        except TranscriptError as exc:
            print(f"headroom import: {exc}", file=sys.stderr)
            return 1
        return 0

    status = run_on_flow_log("import", args.db, load, sys.stderr, create=True, upgrade=True)
    if status:
        return status
    summary, target = done[0]
    if args.json:
        print(
            json.dumps(
                {
                    "db": describe_target(target),
                    "files": summary.files,
                    "calls_added": summary.added,
                    "calls_already_present": summary.already_present,
                    "added_by_agent": dict(sorted(summary.by_agent.items())),
                },
                indent=2,
            )
        )
        return 0
    print(f"{'files':>6}  {'calls added':>11}  {'already present':>15}  db")
    print(f"{summary.files:>6}  {summary.added:>11}  {summary.already_present:>15}  {describe_target(target)}")
    return 0
