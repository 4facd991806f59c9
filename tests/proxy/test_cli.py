"""The small ``headroom`` subcommands that live beside the addon: original, env, --version."""

import hashlib
import json

from headroom_mitm.addon import __version__
from headroom_mitm.addon.cli import main
from headroom_mitm.addon.store.entries import FlowEntry
from headroom_mitm.addon.store.writer import FlowLog


def _log_with_original(db, content: str) -> str:
    log = FlowLog(str(db))
    log.start()
    digest = hashlib.sha256(content.encode()).hexdigest()
    log.record(FlowEntry(host="api.anthropic.com", path="/v1/messages", provider="anthropic", originals={digest: content}))
    log.close()
    return digest


def test_original_prints_what_a_marker_refers_to(tmp_path, capsys):
    db = tmp_path / "flows.db"
    content = "line one\nline two, elided upstream\n"
    digest = _log_with_original(db, content)
    assert main(["original", f"#{digest[:12]}", "--db", str(db)]) == 0
    assert capsys.readouterr().out == content


def test_original_says_clearly_when_nothing_is_kept(tmp_path, capsys):
    db = tmp_path / "flows.db"
    _log_with_original(db, "something")
    assert main(["original", "0" * 12, "--db", str(db)]) == 1
    assert "nothing kept under #000000000000" in capsys.readouterr().err
    assert main(["original", "not-a-ref", "--db", str(db)]) == 2


def test_env_points_every_client_at_the_proxy_and_its_ca(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HEADROOM_HOME", str(tmp_path / "home"))
    confdir = tmp_path / "mitm"
    confdir.mkdir()
    ca = "-----BEGIN CERTIFICATE-----\nTESTCA\n-----END CERTIFICATE-----\n"
    (confdir / "mitmproxy-ca-cert.pem").write_text(ca)
    assert main(["env", "--confdir", str(confdir), "--proxy", "http://127.0.0.1:9999", "--json"]) == 0
    variables = json.loads(capsys.readouterr().out)
    assert variables["HTTPS_PROXY"] == variables["https_proxy"] == "http://127.0.0.1:9999"
    assert variables["NODE_EXTRA_CA_CERTS"] == str(confdir / "mitmproxy-ca-cert.pem")
    # a CA other than ~/.mitmproxy's gets its bundle beside it: the one every shell uses stays
    assert variables["SSL_CERT_FILE"] == str(confdir / "headroom-ca-bundle.pem")
    bundle = open(variables["SSL_CERT_FILE"]).read()
    # the bundle keeps the system roots, so hosts passed through still verify, and adds the CA
    assert bundle.endswith(ca) and bundle.count("BEGIN CERTIFICATE") > 1
    assert "127.0.0.1" in variables["NO_PROXY"]


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exit_:
        assert exit_.code == 0
    assert __version__ in capsys.readouterr().out


def test_options_lists_every_addon_option_with_its_default(capsys):
    import yaml

    assert main(["options"]) == 0
    listed = yaml.safe_load(capsys.readouterr().out)
    assert listed == {"headroom_db": "", "headroom_mode": "cache", "headroom_rules": "", "headroom_status": ""}
