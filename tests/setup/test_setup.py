"""``headroom setup`` against a temporary HOME (and a temporary trust-store root): what it writes,
that it writes nothing on a dry run, nothing more the second time, and takes it all back."""

from __future__ import annotations

import json
import os
import plistlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from headroom_mitm.addon.cli import main
from headroom_mitm.addon.setup.service import plan_service

USER_BASHRC = b"# my bashrc\nalias ll='ls -l'\nexport EDITOR=vim"  # no final newline: kept as it is
USER_ZSHRC = b"setopt autocd\n"
USER_SETTINGS = (
    '{\n\t"model": "opus",\n\t"permissions": {"allow": ["Bash(ls:*)"]},\n'
    '\t"env": {\n\t\t"FOO": "caf\\u00e9",\n\t\t"BAR": "1"\n\t}\n}\n'
).encode()
USER_CODEX_ENV = b"OPENAI_ORG=org-123\n"
USER_CODEX_CONFIG = b'model = "gpt-5-codex"\n'


def _other_root() -> str:
    from mitmproxy.certs import create_ca
    from cryptography.hazmat.primitives import serialization

    return create_ca("other", "other root", 2048)[1].public_bytes(serialization.Encoding.PEM).decode()


OTHER_ROOT = _other_root()
"""A root the trust-store tree already has, as a real system's has many."""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".claude").mkdir(parents=True)
    (home / ".codex").mkdir()
    (home / ".bashrc").write_bytes(USER_BASHRC)
    (home / ".zshrc").write_bytes(USER_ZSHRC)
    (home / ".claude" / "settings.json").write_bytes(USER_SETTINGS)
    (home / ".codex" / ".env").write_bytes(USER_CODEX_ENV)
    (home / ".codex" / "config.toml").write_bytes(USER_CODEX_CONFIG)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("HEADROOM_HOME", str(home / ".headroom"))
    monkeypatch.setenv("SHELL", "/bin/bash")
    for name in ("XDG_CONFIG_HOME", "ZDOTDIR", "CLAUDE_CONFIG_DIR", "CODEX_HOME", "HEADROOM_HOST", "HEADROOM_PORT"):
        monkeypatch.delenv(name, raising=False)
    return home


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every file (content) and folder (None) under ``root``."""
    if not root.exists():
        return {}
    return {str(path.relative_to(root)): (path.read_bytes() if path.is_file() else None)
            for path in sorted(root.rglob("*"))}


def _setup(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["setup", *args])
    return code, capsys.readouterr().out


def test_dry_run_says_what_and_why_and_writes_nothing(home: Path, capsys) -> None:
    before = _tree(home)
    code, out = _setup("--dry-run", "--port", "8123", capsys=capsys)
    assert code == 0 and _tree(home) == before
    for shown in ("~/.mitmproxy/mitmproxy-ca-cert.pem", "~/.headroom/ca-bundle.pem", "~/.headroom/env.sh",
                  "~/.bashrc", "~/.zshrc", "~/.claude/settings.json", "~/.codex/.env"):
        assert f"would write {shown}: " in out, out
    assert "(so every new shell has the variables)" in out


def test_setup_writes_the_environment_for_shells_and_agents(home: Path, capsys) -> None:
    code, _ = _setup("--port", "8123", capsys=capsys)
    assert code == 0
    ca = home / ".mitmproxy" / "mitmproxy-ca-cert.pem"
    assert ca.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert (home / ".mitmproxy" / "mitmproxy-ca.pem").stat().st_mode & 0o077 == 0, "the CA key is readable by others"
    bundle = (home / ".headroom" / "ca-bundle.pem").read_text()
    assert bundle.endswith(ca.read_text()) and bundle.count("BEGIN CERTIFICATE") > 1

    # text outside the managed blocks is the user's, byte for byte
    assert (home / ".bashrc").read_bytes().startswith(USER_BASHRC + b"\n")
    assert (home / ".zshrc").read_bytes().startswith(USER_ZSHRC)
    assert (home / ".codex" / ".env").read_bytes().startswith(USER_CODEX_ENV)
    assert (home / ".codex" / "config.toml").read_bytes() == USER_CODEX_CONFIG

    # a real shell reading its rc file gets the variables
    shell = subprocess.run(["bash", "-ic", 'echo "$HTTPS_PROXY $SSL_CERT_FILE $NODE_EXTRA_CA_CERTS"'],
                           capture_output=True, text=True, env={"HOME": str(home), "PATH": os.environ["PATH"]})
    assert shell.stdout.split() == ["http://127.0.0.1:8123", str(home / ".headroom" / "ca-bundle.pem"), str(ca)]

    settings_text = (home / ".claude" / "settings.json").read_text()
    settings = json.loads(settings_text)
    assert settings["env"] == {"FOO": "café", "BAR": "1", "HTTPS_PROXY": "http://127.0.0.1:8123",
                               "NO_PROXY": "localhost,127.0.0.1,::1", "NODE_EXTRA_CA_CERTS": str(ca)}
    assert '\t"permissions": {"allow": ["Bash(ls:*)"]},\n\t"env": {\n\t\t"FOO": "caf\\u00e9",\n\t\t"BAR": "1",' \
        in settings_text, "the user's keys were re-serialised"
    codex = (home / ".codex" / ".env").read_text()
    assert "HTTPS_PROXY='http://127.0.0.1:8123'" in codex and "SSL_CERT_FILE=" in codex
    assert "CODEX_" not in codex.split("headroom:setup:start")[1], "Codex ignores CODEX_* names in its .env"


def test_setup_twice_equals_setup_once(home: Path, capsys) -> None:
    assert _setup(capsys=capsys)[0] == 0
    once = _tree(home)
    code, out = _setup(capsys=capsys)
    assert code == 0 and _tree(home) == once
    assert "nothing changed" in out


def test_undo_restores_every_file_byte_for_byte(home: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    root = _trust_root(tmp_path)
    monkeypatch.setenv("PATH", _path_without_systemctl(tmp_path))
    original, original_root = _tree(home), _tree(root / "usr")
    _setup("--trust", "system", "--trust-root", str(root), "--service", capsys=capsys)
    _setup("--port", "9000", capsys=capsys)  # a second run that changes things: undo still goes back to the start
    assert _tree(home) != original
    code, out = _setup("--undo", capsys=capsys)
    assert code == 0, out
    assert _tree(home) == original
    assert _tree(root / "usr") == original_root
    assert "nothing to undo" in _setup("--undo", capsys=capsys)[1]


def test_undo_after_the_user_edited_a_file_takes_out_only_our_part(home: Path, capsys) -> None:
    _setup(capsys=capsys)
    with (home / ".bashrc").open("ab") as rc:
        rc.write(b"\nexport LATER=1\n")
    settings = home / ".claude" / "settings.json"
    settings.write_text(settings.read_text().replace('"model": "opus"', '"model": "sonnet"'))
    code, out = _setup("--undo", capsys=capsys)
    assert code == 0 and "took headroom's part out of ~/.bashrc" in out
    assert (home / ".bashrc").read_bytes() == USER_BASHRC + b"\n\nexport LATER=1\n"
    assert settings.read_bytes() == USER_SETTINGS.replace(b'"model": "opus"', b'"model": "sonnet"')


def test_a_malformed_settings_file_is_named_with_its_line_and_nothing_changes(home: Path, capsys) -> None:
    broken = b'{\n  "model": "opus",\n  "env": {"A": "1",}\n}\n'
    (home / ".claude" / "settings.json").write_bytes(broken)
    before = _tree(home)
    code, out = _setup(capsys=capsys)
    assert code == 1
    assert "~/.claude/settings.json:3: not valid JSON" in out and "nothing was changed" in out
    assert _tree(home) == before


def test_trust_system_installs_the_ca_with_update_ca_certificates(home: Path, tmp_path: Path, capsys) -> None:
    if not shutil.which("update-ca-certificates") or not shutil.which("openssl"):
        pytest.skip("update-ca-certificates (Debian's ca-certificates) and openssl are not installed here")
    root = _trust_root(tmp_path)
    code, out = _setup("--trust", "system", "--trust-root", str(root), capsys=capsys)
    assert code == 0, out
    ca = (home / ".mitmproxy" / "mitmproxy-ca-cert.pem").read_text()
    assert (root / "usr/local/share/ca-certificates/headroom-mitmproxy.crt").read_text() == ca
    assert ca.strip() in (root / "etc/ssl/certs/ca-certificates.crt").read_text()
    assert _setup("--undo", capsys=capsys)[0] == 0
    assert not (root / "usr/local/share/ca-certificates/headroom-mitmproxy.crt").exists()
    refreshed = (root / "etc/ssl/certs/ca-certificates.crt").read_text()
    assert ca.strip() not in refreshed and OTHER_ROOT.strip() in refreshed


def test_what_trust_system_could_not_do_is_said_with_the_command(home: Path, tmp_path: Path, capsys) -> None:
    root = tmp_path / "readonly-root"
    root.mkdir()
    (root / "usr").write_text("a file where the folder should be\n")
    code, out = _setup("--trust", "system", "--trust-root", str(root), capsys=capsys)
    assert code == 1
    assert "could not:" in out and "is not writable by you" in out and "sudo cp" in out
    assert (home / ".headroom" / "env.sh").exists(), "the other steps were not done"


def test_service_writes_a_unit_and_says_how_to_start_it_when_systemctl_cannot(
    home: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("PATH", _path_without_systemctl(tmp_path))
    code, out = _setup("--service", "--port", "8124", capsys=capsys)
    unit = (home / ".config/systemd/user/headroom.service").read_text()
    assert f"ExecStart={sys.executable} -m headroom_mitm.addon.cli proxy --host 127.0.0.1 --port 8124" in unit
    assert "Restart=on-failure" in unit and "WantedBy=default.target" in unit
    assert code == 1 and "run it yourself: systemctl --user daemon-reload && systemctl --user enable --now" in out
    status = _setup("--status", capsys=capsys)[1]
    assert "~/.config/systemd/user/headroom.service: a systemd user unit" in status and "[failed:" in status
    # setup again retries what failed, and nothing else
    again = _setup("--service", "--port", "8124", capsys=capsys)[1]
    assert "could not enable" in again and "wrote" not in again


def test_the_launchd_agent_restarts_the_proxy_on_failure(tmp_path: Path) -> None:
    edits, commands = plan_service(tmp_path, "127.0.0.1", 8080, tmp_path / "proxy.log", platform="darwin")
    agent = plistlib.loads(edits[0].after)
    assert edits[0].path == tmp_path / "Library/LaunchAgents/com.headroom-mitm.proxy.plist"
    assert agent["ProgramArguments"][-5:] == ["proxy", "--host", "127.0.0.1", "--port", "8080"]
    assert agent["RunAtLoad"] is True and agent["KeepAlive"] == {"SuccessfulExit": False}
    assert commands.run[0][:2] == ["launchctl", "bootstrap"]


def _trust_root(tmp_path: Path) -> Path:
    """A trust-store tree as a Debian image has it (update-ca-certificates needs its folders)."""
    root = tmp_path / "trust-root"
    (root / "etc/ssl/certs").mkdir(parents=True)
    shipped = root / "usr/share/ca-certificates/test"
    shipped.mkdir(parents=True)
    shipped.joinpath("other-root.crt").write_text(OTHER_ROOT)
    (root / "etc/ca-certificates.conf").write_text("test/other-root.crt\n")
    return root


def _path_without_systemctl(tmp_path: Path) -> str:
    """PATH minus any folder with systemctl: a test must never enable a real service."""
    folders = [folder for folder in os.environ["PATH"].split(os.pathsep)
               if folder and not (Path(folder) / "systemctl").exists()]
    return os.pathsep.join(folders)


