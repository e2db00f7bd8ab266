"""DNS rebinding: a name that resolves to an allowed address when checked and to a blocked one a moment later
must not get the server to connect to the blocked one. The connection goes to the address that was checked.

The resolver the outbound policy uses is replaced by one that plays such a DNS server (the system resolver
cannot be pointed at a test server without root). The names end in ``.test``, which no real resolver
answers: a request that arrives at the peer was connected by the policy's answer, never by a second lookup.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from config import outbound
from integrations import exporters, services
from tests.integrations.conftest import rest_exporter
from tests.integrations.peers import HttpPeer, MqttSubscriber

NAME = "rebind.argus.test"
METADATA = "169.254.169.254"  # link-local, blocked by default: where clouds hand out credentials


class RebindingDns:
    """Answers ``first`` to the first lookup of a name and ``then`` to every later one; counts lookups."""

    def __init__(self, first: str, then: str) -> None:
        self.first, self.then = first, then
        self.lookups: list[str] = []

    def __call__(self, host, port, *args, **kwargs):
        self.lookups.append(host)
        address = self.first if len(self.lookups) == 1 else self.then
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port or 0))]


@pytest.fixture
def peer() -> Iterator[HttpPeer]:
    peer = HttpPeer()
    yield peer
    peer.stop()


@pytest.fixture
def rebinding(monkeypatch, settings) -> RebindingDns:
    settings.OUTBOUND_BLOCKED_RANGES = ["link-local"]
    dns = RebindingDns(first="127.0.0.1", then=METADATA)
    monkeypatch.setattr(outbound, "resolve", dns)
    return dns


def test_the_connection_goes_to_the_checked_address_not_a_second_lookup(peer, rebinding):
    url = f"http://{NAME}:{peer.port}/hook"

    with outbound.pinned_client(url, "The url", timeout=5) as client:
        response = client.post(url, json={"n": 1})

    assert response.status_code == 200
    assert rebinding.lookups == [NAME]  # resolved once, by the check; the rebinding answer was never asked for
    assert peer.requests[0].headers["host"] == f"{NAME}:{peer.port}"  # the name still goes in the Host header


def test_a_pinned_client_connects_nowhere_but_the_checked_host(peer, rebinding):
    url = f"http://{NAME}:{peer.port}/hook"

    with outbound.pinned_client(url, "The url", timeout=5) as client, pytest.raises(httpx.ConnectError):
        client.post(f"http://other.argus.test:{peer.port}/hook", json={})

    assert peer.requests == []


def test_an_exporter_delivers_to_the_checked_address_and_refuses_the_rebound_one(db, peer, rebinding):
    exporter = rest_exporter(f"http://{NAME}:{peer.port}/events")  # saving it checks it: the first answer
    rebinding.lookups.clear()
    rebinding.first = "127.0.0.1"  # the next lookup (at use) answers the peer once more, then the metadata

    first = exporters.deliver(exporter, {"event": 1})
    second = exporters.deliver(exporter, {"event": 2})

    assert first.ok
    assert not second.ok and "may not point at this address" in second.error
    assert len(peer.requests) == 1
    assert rebinding.lookups == [NAME, NAME]  # one lookup per use, each one checked


@pytest.fixture
def subscriber() -> Iterator[MqttSubscriber]:
    subscriber = MqttSubscriber(f"argus-test/{uuid.uuid4().hex}")
    yield subscriber
    subscriber.close()


def test_an_mqtt_exporter_publishes_to_the_checked_address_and_refuses_the_rebound_one(db, rebinding, subscriber):
    config = {"topic": subscriber.topic, "qos": 1}
    exporter = services.create_exporter(
        {"name": "Broker", "type": "mqtt", "url": f"mqtt://{NAME}:1883", "config": config}
    )
    rebinding.lookups.clear()  # the save used the first answer; the use gets it once more, then the rebound one

    first = exporters.deliver(exporter, {"event": 1})
    second = exporters.deliver(exporter, {"event": 2})

    assert first.ok, first.error  # no resolver knows the .test name: the client connected to the checked address
    assert [json.loads(m.payload) for m in subscriber.wait_for(1)] == [{"event": 1}]
    assert not second.ok and "may not point at this address" in second.error


def test_an_unresolvable_name_fails_as_a_connection_error(peer, monkeypatch):
    def nothing(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(outbound, "resolve", nothing)
    url = f"http://{NAME}:{peer.port}/hook"

    with outbound.pinned_client(url, "The url", timeout=5) as client, pytest.raises(httpx.ConnectError):
        client.post(url, json={})


def test_an_rtsp_stream_is_opened_at_the_checked_address(rebinding):
    pinned = outbound.pinned_stream_url(f"rtsp://admin:p%40ss@{NAME}:8554/live?channel=1", "The stream URL")

    assert pinned == "rtsp://admin:p%40ss@127.0.0.1:8554/live?channel=1"
    with pytest.raises(outbound.BlockedTarget):
        outbound.pinned_stream_url(f"rtsp://{NAME}/live", "The stream URL")  # the rebound answer


@pytest.mark.parametrize("scheme", ["rtsps", "https", "http"])
def test_streams_that_need_their_name_are_checked_but_keep_it(rebinding, scheme):
    url = f"{scheme}://{NAME}/live"

    assert outbound.pinned_stream_url(url, "The stream URL") == url
    with pytest.raises(outbound.BlockedTarget):
        outbound.pinned_stream_url(url, "The stream URL")


# --- TLS: the pinned connection still speaks to, and verifies, the name ---------------------------------

SECURE_NAME = "secure.argus.test"


def _certificate_files(folder: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for SECURE_NAME signed by it: (ca.pem, cert.pem, key.pem)."""
    now = datetime.now(UTC)

    def build(subject: str, issuer: x509.Name | None, key, signer, *, ca: bool, san: str | None):
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(issuer or name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = build("Argus test CA", None, ca_key, ca_key, ca=True, san=None)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = build(SECURE_NAME, ca.subject, key, ca_key, ca=False, san=SECURE_NAME)
    paths = folder / "ca.pem", folder / "cert.pem", folder / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture
def tls_peer(tmp_path, monkeypatch) -> Iterator[tuple[int, list[str], list[str]]]:
    """An HTTPS server on 127.0.0.1 with a certificate for SECURE_NAME, trusted through SSL_CERT_FILE; it
    records the TLS server names and the Host headers it is sent. Every name resolves to 127.0.0.1."""
    ca, cert, key = _certificate_files(tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    monkeypatch.setattr(outbound, "resolve", RebindingDns(first="127.0.0.1", then="127.0.0.1"))
    server_names: list[str] = []
    hosts: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hosts.append(self.headers.get("Host", ""))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format, *args) -> None:
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _socket, name, _context: server_names.append(name or "")
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], server_names, hosts
    server.shutdown()
    server.server_close()


def test_a_pinned_https_connection_sends_and_verifies_the_name(tls_peer):
    port, server_names, hosts = tls_peer
    url = f"https://{SECURE_NAME}:{port}/"

    with outbound.pinned_client(url, "The url", timeout=5) as client:
        response = client.get(url)

    assert response.status_code == 204
    assert server_names == [SECURE_NAME]  # SNI carries the name, not the pinned address
    assert hosts == [f"{SECURE_NAME}:{port}"]


def test_a_pinned_https_connection_refuses_a_certificate_for_another_name(tls_peer):
    port, _server_names, hosts = tls_peer
    url = f"https://other.argus.test:{port}/"  # pinned to the same address, but the certificate is not for it

    with outbound.pinned_client(url, "The url", timeout=5) as client, pytest.raises(httpx.ConnectError):
        client.get(url)

    assert hosts == []
