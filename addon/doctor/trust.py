"""Does mitmproxy's CA exist, and does each client's trust variable lead to it?"""

from __future__ import annotations

from pathlib import Path

from headroom_mitm.addon.doctor.context import Context, Result

# the variable each client reads, and who reads it
TRUST_VARIABLES = {
    "NODE_EXTRA_CA_CERTS": "Claude Code",
    "CODEX_CA_CERTIFICATE": "Codex",
    "SSL_CERT_FILE": "the Anthropic and OpenAI Python SDKs",
    "REQUESTS_CA_BUNDLE": "Python requests",
    "CURL_CA_BUNDLE": "curl",
}
_ENV_FIX = 'eval "$(headroom env)" in this shell (or open a new one after headroom setup)'


def check_ca(context: Context) -> Result:
    if context.ca.is_file():
        return Result("ca", True, f"mitmproxy's CA is {context.shown(context.ca)}")
    return Result("ca", False, f"{context.shown(context.ca)} does not exist",
                  "headroom setup (it creates the CA without starting the proxy)")


def check_trust_variables(context: Context) -> list[Result]:
    wanted = _fingerprints(context.ca)
    if not wanted:
        return [Result("trust", None, "not checked: no CA to look for")]
    results, missing = [], []
    for variable, client in TRUST_VARIABLES.items():
        value = context.environ.get(variable)
        if not value:
            missing.append(variable)
        elif not Path(value).is_file():
            results.append(Result("trust", False, f"{variable}={value} does not exist: {client} fails every "
                                  "request", _ENV_FIX))
        elif not wanted & _fingerprints(Path(value)):
            results.append(Result("trust", False, f"{variable}={value} does not hold mitmproxy's CA "
                                  f"({context.shown(context.ca)}): {client} rejects the proxy", _ENV_FIX))
    if missing:
        clients = ", ".join(TRUST_VARIABLES[name] for name in missing)
        results.append(Result("trust", False, f"{', '.join(missing)} not set: {clients} will not trust the proxy",
                              _ENV_FIX))
    return results or [Result("trust", True, "every client's trust variable holds mitmproxy's CA")]


def _fingerprints(path: Path) -> set[bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        certificates = x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        return set()
    return {certificate.fingerprint(hashes.SHA256()) for certificate in certificates}
