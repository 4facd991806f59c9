"""``headroom setup`` against a temporary HOME (and a temporary trust-store root): what it writes,
that it writes nothing on a dry run, nothing more the second time, and takes it all back."""

from __future__ import annotations

import hashlib
import json
import os
import plistlib
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from headroom_mitm.addon.cli import main
from headroom_mitm.addon.setup.service import plan_service

HEADROOM = Path(sys.executable).with_name("headroom")

USER_BASHRC = b"# my bashrc\nalias ll='ls -l'\nexport EDITOR=vim"  # no final newline: kept as it is
USER_ZSHRC = b"setopt autocd\n"
USER_SETTINGS = (
    '{\n\t"model": "opus",\n\t"permissions": {"allow": ["Bash(ls:*)"]},\n'
    '\t"env": {\n\t\t"FOO": "caf\\u00e9",\n\t\t"BAR": "1"\n\t}\n}\n'
).encode()
USER_CODEX_ENV = b"OPENAI_ORG=org-123\n"
USER_CODEX_CONFIG = b'model = "gpt-5-codex"\n\n[mcp_servers.docs]\ncommand = "docs-server"\n'
USER_CLAUDE_STATE = (
    b'{\n  "numStartups": 12,\n  "mcpServers": {\n    "docs": {\n      "type": "stdio",\n'
    b'      "command": "docs-server",\n      "args": []\n    }\n  },\n  "projects": {}\n}'
)
"""``~/.claude.json`` as Claude Code keeps it, with a user-scope server of the user's own."""


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
    (home / ".claude.json").write_bytes(USER_CLAUDE_STATE)
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
                  "~/.bashrc", "~/.zshrc", "~/.claude/settings.json", "~/.codex/.env", "~/.claude.json",
                  "~/.codex/config.toml"):
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
    assert (home / ".codex" / "config.toml").read_bytes().startswith(USER_CODEX_CONFIG)

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




# --------------------------------------------------------------------------------------------
# headroom mcp, registered with Claude Code and Codex


def _codex_server(home: Path) -> dict:
    return tomllib.loads((home / ".codex" / "config.toml").read_text())["mcp_servers"]["headroom"]


def test_setup_registers_headroom_mcp_for_claude_code_and_codex(home: Path, capsys) -> None:
    code, out = _setup(capsys=capsys)
    assert code == 0, out
    flow_log = str(home / ".headroom" / "flows.db")
    # Claude Code's user scope: the top-level mcpServers of ~/.claude.json, beside the user's server
    state_text = (home / ".claude.json").read_text()
    state = json.loads(state_text)
    assert state["mcpServers"]["headroom"] == {"type": "stdio", "command": str(HEADROOM),
                                               "args": ["mcp", "--db", flow_log]}
    assert state["mcpServers"]["docs"] == {"type": "stdio", "command": "docs-server", "args": []}
    users_server = '"docs": {\n      "type": "stdio",\n      "command": "docs-server",\n      "args": []\n    },'
    assert state_text.startswith('{\n  "numStartups": 12,\n  "mcpServers": {\n    ' + users_server), \
        "the user's server was re-serialised"
    assert state["numStartups"] == 12 and state["projects"] == {}
    # Codex: a [mcp_servers.headroom] table after the user's own
    assert _codex_server(home) == {"command": str(HEADROOM), "args": ["mcp", "--db", flow_log]}
    assert tomllib.loads((home / ".codex" / "config.toml").read_text())["mcp_servers"]["docs"] == {
        "command": "docs-server"}
    # what is registered starts a server that reads the flow log the proxy writes
    original = "line 1 of what a marker left out\nline 2\n"
    _keep_original(flow_log, original)
    for server in (_codex_server(home), state["mcpServers"]["headroom"]):
        assert _call_retrieve(server, hashlib.sha256(original.encode()).hexdigest()[:12], home) == original


def _keep_original(flow_log: str, original: str) -> None:
    """A flow log holding ``original``, as the proxy keeps what it elides."""
    from headroom_mitm.addon.store import ensure_schema, make_engine, write_originals

    engine = make_engine(flow_log)
    try:
        ensure_schema(engine)
        with engine.begin() as connection:
            write_originals(connection, {hashlib.sha256(original.encode()).hexdigest(): original})
    finally:
        engine.dispose()


def _call_retrieve(server: dict, ref: str, home: Path) -> str:
    """The text of one headroom_retrieve call to the server as an agent would start it."""
    import asyncio

    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    async def call() -> str:
        params = StdioServerParameters(command=server["command"], args=server["args"],
                                       env={"HOME": str(home), "PATH": os.environ["PATH"]})
        with (home / "mcp-stderr.log").open("w") as errlog:  # pytest's captured stderr has no fileno
            async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("headroom_retrieve", {"ref": ref})
                return "".join(block.text for block in result.content if block.type == "text")

    return asyncio.run(asyncio.wait_for(call(), 60))


def test_undo_after_claude_code_rewrote_its_state_takes_out_only_the_server(home: Path, capsys) -> None:
    _setup(capsys=capsys)
    state_file = home / ".claude.json"
    state = json.loads(state_file.read_text())
    state["numStartups"] = 13  # Claude Code rewrites the whole file at every start
    state_file.write_text(json.dumps(state, indent=2))
    with (home / ".codex" / "config.toml").open("a") as config:
        config.write('\n[projects."/src"]\ntrust_level = "trusted"\n')
    code, out = _setup("--undo", capsys=capsys)
    assert code == 0, out
    assert "took headroom's part out of ~/.claude.json" in out
    left = json.loads(state_file.read_text())
    assert left["numStartups"] == 13 and set(left["mcpServers"]) == {"docs"}
    config = (home / ".codex" / "config.toml").read_bytes()
    assert config == USER_CODEX_CONFIG + b'\n[projects."/src"]\ntrust_level = "trusted"\n'


@pytest.mark.parametrize(("name", "broken", "where"), [
    (".claude.json", b'{\n  "numStartups": 12,\n  "mcpServers": {"docs": {}}\n  "projects": {}\n}\n',
     "~/.claude.json:4: not valid JSON"),
    (".claude.json", b'{"mcpServers": ["docs"]}\n', '~/.claude.json:1: "mcpServers" is not an object'),
    (".codex/config.toml", b'model = "gpt-5-codex"\n[mcp_servers.docs\ncommand = "x"\n',
     "~/.codex/config.toml:2: not valid TOML"),
])
def test_a_malformed_agent_config_is_named_with_its_line_and_nothing_changes(
        home: Path, capsys, name: str, broken: bytes, where: str) -> None:
    (home / name).write_bytes(broken)
    before = _tree(home)
    code, out = _setup(capsys=capsys)
    assert code == 1 and where in out and "nothing was changed" in out, out
    assert _tree(home) == before


def test_a_server_of_the_users_called_headroom_is_kept(home: Path, capsys) -> None:
    theirs = {"type": "stdio", "command": "my-headroom-notes", "args": ["serve"]}
    (home / ".claude.json").write_text(json.dumps({"mcpServers": {"headroom": theirs}}))
    (home / ".codex" / "config.toml").write_text('[mcp_servers.headroom]\ncommand = "my-headroom-notes"\n')
    before_state, before_config = (home / ".claude.json").read_bytes(), (home / ".codex" / "config.toml").read_bytes()
    code, out = _setup(capsys=capsys)
    assert code == 1
    assert "~/.claude.json already has an MCP server called headroom" in out and "kept it" in out
    assert "~/.codex/config.toml already has an MCP server called headroom" in out
    assert (home / ".claude.json").read_bytes() == before_state
    assert (home / ".codex" / "config.toml").read_bytes() == before_config
    assert (home / ".headroom" / "env.sh").exists(), "the other steps were not done"


def test_claude_config_dir_and_a_flow_log_url_with_a_password(home: Path, capsys, monkeypatch) -> None:
    """With ``CLAUDE_CONFIG_DIR`` Claude Code keeps ``.claude.json`` there; a flow-log URL with a
    password stays out of both files (``headroom mcp`` reads ``HEADROOM_DB``; Codex is told to pass it)."""
    elsewhere = home / "claude-work"
    elsewhere.mkdir()
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(elsewhere))
    monkeypatch.setenv("HEADROOM_DB", "postgresql://headroom:s3cret-pw@db.internal/flows")
    code, out = _setup(capsys=capsys)
    assert code == 0, out
    assert json.loads((elsewhere / ".claude.json").read_text())["mcpServers"]["headroom"]["args"] == ["mcp"]
    assert (home / ".claude.json").read_bytes() == USER_CLAUDE_STATE
    assert _codex_server(home) == {"command": str(HEADROOM), "args": ["mcp"], "env_vars": ["HEADROOM_DB"]}
    assert not any(b"s3cret-pw" in (content or b"") for content in _tree(home).values())
