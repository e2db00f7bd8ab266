"""How many requests a web process computes at once: a few, plus any number that only wait.

All the threads of a web process share one interpreter lock. Sixteen requests started together on sixteen
threads take turns on it (every 5 ms, and at each query or Redis call), and a request whose answer from Redis
or PostgreSQL has come back waits for the lock behind all the others: at 8 clients, ``GET
/api/v1/detections/live`` ran at 60 % of a bare Django view's rate with a p95 twice the bare view's, and at
72 % with a p95 1.4 times it when the pool had 2 threads (``bench/request_path.py``). A pool that small would
let two slow requests (face inference, a long query) hold up every quick one, so the pool keeps its threads
and the event loop lets in only ``ARGUS_WEB_RUNNING`` requests at a time, first come first served; the others
wait on the loop, which costs nothing. A request stops counting when it says it only waits
(:func:`stand_aside`, as face inference does while its worker process computes) or when it has run
``ARGUS_WEB_PATIENCE_MS`` without finishing (it is waiting on something): the next one is let in then, so a
slow request never holds quick ones up. The thread pool (``ARGUS_WEB_THREADS``) bounds how many run in all.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
from collections import deque

DEFAULT_RUNNING = 2
DEFAULT_PATIENCE_MS = 50.0

# The ticket of the request this code runs for (set on the event loop; asgiref carries it to the pool thread).
_current: contextvars.ContextVar[Ticket | None] = contextvars.ContextVar("argus_admission_ticket", default=None)


def running_from_environment() -> int:
    configured = os.environ.get("ARGUS_WEB_RUNNING", "").strip()
    return max(1, min(512, int(configured))) if configured else DEFAULT_RUNNING


def patience_from_environment() -> float:
    """Seconds a request computes before it stops counting."""
    configured = os.environ.get("ARGUS_WEB_PATIENCE_MS", "").strip()
    return max(1.0, min(60_000.0, float(configured))) / 1000 if configured else DEFAULT_PATIENCE_MS / 1000


class RequestAdmission:
    """First come, first served admission of at most ``running`` requests at once (on one event loop)."""

    def __init__(self, running: int | None = None, patience: float | None = None) -> None:
        self.running = max(1, running if running is not None else running_from_environment())
        self.patience = patience if patience is not None else patience_from_environment()
        self.counted = 0  # requests let in that still count
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiting if not waiter.done())

    async def enter(self) -> Ticket:
        """Wait for this request's turn; its ticket, which :meth:`Ticket.leave` gives back (once)."""
        loop = asyncio.get_running_loop()
        if self.counted < self.running and not self._waiting:
            self.counted += 1
        else:
            waiter = loop.create_future()
            self._waiting.append(waiter)
            try:
                await waiter  # a request that left handed its place over: ``counted`` already holds this one
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._hand_over()  # given a place just as the request was cancelled: the next one takes it
                else:
                    # Gone already when a place was handed over meanwhile (the dead waiter was skipped then).
                    with contextlib.suppress(ValueError):
                        self._waiting.remove(waiter)
                raise
        ticket = Ticket(self, loop)
        ticket.timer = loop.call_later(self.patience, ticket.leave)
        _current.set(ticket)
        return ticket

    def _hand_over(self) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self.counted -= 1


class Ticket:
    """One request's place among those that count."""

    __slots__ = ("admission", "left", "loop", "timer")

    def __init__(self, admission: RequestAdmission, loop: asyncio.AbstractEventLoop) -> None:
        self.admission = admission
        self.loop = loop
        self.timer: asyncio.TimerHandle | None = None
        self.left = False

    def leave(self) -> None:
        """The request no longer counts (finished, waiting, or past its patience); on the event loop only."""
        if self.left:
            return
        self.left = True
        if self.timer is not None:
            self.timer.cancel()
        self.admission._hand_over()


def stand_aside() -> None:
    """The calling request only waits from now on (for another process, say): let the next one in. Safe from
    any thread, and a no-op outside a web request."""
    ticket = _current.get()
    if ticket is None or ticket.left:
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is ticket.loop:
        ticket.leave()
    else:
        with contextlib.suppress(RuntimeError):  # the loop closed (the server stopped): nobody waits any more
            ticket.loop.call_soon_threadsafe(ticket.leave)
