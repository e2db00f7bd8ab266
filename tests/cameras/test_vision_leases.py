"""Leases in Redis: one holder per stream, renewed by heartbeat, lapsing when the holder dies; fair shares."""

from __future__ import annotations

import time

from cameras.vision.leases import LeaseBook, stream_holders


def test_a_free_stream_is_claimed_once():
    first, second = LeaseBook("w1"), LeaseBook("w2")

    assert first.claim("s-1")
    assert not second.claim("s-1")
    assert stream_holders(["s-1", "s-2"]) == {"s-1": "w1", "s-2": None}


def test_renewing_keeps_held_leases_and_names_lost_ones():
    first, second = LeaseBook("w1", lease_seconds=0.5), LeaseBook("w2")
    first.claim("s-1")
    first.claim("s-2")
    time.sleep(0.7)  # both lapse
    second.claim("s-2")

    assert first.renew(["s-1", "s-2"]) == {"s-1", "s-2"}


def test_a_renewed_lease_outlives_its_first_period():
    book = LeaseBook("w1", lease_seconds=0.6)
    book.claim("s-1")
    for _ in range(4):
        time.sleep(0.3)
        assert book.renew(["s-1"]) == set()

    assert stream_holders(["s-1"]) == {"s-1": "w1"}


def test_a_lease_lapses_when_its_holder_stops_renewing():
    LeaseBook("dead", lease_seconds=0.5).claim("s-1")
    time.sleep(0.7)

    assert LeaseBook("alive").claim("s-1")


def test_release_frees_only_the_holders_own_lease():
    holder, other = LeaseBook("w1"), LeaseBook("w2")
    holder.claim("s-1")

    other.release("s-1")
    assert stream_holders(["s-1"]) == {"s-1": "w1"}
    holder.release("s-1")
    assert stream_holders(["s-1"]) == {"s-1": None}


def test_the_fair_share_splits_streams_among_live_workers():
    books = [LeaseBook(f"w{i}") for i in range(3)]
    for book in books:
        book.beat()

    assert books[0].fair_share(7) == 3
    assert books[0].fair_share(6) == 2


def test_a_silent_worker_leaves_the_roster():
    LeaseBook("gone", lease_seconds=0.5).beat()
    alive = LeaseBook("alive", lease_seconds=0.5)
    time.sleep(0.7)
    alive.beat()

    assert alive.live_workers() == ["alive"]
    assert alive.fair_share(4) == 4
