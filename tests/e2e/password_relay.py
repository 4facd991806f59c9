"""A loopback PostgreSQL front door that demands a password, in front of a server that trusts everyone.

The PostgreSQL on a test machine accepts any connection without a password, so it cannot show
whether a client really found and sent one. This relay speaks just enough of the protocol to ask:
it declines TLS and GSS encryption, answers the startup message with a cleartext password request,
and only when the password matches forwards the startup message to the real server and becomes a
plain pipe (the server's ``AuthenticationOk`` then answers the client's password). A wrong or
missing password gets PostgreSQL's own error (SQLSTATE 28P01) and the connection closes.
"""

from __future__ import annotations

import socket
import struct
import threading

SSL_REQUEST = 80877103
GSSENC_REQUEST = 80877104
AUTH_CLEARTEXT = 3


class PasswordRelay:
    def __init__(self, upstream: tuple[str, int], password: str) -> None:
        self.upstream = upstream
        self.password = password
        self.passwords_seen: list[str] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._acceptor = threading.Thread(target=self._accept, name="password-relay", daemon=True)

    @property
    def port(self) -> int:
        return self._listener.getsockname()[1]

    def start(self) -> "PasswordRelay":
        self._acceptor.start()
        return self

    def stop(self) -> None:
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                sock.close()
        self._acceptor.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            client.settimeout(10)  # a client that stalls mid-handshake cannot hold a thread for good
            with self._lock:
                self._sockets.append(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        try:
            startup = self._startup_message(client)
            if startup is None:
                return
            client.sendall(b"R" + struct.pack("!ii", 8, AUTH_CLEARTEXT))
            kind, body = _read_message(client)
            password = body.rstrip(b"\0").decode("utf-8", "replace") if kind == b"p" else ""
            with self._lock:
                self.passwords_seen.append(password)
            if password != self.password:
                client.sendall(_error("28P01", "password authentication failed"))
                return
            server = socket.create_connection(self.upstream, timeout=5)
            with self._lock:
                self._sockets.append(server)
            server.sendall(startup)
            client.settimeout(None)
            server.settimeout(None)
            threading.Thread(target=_pump, args=(server, client), daemon=True).start()
            _pump(client, server)
        except (OSError, ConnectionError):
            pass
        finally:
            client.close()

    @staticmethod
    def _startup_message(client: socket.socket) -> bytes | None:
        """The client's startup message, after declining the encryption requests it opens with."""
        while True:
            head = _read_exactly(client, 8)
            length, code = struct.unpack("!ii", head)
            if code in (SSL_REQUEST, GSSENC_REQUEST) and length == 8:
                client.sendall(b"N")
                continue
            return head + _read_exactly(client, length - 8)


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the client closed the connection")
        data += chunk
    return data


def _read_message(sock: socket.socket) -> tuple[bytes, bytes]:
    kind = _read_exactly(sock, 1)
    (length,) = struct.unpack("!i", _read_exactly(sock, 4))
    return kind, _read_exactly(sock, length - 4)


def _error(sqlstate: str, message: str) -> bytes:
    fields = b"SFATAL\0" + b"C" + sqlstate.encode() + b"\0" + b"M" + message.encode() + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            target.shutdown(socket.SHUT_WR)
        except OSError:
            pass
