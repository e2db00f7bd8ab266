"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against Argus served by daphne
(HTTP and WebSocket) on a free loopback port, on this run's test database and Redis prefix.

Chromium comes from the system (``apt-get install chromium``; ``.ci/run`` installs it when absent): the
Playwright registry's browser download cannot work here. Without it, or without Playwright, these tests
skip and say why. Set ``ARGUS_SCREENSHOTS=<folder>`` to keep a screenshot of every page a test opens.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from config.webtier import serve_locally
from tests.conftest import BASE_DIR, server_environment

CHROMIUM = os.environ.get("ARGUS_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# Playwright's sync API keeps an asyncio loop running in this thread, so Django would refuse the tests'
# database calls ("cannot call this from an async context"); the loop never touches the ORM.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
WIDE = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
SIZES = {"1366": WIDE, "390": PHONE}
T = TypeVar("T")
OVERFLOW_SCRIPT = (Path(__file__).parent / "overflow.js").read_text()

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - requirements/dev.txt pins it
    sync_playwright = None


def pytest_collection_modifyitems(config, items):
    reason = None
    if sync_playwright is None:
        reason = "Playwright for Python is not installed (pip install -r requirements/dev.txt)"
    elif CHROMIUM is None:
        reason = "no Chromium on this machine: apt-get install chromium (Debian's package; .ci/run installs it)"
    if reason:
        here = Path(__file__).parent
        for item in items:
            if here in Path(item.fspath).parents:
                item.add_marker(pytest.mark.skip(reason=reason))


def elsewhere(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` on another thread, for code that publishes over the channel layer:
    async_to_sync refuses to run in this thread, where Playwright keeps its event loop."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(_closing_connections, function, *args, **kwargs).result()


def _closing_connections(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    from django.db import connections

    try:
        return function(*args, **kwargs)
    finally:
        connections.close_all()  # the thread's own connection, or the test database cannot be dropped


@pytest.fixture(scope="session")
def server_media() -> Path:
    """Where the server, the tests and the Celery worker (``celery_worker_process``) keep files: exports
    written by the worker are then downloadable from the server."""
    folder = BASE_DIR / "var" / "test-media"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="package")
def live_url(django_db_setup, django_db_blocker, server_media) -> Iterator[str]:
    """Argus under daphne on a free port, as ``make run`` serves it, for this package's tests.

    The server writes to the test database from its own connections, also just after a test's flush (a page's
    last poll): once it has stopped, the tables are emptied again, so the next transactional test restores the
    migrated data into empty tables (content types created meanwhile would otherwise collide)."""
    env = server_environment(
        CELERY_TASK_DEFAULT_QUEUE=settings.CELERY_TASK_DEFAULT_QUEUE, ARGUS_MEDIA_ROOT=str(server_media)
    )
    try:
        with serve_locally(env, log_path=BASE_DIR / "var" / "browser-daphne.log", stop_grace=20) as server:
            yield server.url
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)


@pytest.fixture
def same_media(settings, server_media):
    """Files the test stores (snapshots, thumbnails) land where the server reads them."""
    from django.core.files.storage import default_storage

    settings.MEDIA_ROOT = str(server_media)
    default_storage.location = settings.MEDIA_ROOT
    default_storage.base_location = settings.MEDIA_ROOT
    return server_media


# Package scope: Playwright's sync API runs an event loop in this thread while it is open, and the async tests
# that run after this package need the thread's loop to themselves.
@pytest.fixture(scope="package")
def browser() -> Iterator:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


@pytest.fixture
def seeded_roles() -> None:
    """The roles the migrations seed: a transactional test's flush removed the previous test's."""
    from accounts.models import Role
    from accounts.permissions_catalogue import SEEDED_ROLES

    for role in SEEDED_ROLES:
        Role.objects.update_or_create(id=role["id"], defaults={k: v for k, v in role.items() if k != "id"})


@dataclass
class Problems:
    """What a person would see go wrong: script errors, console errors and requests that failed."""

    console: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)

    def all(self) -> list[str]:
        return self.console + self.requests


@dataclass
class OpenPage:
    page: object
    problems: Problems
    base: str

    def goto(self, path: str, *, wait: str = "load"):
        self.problems.console.clear()
        self.problems.requests.clear()
        response = self.page.goto(self.base + path, wait_until=wait)
        return response

    def requested(self) -> list[str]:
        """Every address the page asked for since it was opened."""
        return list(self.problems.urls)

    def screenshot(self, name: str) -> None:
        folder = os.environ.get("ARGUS_SCREENSHOTS")
        if folder:
            Path(folder).mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    def wider_than_viewport(self) -> list[str]:
        """Elements that stick out past the right edge of the screen, except inside a box that scrolls."""
        return self.page.evaluate(OVERFLOW_SCRIPT)


def _failed(problems: Problems, request) -> None:
    # A request cut short because the page moved on (a form was sent, a link followed) is no failure.
    if request.failure != "net::ERR_ABORTED":
        problems.requests.append(f"{request.url}: {request.failure}")


@pytest.fixture
def open_page(live_url, browser, same_media) -> Iterator[Callable[..., OpenPage]]:
    """``open_page(user, "390")``: a browser tab at that width, signed in as ``user`` (a dashboard session)."""
    contexts = []

    def start(user, size: str = "1366") -> OpenPage:
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport=SIZES[size], accept_downloads=True)
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_url,
                }
            ]
        )
        contexts.append(context)
        page = context.new_page()
        problems = Problems()
        page.on("console", lambda message: message.type == "error" and problems.console.append(message.text))
        page.on("request", lambda request: problems.urls.append(request.url))
        page.on("pageerror", lambda error: problems.console.append(f"script error: {error}"))
        page.on("requestfailed", lambda request: _failed(problems, request))
        page.on(
            "response",
            lambda response: response.status >= 400 and problems.requests.append(f"{response.status} {response.url}"),
        )
        return OpenPage(page, problems, live_url)

    yield start
    for context in contexts:
        context.close()
