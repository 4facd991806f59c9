"""A built wheel installs into a fresh virtual environment and runs there, with no checkout.

Slow (it installs every dependency; pip's cache makes later runs quicker) and it needs PyPI, as a
user's ``pip install`` does: it skips, saying why, when the wheel's dependencies cannot be fetched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import pytest

from headroom_mitm.addon.pages.registry import fetch_through

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "addon", "rules", "learn")
_LISTENING = re.compile(r"listening at 127\.0\.0\.1:(\d+)")


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, **kwargs)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with only the wheel (and its dependencies) in it; returns its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so the build leaves nothing in the checkout
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(work / "dist"), str(source)])
    assert built.returncode == 0, built.stderr
    wheel = next((work / "dist").glob("headroom_mitm-*.whl"))
    environment = work / "venv"
    venv.create(environment, with_pip=True)
    bin_dir = environment / "bin"
    install = _run([str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)], timeout=1500)
    if install.returncode != 0 and "No matching distribution" in install.stderr:
        pytest.skip(f"the wheel's dependencies cannot be fetched here: {install.stderr.strip()[-300:]}")
    assert install.returncode == 0, install.stderr
    return bin_dir


def _clean_env(tmp: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["HEADROOM_HOME"] = str(tmp / "home")
    env["PYTHONUNBUFFERED"] = "1"  # else mitmdump's log waits in a pipe buffer
    return env


@pytest.mark.timeout(1800)
def test_the_wheel_installs_only_its_own_namespace(installed: Path) -> None:
    site = next((installed.parent / "lib").glob("python3*/site-packages"))
    ours = {path.name for path in site.iterdir() if path.name in ("addon", "rules", "learn", "headroom_mitm")}
    assert ours == {"headroom_mitm"}, f"top-level packages in site-packages: {sorted(ours)}"
    version = _run([str(installed / "headroom"), "--version"], cwd=installed)
    assert version.returncode == 0 and re.fullmatch(r"headroom \d+\.\d+\.\d+\n", version.stdout), version
    rules = _run([str(installed / "headroom"), "rules", "check", "--json", str(site / "headroom_mitm/rules/default.yaml")])
    assert json.loads(rules.stdout)["ok"] is True, rules


@pytest.mark.timeout(1800)
def test_mitmdump_loads_the_addon_from_the_wheel(installed: Path, tmp_path: Path) -> None:
    script = _run([str(installed / "headroom"), "script"], cwd=tmp_path).stdout.strip()
    assert script.startswith(str(installed.parent)) and script.endswith("headroom_addon.py"), script
    log = tmp_path / "mitmdump.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [str(installed / "headroom"), "proxy", "--port", "0", "--set", f"confdir={tmp_path / 'conf'}"],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=tmp_path, env=_clean_env(tmp_path),
        )
    try:
        port = _wait_for_port(log, process)
        status, body = fetch_through(f"http://127.0.0.1:{port}", "/health")
        health = json.loads(body)
        assert status == 200 and health["service"] == "headroom", body
        assert health["database"]["target"] == str(tmp_path / "home" / "flows.db")
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_for_port(log: Path, process: subprocess.Popen) -> int:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        text = log.read_text()
        if match := _LISTENING.search(text):
            time.sleep(0.3)  # mitmdump checks for startup errors just after it says it listens
            assert process.poll() is None, text
            return int(match.group(1))
        assert process.poll() is None, f"mitmdump exited:\n{text}"
        time.sleep(0.1)
    raise AssertionError(f"mitmdump did not listen within 60s:\n{log.read_text()}")
