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

Every server is a whole Argus web process: each has its own database connections, its own face-inference
workers (``ARGUS_INFERENCE_PROCESSES``) and, with ``PROMETHEUS_MULTIPROC_DIR`` set, its own metrics file.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time

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


if __name__ == "__main__":
    sys.exit(main())
