"""A signed file link may name the saved file (``?download=``): the export is saved as
``attendance_2026-11-01.csv``, not as its storage key; the name cannot change the file's kind."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from config.storage import download_name, signed_url

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored() -> str:
    return default_storage.save("exports/attendance/3f2a.csv", ContentFile(b"id,name\n"))


def test_a_link_without_a_name_serves_the_file_inline(client, stored):
    response = client.get(signed_url(stored))

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")


def test_a_named_link_saves_the_file_under_that_name(client, stored):
    response = client.get(signed_url(stored) + "&download=attendance_2026-11-01.csv")

    assert response["Content-Disposition"] == 'attachment; filename="attendance_2026-11-01.csv"'


def test_the_name_keeps_the_stored_files_extension():
    assert download_name("report.exe", "exports/a.csv") == "report.csv"


def test_the_name_drops_path_and_quote_characters():
    assert download_name('../../x"y.csv', "exports/a.csv") == "xy.csv"


def test_a_name_of_nothing_usable_is_no_name():
    assert download_name("../..", "exports/a.csv") == ""


def test_a_file_gone_since_the_link_was_made_is_not_found(client, stored):
    url = signed_url(stored)
    default_storage.delete(stored)

    assert client.get(url).status_code == 404
