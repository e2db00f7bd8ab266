"""``make run``: the whole platform in one terminal.

Starts the embedded services where none are configured, migrates, creates demo data, then runs
daphne (HTTP + WebSocket) on 127.0.0.1:8000 with a Celery worker, Celery Beat and a vision worker (which
watches the cameras) beside it, and the demo camera: an RTSP stream on 127.0.0.1:8554 looping real footage.
Ctrl-C stops every process, then the embedded services; the next run reuses their data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from config import devservices

HOST = os.environ.get("ARGUS_HOST", "127.0.0.1")
PORT = os.environ.get("ARGUS_PORT", "8000")


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], check=True)


def main() -> int:
    # A development server: the settings default to production behaviour, so say so here (a set value wins).
    os.environ.setdefault("DJANGO_DEBUG", "true")
    embedded = devservices.up()
    os.environ.update(embedded)
    os.environ.setdefault("ARGUS_PUBLIC_BASE_URL", f"http://{HOST}:{PORT}")
    env = dict(os.environ)
    _manage("migrate", "--noinput")
    _manage("demo_data")
    processes = {
        "web": [sys.executable, "-m", "daphne", "-b", HOST, "-p", PORT, "config.asgi:application"],
        "worker": [sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info", "--concurrency", "2"],
        "beat": [sys.executable, "-m", "celery", "-A", "config", "beat", "-l", "info"],
        "vision": [sys.executable, "manage.py", "run_vision"],
        "demo-camera": [sys.executable, "manage.py", "demo_stream"],
    }
    running = {name: subprocess.Popen(cmd, env=env) for name, cmd in processes.items()}
    print(f"\nArgus is serving http://{HOST}:{PORT}/  (admin: /admin/, API docs: /docs, WebSocket: /ws)")
    print("Press Ctrl-C to stop.\n", flush=True)

    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in running.items():
            if process.poll() is not None:
                print(f"{name} exited with {process.returncode}; stopping the rest.", file=sys.stderr)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)

    for process in running.values():
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 15
    for process in running.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
    devservices.down(started=embedded)
    print("Stopped.")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
