"""What the database benchmarks share: Django set up from a script, a loopback guard, a scratch database's
URL, and repeated timing with percentiles."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent


# Benchmarks run on a developer's machine against loopback scratch databases: development settings unless the
# caller says otherwise (the web-tier benches set DJANGO_DEBUG=false and a secret of their own).
DEVELOPMENT_DEFAULTS = {"DJANGO_SETTINGS_MODULE": "config.settings", "DJANGO_DEBUG": "true"}


def development_defaults() -> None:
    for key, value in DEVELOPMENT_DEFAULTS.items():
        os.environ.setdefault(key, value)


def setup_django() -> None:
    sys.path.insert(0, str(BASE_DIR))
    development_defaults()
    import django

    django.setup()


def loopback_only(url: str, what: str) -> None:
    host = urlsplit(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("127."):
        sys.exit(f"{what} must be on a loopback address, not {host!r}")


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * share
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def timed(fn, runs: int, before=None) -> tuple[list[float], object]:
    """``fn`` run ``runs`` times after a warm-up, in milliseconds; ``before`` (untimed) sets the state each
    run should meet."""
    if before:
        before()
    result = fn()  # warm-up (plans, caches, connections), not counted
    samples = []
    for _ in range(runs):
        if before:
            before()
        started = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples, result


def run_in_scratch_database(script: str, name: str, keep: bool, extra_env: dict[str, str] | None = None) -> int:
    """Create the scratch database ``name`` on the platform's PostgreSQL, migrate it, run ``script --child``
    (with this process's arguments) against it, and drop it afterwards unless ``keep``. Returns the child's
    exit code. Loopback servers only."""
    import subprocess

    setup_django()
    import psycopg
    from django.conf import settings

    base_url, redis_url = settings.DATABASE_URL, settings.REDIS_URL
    loopback_only(base_url, "DATABASE_URL")
    loopback_only(redis_url, "REDIS_URL")
    admin_url = with_database(base_url, "postgres")
    scratch_url = with_database(base_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    development_defaults()
    env = {
        **os.environ,
        "DATABASE_URL": scratch_url,
        "REDIS_URL": redis_url,
        "ARGUS_REDIS_PREFIX": name.replace("_", "-"),
        "ARGUS_LOG_LEVEL": "WARNING",
        **(extra_env or {}),
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    try:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"], cwd=BASE_DIR, env=env, check=True
        )
        print(f"scratch database {name} migrated in {time.perf_counter() - started:.1f} s", flush=True)
        child = [sys.executable, script, "--child", *sys.argv[1:]]
        return subprocess.run(child, cwd=BASE_DIR, env=env, check=False).returncode
    finally:
        if keep:
            print(f"kept {scratch_url}")
        else:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            print(f"scratch database {name} dropped")
