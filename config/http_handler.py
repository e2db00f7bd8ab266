"""How Argus runs Django's HTTP requests under daphne: each request's synchronous part on a pool of
long-lived threads, in one hop.

Django's own ASGI handler runs the synchronous code of a request (the ``request_started`` receivers, the
middleware and the view, then ``response.close()``) in a thread made for that request and discarded after
it, three hops between the event loop and that thread. Every view and middleware of Argus is synchronous,
and Django keeps database connections per thread: so every request also opened a new PostgreSQL
connection and dropped it (``CONN_MAX_AGE`` could not keep one), and paid a thread's start.

Here ``request_started``, the request's creation, the middleware and the view run in one call on a pool of
``ARGUS_WEB_THREADS`` threads that live as long as the process, so their connections are kept as
``CONN_MAX_AGE`` says (checked by ``request_started`` as under a WSGI server); ``response.close()`` (where
``request_finished`` and the usage record run) follows once the response is sent. Streaming responses and
anything that asks for Django's thread-sensitive mode still get the request's own thread, as before. Of the
pool's threads only a few compute at once: the rest of the requests wait their turn on the event loop
(``config/admission.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import FileResponse
from django.urls import ResolverMatch, get_resolver, set_script_prefix

from config.admission import RequestAdmission

logger = logging.getLogger("argus.http")

# The most requests one web process runs at once (each may hold a database connection); more wait their turn.
# Requests that wait on face inference hold theirs meanwhile, hence room above the cores' count.
DEFAULT_THREADS = 16
RESOLVED_PATHS_KEPT = 4096  # paths whose view the process keeps; past it they are resolved afresh


def request_threads() -> int:
    configured = os.environ.get("ARGUS_WEB_THREADS", "").strip()
    return max(1, min(512, int(configured))) if configured else DEFAULT_THREADS


class PooledASGIHandler(ASGIHandler):
    """Django's ASGI handler with the middleware chain built synchronous and run on a thread pool."""

    def __init__(self, threads: int | None = None):
        super().__init__()
        # The synchronous chain: the middleware and views are all synchronous, so no adapter between them.
        self.load_middleware(is_async=False)
        self.executor = ThreadPoolExecutor(max_workers=threads or request_threads(), thread_name_prefix="request")
        # Of the pool's threads, only a few compute at once (config/admission.py).
        self.admission = RequestAdmission()
        self._hops: tuple[object, object, object] | None = None  # (executor, respond, close) on the pool
        self._resolved: tuple[object, dict[str, ResolverMatch]] = (None, {})  # (resolver, matches by path)

    def close_connections(self, timeout: float = 10.0) -> None:
        """Close the database connections the pool's threads keep (as ``CONN_MAX_AGE`` lets them): one job per
        thread, each waiting for the others so that no thread takes two. For tests, before their database is
        dropped."""
        count = len(self.executor._threads)
        if not count:
            return
        barrier = threading.Barrier(count)

        def close() -> None:
            # A thread still busy (a request that hangs) breaks the barrier: the others close theirs all the same.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout)
            connections.close_all()

        for job in [self.executor.submit(close) for _ in range(count)]:
            job.result(timeout)

    def resolve_request(self, request):
        """The view of ``request``'s path, as Django resolves it, kept per path for the URLconf in force.

        Django's resolver walks the patterns and every ``include`` before the one that matches, listing each
        one it tried, on every request (0.1 ms for ``/api/v1/detections/live``). The match depends on the
        path and the URLconf only, so the process keeps it (a bounded number of paths; a path that matches
        nothing is not kept); each request gets its own copy, whose arguments it may change."""
        if hasattr(request, "urlconf"):  # a middleware chose the URLconf: resolved as Django does
            return super().resolve_request(request)
        resolver = get_resolver()
        kept = self._resolved
        if kept[0] is not resolver:  # the URLconf changed (tests override it)
            kept = self._resolved = (resolver, {})
        match = kept[1].get(request.path_info)
        if match is None:
            match = resolver.resolve(request.path_info)
            if len(kept[1]) >= RESOLVED_PATHS_KEPT:
                kept[1].clear()
            kept[1][request.path_info] = match
        request.resolver_match = match = _copy_of(match)
        return match

    def _pool_hops(self):
        """``respond`` and a response's ``close`` as awaitables on the pool, made once per executor: asgiref
        inspects and wraps the function each time one is made (twice a request)."""
        hops = self._hops
        if hops is None or hops[0] is not self.executor:
            run = functools.partial(sync_to_async, thread_sensitive=False, executor=self.executor)
            hops = self._hops = (self.executor, run(self.respond), run(_close))
        return hops[1], hops[2]

    def respond(self, scope, body_file):
        """The request's synchronous part, on a pool thread: its response (an error response for a request
        that cannot be built)."""
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            return error_response
        response = self.get_response(request)
        response._handler_class = self.__class__
        if isinstance(response, FileResponse):
            response.block_size = self.chunk_size  # the server does its own chunking
        return response

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        respond, close = self._pool_hops()
        ticket = None
        try:
            # The request counts until it is closed: closing runs request_finished and the usage record.
            ticket = await self.admission.enter()
            response = await respond(scope, body_file)
            try:
                await self.send_response(response, send)
            except asyncio.CancelledError:
                pass  # the client went away while the response was sent
            finally:
                # Always closed, as a WSGI server would: request_finished and the usage record run here.
                await close(response)
        finally:
            if ticket is not None:
                ticket.leave()
            body_file.close()


def _close(response) -> None:
    response.close()


def _copy_of(match: ResolverMatch) -> ResolverMatch:
    """A request's own ResolverMatch, equal to ``match`` (which is not to be pickled or copied by ``copy``)."""
    fresh = ResolverMatch.__new__(ResolverMatch)
    fresh.__dict__.update(match.__dict__)
    fresh.kwargs = dict(match.kwargs)
    if match.captured_kwargs is not None:
        fresh.captured_kwargs = dict(match.captured_kwargs)
    if match.extra_kwargs is not None:
        fresh.extra_kwargs = dict(match.extra_kwargs)
    return fresh


def get_pooled_asgi_application() -> PooledASGIHandler:
    """Django set up, then the handler (as ``django.core.asgi.get_asgi_application`` does)."""
    import django

    django.setup(set_prefix=False)
    return PooledASGIHandler()
