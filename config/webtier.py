"""The production web tier: several daphne processes serving one port, HTTP and WebSocket alike.

    python -m config.webtier                      # 0.0.0.0:8000, one process per core (ARGUS_WEB_PROCESSES)
    python -m config.webtier --processes 4 --port 8000 --proxy-headers

Daphne is one Twisted reactor and one interpreter: a single process never uses more than one core. Here a
supervisor opens one listening socket per server, all bound to the same port with ``SO_REUSEPORT``, and
starts ``--processes`` daphne servers, each on its own socket (daphne's ``--fd``): the kernel spreads new
connections evenly over the sockets, so no server grabs a burst of them while another idles. The
supervisor keeps every socket open: a server that dies is started again on its socket, and the connections
that arrived meanwhile wait in its backlog instead of being refused. SIGTERM or SIGINT stops them all
(daphne finishes the requests in flight). Options after the known ones go to daphne unchanged, the last
argument may name another ASGI application (``config.asgi:application`` by default).

:func:`serve_locally` starts Argus on a free loopback port, under one daphne or under this tier, for the tests
and benchmarks that talk to a real server.

Every server is a whole Argus web process: each has its own database connections, its own face-inference
workers (``ARGUS_INFERENCE_PROCESSES``) and, with ``PROMETHEUS_MULTIPROC_DIR`` set, its own metrics file.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import logging
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger("argus.webtier")

DEFAULT_APPLICATION = "config.asgi:application"
RESTART_DELAY_SECONDS = 1.0  # a server that keeps dying is restarted at most this often
STOP_GRACE_SECONDS = 20.0  # then what is still running is killed
MAX_PROCESSES = 64


def default_processes() -> int:
    """``ARGUS_WEB_PROCESSES``, else the cores this process may run on."""
    configured = os.environ.get("ARGUS_WEB_PROCESSES", "").strip()
    if configured:
        return int(configured)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def listening_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """An IPv4 TCP socket bound to ``host:port`` beside the others of the tier (``SO_REUSEPORT``) and listening,
    inheritable by the server started on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


class WebTier:
    """Starts, watches and stops the daphne servers, one per listening socket of the port."""

    def __init__(self, sockets: list[socket.socket], daphne_args: list[str], application: str):
        self.sockets = sockets
        processes = len(sockets)
        self.processes = processes
        self.daphne_args = daphne_args
        self.application = application
        self.servers: list[subprocess.Popen | None] = [None] * processes
        self.started_at: list[float] = [0.0] * processes
        self.stopping = False

    def command(self, slot: int) -> list[str]:
        fd = self.sockets[slot].fileno()
        return [sys.executable, "-m", "daphne", "--fd", str(fd), *self.daphne_args, self.application]

    def start(self, slot: int) -> None:
        server = subprocess.Popen(self.command(slot), pass_fds=(self.sockets[slot].fileno(),))
        self.servers[slot] = server
        self.started_at[slot] = time.monotonic()
        logger.info("web server %d started (pid %d)", slot, server.pid)

    def run(self) -> int:
        for slot in range(self.processes):
            self.start(slot)
        while not self.stopping:
            for slot, server in enumerate(self.servers):
                if self.stopping or server is None or server.poll() is None:
                    continue
                logger.warning("web server %d (pid %d) exited with %s", slot, server.pid, server.returncode)
                # A server that dies at once (bad settings, a port problem) is not restarted in a tight loop.
                wait = RESTART_DELAY_SECONDS - (time.monotonic() - self.started_at[slot])
                if wait > 0:
                    time.sleep(wait)
                if not self.stopping:
                    self.start(slot)
            time.sleep(0.2)
        return self.stop()

    def request_stop(self, signum, frame) -> None:
        self.stopping = True

    def stop(self) -> int:
        running = [server for server in self.servers if server is not None and server.poll() is None]
        for server in running:
            server.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for server in running:
            try:
                server.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                logger.warning("web server pid %d did not stop in time: killed", server.pid)
                server.kill()
                server.wait()
        for sock in self.sockets:
            sock.close()
        return 0


def parse_args(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=None, help="daphne servers (default: one per core)")
    parser.add_argument("-b", "--bind", default="0.0.0.0", help="IPv4 address to listen on")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("--backlog", type=int, default=1024)
    args, rest = parser.parse_known_args(argv)
    processes = args.processes if args.processes is not None else default_processes()
    if not 1 <= processes <= MAX_PROCESSES:
        parser.error(f"--processes must be from 1 to {MAX_PROCESSES}")
    if not 1 <= args.port <= 65535:
        parser.error("--port must be from 1 to 65535 (every server's socket binds the same one)")
    args.processes = processes
    return args, rest


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    args, rest = parse_args(sys.argv[1:] if argv is None else argv)
    application = DEFAULT_APPLICATION
    if rest and not rest[-1].startswith("-") and ":" in rest[-1]:
        application = rest.pop()
    sockets = [listening_socket(args.bind, args.port, args.backlog) for _ in range(args.processes)]
    tier = WebTier(sockets, rest, application)
    signal.signal(signal.SIGTERM, tier.request_stop)
    signal.signal(signal.SIGINT, tier.request_stop)
    logger.info("serving %s on %s:%d with %d processes", application, args.bind, args.port, args.processes)
    return tier.run()


# --- Argus on a free loopback port, for tests and benchmarks ---------------------------------------------

BASE_DIR = Path(__file__).resolve().parent.parent
START_ATTEMPTS = 3  # a free port taken by someone else before the server binds it: try another


@dataclass(frozen=True)
class LocalServer:
    """A server :func:`serve_locally` started: its process (the tier's supervisor, or daphne) and address."""

    process: subprocess.Popen
    port: int
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def answers(server: LocalServer, path: str = "/healthz") -> bool:
    """True once ``path`` gets any HTTP answer (a 503 of a dependency that is down included)."""
    try:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=5)
        try:
            connection.request("GET", path)
            connection.getresponse().read()
        finally:
            connection.close()
    except OSError:
        return False
    return True


def _stop(process: subprocess.Popen, grace: float) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _log_tail(log, size: int = 3000) -> str:
    log.flush()
    log.seek(0)
    return log.read().decode(errors="replace")[-size:]


@contextlib.contextmanager
def serve_locally(
    env: dict[str, str] | None = None,
    *,
    processes: int | None = None,
    ready: Callable[[LocalServer], bool] = answers,
    log_path: Path | str | None = None,
    startup_timeout: float = 90.0,
    stop_grace: float = 30.0,
    application: str = DEFAULT_APPLICATION,
) -> Iterator[LocalServer]:
    """Argus on a free port of 127.0.0.1 while the block runs: one daphne as ``make run`` starts it, or with
    ``processes`` this web tier with that many servers.

    ``env`` is added to this process's environment. Entered once ``ready(server)`` holds (by default: ``/healthz``
    answers); a port taken meanwhile is retried on another. Raises ``RuntimeError`` with the end of the server's
    log when it exits or is not ready within ``startup_timeout``. ``log_path`` keeps the log. Leaving stops the
    server: SIGTERM, then SIGKILL after ``stop_grace`` seconds.
    """
    environment = {**os.environ, **(env or {})}
    what = "daphne" if processes is None else f"the web tier of {processes}"
    problem = ""
    for _ in range(START_ATTEMPTS):
        port = _free_port("127.0.0.1")
        if processes is None:
            command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), application]
        else:
            command = [sys.executable, "-m", "config.webtier", "--processes", str(processes)]
            command += ["-b", "127.0.0.1", "-p", str(port), application]
        log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115 - the server's life
        with log:
            process = subprocess.Popen(
                command, cwd=BASE_DIR, env=environment, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
            server = LocalServer(process, port)
            try:
                deadline = time.monotonic() + startup_timeout
                is_ready = False
                while not is_ready and process.poll() is None and time.monotonic() < deadline:
                    is_ready = ready(server)
                    if not is_ready:
                        time.sleep(0.2)
                if process.poll() is not None:
                    problem = f"exited with code {process.returncode}:\n{_log_tail(log)}"
                    continue  # most likely the port was taken meanwhile: another try on a new one
                if not is_ready:
                    raise RuntimeError(f"{what} was not ready within {startup_timeout:g} s:\n{_log_tail(log)}")
                yield server
                return
            finally:
                _stop(process, stop_grace)
    raise RuntimeError(f"{what} did not start: {problem}")


if __name__ == "__main__":
    sys.exit(main())
