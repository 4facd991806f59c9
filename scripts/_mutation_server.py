"""Runs pytest for scripts/mutation in a child forked from a warm process, one mutant at a time.

Starting pytest costs more than a module's unit tests take (hypothesis, mitmproxy and the
tokenizer load for about 1.5 CPU seconds), and a full run starts it a thousand times. This
server imports them once and never the project itself, so each forked child imports the
mutated module from disk. ``python _mutation_server.py SOCKET`` serves; ``_mutation_client.py``
is the test command cosmic-ray runs.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import socket
import sys
import tempfile
import time

# what the tests import besides the project, loaded once here
_WARM = ("pytest", "_pytest.python", "hypothesis", "hypothesis.strategies", "pytest_asyncio", "pytest_timeout",
         "yaml", "mitmproxy.http", "sqlalchemy", "tiktoken")


def _warm_up() -> None:
    for name in _WARM:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        import tiktoken

        tiktoken.get_encoding("o200k_base")  # cached in tiktoken's registry for every child
    except Exception:  # no encoding here: the children's tests see the same
        pass


def _run_child(arguments: list[str], timeout: float) -> tuple[int, str]:
    with tempfile.TemporaryFile() as output:
        pid = os.fork()
        if pid == 0:
            os.dup2(output.fileno(), 1)
            os.dup2(output.fileno(), 2)
            code = 70
            try:
                import pytest

                code = int(pytest.main(arguments))
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        deadline = time.monotonic() + timeout
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return 124, "timeout"
            time.sleep(0.02)
        output.seek(0)
        return code, output.read().decode("utf-8", "replace")


def serve(path: str) -> None:
    _warm_up()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    while True:
        connection, _ = server.accept()
        with connection, connection.makefile("rwb") as stream:
            request = json.loads(stream.readline())
            code, text = _run_child(request["arguments"], request["timeout"])
            stream.write(f"{code}\n{text}".encode())


if __name__ == "__main__":
    serve(sys.argv[1])
