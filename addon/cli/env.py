"""``headroom env``: the variables that send an agent through the proxy and make it trust it."""

from __future__ import annotations

import argparse
import json
import shlex
import ssl
import sys
from pathlib import Path

_EXAMPLE = """
example:
  eval "$(headroom env)"          # then run claude, codex or any SDK script as usual
  headroom env --json             # the same variables for scripts
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "env",
        help="print the environment that routes agents through the proxy",
        description="Print shell exports that point Claude Code, Codex, the Python SDKs, requests "
        "and curl at the proxy and make them trust mitmproxy's CA. Variables that replace a "
        "client's whole trust store get a bundle of the system roots plus that CA, so hosts the "
        "proxy passes through keep working.",
        epilog=_EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--proxy", default=None,
        help="the proxy's URL (default: the running Headroom proxy, else http://HEADROOM_HOST:HEADROOM_PORT, "
        "which default to 127.0.0.1 and 8080)",
    )
    parser.add_argument(
        "--confdir", default=None,
        help="mitmproxy's confdir, where its CA lives (default: the running proxy's, else ~/.mitmproxy)",
    )
    parser.add_argument("--json", action="store_true", help="print the variables as a JSON object")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from headroom_mitm.addon.cli.locate import bundle_path_for, ca_of, configured_proxy_url, proxy_at, running_proxy

    running = proxy_at(args.proxy) if args.proxy else running_proxy()
    proxy = args.proxy or (running.proxy_url if running else configured_proxy_url())
    if running is None:
        print(f"headroom env: no Headroom proxy answers at {proxy} yet: start it with headroom proxy "
              "(or headroom setup --service)", file=sys.stderr)
    ca = ca_of(running, args.confdir)
    if not ca.exists():
        print(f"headroom env: {ca} does not exist yet: run headroom setup (or start the proxy once) to create it",
              file=sys.stderr)
        return 1
    bundle = write_bundle(ca, bundle_path_for(ca))
    variables = environment(proxy, ca, bundle)
    if args.json:
        print(json.dumps(variables, indent=2))
    else:
        for name, value in variables.items():
            print(f"export {name}={shlex.quote(value)}")
    return 0


def environment(proxy: str, ca: Path, bundle: Path) -> dict[str, str]:
    no_proxy = "localhost,127.0.0.1,::1"
    return {
        "HTTPS_PROXY": proxy,
        "https_proxy": proxy,
        "NO_PROXY": no_proxy,
        "no_proxy": no_proxy,
        "NODE_EXTRA_CA_CERTS": str(ca),  # Claude Code: adds to Node's roots
        "CODEX_CA_CERTIFICATE": str(bundle),  # Codex CLI
        "SSL_CERT_FILE": str(bundle),  # httpx: the Anthropic and OpenAI Python SDKs
        "REQUESTS_CA_BUNDLE": str(bundle),  # requests
        "CURL_CA_BUNDLE": str(bundle),  # curl
    }


def bundle_content(ca_pem: str) -> str:
    """System roots (or certifi's) followed by mitmproxy's CA (once, even when the system already
    trusts it: the bundle stays the same before and after ``headroom setup --trust system``)."""
    roots = _system_roots().replace(ca_pem.strip() + "\n", "")
    return roots.rstrip("\n") + "\n" + ca_pem


def write_bundle(ca: Path, target: Path) -> Path:
    """The bundle for ``ca`` at ``target``, rewritten only when it changes."""
    content = bundle_content(ca.read_text())
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text() != content:
        target.write_text(content)
    return target


def _system_roots() -> str:
    paths = ssl.get_default_verify_paths()
    for candidate in (paths.cafile, paths.openssl_cafile):
        if candidate and Path(candidate).is_file():
            return Path(candidate).read_text()
    import certifi

    return Path(certifi.where()).read_text()
