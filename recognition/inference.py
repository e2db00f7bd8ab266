"""Where face inference for requests runs: in worker processes beside the web process, not on its threads.

Detection and embedding are CPU-bound extension code that holds the GIL for tens to hundreds of
milliseconds at a time: run on a request thread, they stall every other request the process serves
(while two clients verified faces in a loop, ``GET /api/v1/auth/me`` went from 18 ms to 370 ms at p95).
So a request hands a job of :mod:`recognition.analysis` (pixels or a video file in; faces, embeddings and
quality out; no database) to a small process pool and waits for it without holding the GIL. Database
work (search, rows, files) stays on the request.

- ``ARGUS_INFERENCE_PROCESSES`` workers per process that uses the pool (default 1). ``0`` runs the jobs on
  the caller's thread, as before the pool, for comparisons and for sites that want it.
- The pool is made on first use with the ``spawn`` start method: forking a threaded daphne process could
  hand the child a lock another thread held. A worker lowers its CPU priority
  (``ARGUS_INFERENCE_NICENESS``), so requests, Celery and PostgreSQL win the CPU; it loads the engine once.
- As with any ``spawn`` pool, a worker imports the main module of the process that started it: a script
  that calls these services needs the ``if __name__ == "__main__":`` guard (manage.py, daphne, Celery
  and pytest have it).
- A job not done within ``ARGUS_INFERENCE_TIMEOUT`` seconds (a video: ``ARGUS_INFERENCE_VIDEO_TIMEOUT``),
  or lost with a worker that died, is a 503 in the caller's contract family. A broken pool is dropped at
  once and the next job gets a new one; a job that never reached a worker is sent to the new pool.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from django.conf import settings

from config import admission
from config.api.contracts import ApiError, Kind

logger = logging.getLogger("argus.recognition")

T = TypeVar("T")

# What a client hears in Retry-After when the workers are busy or being replaced.
RETRY_AFTER_SECONDS = 5

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_pool_key: tuple[int, int, int] | None = None  # (owner pid, processes, niceness)
_in_process = contextvars.ContextVar("argus_inference_in_process", default=False)


def processes() -> int:
    """Worker processes of the pool; 0 when jobs run on the caller's thread."""
    return max(0, int(settings.ARGUS_INFERENCE_PROCESSES))


def video_timeout() -> float:
    """Seconds a request waits for the analysis of a whole video (004 embeddings)."""
    return float(settings.ARGUS_INFERENCE_VIDEO_TIMEOUT)


@contextlib.contextmanager
def in_process() -> Iterator[None]:
    """Run this thread's jobs in the caller's process for the duration of the block: for commands that
    own the machine and want every core (``manage.py enrol_folder``), not for requests."""
    token = _in_process.set(True)
    try:
        yield
    finally:
        _in_process.reset(token)


def run(job: Callable[..., T], *args: Any, timeout: float | None = None, **kwargs: Any) -> T:
    """``job(*args, **kwargs)`` in an inference worker, waiting at most ``timeout`` seconds
    (``ARGUS_INFERENCE_TIMEOUT`` by default). What the job raises is raised here.

    ``job`` is a module-level function of :mod:`recognition.analysis` (it must pickle by name) and its
    arguments plain data. Raises a 503 :class:`ApiError` when the job times out or its worker dies.
    """
    count = processes()
    if count == 0 or _in_process.get():
        return job(*args, **kwargs)
    wait = float(settings.ARGUS_INFERENCE_TIMEOUT) if timeout is None else timeout
    pool = _current_pool(count)
    try:
        future = pool.submit(job, *args, **kwargs)
    except (BrokenProcessPool, RuntimeError):
        # The pool broke (a worker died) or was shut down before this job reached it: nothing of the job
        # ran, so it goes to a new pool.
        _discard(pool)
        pool = _current_pool(count)
        future = pool.submit(job, *args, **kwargs)
    admission.stand_aside()  # the request waits on another process now: the next request may compute
    try:
        return future.result(timeout=wait)
    except TimeoutError:
        # A job still queued is dropped; one a worker has begun finishes there and its answer is thrown away.
        future.cancel()
        logger.warning("face inference did not finish within %.1f s (%s)", wait, getattr(job, "__name__", job))
        raise _unavailable(
            f"Face analysis did not finish within {wait:g} s: the inference workers are busy. Try again shortly."
        ) from None
    except BrokenProcessPool:
        _discard(pool)
        logger.error("a face inference worker died; its pool is replaced")
        raise _unavailable("The face inference worker stopped before it finished this request. Try again.") from None


def _unavailable(message: str) -> ApiError:
    return ApiError(Kind.UNAVAILABLE, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


def _current_pool(count: int) -> ProcessPoolExecutor:
    global _pool, _pool_key
    niceness = int(settings.ARGUS_INFERENCE_NICENESS)
    key = (os.getpid(), count, niceness)
    with _lock:
        if _pool is not None and _pool_key == key:
            return _pool
        stale, stale_key = _pool, _pool_key
        pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(niceness,),
        )
        _pool, _pool_key = pool, key
    # A pool inherited through a fork belongs to the parent: its workers are not this process's to stop.
    if stale is not None and stale_key is not None and stale_key[0] == key[0]:
        stale.shutdown(wait=False, cancel_futures=True)
    return pool


def _discard(pool: ProcessPoolExecutor) -> None:
    global _pool, _pool_key
    with _lock:
        if _pool is pool:
            _pool, _pool_key = None, None
    pool.shutdown(wait=False, cancel_futures=True)


def _start_worker(niceness: int) -> None:
    """Runs first in each worker process."""
    # Ctrl-C in a terminal reaches the whole process group: the parent stops the workers, not the signal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness > 0:
        with contextlib.suppress(OSError):
            os.nice(niceness)
