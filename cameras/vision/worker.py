"""The vision worker (``manage.py run_vision``): claims streams, decodes each once, runs the analyzers on it.

Every couple of seconds a worker beats in the roster, renews its leases, asks the registry which streams are
wanted now, and reconciles: a stream no longer wanted (camera disabled or deleted, session stopped) or whose
lease was lost is stopped; a stream whose demands changed is restarted with the new settings; while it holds
fewer than its fair share, it claims streams nobody holds, preferring a different order from every other
worker (rendezvous hashing), so several workers on several hosts share the streams without a coordinator.

Per stream one :class:`StreamPipeline`: a decoder thread (ffmpeg) and an analysis thread that passes each
newest frame through the motion gate and then every analyzer the apps registered for it. With a side output
(smaller frames at a higher rate, for counting), its frames go only to the analyzers that asked for them, on a
thread of their own (a face search of tens of milliseconds must not hold up the counter's next frames), and the
motion gate looks at the main frames only (at the analysis rate it is tuned for).
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
import uuid

from django.conf import settings
from django.db import close_old_connections, connections

from cameras.vision import registry
from cameras.vision.decoder import StreamDecoder
from cameras.vision.leases import LeaseBook
from cameras.vision.motion import MotionGate
from cameras.vision.registry import AnalysedFrame, Analyzer, Motion, VisionStream

logger = logging.getLogger("argus.vision")

POLL_SECONDS = 2.0
TICK_SECONDS = 1.0
# An analyzer that keeps failing is logged once per this many seconds, not once per frame.
ERROR_LOG_SECONDS = 60.0


class StreamPipeline:
    """One stream under analysis: its decoder, its motion gate, and the analyzers the apps gave it."""

    def __init__(self, stream: VisionStream) -> None:
        self.stream = stream
        self.fingerprint = stream.fingerprint()
        self.decoder = StreamDecoder(stream.decoder_settings(), name=stream.label)
        self.gate = MotionGate()
        self.analyzers: list[tuple[str, Analyzer]] = []
        self.routes: dict[int, list[tuple[str, Analyzer]]] = {}  # the analyzers of each decoder output
        self.motion = Motion(active=False, score=0.0)
        self.analysed = 0
        self.busy_seconds = 0.0
        self._errors_logged: dict[str, float] = {}
        self._stop = threading.Event()
        outputs = range(len(self.decoder.settings.outputs))
        self._threads = [
            threading.Thread(target=self._run, args=(output,), name=f"analysis {output} {stream.label}", daemon=True)
            for output in outputs
        ]

    def start(self) -> StreamPipeline:
        for name, factory in registry.analyzer_factories():
            analyzer = self._guard(name, "start", factory, self.stream)
            if analyzer is not None:
                self.analyzers.append((name, analyzer))
                output = self.stream.output_of(getattr(analyzer, "kind", None))
                self.routes.setdefault(output, []).append((name, analyzer))
        self.decoder.start()
        for thread in self._threads:
            thread.start()
        logger.info("analysing %s with %s", self.stream.label, ", ".join(n for n, _ in self.analyzers) or "nothing")
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self.decoder.stop()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)

    @property
    def alive(self) -> bool:
        return all(thread.is_alive() for thread in self._threads)

    def _run(self, output: int) -> None:
        """Analyse one decoder output's frames with the analyzers routed to it, until stopped."""
        analyzers = self.routes.get(output, [])
        last_tick = 0.0
        try:
            while not self._stop.is_set():
                frame = self.decoder.next_frame(timeout=0.5, output=output)
                if frame is not None and not self._stop.is_set():
                    started = time.perf_counter()
                    if output == 0:
                        self.motion = self.gate.look(frame.pixels)
                    analysed = AnalysedFrame(frame=frame, motion=self.motion, stream=self.stream)
                    for name, analyzer in analyzers:
                        self._guard(name, "frame", analyzer.on_frame, analysed)
                    self.analysed += 1
                    self.busy_seconds += time.perf_counter() - started
                now = time.time()
                if now - last_tick >= TICK_SECONDS:
                    last_tick = now
                    close_old_connections()
                    for name, analyzer in analyzers:
                        self._guard(name, "tick", analyzer.tick, now, self.decoder.stats)
        finally:
            for name, analyzer in analyzers:
                self._guard(name, "close", analyzer.close)
            connections.close_all()

    def _guard(self, name: str, stage: str, call, *args):
        """Run one analyzer step; a failure is logged (once a minute per analyzer at most) and stops no other."""
        try:
            return call(*args)
        except Exception:
            now = time.monotonic()
            if now - self._errors_logged.get(name, -ERROR_LOG_SECONDS) >= ERROR_LOG_SECONDS:
                self._errors_logged[name] = now
                logger.exception("analyzer %s failed (%s) on %s", name, stage, self.stream.label)
            return None


def _preference(worker_id: str, stream_key: str) -> str:
    # Rendezvous hashing: each worker ranks streams in its own order, so two workers rarely race for one.
    return hashlib.sha256(f"{worker_id}|{stream_key}".encode()).hexdigest()


def new_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class VisionWorker:
    """Holds its share of the wanted streams until stopped."""

    def __init__(
        self, worker_id: str | None = None, *, max_streams: int | None = None, poll_seconds: float | None = None
    ):
        self.worker_id = worker_id or new_worker_id()
        self.max_streams = max_streams
        self.poll_seconds = poll_seconds or float(getattr(settings, "VISION_POLL_SECONDS", POLL_SECONDS))
        self.leases = LeaseBook(self.worker_id)
        self.pipelines: dict[str, StreamPipeline] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        """Reconcile every ``poll_seconds`` until :meth:`stop`; then let every stream go."""
        logger.info("vision worker %s started", self.worker_id)
        try:
            while not self.stopping.is_set():
                try:
                    self.reconcile()
                except Exception:  # Redis or the database away for a moment: try again at the next beat
                    logger.exception("vision worker %s could not reconcile", self.worker_id)
                    close_old_connections()
                self.stopping.wait(self.poll_seconds)
        finally:
            self.shutdown()

    def stop(self) -> None:
        self.stopping.set()

    def shutdown(self) -> None:
        for key in list(self.pipelines):
            self._drop(key, release=True)
        try:
            self.leases.leave()
        except Exception:  # Redis away: the roster forgets us by itself after a lease period
            logger.warning("vision worker %s could not leave the roster", self.worker_id)
        connections.close_all()
        logger.info("vision worker %s stopped", self.worker_id)

    def reconcile(self) -> None:
        """One beat: renew, drop what is lost or unwanted, restart what changed, claim up to the fair share."""
        self.leases.beat()
        # Leases before the database: a database away for longer than a lease period must not cost the streams
        # held meanwhile (they keep decoding; only the list of wanted cameras waits for it).
        for key in self.leases.renew(self.pipelines):
            logger.warning("lease of %s lost; stopping it here", self.pipelines[key].stream.label)
            self._drop(key, release=False)
        close_old_connections()
        wanted = registry.wanted_streams()
        for key in list(self.pipelines):
            pipeline = self.pipelines[key]
            if key not in wanted:
                self._drop(key, release=True)
            elif wanted[key].fingerprint() != pipeline.fingerprint or not pipeline.alive:
                logger.info("%s changed; restarting its analysis", wanted[key].label)
                self._drop(key, release=False)
                self._start(wanted[key])
        share = self.leases.fair_share(len(wanted))
        if self.max_streams is not None:
            share = min(share, self.max_streams)
        if len(self.pipelines) > share:
            # A worker joined: give back, one per beat, the stream this worker ranks last, so the move is gradual.
            key = max(self.pipelines, key=lambda k: _preference(self.worker_id, k))
            self._drop(key, release=True)
            return
        free = sorted(
            (key for key in wanted if key not in self.pipelines), key=lambda k: _preference(self.worker_id, k)
        )
        for key in free:
            if len(self.pipelines) >= share:
                break
            if self.leases.claim(key):
                self._start(wanted[key])

    def _start(self, stream: VisionStream) -> None:
        self.pipelines[stream.key] = StreamPipeline(stream).start()

    def _drop(self, key: str, *, release: bool) -> None:
        pipeline = self.pipelines.pop(key)
        pipeline.stop()
        if release:
            try:
                self.leases.release(key)
            except Exception:  # Redis away: the lease lapses by itself
                logger.warning("could not release the lease of %s", pipeline.stream.label)
        logger.info("stopped analysing %s", pipeline.stream.label)
