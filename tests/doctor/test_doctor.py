"""``headroom doctor`` on each broken state it names: the right ✗ and the right fix."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from headroom_mitm.addon.cli import main
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.addon.store.writer import FlowLog

_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy",
                    "ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "CLAUDE_CONFIG_DIR", "CODEX_HOME",
                    "HEADROOM_HOST", "HEADROOM_PORT", "SSL_CERT_FILE", "NODE_EXTRA_CA_CERTS",
                    "CODEX_CA_CERTIFICATE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HEADROOM_HOME", str(home / ".headroom"))
    for name in _PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HEADROOM_PORT", str(_closed_port()))
    monkeypatch.chdir(tmp_path)
    return home


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def doctor(capsys, *args: str) -> tuple[int, dict[str, list[dict]]]:
    code = main(["doctor", "--json", *args])
    document = json.loads(capsys.readouterr().out)
    assert document["ok"] is (code == 0)
    by_check: dict[str, list[dict]] = {}
    for result in document["checks"]:
        by_check.setdefault(result["check"], []).append(result)
    return code, by_check


def failed(results: dict[str, list[dict]], check: str) -> dict:
    bad = [result for result in results[check] if result["ok"] is False]
    assert bad, f"{check} did not fail: {results[check]}"
    return bad[0]


def test_a_port_held_by_another_process_names_that_process(home: Path, capsys, monkeypatch) -> None:
    port = _closed_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=home)
    try:
        _wait_listening(port)
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{port}")
        code, results = doctor(capsys)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert code == 1
    proxy = failed(results, "proxy")
    assert f"pid {server.pid}" in proxy["detail"] and "python" in proxy["detail"] and "not Headroom" in proxy["detail"]
    assert f"kill {server.pid}" in proxy["fix"] and "HEADROOM_PORT=" in proxy["fix"]
    assert "that is not the Headroom addon" in failed(results, "status-page")["detail"]


def test_nothing_listening_says_how_to_start_the_proxy(home: Path, capsys) -> None:
    code, results = doctor(capsys)
    assert "nothing listens" in failed(results, "proxy")["detail"]
    assert "headroom proxy" in failed(results, "proxy")["fix"]
    assert results["status-page"][0]["ok"] is None
    assert "HTTPS_PROXY is not set" in failed(results, "environment")["detail"]


@pytest.mark.parametrize("entry", [".anthropic.com", "anthropic.com", "*", "API.ANTHROPIC.COM"])
def test_no_proxy_covering_a_provider_host(home: Path, capsys, monkeypatch, entry: str) -> None:
    monkeypatch.setenv("NO_PROXY", f"localhost,127.0.0.1,{entry}")
    _, results = doctor(capsys)
    result = failed(results, "no-proxy")
    assert "api.anthropic.com" in result["detail"] and f"remove {entry.lower()!r} from NO_PROXY" in result["fix"]


def test_no_proxy_of_loopback_only_is_fine(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1,::1,.internal.example.com")
    _, results = doctor(capsys)
    assert results["no-proxy"][0]["ok"] is True


def test_anthropic_base_url_in_claude_code_settings(home: Path, capsys) -> None:
    (home / ".claude").mkdir()
    (home / ".claude" / "settings.json").write_text(
        '{\n  "model": "opus",\n  "env": {\n    "ANTHROPIC_BASE_URL": "http://localhost:8787"\n  }\n}\n')
    _, results = doctor(capsys)
    result = failed(results, "agent-route")
    assert result["detail"].startswith("~/.claude/settings.json:4: env sets ANTHROPIC_BASE_URL=http://localhost:8787")
    assert result["fix"] == "remove ANTHROPIC_BASE_URL from the env of ~/.claude/settings.json"


def test_a_base_url_in_the_shell_or_codex_config(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:4000/v1")
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text('openai_base_url = "http://127.0.0.1:4000/v1"\n')
    _, results = doctor(capsys)
    details = [result["detail"] for result in results["agent-route"] if result["ok"] is False]
    assert any(detail.startswith("OPENAI_BASE_URL=http://127.0.0.1:4000/v1 in this shell") for detail in details)
    assert any(detail.startswith("~/.codex/config.toml sets openai_base_url") for detail in details)


def test_an_agent_that_ran_without_reaching_the_proxy(home: Path, capsys) -> None:
    db = home / "flows.db"
    _write_flow(db, "api.anthropic.com", datetime.now(timezone.utc) - timedelta(days=2))
    session = home / ".claude" / "projects" / "-work-app" / "0b1c.jsonl"
    session.parent.mkdir(parents=True)
    session.write_text('{"type": "user"}\n')
    _, results = doctor(capsys, "--db", str(db))
    result = failed(results, "flows")
    assert result["detail"].startswith("Claude Code ran ") and "It bypasses Headroom" in result["detail"]
    assert "headroom wrap claude" in result["fix"]

    _write_flow(db, "api.anthropic.com", datetime.now(timezone.utc))
    _, results = doctor(capsys, "--db", str(db))
    assert results["flows"][0]["ok"] is True and results["flows"][0]["detail"].startswith("Claude Code: last session")


def test_no_flows_at_all_in_the_last_day(home: Path, capsys) -> None:
    _, results = doctor(capsys, "--db", str(home / "missing.db"))
    assert failed(results, "flows")["detail"].startswith("no flow in the last 24 h")


@pytest.mark.parametrize("kind", ["parent-is-a-file", "not-a-database"])
def test_an_unwritable_database(home: Path, capsys, kind: str) -> None:
    # as root here, permissions cannot make a file read-only: both of these fail for root too
    if kind == "parent-is-a-file":
        (home / "blocker").write_text("a file where a folder should be\n")
        db = home / "blocker" / "flows.db"
    else:
        db = home / "flows.db"
        db.write_bytes(b"this is not a SQLite database\n" * 100)
    _, results = doctor(capsys, "--db", str(db))
    result = failed(results, "database")
    assert str(db) in result["detail"] and "writable by you" in result["fix"]


def test_a_writable_database_passes_and_is_left_as_it_was(home: Path, capsys) -> None:
    db = home / "flows.db"
    _write_flow(db, "api.openai.com", datetime.now(timezone.utc))
    before = db.read_bytes()
    _, results = doctor(capsys, "--db", str(db))
    assert results["database"][0]["ok"] is True
    import sqlite3

    tables = {row[0] for row in sqlite3.connect(db).execute("SELECT name FROM sqlite_master")}
    assert "headroom_doctor_write_check" not in tables and len(before) > 0


def test_an_invalid_rules_file_is_named_with_its_line(home: Path, capsys) -> None:
    rules = home / "rules.yaml"
    rules.write_text("rules:\n\n  - name: t\n    compress: jsn_table\n")
    _, results = doctor(capsys, "--rules", str(rules))
    result = failed(results, "rules")
    assert result["detail"].startswith(f"{rules}:4: unknown compressor 'jsn_table'")
    assert f"headroom rules check {rules}" in result["fix"]


def test_a_foreign_headroom_package(home: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    site = tmp_path / "site"
    (site / "headroom").mkdir(parents=True)
    (site / "headroom" / "__init__.py").write_text("")
    info = site / "headroom_ai-0.42.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: headroom-ai\nVersion: 0.42.0\n")
    (info / "RECORD").write_text("headroom/__init__.py,,\nheadroom_ai-0.42.0.dist-info/METADATA,,\n")
    (info / "entry_points.txt").write_text("[console_scripts]\nheadroom = headroom.cli:main\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "headroom"
    script.write_text("#!/usr/bin/env python3\nfrom headroom.cli import main\nmain()\n")
    script.chmod(0o755)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    _, results = doctor(capsys)
    details = [result["detail"] for result in results["package"] if result["ok"] is False]
    assert "another package, headroom-ai 0.42.0, also installs the import name 'headroom' and a 'headroom' command" in details
    assert f"the headroom on PATH ({script}) is not headroom-mitm's" in details
    assert "pip uninstall headroom-ai" in failed(results, "package")["fix"]


def test_a_trust_variable_without_the_ca(home: Path, capsys, monkeypatch) -> None:
    assert main(["setup"]) == 0
    capsys.readouterr()
    other = home / "other.pem"
    other.write_text((home / ".headroom" / "ca-bundle.pem").read_text().split("-----END CERTIFICATE-----")[0]
                     + "-----END CERTIFICATE-----\n")
    for variable, value in {"NODE_EXTRA_CA_CERTS": str(home / ".mitmproxy" / "mitmproxy-ca-cert.pem"),
                            "CODEX_CA_CERTIFICATE": str(other), "SSL_CERT_FILE": str(home / "nowhere.pem"),
                            "REQUESTS_CA_BUNDLE": str(home / ".headroom" / "ca-bundle.pem")}.items():
        monkeypatch.setenv(variable, value)
    _, results = doctor(capsys)
    details = [result["detail"] for result in results["trust"] if result["ok"] is False]
    assert any(detail.startswith(f"CODEX_CA_CERTIFICATE={other} does not hold mitmproxy's CA") for detail in details)
    assert any(detail.startswith(f"SSL_CERT_FILE={home / 'nowhere.pem'} does not exist") for detail in details)
    assert any(detail.startswith("CURL_CA_BUNDLE not set") for detail in details)
    assert not any("NODE_EXTRA_CA_CERTS" in detail or "REQUESTS_CA_BUNDLE" in detail for detail in details)
    assert results["ca"][0]["ok"] is True


def test_the_text_output_marks_each_check_and_prints_the_fix(home: Path, capsys, monkeypatch) -> None:
    monkeypatch.setenv("NO_PROXY", "*")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "✗ no-proxy: NO_PROXY holds '*'" in out and "    fix: remove '*' from NO_PROXY" in out
    assert "✓ rules: the shipped default.yaml: valid" in out


def _write_flow(db: Path, host: str, started_at: datetime) -> None:
    log = FlowLog(str(db))
    log.start()
    log.record(FlowEntry(host=host, path="/v1/messages", provider="anthropic", started_at=started_at))
    log.close()


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listened on {port}")


def test_a_database_given_with_a_password_is_never_shown_with_it(home: Path, capsys, monkeypatch) -> None:
    url = "postgresql://proxy:pw-doctor-never-shown@127.0.0.1:9/headroom"
    url_file = home / "db-url"
    url_file.write_text(url + "\n")
    for args, env in ((["--db", url], None), (["--db", f"@{url_file}"], None), ([], url)):
        if env:
            monkeypatch.setenv("HEADROOM_DB", env)
        _, results = doctor(capsys, *args)
        result = failed(results, "database")
        assert "postgresql://proxy:***@127.0.0.1:9/headroom" in result["detail"], result
        assert "pw-doctor-never-shown" not in json.dumps(results)
