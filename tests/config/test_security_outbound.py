"""DNS rebinding: a name that resolves to an allowed address when checked and to a blocked one a moment later
must not get the server to connect to the blocked one. The connection goes to the address that was checked.

The resolver the outbound policy uses is replaced by one that plays such a DNS server (the system resolver
cannot be pointed at a test server without root). The names end in ``.test``, which no real resolver
answers: a request that arrives at the peer was connected by the policy's answer, never by a second lookup.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from config import outbound
from integrations import exporters
from tests.integrations.conftest import rest_exporter
from tests.integrations.peers import HttpPeer

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
