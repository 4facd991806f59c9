"""The steps of ``headroom setup``, each planned as file edits (and commands) without writing."""

from __future__ import annotations

import os
import shlex
import stat
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from headroom_mitm.addon.cli.env import bundle_content, environment
from headroom_mitm.addon.cli.mcp import Registration, registration
from headroom_mitm.addon.setup import blocks
from headroom_mitm.addon.setup.changes import Commands, FileEdit, Problem
from headroom_mitm.addon.setup.jsonedit import JsonEditError, set_members
from headroom_mitm.addon.setup.mcp_servers import (Planned, claude_code_config, mcp_db, plan_claude_code_mcp,
                                                   plan_codex_mcp)
from headroom_mitm.addon.setup.service import plan_service
from headroom_mitm.addon.setup.trust import plan_trust

CA_FILES = ("mitmproxy-ca.pem", "mitmproxy-ca.p12", "mitmproxy-ca-cert.pem", "mitmproxy-ca-cert.cer",
            "mitmproxy-ca-cert.p12", "mitmproxy-dhparam.pem")
CLAUDE_KEYS = ("HTTPS_PROXY", "NO_PROXY", "NODE_EXTRA_CA_CERTS")
# Codex reads $CODEX_HOME/.env itself but refuses CODEX_* names there: it falls back to SSL_CERT_FILE.
CODEX_KEYS = ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy", "SSL_CERT_FILE")


@dataclass
class Target:
    """Where setup writes, and what it points everything at."""

    home: Path
    headroom_home: Path
    confdir: Path
    host: str
    port: int
    trust: str = "none"
    trust_root: Optional[Path] = None
    service: bool = False
    flow_log: Optional[str] = None
    """The flow log ``headroom mcp`` reads (None: the one under ``headroom_home``)."""
    platform: str = sys.platform
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))

    @property
    def proxy_url(self) -> str:
        return f"http://[{self.host}]:{self.port}" if ":" in self.host else f"http://{self.host}:{self.port}"

    @property
    def ca(self) -> Path:
        return self.confdir / "mitmproxy-ca-cert.pem"

    @property
    def bundle(self) -> Path:
        return self.headroom_home / "ca-bundle.pem"

    @property
    def env_file(self) -> Path:
        return self.headroom_home / "env.sh"

    def shown(self, path: Path) -> str:
        """``path`` as a person reads it: under the home folder as ``~/...``."""
        try:
            return "~/" + str(path.relative_to(self.home))
        except ValueError:
            return str(path)


@dataclass
class Plan:
    edits: list[FileEdit] = field(default_factory=list)
    commands: list[tuple[Commands, list[FileEdit]]] = field(default_factory=list)
    """Each command with the edits it follows (run only when one of them changes the disk)."""
    notes: list[str] = field(default_factory=list)
    """What could not be done, and the command to type."""
    problems: list[Problem] = field(default_factory=list)


def plan(target: Target) -> Plan:
    result = Plan()
    ca_edits = _ca(target)
    result.edits += ca_edits
    ca_pem = (ca_edits_content(ca_edits, "mitmproxy-ca-cert.pem") or target.ca.read_bytes()).decode()
    variables = environment(target.proxy_url, target.ca, target.bundle)
    result.edits.append(FileEdit(target.bundle, bundle_content(ca_pem).encode(),
                                 "system roots plus mitmproxy's CA",
                                 "for clients whose trust variable replaces their whole store"))
    result.edits += _shell(target, variables)
    for step in (_claude_code, _codex, _claude_code_mcp, _codex_mcp):
        outcome = step(target, variables)
        if isinstance(outcome, Problem):
            result.problems.append(outcome)
        elif isinstance(outcome, str):
            result.notes.append(outcome)
        else:
            result.edits += outcome
    if target.trust == "system":
        edits, outcome = plan_trust(target.ca, ca_pem.encode(), target.trust_root, target.platform)
        result.edits += edits
        if isinstance(outcome, str):
            result.notes.append(outcome)
        elif outcome.run:
            result.commands.append((outcome, edits))
    if target.service:
        edits, commands = plan_service(target.home, target.host, target.port,
                                       target.headroom_home / "proxy.log", target.platform)
        result.edits += edits
        result.commands.append((commands, edits))
    return result


def ca_edits_content(edits: list[FileEdit], name: str) -> Optional[bytes]:
    return next((edit.after for edit in edits if edit.path.name == name), None)


def _ca(target: Target) -> list[FileEdit]:
    """mitmproxy's CA, made the way mitmproxy makes it on first start (into a scratch folder, so
    a dry run writes nothing), when the confdir has none."""
    if (target.confdir / "mitmproxy-ca.pem").exists():
        return []
    from mitmproxy.certs import CertStore

    with tempfile.TemporaryDirectory() as scratch:
        CertStore.create_store(Path(scratch), "mitmproxy", 2048)
        edits = []
        for name in CA_FILES:
            made = Path(scratch) / name
            edits.append(FileEdit(target.confdir / name, made.read_bytes(), "mitmproxy's CA" if name ==
                                  "mitmproxy-ca-cert.pem" else f"mitmproxy's CA ({name})",
                                  "the proxy signs provider certificates with it; clients are told to trust it",
                                  mode=stat.S_IMODE(made.stat().st_mode)))
    return edits


def _shell(target: Target, variables: dict[str, str]) -> list[FileEdit]:
    lines = ["# Written by headroom setup: routes agents started from this shell through Headroom.",
             "# headroom setup --undo removes it."]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in variables.items()]
    edits = [FileEdit(target.env_file, ("\n".join(lines) + "\n").encode(), "the proxy and trust variables",
                      "one file every shell sources")]
    source = f'[ -f {shlex.quote(str(target.env_file))} ] && . {shlex.quote(str(target.env_file))}'
    for rc in _rc_files(target):
        text = rc.read_text() if rc.exists() else ""
        edits.append(FileEdit(rc, blocks.with_block(text, source).encode(),
                              f"a block that sources {target.shown(target.env_file)}",
                              "so every new shell has the variables", kind="block"))
    fish = target.home / ".config" / "fish"
    if fish.is_dir():
        fish_lines = [f"set -gx {name} {shlex.quote(value)}" for name, value in variables.items()]
        edits.append(FileEdit(fish / "conf.d" / "headroom.fish", ("\n".join(fish_lines) + "\n").encode(),
                              "the variables for fish", "fish reads conf.d at start"))
    return edits


def _rc_files(target: Target) -> list[Path]:
    zsh_home = Path(target.environ.get("ZDOTDIR") or target.home)
    candidates = [target.home / ".bashrc", zsh_home / ".zshrc"]
    existing = [path for path in candidates if path.exists()]
    if existing:
        return existing
    shell = Path(target.environ.get("SHELL", "")).name
    return [zsh_home / ".zshrc"] if shell == "zsh" else [target.home / ".bashrc" if shell == "bash" else target.home / ".profile"]


def _claude_code(target: Target, variables: dict[str, str]) -> list[FileEdit] | Problem:
    folder = Path(target.environ.get("CLAUDE_CONFIG_DIR") or target.home / ".claude")
    if not folder.is_dir():
        return []
    settings = folder / "settings.json"
    ours = {key: variables[key] for key in CLAUDE_KEYS}
    raw = settings.read_text() if settings.exists() else "{}\n"
    try:
        edited = set_members(raw, "env", ours)
    except JsonEditError as exc:
        return Problem(f"{target.shown(settings)}:{exc.line}",
                       f"{exc}: fix it, then run headroom setup again (nothing was changed)")
    return [FileEdit(settings, edited.encode(), "HTTPS_PROXY, NO_PROXY and NODE_EXTRA_CA_CERTS in env",
                     "Claude Code sets them itself, however it was started", kind="json-env", ours=ours)]


def _codex(target: Target, variables: dict[str, str]) -> list[FileEdit]:
    folder = Path(target.environ.get("CODEX_HOME") or target.home / ".codex")
    if not folder.is_dir():
        return []
    dotenv = folder / ".env"
    text = dotenv.read_text() if dotenv.exists() else ""
    body = "\n".join(f"{key}={_dotenv_quote(variables[key])}" for key in CODEX_KEYS)
    return [FileEdit(dotenv, blocks.with_block(text, body).encode(), "the proxy and SSL_CERT_FILE",
                     "Codex loads this file itself, however it was started", kind="block")]


def _mcp_registration(target: Target) -> Registration:
    db, passed_through = mcp_db(target.flow_log or str(target.headroom_home / "flows.db"))
    return registration(db=db, env_vars=passed_through)


def _claude_code_mcp(target: Target, variables: dict[str, str]) -> Planned:
    config = claude_code_config(target.home, target.environ)
    folder = Path(target.environ.get("CLAUDE_CONFIG_DIR") or target.home / ".claude")
    if not folder.is_dir() and not config.exists():
        return []
    return plan_claude_code_mcp(config, target.shown(config), _mcp_registration(target))


def _codex_mcp(target: Target, variables: dict[str, str]) -> Planned:
    folder = Path(target.environ.get("CODEX_HOME") or target.home / ".codex")
    if not folder.is_dir():
        return []
    config = folder / "config.toml"
    return plan_codex_mcp(config, target.shown(config), _mcp_registration(target))


def _dotenv_quote(value: str) -> str:
    return f"'{value}'" if "'" not in value else '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
