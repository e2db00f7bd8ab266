"""The pooled ASGI handler (config/http_handler.py) keeps each path's view: resolved as Django resolves it, a
copy per request, afresh when the URLconf changes; a path that matches nothing is not kept."""

from __future__ import annotations

import threading

import pytest
from django.test import RequestFactory
from django.urls import Resolver404, get_resolver

from config import http_handler
from config.http_handler import PooledASGIHandler


@pytest.fixture
def handler():
    pooled = PooledASGIHandler(threads=1)
    yield pooled
    pooled.executor.shutdown()


@pytest.fixture
def resolutions(monkeypatch):
    """The paths Django's resolver is asked for."""
    asked = []
    resolver_class = type(get_resolver())
    real = resolver_class.resolve

    def resolve(resolver, path):
        if resolver is get_resolver():
            asked.append(path)
        return real(resolver, path)

    monkeypatch.setattr(resolver_class, "resolve", resolve)
    return asked


def test_a_path_is_resolved_once_and_each_request_gets_its_own_match(handler, resolutions):
    path = "/api/v1/users/0f6c1c2e-8a31-4a4e-9d43-5f5b2f0c9a11"
    first = handler.resolve_request(RequestFactory().get(path))
    first.kwargs["mutated"] = True  # a request's changes stay its own
    second_request = RequestFactory().get(path)
    second = handler.resolve_request(second_request)

    assert resolutions.count(path) == 1
    assert second_request.resolver_match is second and second is not first
    expected = get_resolver().resolve(path)
    assert (second.func, second.args, second.kwargs, second.route, second.url_name, second.view_name) == (
        expected.func,
        expected.args,
        expected.kwargs,
        expected.route,
        expected.url_name,
        expected.view_name,
    )


def test_a_path_that_matches_nothing_is_a_404_every_time(handler):
    for _ in range(2):
        with pytest.raises(Resolver404):
            handler.resolve_request(RequestFactory().get("/no/such/path"))
    assert "/no/such/path" not in handler._resolved[1]


def test_another_urlconf_is_resolved_afresh(handler, settings):
    handler.resolve_request(RequestFactory().get("/api/v1/auth/me"))
    settings.ROOT_URLCONF = "tests.config.error_urls"

    with pytest.raises(Resolver404):
        handler.resolve_request(RequestFactory().get("/api/v1/auth/me"))


def test_the_kept_paths_are_bounded(handler, monkeypatch):
    monkeypatch.setattr(http_handler, "RESOLVED_PATHS_KEPT", 3)
    for n in range(10):
        handler.resolve_request(RequestFactory().get(f"/api/v1/users/0f6c1c2e-8a31-4a4e-9d43-5f5b2f0c9a{n:02d}"))

    assert len(handler._resolved[1]) <= 3


@pytest.mark.django_db(transaction=True)
def test_close_connections_closes_every_pool_threads_database_connection():
    from django.db import connections

    pooled = PooledASGIHandler(threads=3)
    opened = threading.Barrier(3)

    def open_one():
        opened.wait(10)  # three threads, one connection each
        connection = connections["default"]
        connection.ensure_connection()
        return connection

    try:
        held = [job.result(10) for job in [pooled.executor.submit(open_one) for _ in range(3)]]
        assert len({id(connection) for connection in held}) == 3
        assert all(connection.connection is not None for connection in held)

        pooled.close_connections()

        assert all(connection.connection is None for connection in held)
    finally:
        pooled.executor.shutdown()
