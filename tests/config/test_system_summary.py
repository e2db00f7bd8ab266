"""The system summary names its fields; the apps that own the figures contribute them."""

from __future__ import annotations

import pytest

from config.system import summary

pytestmark = pytest.mark.django_db


@pytest.fixture
def without_last_sync():
    compute = summary._figures.get("last_sync")
    summary.withdraw("last_sync")
    yield
    if compute is not None:
        summary.contribute("last_sync", compute)


def test_every_installed_app_contributes_its_figures():
    assert set(summary._figures) == set(summary.SUMMARY_FIELDS)


def test_the_summary_lists_001s_fields_in_order():
    assert list(summary.summary()) == list(summary.SUMMARY_FIELDS)


def test_a_figure_nobody_contributes_is_null(without_last_sync):
    assert summary.summary()["last_sync"] is None


def test_a_contribution_for_an_unknown_field_is_refused():
    with pytest.raises(ValueError, match="not a summary field"):
        summary.contribute("people_on_the_moon", lambda day: 0)
