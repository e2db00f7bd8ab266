"""The dashboard shell of :mod:`accounts.dashboard`: the access token pages call the API with, the 403 page
and the pager every paginated page uses."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditLog, UserSession

pytestmark = pytest.mark.django_db

TOKEN = "/accounts/token/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- Token endpoint --------------------------------------------------------------------------------


def test_token_authenticates_the_api(viewer_user):
    body = signed_in(viewer_user).get(TOKEN).json()

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    me = api.get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["data"]["user"]["email"] == viewer_user.email
    assert 800 < body["expiresIn"] <= 900
    metrics = api.get("/api/v1/system/health/metrics")
    assert metrics.status_code == 200


def test_token_is_reused_within_the_browser_session(viewer_user):
    client = signed_in(viewer_user)

    first = client.get(TOKEN).json()["token"]
    second = client.get(TOKEN).json()["token"]

    assert first == second
    session = UserSession.objects.get(user=viewer_user)
    # Its refresh token is never used: the session ends with the access token, not 14 days later.
    assert (session.expires_at - timezone.now()).total_seconds() <= 15 * 60
    assert "Argus dashboard" in session.user_agent


def test_a_revoked_token_is_replaced(viewer_user):
    from accounts.tokens import revoke_session

    client = signed_in(viewer_user)
    first = client.get(TOKEN).json()["token"]
    revoke_session(UserSession.objects.get(user=viewer_user), reason="admin")

    second = client.get(TOKEN).json()["token"]

    assert second != first
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {second}")
    assert api.get("/api/v1/auth/me").status_code == 200


def test_token_needs_a_signed_in_user(client):
    response = client.get(TOKEN)

    assert response.status_code == 401
    assert not UserSession.objects.exists()


def test_token_response_is_not_cached(viewer_user):
    response = signed_in(viewer_user).get(TOKEN)

    assert "no-store" in response["Cache-Control"]


# --- Permission check and the 403 page -----------------------------------------------------------------


def test_a_page_sends_anonymous_users_to_the_login_page(client):
    response = client.get("/accounts/audit/?severity=critical")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/audit/%3Fseverity%3Dcritical"


def test_the_403_page_names_the_missing_permission(viewer_user):
    response = signed_in(viewer_user).get("/accounts/audit/")

    assert response.status_code == 403
    assert "<code>audit:read</code>" in response.content.decode()
    assert "accounts/403.html" in [template.name for template in response.templates]


def test_any_of_several_permissions_opens_a_page(viewer_user):
    from accounts.models import Role
    from tests.factories import UserFactory

    Role.objects.create(id="ROLE-ENROLLER", name="Enroller", permissions=["faces:write"])

    assert signed_in(UserFactory(role_id="ROLE-ENROLLER")).get("/recognition/faces/").status_code == 200
    html = signed_in(viewer_user).get("/recognition/faces/").content.decode()
    assert "faces:read or faces:write" in html


def test_a_script_endpoint_answers_json_refusals(viewer_user):
    from accounts.models import Role
    from tests.factories import UserFactory

    Role.objects.create(id="ROLE-NOBODY", name="Nobody", permissions=[])

    anonymous = Client().get("/recognition/feed/")
    refused = signed_in(UserFactory(role_id="ROLE-NOBODY")).get("/recognition/feed/")

    assert anonymous.status_code == 401 and anonymous.json() == {"error": "Not signed in"}
    assert refused.status_code == 403 and refused.json() == {"error": "Your role does not include detections:read"}


# --- Pager -----------------------------------------------------------------------------------------------


def test_the_pager_keeps_the_filters_and_drops_blank_ones(admin_user):
    AuditLog.objects.bulk_create(
        AuditLog(actor="a@example.com", action="camera.update", message=f"entry {n}", severity="info")
        for n in range(120)
    )

    html = signed_in(admin_user).get("/accounts/audit/", {"severity": "info", "actor": "", "page": 2}).content.decode()

    assert "Page 2 of 3" in html
    assert '<a href="?severity=info&amp;page=1">← Newer</a>' in html
    assert '<a href="?severity=info&amp;page=3">Older →</a>' in html


def test_a_single_page_has_no_pager(admin_user):
    assert 'class="pager"' not in signed_in(admin_user).get("/accounts/audit/").content.decode()


# --- One shell ---------------------------------------------------------------------------------------------


APPS = ("accounts", "cameras", "recognition", "attendance", "counting", "anpr", "integrations")


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    names |= {
        f"{node.module}.{alias.name}"
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return names


def test_no_app_borrows_another_apps_dashboard_views():
    root = Path(__file__).resolve().parents[2]
    borrowed = {
        str(path.relative_to(root)): sorted(
            name
            for name in imported_modules(path)
            if name.endswith(".views") and name.split(".")[0] in APPS and name.split(".")[0] != app
        )
        for app in APPS
        for path in (root / app).rglob("*.py")
    }

    assert {path: names for path, names in borrowed.items() if names} == {}


# --- Badges ------------------------------------------------------------------------------------------------


def badged_statuses():
    from anpr.choices import ListType
    from attendance.choices import AttendanceStatus, OdooStatus
    from cameras.choices import AlertLevel, CameraStatus
    from recognition.choices import DetectionEventStatus, DetectionStatus, ProfileStatus, ProviderStatus

    return [
        ("anpr", ListType),
        ("attendance", AttendanceStatus),
        ("attendance", OdooStatus),
        ("cameras", AlertLevel),
        ("cameras", CameraStatus),
        ("recognition", DetectionEventStatus),
        ("recognition", DetectionStatus),
        ("recognition", ProfileStatus),
        ("recognition", ProviderStatus),
    ]


@pytest.mark.parametrize(("app", "choices"), badged_statuses(), ids=lambda value: getattr(value, "__name__", value))
def test_every_status_a_page_shows_has_its_badge_colour_in_its_apps_choices(app, choices):
    import importlib

    colours = importlib.import_module(f"{app}.choices").BADGE_COLOURS

    assert {value: colours.get(value) for value in choices.values if value not in colours} == {}
    assert set(colours.values()) <= {"", "green", "amber", "red", "blue"}  # the badge classes of argus.css


# --- The pages' shared script ------------------------------------------------------------------------------


def test_every_signed_in_page_gets_the_shared_script_with_its_token_url_and_time_zone(viewer_user, settings):
    settings.TIME_ZONE = "Asia/Tokyo"

    html = signed_in(viewer_user).get("/").content.decode()

    assert '<body data-time-zone="Asia/Tokyo" data-token-url="/accounts/token/">' in html
    assert html.index("argus/core.js") < html.index("</body>")


def test_the_login_page_names_no_token_url(client):
    html = client.get("/accounts/login/").content.decode()

    assert "argus/core.js" in html and "data-token-url" not in html


# --- Charts ------------------------------------------------------------------------------------------------


def test_a_bar_chart_carries_its_labels_series_and_axis_titles():
    from accounts.charts import Series, bar_chart

    chart = bar_chart(["Mon", "Tue"], [Series("Late", "amber", [1, 0])], label_title="Day", value_title="Logs")

    assert chart == {
        "labels": ["Mon", "Tue"],
        "series": [{"label": "Late", "colour": "amber", "values": [1, 0]}],
        "labelTitle": "Day",
        "valueTitle": "Logs",
        "horizontal": False,
    }


def test_a_series_must_have_a_value_per_label():
    from accounts.charts import Series, bar_chart

    with pytest.raises(ValueError, match="2 values for 3 labels"):
        bar_chart(["a", "b", "c"], [Series("x", "blue", [1, 2])], label_title="", value_title="")


def test_the_vendored_chart_library_is_the_npm_package_named_in_its_readme():
    static = Path(__file__).resolve().parents[2] / "static" / "vendor"
    library = (static / "chart.js" / "chart.umd.min.js").read_text()

    assert library.startswith("/*!\n * Chart.js v4.6.2\n")
    assert (
        "| `chart.js/` | [`chart.js`](https://www.npmjs.com/package/chart.js) | 4.6.2 |"
        in (static / "README.md").read_text()
    )
    assert "MIT License" in (static / "chart.js" / "LICENSE.md").read_text()


# --- Styles ------------------------------------------------------------------------------------------------


def test_dashboard_pages_take_their_styles_from_the_project_stylesheet():
    templates = Path(__file__).resolve().parents[2] / "templates"
    pdf_only = {"attendance/export_report.html"}  # rendered to PDF, never by a browser with argus.css

    inline = [
        str(path.relative_to(templates))
        for path in templates.rglob("*.html")
        if str(path.relative_to(templates)) not in pdf_only and "<style" in path.read_text()
    ]

    assert inline == []
