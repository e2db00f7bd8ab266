"""Content negotiation keeps DRF's choice per question (config/api/negotiation.py): the same answers as DRF's,
asked once or many times; a request nothing can answer is refused every time."""

from __future__ import annotations

import pytest
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from config.api import negotiation

pytestmark = pytest.mark.django_db

ME = "/api/v1/auth/me"


@pytest.fixture(autouse=True)
def _no_kept_choices():
    negotiation._choices.clear()
    yield
    negotiation._choices.clear()


@pytest.mark.parametrize(
    ("accept", "query"),
    [
        (None, ""),
        ("*/*", ""),
        ("application/json; indent=4", ""),
        ("text/html,application/xhtml+xml,*/*;q=0.8", ""),
        ("text/html", ""),
        (None, "?format=api"),
        ("application/json", "?format=json"),
    ],
)
def test_the_kept_choice_is_drfs(accept, query):
    renderers = [JSONRenderer(), BrowsableAPIRenderer()]
    headers = {"HTTP_ACCEPT": accept} if accept else {}

    def request():
        return Request(APIRequestFactory().get(f"/x{query}", **headers))

    expected = DefaultContentNegotiation().select_renderer(request(), renderers)
    for _ in range(2):
        renderer, media_type = negotiation.KeptContentNegotiation().select_renderer(request(), renderers)
        assert (renderer, media_type) == expected


@pytest.mark.undocumented  # a 406 answers any endpoint asked for a type it cannot give; the document lists none
def test_an_unacceptable_request_is_refused_every_time(admin_client):
    for _ in range(2):
        assert admin_client.get(ME, HTTP_ACCEPT="text/csv").status_code == 406


def test_the_same_accept_header_gets_the_same_answer(admin_client):
    plain = admin_client.get(ME)
    indented = [admin_client.get(ME, HTTP_ACCEPT="application/json; indent=2") for _ in range(2)]

    assert plain.status_code == 200 and b"\n" not in plain.content
    assert all(response.status_code == 200 and b"\n  " in response.content for response in indented)


def test_the_kept_choices_are_bounded(monkeypatch):
    monkeypatch.setattr(negotiation, "KEPT_CHOICES", 3)
    renderers = [JSONRenderer()]
    for n in range(10):
        request = Request(APIRequestFactory().get("/x", HTTP_ACCEPT=f"application/json; indent={n % 8}"))
        negotiation.KeptContentNegotiation().select_renderer(request, renderers)

    assert len(negotiation._choices) <= 3
