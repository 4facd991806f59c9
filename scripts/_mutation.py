"""Runs cosmic-ray over the modules that carry promises and prints what the tests let through.

Called by scripts/mutation (which installs the ``mutation`` extra and lowers the priority). The
mutants are made in a copy of the working tree (uncommitted changes included), imported through
a ``headroom_mitm`` overlay of symlinks that shadows the editable install, so the tree itself is
never touched and can be worked on during the 40 minutes a full run takes.

Each module is tested only by its own fast unit tests (``MODULES``), stopping at the first
failure. The operators are those that make the bugs a hand would: a boundary moved (``<`` for
``<=``), a condition negated or dropped, ``and`` for ``or``, a number off by one, a loop or an
exception handler that does nothing; the other cosmic-ray operators (``+`` for ``<<``, ``<``
for ``is``...) mostly make mutants any test kills and would only slow the run down.

A mutant that survives is looked up in scripts/mutation_equivalents.toml, the reviewed list of
mutants no test can kill (each with the reason); one not there is a missing test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EQUIVALENTS = ROOT / "scripts" / "mutation_equivalents.toml"
BIN = Path(sys.executable).parent

# Each module's own unit tests (pytest arguments): fast, and no real-trace replays.
MODULES: dict[str, tuple[str, ...]] = {
    "addon/redact.py": ("tests/store/test_store_redact.py",),
    "addon/providers/_splice.py": ("tests/providers/test_splice.py",),
    "addon/hosts.py": ("tests/proxy/test_hosts.py",),
    "rules/match.py": ("tests/rules/test_rules_matching.py", "tests/rules/test_rules_default.py"),
    "rules/schema.py": ("tests/rules/test_rules_validation.py", "tests/rules/test_rules_matching.py"),
    "addon/compress/json_table.py": ("tests/compress/test_json_table.py", "tests/compress/test_properties.py"),
    "addon/compress/_line_runs.py": ("tests/compress/test_seen_lines.py", "tests/compress/test_call_echo.py",
                                     "tests/compress/test_properties.py", "-k", "not real"),
    "learn/write.py": ("tests/learn/test_learn_write.py",),
}

_KEPT_COMPARISONS = "Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq|Is_IsNot|IsNot_Is|In_NotIn|NotIn_In"
# not "|" for "&": in this code they join types in annotations (never evaluated) and sets of names
_KEPT_ARITHMETIC = "Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Mul"
EXCLUDED_OPERATORS = (
    rf"core/ReplaceComparisonOperator_(?!(?:{_KEPT_COMPARISONS})$)",
    rf"core/ReplaceBinaryOperator_(?!(?:{_KEPT_ARITHMETIC})$)",
    r"core/ReplaceUnaryOperator_(?!Delete_(?:Not|USub)$)",
    r"core/Variable(?:Inserter|Replacer)",
)


@dataclass(frozen=True)
class Mutant:
    module: str
    operator: str
    line_number: int
    column: int
    line: str
    """The source line, stripped."""
    function: str
    killed: bool
    diff: str
    output: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What names a mutant across edits elsewhere: the line before and after the change."""
        return (self.module, self.operator, self.line, self.changed_lines())

    def changed_lines(self) -> str:
        return " / ".join(line[1:].strip() for line in self.diff.splitlines()
                          if line[:1] == "+" and not line.startswith("+++"))

    def killer(self) -> str:
        found = re.search(r"^(?:FAILED|ERROR) (\S+)", self.output, re.M)
        return found[1] if found else ("timeout" if self.output == "timeout" else "the test command failed")


def load_equivalents(path: Path) -> dict[tuple[str, str, str, str], str]:
    if not path.exists():
        return {}
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("equivalent", [])
    reviewed: dict[tuple[str, str, str, str], str] = {}
    for number, entry in enumerate(entries, 1):
        missing = {"module", "operator", "line", "mutated", "reason"} - set(entry)
        if missing:
            raise SystemExit(f"{path}: entry {number} lacks {', '.join(sorted(missing))}")
        reviewed[(entry["module"], entry["operator"], entry["line"], entry["mutated"])] = entry["reason"]
    return reviewed


def copy_tree(work: Path) -> Path:
    """The project's code and tests under ``work/src``, importable as headroom_mitm from ``work/site``."""
    source = work / "src"
    ignore = shutil.ignore_patterns("__pycache__", ".hypothesis", "*.pyc")
    for name in ("addon", "rules", "learn", "tests"):
        shutil.copytree(ROOT / name, source / name, ignore=ignore, symlinks=True)
    shutil.copy2(ROOT / "pyproject.toml", source / "pyproject.toml")
    overlay = work / "site" / "headroom_mitm"
    overlay.mkdir(parents=True)
    for name in ("addon", "rules", "learn"):
        (overlay / name).symlink_to(source / name, target_is_directory=True)
    # The test runs write no bytecode (cosmic-ray turns it off): compiled once here, checked by
    # hash, only the mutated module is compiled again for each run.
    subprocess.run([sys.executable, "-m", "compileall", "-q", "--invalidation-mode", "checked-hash", str(source)],
                   check=True, stdout=subprocess.DEVNULL)
    shared = ROOT.parent / "shared"
    if shared.is_dir():  # tests find ../shared/data beside the project
        (work / "shared").symlink_to(shared, target_is_directory=True)
    return source


def run_module(module: str, work: Path, source: Path, environment: dict[str, str],
               server: Path) -> tuple[list[Mutant], float]:
    tests = " ".join(shlex.quote(arg) for arg in MODULES[module])
    pytest_arguments = f"-x -q -p no:cacheprovider -p _mutation_plugin {tests}"
    client = f"{sys.executable} -I -S {ROOT / 'scripts' / '_mutation_client.py'} {server}"
    started = time.monotonic()
    baseline = subprocess.run(shlex.split(f"{client} 600 {pytest_arguments}"), cwd=source, env=environment,
                              capture_output=True, text=True)
    if baseline.returncode != 0:
        raise SystemExit(f"{module}: its tests fail without any mutation:\n{baseline.stdout[-3000:]}")
    # a mutant that makes the tests loop is killed after ten times their normal run
    timeout = max(20.0, 10 * (time.monotonic() - started))
    command = f"{client} {timeout:.0f} {pytest_arguments}"
    name = module.replace("/", "_").removesuffix(".py")
    config = work / f"{name}.toml"
    session = work / f"{name}.sqlite"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(module)}\n"
        f"timeout = {timeout + 10:.0f}.0\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(command)}\n"
        "[cosmic-ray.distributor]\nname = \"local\"\n"
        "[cosmic-ray.filters.operators-filter]\n"
        f"exclude-operators = {json.dumps(list(EXCLUDED_OPERATORS))}\n",
        encoding="utf-8",
    )
    for step in ([BIN / "cosmic-ray", "init", config, session], [BIN / "cr-filter-operators", session, config],
                 [BIN / "cosmic-ray", "exec", config, session]):
        subprocess.run([str(part) for part in step], cwd=source, env=environment, check=True,
                       stdout=subprocess.DEVNULL)
    dump = subprocess.run([str(BIN / "cosmic-ray"), "dump", str(session)], cwd=source, env=environment,
                          check=True, capture_output=True, text=True).stdout
    lines = (source / module).read_text(encoding="utf-8").splitlines()
    mutants = []
    for row in dump.splitlines():
        item, result = json.loads(row)
        if result is None or result["worker_outcome"] == "skipped":
            continue
        [mutation] = item["mutations"]
        line_number, column = mutation["start_pos"]
        text = lines[line_number - 1]
        indent = len(text) - len(text.lstrip())
        mutants.append(Mutant(module, mutation["operator_name"], line_number, column - indent, text.strip(),
                              mutation.get("definition_name") or "", result["test_outcome"] != "survived",
                              result.get("diff") or "", result.get("output") or ""))
    mutants.sort(key=lambda m: (m.line_number, m.column, m.operator))
    return mutants, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help=f"modules to mutate (default: all of {', '.join(MODULES)})")
    parser.add_argument("--show-killed", action="store_true", help="also print the test that killed each mutant")
    parser.add_argument("--json", type=Path, help="write every mutant and its outcome to this file")
    args = parser.parse_args()
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"not a module this script knows: {', '.join(unknown)} (known: {', '.join(MODULES)})")
    reviewed = load_equivalents(EQUIVALENTS)
    environment = dict(os.environ)
    all_mutants: list[Mutant] = []
    rows = []
    with tempfile.TemporaryDirectory(prefix="headroom-mutation-") as scratch:
        work = Path(scratch)
        source = copy_tree(work)
        environment["PYTHONPATH"] = os.pathsep.join([str(work / "site"), str(ROOT / "scripts")])
        environment["PYTHONDONTWRITEBYTECODE"] = "1"
        server_socket = work / "pytest.sock"
        server = subprocess.Popen([sys.executable, str(ROOT / "scripts" / "_mutation_server.py"), str(server_socket)],
                                  cwd=source, env=environment)
        try:
            for _ in range(600):
                if server_socket.exists() or server.poll() is not None:
                    break
                time.sleep(0.1)
            if not server_socket.exists():
                raise SystemExit("the pytest server of scripts/_mutation_server.py did not start")
            for module in args.modules or list(MODULES):
                print(f"mutating {module} ...", file=sys.stderr, flush=True)
                mutants, seconds = run_module(module, work, source, environment, server_socket)
                all_mutants += mutants
                survived = [m for m in mutants if not m.killed]
                equivalent = [m for m in survived if m.key in reviewed]
                rows.append((module, len(mutants), len(mutants) - len(survived), len(survived), len(equivalent),
                             len(survived) - len(equivalent), seconds))
        finally:
            server.terminate()
            server.wait()
    print_table(rows)
    print_survivors(all_mutants, reviewed)
    if args.show_killed:
        print("\nkilled:")
        for m in all_mutants:
            if m.killed:
                print(f"  {m.module}:{m.line_number} {m.operator}  {m.changed_lines()}\n      by {m.killer()}")
    stale = sorted({key for key in reviewed if key[0] in {row[0] for row in rows}}
                   - {m.key for m in all_mutants if not m.killed})
    for module, operator, line, mutated in stale:
        print(f"\nreviewed as equivalent but not a survivor now (killed, or its line changed): "
              f"{module} {operator}: {line} -> {mutated}")
    if args.json:
        args.json.write_text(json.dumps([m.__dict__ | {"key": m.key} for m in all_mutants], indent=1), encoding="utf-8")
    return 1 if any(row[5] for row in rows) else 0


def print_table(rows: list[tuple[str, int, int, int, int, int, float]]) -> None:
    header = ("module", "mutants", "killed", "survived", "equivalent", "not explained", "seconds")
    widths = [max(len(header[0]), *(len(row[0]) for row in rows))] + [len(h) for h in header[1:]]
    print("  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths))))
    for row in rows:
        cells = [row[0], *(str(v) for v in row[1:6]), f"{row[6]:.0f}"]
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))))
    totals = [sum(row[i] for row in rows) for i in range(1, 7)]
    print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in
                    enumerate(zip(["total", *(str(v) for v in totals[:5]), f"{totals[5]:.0f}"], widths))))


def print_survivors(mutants: list[Mutant], reviewed: dict[tuple[str, str, str, str], str]) -> None:
    for m in mutants:
        if m.killed:
            continue
        reason = reviewed.get(m.key)
        print(f"\n{m.module}:{m.line_number} in {m.function}: {m.operator} (column {m.column})\n"
              f"    {m.line}\n  → {m.changed_lines()}\n"
              f"  {'equivalent: ' + reason if reason else 'NOT EXPLAINED: no test notices this change'}")


if __name__ == "__main__":
    sys.exit(main())
