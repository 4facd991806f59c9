"""Keep secrets out of the flow log.

Everything the log stores passes through :func:`redact_text` first: the request's own credentials
(passed in as ``known_secrets``), anything shaped like an API key, token or private key, and the
password of a connection URL (``postgresql://user:PASSWORD@host``) become ``[REDACTED]``. Query strings lose their secret parameters (:func:`redact_url_path`). Headers are
never stored at all; :func:`secrets_from_headers` only picks the values to look for elsewhere.

The replacement contains no quote or backslash, so redacting JSON text keeps it parseable in the
cases that matter (a key inside a string value, a ``"password": "..."`` member).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "REDACTED",
    "redact_text",
    "redact_json",
    "redact_url_path",
    "secrets_from_headers",
]

REDACTED = "[REDACTED]"

# Known values shorter than this are not searched for: a cookie value of "1" would otherwise
# erase every digit one from the log, and a real credential is never that short.
_MIN_KNOWN_SECRET_LENGTH = 8

# Shapes of credentials, each with the literal text one must contain: a pattern runs only over
# text that holds its cue, which keeps redaction of long tool outputs cheap.
_TOKEN_PATTERNS: tuple[tuple[tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (cues, re.compile(pattern))
    for cues, pattern in (
        # PEM private keys, the whole block (or to the end of the base64 run when truncated)
        (
            ("PRIVATE KEY-----",),
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?:[\s\S]*?-----END [A-Z0-9 ]*PRIVATE KEY-----"
            r"|[A-Za-z0-9+/=\s\\]*)",
        ),
        # Anthropic, OpenAI (project, service account, legacy), and other "sk-" keys
        (("sk-",), r"\bsk-[A-Za-z0-9_\-]{16,}"),
        # Google API keys
        (("AIza",), r"\bAIza[0-9A-Za-z_\-]{30,}"),
        # GitHub tokens: classic (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained
        (("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), r"\bgh[pousr]_[A-Za-z0-9]{30,}"),
        (("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{30,}"),
        # Slack tokens
        (("xox",), r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"),
        # AWS access key ids
        (("AKIA", "ASIA"), r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        # JSON Web Tokens: three base64url parts, the first two starting with '{"' encoded
        (("eyJ",), r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]+"),
        # "Bearer <token>" / "Basic <credentials>" wherever they appear (curl -H lines, logs)
        (
            ("bearer", "basic"),
            r"(?i)\b(?:bearer|basic)\s+(?=[A-Za-z._~+/\-]*[0-9])[A-Za-z0-9._~+/\-]{12,}=*",
        ),
    )
)
# cues of case-insensitive patterns are looked for in the lower-cased text
_CASELESS_CUES = frozenset({"bearer", "basic"})

# The password of a connection URL (postgresql://, mysql://, redis://, amqp://, https:// ...):
# ``scheme://user:PASSWORD@host``, the user and host kept. The password runs to the last "@"
# before the host's end, so an unescaped "@" inside it is removed whole.
# Matched from just after each "://" (found with str.find, far cheaper than a scan for schemes).
_URL_CREDENTIALS = re.compile(r"[^\s/?#@:'\"\\]*:(?P<password>[^\s/?#'\"\\]+)@")

# `password=...`, `api_key: ...`, `"token": "..."`, `--password ...`: the value is replaced,
# the name kept so a reader still sees what was there. Optional quotes (also JSON-escaped ones)
# around the name and the value are allowed.
_SECRET_NAMES = (
    "aws_secret_access_key",
    "client_secret",
    "secret_key",
    "private_key",
    "private-key",
    "authorization",
    "passphrase",
    "password",
    "passwd",
    "pwd",
    "secret",
    "api_key",
    "api-key",
    "apikey",
    "token",
)
# longest first: at any position the alternation then takes "secret_key" over "secret"
_SECRET_NAME = "(?:" + "|".join(sorted(_SECRET_NAMES, key=len, reverse=True)) + ")"
# Words that follow a secret's name in code without being a secret (`password: str`,
# `token = None`); redacting them would only blur the code the log keeps.
_NOT_A_VALUE = r"(?!(?:None|null|nil|true|false|True|False|str|bytes|int|bool|string|self|undefined)\b)"
_VALUE = r"(?P<value>(?!\[REDACTED\])" + _NOT_A_VALUE + r"[^\s\"'\\&,;\[\]{}()<>]++)(?![(\[])"
_SEPARATOR = r"(?P<sep>\\?[\"']?\s*[:=]\s*\\?[\"']?)"
# Names are found in the lower-cased text with a case-sensitive pattern (an IGNORECASE
# alternation is ~50x slower); what follows a name is then matched in the original text.
# A prefix (DB_PASSWORD, x_api_key, access_token) stays outside the match and is kept as is.
_NAME_IN_LOWERED = re.compile(_SECRET_NAME)
_AFTER_NAME = re.compile(_SEPARATOR + _VALUE)
_ASSIGNMENT = re.compile(r"(?i)(?P<name>" + _SECRET_NAME + r")" + _SEPARATOR + _VALUE)
_ASSIGNMENT_CUES = ("pass", "pwd", "secret", "key", "token", "authorization")
# command-line flags: `--password hunter2`, `--api-key sk-...`
_AFTER_FLAG = re.compile(r"(?P<sep>\s+[\"']?)" + _VALUE)
_FLAG_ASSIGNMENT = re.compile(
    r"(?i)(?<![A-Za-z0-9_\-])(?P<name>--?[A-Za-z0-9_\-]*" + _SECRET_NAME + r")(?P<sep>\s+[\"']?)" + _VALUE
)

# Query parameter names whose value is a credential or a signature.
_SECRET_QUERY_PARAMS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "api-key",
        "x-goog-api-key",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "auth_token",
        "sig",
        "signature",
        "secret",
        "client_secret",
        "password",
        "code",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
    }
)

# Header names whose values are credentials.
_SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "openai-api-key",
        "anthropic-api-key",
        "x-auth-token",
        "cookie",
        "set-cookie",
    }
)


def redact_text(text: str, known_secrets: Iterable[str] = ()) -> str:
    """Return ``text`` with every known secret value and every credential-shaped string replaced.

    >>> redact_text("curl -H 'x-api-key: sk-ant-api03-abcdefghijklmnopqrstuv'")
    "curl -H 'x-api-key: [REDACTED]'"
    """
    if not text:
        return text
    # longest first, so a secret that contains another is removed whole
    for secret in sorted(set(known_secrets), key=len, reverse=True):
        if secret and len(secret) >= _MIN_KNOWN_SECRET_LENGTH and secret in text:
            text = text.replace(secret, REDACTED)
    if "://" in text:
        text = _redact_url_passwords(text)
    lowered = text.lower()
    for cues, pattern in _TOKEN_PATTERNS:
        if any((cue in lowered) if cue in _CASELESS_CUES else (cue in text) for cue in cues):
            text = pattern.sub(REDACTED, text)
    if any(cue in lowered for cue in _ASSIGNMENT_CUES):
        text = _redact_assignments(text)
    return text


def _redact_url_passwords(text: str) -> str:
    pieces: list[str] = []
    kept_until = 0
    at = text.find("://")
    while at != -1:
        credentials = _URL_CREDENTIALS.match(text, at + 3)
        if credentials and credentials.group("password") != REDACTED:
            pieces += [text[kept_until : credentials.start("password")], REDACTED]
            kept_until = credentials.end("password")
        at = text.find("://", credentials.end() if credentials else at + 3)
    if not pieces:
        return text
    pieces.append(text[kept_until:])
    return "".join(pieces)


def _redact_assignments(text: str) -> str:
    lowered = text.lower()
    if len(lowered) != len(text):
        # a few characters change length when lower-cased: positions would not line up
        text = _ASSIGNMENT.sub(_redact_assignment, text)
        return _FLAG_ASSIGNMENT.sub(_redact_assignment, text)
    pieces: list[str] = []
    kept_until = 0
    for name in _NAME_IN_LOWERED.finditer(lowered):
        if name.start() < kept_until:
            continue
        after = _AFTER_NAME.match(text, name.end())
        if not after and _is_flag_name(lowered, name.start()):
            after = _AFTER_FLAG.match(text, name.end())
        if after:
            pieces += [text[kept_until : after.start("value")], REDACTED]
            kept_until = after.end("value")
    if not pieces:
        return text
    pieces.append(text[kept_until:])
    return "".join(pieces)


def _is_flag_name(lowered: str, name_start: int) -> bool:
    """Whether the secret's name at ``name_start`` ends a command-line flag (``--db-password``)."""
    start = name_start
    while start > 0 and (lowered[start - 1].isalnum() or lowered[start - 1] in "_-"):
        start -= 1
    return lowered.startswith("-", start) and start < name_start


def _redact_assignment(match: re.Match[str]) -> str:
    return f"{match.group('name')}{match.group('sep')}{REDACTED}"


def redact_json(value: Any, known_secrets: Iterable[str] = ()) -> Any:
    """Redact a parsed JSON value: every string inside it, and whole values under secret keys.

    Working on the structure (rather than on serialised text) keeps the result valid JSON.
    """
    secrets = tuple(known_secrets)
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, Mapping):
        redacted: dict[Any, Any] = {}
        for key, item in value.items():
            if isinstance(key, str) and _is_secret_name(key) and not isinstance(item, (Mapping, list, tuple)):
                redacted[key] = REDACTED if item not in (None, "") else item
            else:
                redacted[key] = redact_json(item, secrets)
        return redacted
    if isinstance(value, (list, tuple)):
        return [redact_json(item, secrets) for item in value]
    return value


_SECRET_NAME_ONLY = re.compile(r"(?i)^[A-Za-z0-9_\-]*" + _SECRET_NAME + r"$")


def _is_secret_name(name: str) -> bool:
    return bool(_SECRET_NAME_ONLY.match(name))


def redact_url_path(path: str) -> str:
    """Drop secret query parameters (``?key=``, ``access_token=``, signatures) from a request path.

    Other parameters are kept byte for byte, in order.

    >>> redact_url_path("/v1beta/models/gemini-pro:generateContent?alt=sse&key=AIzaXYZ")
    '/v1beta/models/gemini-pro:generateContent?alt=sse'
    """
    base, question_mark, query = path.partition("?")
    if question_mark:
        fragment = ""
        if "#" in query:
            query, fragment = query.split("#", 1)
            fragment = "#" + fragment
        kept = [part for part in query.split("&") if not _is_secret_query_part(part)]
        path = base + ("?" + "&".join(kept) if any(kept) else "") + fragment
    return redact_text(path)


def _is_secret_query_part(part: str) -> bool:
    name = part.split("=", 1)[0].strip().lower()
    return name in _SECRET_QUERY_PARAMS or _is_secret_name(name)


def secrets_from_headers(headers: Mapping[str, Any]) -> list[str]:
    """The credential values a request carries in its headers, to be searched for in its body.

    Gives the full value and, for ``Authorization: Bearer x``, the bare token too; cookie headers
    give each cookie's value. Accepts any mapping; a mitmproxy ``Headers`` object's repeated fields
    are all read.
    """
    found: list[str] = []
    get_all = getattr(headers, "get_all", None)
    for name in {str(key).lower() for key in headers.keys()}:
        if name not in _SECRET_HEADERS:
            continue
        values = get_all(name) if get_all else [headers.get(name) or _get_case_insensitive(headers, name)]
        for value in values:
            if value is None:
                continue
            value = value.decode("latin-1") if isinstance(value, bytes) else str(value)
            found.extend(_credential_parts(name, value.strip()))
    return [value for value in dict.fromkeys(found) if len(value) >= _MIN_KNOWN_SECRET_LENGTH]


def _get_case_insensitive(headers: Mapping[str, Any], name: str) -> Any:
    for key, value in headers.items():
        if str(key).lower() == name:
            return value
    return None


def _credential_parts(header_name: str, value: str) -> list[str]:
    if header_name in ("cookie", "set-cookie"):
        parts = []
        for pair in value.split(";"):
            _, equals, cookie_value = pair.partition("=")
            if equals:
                parts.append(cookie_value.strip().strip('"'))
        return parts
    parts = [value]
    scheme, _, credentials = value.partition(" ")
    if credentials and scheme.lower() in ("bearer", "basic", "token", "digest"):
        parts.append(credentials.strip())
    return parts
