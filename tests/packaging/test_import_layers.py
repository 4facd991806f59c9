"""The packages import each other one way only: learn/ -> addon/ -> rules/.

The rule language (rules/) knows nothing of the proxy, so it can be checked and loaded without
mitmproxy, and nothing imports back up a layer: no import cycle, however late an import is made.
Every import statement is read from the source (inside functions too), not from what happens to
be loaded.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("rules", "addon", "learn")
"""Lowest first: a package may import only itself and the packages before it."""


def _imported_packages(root: Path, package: str, path: Path) -> list[tuple[int, str]]:
    """(line, project package) for every import in one file of ``root/package``."""
    found = []
    depth = len(path.relative_to(root / package).parts)  # a module in a subfolder has more parents
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:  # relative: past its own folder it leaves it
            names = [f"headroom_mitm.{package}" if node.level <= depth else f"headroom_mitm.{node.module or ''}"]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "headroom_mitm" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
            elif parts[0] in LAYERS:  # the checkout's own folder names, in a script run from it
                found.append((node.lineno, parts[0]))
    return found


@pytest.mark.parametrize("package", LAYERS)
def test_a_package_imports_no_layer_above_it(package: str) -> None:
    allowed = set(LAYERS[: LAYERS.index(package) + 1])
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {imported}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for line, imported in _imported_packages(ROOT, package, path)
        if imported not in allowed
    ]
    assert wrong == []


def test_the_check_sees_a_late_or_relative_import_of_a_higher_layer(tmp_path: Path) -> None:
    module = tmp_path / "rules" / "sub" / "m.py"
    module.parent.mkdir(parents=True)
    module.write_text("import json\n\ndef late():\n    from headroom_mitm.addon import proxy\n"
                      "    from ...addon import tokens\n    from .. import loader\n", encoding="utf-8")
    assert _imported_packages(tmp_path, "rules", module) == [(4, "addon"), (5, "addon"), (6, "rules")]
