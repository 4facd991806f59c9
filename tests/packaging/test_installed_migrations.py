"""The flow log's migrations run from the installed package, not only from the checkout.

A wheel holds the .py files of the packages pyproject.toml lists (and the package-data it
names); this lays out exactly those under a temporary folder, as an install would, and upgrades a
real log from there in a fresh interpreter. (Building the wheel itself needs setuptools from
PyPI, which tests do not reach.)
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from headroom_mitm.addon.store.schema import head_revision

ROOT = Path(__file__).resolve().parents[2]
OLD_LOG = ROOT / "tests" / "store" / "fixtures" / "flows-v1.db"


def _install_layout(target: Path) -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    package_dirs: dict[str, str] = config["package-dir"]
    package_data: dict[str, list[str]] = config.get("package-data", {})
    for package in config["packages"]:
        top = next(name for name in package_dirs if package == name or package.startswith(name + "."))
        source = ROOT / package_dirs[top] / Path(*package[len(top) :].strip(".").split(".") if package != top else ())
        destination = target / Path(*package.split("."))
        destination.mkdir(parents=True, exist_ok=True)
        for file in source.iterdir():
            patterns = ["*.py", *package_data.get(package, [])]
            if file.is_file() and any(fnmatch.fnmatch(file.name, pattern) for pattern in patterns):
                shutil.copy2(file, destination / file.name)


def test_an_old_log_is_upgraded_by_the_installed_package(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _install_layout(site)
    log = tmp_path / "flows.db"
    shutil.copyfile(OLD_LOG, log)
    script = (
        "import sys, headroom_mitm.addon.store as store\n"
        "from headroom_mitm.addon.store.migrations import SCRIPT_LOCATION\n"
        f"assert str(SCRIPT_LOCATION).startswith({str(site)!r}), SCRIPT_LOCATION\n"
        "done = store.ensure_schema(store.make_engine(sys.argv[1]))\n"
        "print(done.before.legacy, done.after)\n"
    )
    # -S: no site-packages .pth files, so the checkout's editable install cannot stand in for it
    dependencies = [p for p in sys.path if p.endswith("site-packages")]
    finished = subprocess.run(
        [sys.executable, "-S", "-c", script, str(log)], capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": ":".join([str(site), *dependencies]), "PATH": "/usr/bin:/bin"}, cwd=tmp_path,
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stdout.split() == ["True", head_revision()]
