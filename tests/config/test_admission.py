"""Admission of requests in a web process (config/admission.py): a few compute at once, first come first
served; one that stands aside or runs past its patience lets the next in."""

from __future__ import annotations

import asyncio
import contextvars

import pytest
from asgiref.testing import ApplicationCommunicator

from config.admission import RequestAdmission, stand_aside
from config.http_handler import PooledASGIHandler
from tests.asgi import http_scope
from tests.config import admission_urls

LONG = 60.0  # a patience no test reaches


def run(coroutine):
    return asyncio.run(coroutine)


async def _settle():
    for _ in range(5):
        await asyncio.sleep(0)


def test_no_more_requests_than_running_are_let_in_at_once():
    async def scenario():
        admission = RequestAdmission(running=2, patience=LONG)
        first, second = await admission.enter(), await admission.enter()
        third = asyncio.ensure_future(admission.enter())
        await _settle()
        assert not third.done() and admission.waiting == 1
        first.leave()
        await _settle()
        assert third.done() and admission.counted == 2
        second.leave()
        third.result().leave()
        assert admission.counted == 0

    run(scenario())


def test_waiting_requests_are_let_in_first_come_first_served():
    async def scenario():
        admission = RequestAdmission(running=1, patience=LONG)
        holder = await admission.enter()
        order = []

        async def request(name):
            ticket = await admission.enter()
            order.append(name)
            ticket.leave()

        tasks = [asyncio.ensure_future(request(name)) for name in "abc"]
        await _settle()
        holder.leave()
        await asyncio.gather(*tasks)
        assert order == ["a", "b", "c"]

    run(scenario())


def test_leaving_twice_gives_back_one_place():
    async def scenario():
        admission = RequestAdmission(running=1, patience=LONG)
        ticket = await admission.enter()
        ticket.leave()
        ticket.leave()
        assert admission.counted == 0
        again = await admission.enter()
        assert admission.counted == 1
        again.leave()

    run(scenario())


def test_a_request_past_its_patience_lets_the_next_in():
    async def scenario():
        admission = RequestAdmission(running=1, patience=0.01)
        await admission.enter()  # never leaves by itself
        follower = await asyncio.wait_for(admission.enter(), timeout=10)
        assert admission.counted == 1  # the first stopped counting, the follower counts
        follower.leave()
        assert admission.counted == 0

    run(scenario())


def test_standing_aside_on_a_pool_thread_lets_the_next_in():
    async def scenario():
        admission = RequestAdmission(running=1, patience=LONG)
        ticket = await admission.enter()
        follower = asyncio.ensure_future(admission.enter())
        await _settle()
        assert not follower.done()
        # As a request's synchronous part does: on another thread, in the request's context.
        await asyncio.get_running_loop().run_in_executor(None, contextvars.copy_context().run, stand_aside)
        (await asyncio.wait_for(follower, timeout=10)).leave()
        assert ticket.left

    run(scenario())


def test_standing_aside_outside_a_request_does_nothing():
    stand_aside()  # no ticket in this context: nothing to give back, no error


def test_a_waiter_cancelled_in_line_takes_no_place():
    async def scenario():
        admission = RequestAdmission(running=1, patience=LONG)
        holder = await admission.enter()
        cancelled = asyncio.ensure_future(admission.enter())
        behind = asyncio.ensure_future(admission.enter())
        await _settle()
        cancelled.cancel()
        await _settle()
        holder.leave()
        (await asyncio.wait_for(behind, timeout=10)).leave()
        assert admission.counted == 0 and admission.waiting == 0

    run(scenario())


def test_a_waiter_cancelled_as_it_is_let_in_passes_its_place_on():
    async def scenario():
        admission = RequestAdmission(running=1, patience=LONG)
        holder = await admission.enter()
        unlucky = asyncio.ensure_future(admission.enter())
        behind = asyncio.ensure_future(admission.enter())
        await _settle()
        holder.leave()  # the place goes to ``unlucky``'s future...
        unlucky.cancel()  # ...which is cancelled before it runs again
        await _settle()
        (await asyncio.wait_for(behind, timeout=10)).leave()
        assert admission.counted == 0

    run(scenario())


def test_a_waiter_cancelled_while_a_place_is_handed_over_ends_cancelled():
    async def scenario():
        admission = RequestAdmission(running=1, patience=LONG)
        holder = await admission.enter()
        waiter = asyncio.ensure_future(admission.enter())
        await _settle()
        waiter.cancel()  # as daphne cancels every request at shutdown...
        holder.leave()  # ...while another leaves in the same turn, skipping the dead waiter
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert admission.counted == 0 and admission.waiting == 0

    run(scenario())


# --- Through the web process's handler -------------------------------------------------------------------


def _get(handler, path):
    return ApplicationCommunicator(handler, http_scope("GET", path))


async def _answer(communicator, timeout):
    await communicator.send_input({"type": "http.request", "body": b"", "more_body": False})
    start = await communicator.receive_output(timeout)
    body = await communicator.receive_output(timeout)
    return start["status"], body["body"]


@pytest.fixture
def one_at_a_time(settings, monkeypatch):
    settings.ROOT_URLCONF = "tests.config.admission_urls"
    settings.ALLOWED_HOSTS = ["testserver"]
    admission_urls.started.clear()
    admission_urls.release.clear()
    handler = PooledASGIHandler(threads=4)
    handler.admission = RequestAdmission(running=1, patience=LONG)
    yield handler
    admission_urls.release.set()
    handler.executor.shutdown(wait=True)


def test_a_request_that_stands_aside_does_not_hold_up_a_quick_one(one_at_a_time):
    async def scenario():
        slow = _get(one_at_a_time, "/admission/slow?aside=1")
        slow_answer = asyncio.ensure_future(_answer(slow, 30))
        await asyncio.get_running_loop().run_in_executor(None, admission_urls.started.wait, 10)
        quick = _get(one_at_a_time, "/admission/quick")
        assert await _answer(quick, 10) == (200, b"quick")
        assert not slow_answer.done()  # answered while the slow one still runs
        admission_urls.release.set()
        assert await slow_answer == (200, b"slow")

    run(scenario())


def test_a_quick_request_waits_for_one_that_computes(one_at_a_time):
    async def scenario():
        slow = _get(one_at_a_time, "/admission/slow")
        slow_answer = asyncio.ensure_future(_answer(slow, 30))
        await asyncio.get_running_loop().run_in_executor(None, admission_urls.started.wait, 10)
        quick = _get(one_at_a_time, "/admission/quick")
        quick_answer = asyncio.ensure_future(_answer(quick, 30))
        await asyncio.sleep(0.2)
        assert not quick_answer.done() and one_at_a_time.admission.waiting == 1
        admission_urls.release.set()
        assert await slow_answer == (200, b"slow")
        assert await quick_answer == (200, b"quick")

    run(scenario())
