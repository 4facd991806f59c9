"""No secret survives redaction, and ordinary text does."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from mitmproxy.http import Headers

from headroom_mitm.addon.redact import REDACTED, redact_json, redact_text, redact_url_path, secrets_from_headers

_ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
_UPPER_DIGITS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"


def _chars(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size + 20)


# One strategy per credential shape the providers and services actually issue.
credentials = st.one_of(
    _chars(_ALNUM + "_-", 40).map(lambda body: "sk-ant-api03-" + body),
    _chars(_ALNUM + "_-", 40).map(lambda body: "sk-proj-" + body),
    _chars(_ALNUM, 32).map(lambda body: "sk-" + body),
    _chars(_ALNUM + "_-", 35).map(lambda body: "AIza" + body),
    _chars(_ALNUM, 36).map(lambda body: "ghp_" + body),
    _chars(_ALNUM, 36).map(lambda body: "gho_" + body),
    _chars(_ALNUM + "_", 60).map(lambda body: "github_pat_" + body),
    _chars(_ALNUM, 24).map(lambda body: "xoxb-1234-" + body),
    st.text(alphabet=_UPPER_DIGITS, min_size=16, max_size=16).map(lambda body: "AKIA" + body),
    st.tuples(_chars(_ALNUM, 20), _chars(_ALNUM, 20), _chars(_ALNUM + "_-", 20)).map(
        lambda parts: f"eyJ{parts[0]}.eyJ{parts[1]}.{parts[2]}"
    ),
)

# Text around a secret: prose, code, logs; separators so the secret stands as its own word.
surroundings = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80
)
separators = st.sampled_from([" ", "\n", "=", ": ", "'", '"', "(", "\t", ","])


@settings(max_examples=300, deadline=None)
@given(before=surroundings, separator=separators, secret=credentials, after=surroundings)
def test_a_credential_anywhere_in_text_is_removed(before: str, separator: str, secret: str, after: str) -> None:
    text = before + separator + secret + separator + after
    assert secret not in redact_text(text)


@settings(max_examples=200, deadline=None)
@given(before=surroundings, secret=st.text(alphabet=_ALNUM + "-._~", min_size=8, max_size=60), after=surroundings)
def test_a_known_secret_of_any_shape_is_removed(before: str, secret: str, after: str) -> None:
    assume(secret not in REDACTED)  # the marker itself cannot be told apart from what it replaced
    assert secret not in redact_text(before + secret + after, known_secrets=[secret])


@settings(max_examples=200, deadline=None)
@given(
    document=st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30), credentials),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
        max_leaves=12,
    )
)
def test_json_stays_json_and_loses_its_credentials(document: object) -> None:
    redacted = redact_json(document)
    text = json.dumps(redacted)
    json.loads(text)
    for secret in _strings_in(document):
        if secret.startswith(("sk-", "AIza", "ghp_", "gho_", "github_pat_", "xoxb-", "AKIA", "eyJ")) and len(secret) > 30:
            assert secret not in text


def _strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings_in(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings_in(item)]
    return []


def test_assignments_lose_their_values_but_keep_their_names() -> None:
    text = 'password=hunter2\nexport API_KEY="abc123def"\nDB_PASSWORD: s3cr3t\nmysql --password hunter3'
    redacted = redact_text(text)
    for value in ("hunter2", "abc123def", "s3cr3t", "hunter3"):
        assert value not in redacted
    for name in ("password=", "API_KEY=", "DB_PASSWORD:", "--password"):
        assert name in redacted


# `name=value` assignments as code, configs, shells and JSON write them; the value is what must go.
secret_names = st.sampled_from(
    ["password", "PASSWORD", "Passwd", "pwd", "secret", "client_secret", "api_key", "API-KEY", "apikey", "token",
     "Authorization", "passphrase", "aws_secret_access_key", "private_key", "secret_key"]
)
name_prefixes = st.sampled_from(["", "DB_", "x_", "export ", "--set "])
assignment_separators = st.sampled_from(["=", ": ", " = ", '="', "='", '": "', '\\": \\"', ":"])
assigned_values = st.text(alphabet=_ALNUM + "!#$%*+-./=?@^_|~", min_size=6, max_size=40).filter(
    lambda value: not re.match(r"(?:None|null|nil|true|false|True|False|str|bytes|int|bool|string|self|undefined)\b",
                               value)
)
# "İ" lower-cases to two characters: text holding it takes the redaction's other path
prose = st.one_of(surroundings, st.sampled_from(["İİİ ", "straße İ ", "Ǆ ", ""]))


@settings(max_examples=300, deadline=None)
@given(before=prose, prefix=name_prefixes, name=secret_names, separator=assignment_separators,
       value=assigned_values, after=prose)
def test_an_assigned_secret_loses_its_value_anywhere_in_text(
    before: str, prefix: str, name: str, separator: str, value: str, after: str
) -> None:
    assume(value not in before + prefix + name + separator and value not in after and value not in REDACTED)
    text = f"{before}\n{prefix}{name}{separator}{value} {after}"
    redacted = redact_text(text)
    assert value not in redacted
    assert f"{prefix}{name}" in redacted


@pytest.mark.parametrize("text, expected", [
    ("İİİ password=hunter2 ok", "İİİ password=[REDACTED] ok"),
    ("İstanbul: mysql --password hunter3 -h db", "İstanbul: mysql --password [REDACTED] -h db"),
    ('{"note": "İ", "api_key": "k-0123456789"}', '{"note": "İ", "api_key": "[REDACTED]"}'),
])
def test_text_whose_lower_case_is_longer_is_redacted_too(text: str, expected: str) -> None:
    assert len(text.lower()) != len(text)
    assert redact_text(text) == expected


def test_json_members_with_secret_names_are_redacted_and_stay_valid() -> None:
    document = {"token": "plain-looking", "password": 1234, "nested": [{"api_key": "k-value"}], "tokens": 5}
    redacted = redact_json(document)
    assert redacted == {"token": REDACTED, "password": REDACTED, "nested": [{"api_key": REDACTED}], "tokens": 5}
    escaped = json.dumps(json.dumps({"api_key": "inner-secret-value"}))
    assert "inner-secret-value" not in redact_text(escaped)
    json.loads(json.loads(redact_text(escaped)))


def test_private_key_blocks_are_removed_whole() -> None:
    block = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACD\n-----END OPENSSH PRIVATE KEY-----"
    assert redact_text(f"cat ~/.ssh/id_ed25519\n{block}\n$ ") == f"cat ~/.ssh/id_ed25519\n{REDACTED}\n$ "
    truncated = redact_text("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC")
    assert "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in truncated


def test_bearer_tokens_in_commands_are_removed() -> None:
    text = 'curl -H "Authorization: Bearer abcdef0123456789abcdef" https://example.com'
    assert "abcdef0123456789abcdef" not in redact_text(text)


def test_ordinary_code_and_logs_are_left_alone() -> None:
    ordinary = (
        "def tokenize(text: str) -> list[str]:\n"
        "    token = tokenizer.next()\n"
        "    max_tokens: 1000\n"
        "def login(password: str, token=None):\n"
        "2025-06-01T10:00:00Z INFO Basic authentication is enabled\n"
        "risk-assessment-for-everyone-here task-0123456789abcdef0123\n"
        "usage: input_tokens=1200 cache_read_input_tokens=900\n"
    )
    assert redact_text(ordinary) == ordinary


def test_secret_query_parameters_are_dropped_and_the_rest_kept() -> None:
    path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&key=AIzaSyA0123456789abcdefghijklmnopqrstu&x=1"
    assert redact_url_path(path) == "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse&x=1"
    assert redact_url_path("/v1/messages?beta=true") == "/v1/messages?beta=true"
    assert redact_url_path("/v1/models?access_token=abc&Signature=zz") == "/v1/models"
    assert redact_url_path("/v1/messages") == "/v1/messages"


def test_secrets_come_from_credential_headers_only() -> None:
    headers = Headers(
        [
            (b"Authorization", b"Bearer sk-ant-oat01-0123456789abcdef"),
            (b"x-api-key", b"key-from-x-api-key-0123"),
            (b"x-goog-api-key", b"AIzaSyGoogleHeaderKey0123456789"),
            (b"Cookie", b"session=cookie-session-value-1; theme=dark; a=1"),
            (b"Cookie", b"second=another-cookie-value-2"),
            (b"content-type", b"application/json"),
            (b"user-agent", b"claude-cli/2.0.0"),
        ]
    )
    found = secrets_from_headers(headers)
    for expected in (
        "sk-ant-oat01-0123456789abcdef",
        "Bearer sk-ant-oat01-0123456789abcdef",
        "key-from-x-api-key-0123",
        "AIzaSyGoogleHeaderKey0123456789",
        "cookie-session-value-1",
        "another-cookie-value-2",
    ):
        assert expected in found
    assert "application/json" not in found and "claude-cli/2.0.0" not in found
    # too short to search for without erasing ordinary text
    assert "dark" not in found and "1" not in found
    assert secrets_from_headers({"X-Api-Key": "plain-dict-key-value"}) == ["plain-dict-key-value"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgres://user:pw-db-1@host/db", "postgres://user:[REDACTED]@host/db"),
        (
            "DATABASE_URL=postgresql+psycopg://proxy:s3cr3t-P4ss@db.internal:5432/headroom",
            "DATABASE_URL=postgresql+psycopg://proxy:[REDACTED]@db.internal:5432/headroom",
        ),
        ("mysql://root:toor-9@127.0.0.1:3306/app", "mysql://root:[REDACTED]@127.0.0.1:3306/app"),
        ("redis://:cache-pass@cache:6379/0", "redis://:[REDACTED]@cache:6379/0"),
        ("fetching https://deploy:hunter22@registry.test/v2/", "fetching https://deploy:[REDACTED]@registry.test/v2/"),
        ("amqp://guest:p@ss@rabbit//", "amqp://guest:[REDACTED]@rabbit//"),
        ('{"url": "mysql://app:w0rd@db/x"}', '{"url": "mysql://app:[REDACTED]@db/x"}'),
    ],
)
def test_connection_url_passwords_are_removed_and_the_rest_kept(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ssh://git@github.com:22/team/app.git",
        "http://localhost:3000/users/me@example.test",
        "https://api.example.test:8443/v1/items?page=2",
        "postgresql://proxy@db.internal/headroom",
    ],
)
def test_urls_without_a_password_are_unchanged(text: str) -> None:
    assert redact_text(text) == text


@given(
    scheme=st.sampled_from(["postgresql", "postgres", "mysql", "redis", "https", "mongodb+srv", "amqp"]),
    user=st.text(alphabet=_ALNUM + "._-", max_size=12),
    password=st.text(alphabet=_ALNUM + "!$%&*+,;=~-_.@", min_size=6, max_size=30),
    host=st.from_regex(r"[a-z][a-z0-9-]{0,12}(\.[a-z]{2,5})?(:[0-9]{2,5})?", fullmatch=True),
    before=surroundings,
)
@settings(max_examples=300, deadline=None)
def test_no_connection_url_password_survives(scheme: str, user: str, password: str, host: str, before: str) -> None:
    assume(any(ch.isalnum() for ch in password) and password not in f"{before} {scheme} {user} {host}/db")
    text = f"{before} {scheme}://{user}:{password}@{host}/db\n"
    redacted = redact_text(text)
    assert password not in redacted
    assert f"{scheme}://{user}:{REDACTED}@{host}/db" in redacted


@pytest.mark.parametrize("text", [
    "-password hunter2",
    "run --db-password hunter2 now",
    "mysql -u root --db_password=hunter2",
])
def test_flags_anywhere_lose_their_value(text: str) -> None:
    assert "hunter2" not in redact_text(text)


@pytest.mark.parametrize("text", [
    "password reset needed -v",
    "the user_password field is hashed",
    "token_count 1200 tokens",
])
def test_a_secret_s_name_in_prose_is_no_flag(text: str) -> None:
    assert redact_text(text) == text


def test_a_known_secret_inside_a_longer_one_does_not_leave_its_tail() -> None:
    redacted = redact_text("auth abcdefgh12345678 then abcdefgh", known_secrets=["abcdefgh", "abcdefgh12345678"])
    assert redacted == f"auth {REDACTED} then {REDACTED}"


def test_a_url_whose_scheme_is_followed_by_another_is_still_searched() -> None:
    assert redact_text("x://://u:pw-1234@h/db") == f"x://://u:{REDACTED}@h/db"


def test_fragments_survive_the_query_s_redaction() -> None:
    assert redact_url_path("/v1/x?key=abc&a=1#frag") == "/v1/x?a=1#frag"
    assert redact_url_path("/v1/x?a=1#frag#more") == "/v1/x?a=1#frag#more"


def test_only_the_known_schemes_are_split_from_their_credentials() -> None:
    assert secrets_from_headers({"Authorization": "Custom key-0123456789"}) == ["Custom key-0123456789"]
    assert secrets_from_headers({"Authorization": "Token key-0123456789"}) == ["Token key-0123456789", "key-0123456789"]


@pytest.mark.parametrize("seed", range(3))
def test_credential_headers_are_found_among_many_others(seed: int) -> None:
    # header names come as a set: an early stop at an ordinary header would lose the rest
    headers = {f"x-ordinary-{seed}-{n}": "value-0123456789" for n in range(30)}
    headers["x-api-key"] = f"key-from-the-header-{seed}"
    assert secrets_from_headers(headers) == [f"key-from-the-header-{seed}"]
