"""The production web tier (config/webtier.py): several daphne processes on one port, HTTP and WebSocket alike.

A real tier of two servers runs against the test database; which process holds a connection is read from the
operating system (psutil), not from anything the servers say about themselves."""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import time
from collections.abc import Iterator

import psutil
import pytest

from accounts.tokens import issue_tokens
from config.webtier import LocalServer, serve_locally
from tests.conftest import server_environment
from tests.factories import UserFactory

CONNECTIONS = 24  # spread by the kernel over two servers: all on one has a chance of 2 in 2**24


class Tier:
    def __init__(self, server: LocalServer):
        self.process = server.process
        self.port = server.port

    def servers(self) -> list[psutil.Process]:
        return psutil.Process(self.process.pid).children()

    def connections_by_server(self) -> dict[int, int]:
        """Established connections on the tier's port, by server pid."""
        return {
            server.pid: sum(
                1
                for conn in server.net_connections(kind="tcp")
                if conn.status == psutil.CONN_ESTABLISHED and conn.laddr and conn.laddr.port == self.port
            )
            for server in self.servers()
        }


def _healthy(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", "/healthz")
        ok = conn.getresponse().status == 200
        conn.close()
        return ok
    except OSError:
        return False


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} within {seconds} s")


def _both_servers_answer(server: LocalServer) -> bool:
    return len(Tier(server).servers()) == 2 and _healthy(server.port)


@pytest.fixture(scope="module")
def tier(django_db_setup, django_db_blocker) -> Iterator[Tier]:
    env = server_environment(ARGUS_INFERENCE_PROCESSES="0")
    with serve_locally(env, processes=2, ready=_both_servers_answer) as server:
        yield Tier(server)


def _websocket(port: int, token: str) -> socket.socket:
    """A WebSocket to ``/ws`` (RFC 6455 handshake), past the server's greeting."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws?token={token} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(1)
        assert chunk, "connection closed during the handshake"
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    assert _receive(sock)["type"] == "connected"
    return sock


def _send(sock: socket.socket, message: dict) -> None:
    payload = json.dumps(message).encode()
    assert len(payload) < 126
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask + masked)


def _exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def _receive(sock: socket.socket) -> dict:
    first, second = _exactly(sock, 2)
    assert first & 0x0F == 0x1, f"a text frame, not opcode {first & 0x0F}"
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(_exactly(sock, 2), "big")
    elif size == 127:
        size = int.from_bytes(_exactly(sock, 8), "big")
    return json.loads(_exactly(sock, size))


def test_both_processes_serve_http_on_the_one_port(tier):
    connections = [http.client.HTTPConnection("127.0.0.1", tier.port, timeout=20) for _ in range(CONNECTIONS)]
    try:
        for conn in connections:
            conn.request("GET", "/api/v1/health")
            response = conn.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["status"] == "healthy"

        by_server = tier.connections_by_server()

        assert len(by_server) == 2
        assert all(count >= 1 for count in by_server.values()), by_server
        assert sum(by_server.values()) == CONNECTIONS
    finally:
        for conn in connections:
            conn.close()


def test_both_processes_serve_websockets_on_the_one_port(tier, transactional_db):
    token = issue_tokens(UserFactory(role_id="ROLE-VIEWER")).access
    sockets = [_websocket(tier.port, token) for _ in range(CONNECTIONS)]
    try:
        for sock in sockets:
            _send(sock, {"type": "ping"})
            assert _receive(sock) == {"type": "pong"}

        by_server = tier.connections_by_server()

        assert len(by_server) == 2
        assert all(count >= 1 for count in by_server.values()), by_server
    finally:
        for sock in sockets:
            sock.close()


def test_a_server_that_dies_is_replaced_and_the_port_keeps_answering(tier):
    victim = tier.servers()[0]
    victim.kill()
    victim.wait(timeout=10)

    def replaced() -> bool:
        pids = {server.pid for server in tier.servers()}
        return len(pids) == 2 and victim.pid not in pids

    _wait_for(replaced, 30, "the dead server replaced")
    connections = [http.client.HTTPConnection("127.0.0.1", tier.port, timeout=90) for _ in range(CONNECTIONS)]
    try:
        # Connections that reach the replacement's socket before it is up wait in its backlog: none is refused.
        for conn in connections:
            conn.request("GET", "/healthz")
            assert conn.getresponse().status == 200

        by_server = tier.connections_by_server()

        assert all(count >= 1 for count in by_server.values()), by_server
    finally:
        for conn in connections:
            conn.close()


def test_serve_locally_says_why_a_server_did_not_start():
    with pytest.raises(RuntimeError, match="did not start") as failure, serve_locally(application="no_such_module:app"):
        pass

    assert "no_such_module" in str(failure.value)  # the end of the server's own log
