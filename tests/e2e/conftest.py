"""Fixtures: the fake provider (one per session) and real mitmdump proxies (per test or module).

A test asks for ``proxy`` (the addon with its defaults) or calls ``start_proxy(...)`` for other
options. Either way the client side is configured the way a user would: HTTPS_PROXY points at
mitmdump and SSL_CERT_FILE at a bundle holding mitmproxy's CA (plus the test CA, so hosts the
proxy passes through verify too).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generator, Iterator, Mapping, Sequence

import pytest

from .agents.fixtures import (  # noqa: F401  (fixtures for the tests that run real agents)
    agent_session,
    claude_code_cli,
    codex_cli,
    described_on_failure,
    mini_swe_agent_cli,
    workspace,
)
from .fake_provider import FakeProvider, FakePKI, make_test_pki
from .outcome import CALL_FAILED as _CALL_FAILED
from .harness import Mitmdump, client_env, mitmdump_command, write_ca_bundle


@dataclass
class Proxy:
    """A running mitmdump plus what a client needs to use it."""

    process: Mitmdump
    db_path: Path
    ca_bundle: Path

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def port(self) -> int:
        return self.process.port

    def output(self) -> str:
        return self.process.output()


StartProxy = Callable[..., Proxy]

ANSI_ONLY_RULES = Path(__file__).with_name("fixtures") / "ansi_only.yaml"
"""The rules every e2e proxy runs with unless a test says otherwise (see the file for why)."""


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    # Remember the outcome so the proxy fixture prints mitmdump's log only for failed tests.
    report = yield
    if report.when == "call":
        item.stash[_CALL_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> FakePKI:
    return make_test_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def _fake_provider_server(pki: FakePKI) -> Iterator[FakeProvider]:
    server = FakeProvider(pki).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def fake(_fake_provider_server: FakeProvider) -> Iterator[FakeProvider]:
    """The fake provider with nothing recorded yet."""
    _fake_provider_server.reset()
    yield _fake_provider_server
    _fake_provider_server.reset()


def launch_proxy(
    workdir: Path,
    fake_port: int,
    pki: FakePKI,
    started: list[Mitmdump],
    *,
    options: Mapping[str, str] = {},
    with_addon: bool = True,
    extra_args: Sequence[str] = (),
) -> Proxy:
    """Start one mitmdump under ``workdir`` (confdir, flow log, trust bundle).

    The process is added to ``started`` before it starts, so the caller stops it even when
    starting fails.
    ``headroom_db`` defaults to ``workdir/flows.db`` and ``headroom_rules`` to ``ANSI_ONLY_RULES``
    (``""`` selects the shipped rules). Clients are not pointed at it: see :func:`point_clients_at`.
    """
    confdir = workdir / "confdir"
    confdir.mkdir(parents=True)
    db_path = workdir / "flows.db"
    all_options = dict(options)
    if with_addon:
        all_options.setdefault("headroom_db", str(db_path))
        all_options.setdefault("headroom_rules", str(ANSI_ONLY_RULES))
    process = Mitmdump(
        args=mitmdump_command(
            confdir, fake_port, pki.ca_cert_path,
            with_addon=with_addon, options=all_options, extra_args=extra_args,
        ),
        confdir=confdir,
        db_path=db_path,
    )
    started.append(process)
    process.start()
    bundle = write_ca_bundle(workdir / "ca-bundle.pem", process.mitmproxy_ca, pki.ca_cert_path)
    return Proxy(process=process, db_path=db_path, ca_bundle=bundle)


def point_clients_at(proxy: Proxy, monkeypatch: pytest.MonkeyPatch) -> Proxy:
    """Send this test's SDK and httpx clients through ``proxy`` (HTTPS_PROXY, SSL_CERT_FILE)."""
    for variable, value in client_env(proxy.url, proxy.ca_bundle).items():
        monkeypatch.setenv(variable, value)
    return proxy


def _print_outputs(processes: Sequence[Mitmdump]) -> None:
    for process in processes:
        print(f"\n----- mitmdump output ({' '.join(process.args)}) -----\n{process.output()}")


@pytest.fixture
def start_proxy(
    request: pytest.FixtureRequest,
    fake: FakeProvider,
    pki: FakePKI,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[StartProxy]:
    """Start mitmdump with the addon; the client env then points at the last proxy started.

    ``options`` are ``--set`` values for the addon; ``headroom_db`` defaults to a fresh SQLite
    file in the test's tmp dir and ``headroom_rules`` to ``ANSI_ONLY_RULES``. ``with_addon=False`` runs plain mitmdump (harness checks).
    """
    started: list[Mitmdump] = []

    def start(
        *,
        options: Mapping[str, str] = {},
        with_addon: bool = True,
        extra_args: Sequence[str] = (),
        name: str = "proxy",
    ) -> Proxy:
        workdir = tmp_path / f"{name}{len(started)}"
        proxy = launch_proxy(
            workdir, fake.port, pki, started, options=options, with_addon=with_addon, extra_args=extra_args
        )
        return point_clients_at(proxy, monkeypatch)

    yield start

    failed = request.node.stash.get(_CALL_FAILED, False)
    for process in started:
        process.stop()
    if failed:
        _print_outputs(started)


@pytest.fixture(scope="module")
def start_module_proxy(
    _fake_provider_server: FakeProvider, pki: FakePKI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Proxy]]:
    """Start a mitmdump shared by the tests of one module (same options as ``start_proxy``).

    Starting a proxy is the slow part of an e2e test, so tests that do not disturb each other
    share one. Clients are not pointed at it: a test calls ``use_proxy(proxy)``. The flow log is
    shared too: compare row counts, never assume an empty log.
    """
    started: list[Mitmdump] = []

    def start(
        *, options: Mapping[str, str] = {}, with_addon: bool = True,
        extra_args: Sequence[str] = (), name: str = "module-proxy",
    ) -> Proxy:
        workdir = tmp_path_factory.mktemp(name)
        return launch_proxy(
            workdir, _fake_provider_server.port, pki, started,
            options=options, with_addon=with_addon, extra_args=extra_args,
        )

    yield start

    for process in started:
        process.stop()


@pytest.fixture
def use_proxy(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Proxy], Proxy]]:
    """Point this test's clients at a (module) proxy; its output is printed if the test fails."""
    used: list[Proxy] = []

    def use(proxy: Proxy) -> Proxy:
        used.append(proxy)
        return point_clients_at(proxy, monkeypatch)

    yield use

    if request.node.stash.get(_CALL_FAILED, False):
        _print_outputs([proxy.process for proxy in used])


@pytest.fixture
def proxy(start_proxy: StartProxy) -> Proxy:
    """mitmdump with the addon and its default options."""
    return start_proxy()
