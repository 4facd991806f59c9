"""Which proxy a command should use: a running Headroom found through its status page, or where
the environment says it will listen (``HEADROOM_HOST``/``HEADROOM_PORT``, default 127.0.0.1:8080)."""

from __future__ import annotations

import socket
from pathlib import Path

from headroom_mitm.addon.cli.proxy import configured_address
from headroom_mitm.addon.pages.registry import RunningProxy, is_headroom, probe_health, running_proxies

DEFAULT_CONFDIR = Path("~/.mitmproxy")


def configured_proxy_url(environ: dict[str, str] | None = None) -> str:
    host, port = configured_address(environ)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def proxy_at(url: str) -> RunningProxy | None:
    """The Headroom proxy at ``url``, when Headroom answers there."""
    health = probe_health(url)
    return RunningProxy(int(health.get("pid") or 0), url, health) if is_headroom(health) else None


def running_proxy(environ: dict[str, str] | None = None) -> RunningProxy | None:
    """The proxy at the configured address when Headroom answers there, else the newest one running."""
    at_configured = proxy_at(configured_proxy_url(environ))
    if at_configured is not None:
        return at_configured
    found = running_proxies()
    return found[0] if found else None


def ca_of(proxy: RunningProxy | None, confdir: str | None = None) -> Path:
    """mitmproxy's CA certificate: the named confdir's, else the running proxy's, else ~/.mitmproxy's."""
    if confdir:
        return Path(confdir).expanduser() / "mitmproxy-ca-cert.pem"
    if proxy is not None and proxy.health.get("ca_cert"):
        return Path(proxy.health["ca_cert"])
    return DEFAULT_CONFDIR.expanduser() / "mitmproxy-ca-cert.pem"


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def bundle_path_for(ca: Path) -> Path:
    """Where the bundle for ``ca`` goes: ``~/.headroom/ca-bundle.pem`` for the usual CA, and beside
    any other CA (a test's, a second proxy's), so it never replaces the one every shell uses."""
    from headroom_mitm.addon.store.engine import default_db_path

    if ca.expanduser() == DEFAULT_CONFDIR.expanduser() / "mitmproxy-ca-cert.pem":
        return default_db_path().parent / "ca-bundle.pem"
    return ca.with_name("headroom-ca-bundle.pem")


def tidy_env(environ: dict[str, str]) -> dict[str, str]:
    """``environ`` without the variables that would send the proxy's own upstream traffic to itself."""
    return {key: value for key, value in environ.items()
            if key.lower() not in ("https_proxy", "http_proxy", "all_proxy", "no_proxy")}


__all__ = ["bundle_path_for", "ca_of", "configured_proxy_url", "port_is_free", "proxy_at", "running_proxy", "tidy_env"]
