"""002 GET /api/v1/stats/usage: every API request counted once, per client and endpoint, folded into the database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from config.api import usage
from config.models import UsageMinute
from config.redis import get_redis
from tests.conftest import key_client

URL = "/api/v1/stats/usage"
HEALTH = "/api/v1/health"
pytestmark = pytest.mark.django_db


def client_id(client) -> str:
    """How usage statistics name an API key's traffic."""
    return f"key:{client.key.pk}"


def fold_everything() -> int:
    """Fold as Beat would a few minutes from now, when every minute of this test is closed."""
    return usage.fold_usage(now=timezone.now() + timedelta(minutes=3))


def redis_usage_keys() -> list:
    return list(get_redis().scan_iter(match=f"{settings.REDIS_PREFIX}:usage:*"))


@pytest.fixture
def traffic(admin_user):
    """A key making 4 good calls and 2 failing ones; the caller of the stats is someone else."""
    client = key_client("counts:read")
    for _ in range(4):
        assert client.get("/api/v1/counts/realtime").status_code == 200
    assert client.get("/api/v1/cameras/nope/counts").status_code == 404
    assert client.get("/api/v1/users").status_code == 403
    return client


def _endpoint(body: dict, path: str, method: str = "GET") -> dict:
    return next(item for item in body["endpoints"] if item["path"] == path and item["method"] == method)


def test_usage_stats_add_up_after_requests(admin_client, traffic):
    response = admin_client.get(URL, {"clientId": client_id(traffic), "timeRange": "1h"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["totalRequests"] == 6
    assert body["successfulRequests"] == 4
    assert body["failedRequests"] == 2
    assert body["totalRequests"] == sum(item["requests"] for item in body["endpoints"])
    assert body["failedRequests"] == sum(item["errors"] for item in body["endpoints"])
    realtime = _endpoint(body, "/api/v1/counts/realtime")
    assert (realtime["requests"], realtime["errors"]) == (4, 0)
    assert realtime["avgResponseTime"] > 0
    assert _endpoint(body, "/api/v1/cameras/<str:camera_id>/counts")["errors"] == 1
    weighted = sum(item["avgResponseTime"] * item["requests"] for item in body["endpoints"]) / 6
    assert body["averageResponseTime"] == pytest.approx(weighted, abs=0.01)


def test_usage_stats_have_the_spec_shape(admin_client, traffic):
    body = admin_client.get(URL).json()

    assert set(body) == {
        "timeRange",
        "totalRequests",
        "successfulRequests",
        "failedRequests",
        "averageResponseTime",
        "endpoints",
    }
    assert set(body["timeRange"]) == {"start", "end"}
    assert set(body["endpoints"][0]) == {"path", "method", "requests", "errors", "avgResponseTime"}


def test_every_client_is_counted_for_a_gateway_reader(admin_client, traffic, api_client):
    api_client.get(HEALTH)

    body = admin_client.get(URL).json()

    assert body["totalRequests"] == 7  # the key's 6 and the anonymous health check
    assert _endpoint(body, HEALTH)["requests"] == 1


def test_client_id_filter_keeps_one_client(admin_client, traffic):
    other = key_client("counts:read")
    other.get("/api/v1/counts/realtime")

    body = admin_client.get(URL, {"clientId": client_id(other)}).json()

    assert body["totalRequests"] == 1


def test_endpoint_filter_takes_a_concrete_path(admin_client, traffic):
    body = admin_client.get(URL, {"endpoint": "/api/v1/cameras/cam-123/counts"}).json()

    assert body["totalRequests"] == 1
    assert body["endpoints"][0]["path"] == "/api/v1/cameras/<str:camera_id>/counts"


def test_endpoint_filter_takes_a_method(admin_client, traffic):
    assert admin_client.get(URL, {"endpoint": "GET /api/v1/counts/realtime"}).json()["totalRequests"] == 4
    assert admin_client.get(URL, {"endpoint": "POST /api/v1/counts/realtime"}).json()["totalRequests"] == 0


def test_caller_without_gateway_read_sees_only_its_own_usage(traffic):
    client = key_client("counts:read")
    client.get("/api/v1/counts/realtime")

    body = client.get(URL).json()

    assert body["totalRequests"] == 1


def test_caller_without_gateway_read_may_name_itself(traffic):
    assert traffic.get(URL, {"clientId": client_id(traffic)}).json()["totalRequests"] == 6


def test_caller_without_gateway_read_may_not_see_another_client(traffic, admin_user):
    response = traffic.get(URL, {"clientId": f"user:{admin_user.pk}"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "AUTH_003"


def test_usage_stats_need_credentials(api_client):
    response = api_client.get(URL)

    assert response.status_code == 401
    assert response["X-Error-Code"] == "AUTH_001"


def test_unreadable_time_range_is_a_400_val_003(admin_client):
    response = admin_client.get(URL, {"timeRange": "since forever"})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VAL_003"
    assert response.json()["error"]["details"] == {
        "timeRange": "a duration such as 1h, 24h, 7d, or <ISO start>/<ISO end>"
    }


def test_time_range_as_an_iso_interval(admin_client, traffic):
    now = timezone.now()
    interval = f"{(now - timedelta(minutes=10)).isoformat()}/{(now + timedelta(minutes=1)).isoformat()}"

    body = admin_client.get(URL, {"timeRange": interval, "clientId": client_id(traffic)}).json()

    assert body["totalRequests"] == 6


def test_time_range_before_the_requests_has_none(admin_client, traffic):
    body = admin_client.get(URL, {"timeRange": "2020-01-01T00:00:00Z/2020-01-02T00:00:00Z"}).json()

    assert body["totalRequests"] == 0
    assert body["endpoints"] == []
    assert body["averageResponseTime"] == 0


def test_fold_moves_closed_minutes_into_the_database(admin_client, traffic):
    before = admin_client.get(URL, {"clientId": client_id(traffic)}).json()

    written = fold_everything()

    assert written >= 3  # realtime, counts and users of the key (and the stats call of the admin)
    assert redis_usage_keys() == []
    rows = UsageMinute.objects.filter(client_id=client_id(traffic))
    assert sum(row.requests for row in rows) == 6
    assert sum(row.errors for row in rows) == 2
    after = admin_client.get(URL, {"clientId": client_id(traffic)}).json()
    assert {k: v for k, v in after.items() if k != "timeRange"} == {k: v for k, v in before.items() if k != "timeRange"}


def test_stats_survive_losing_redis_once_folded(admin_client, traffic):
    fold_everything()
    get_redis().delete(*redis_usage_keys()) if redis_usage_keys() else None

    assert admin_client.get(URL, {"clientId": client_id(traffic)}).json()["totalRequests"] == 6


def test_an_open_minute_is_not_folded(traffic):
    assert usage.fold_usage() == 0
    assert UsageMinute.objects.count() == 0


def test_fold_repeated_after_a_crash_counts_nothing_twice(admin_client, traffic):
    client = get_redis()
    saved = {key: client.hgetall(key) for key in redis_usage_keys() if not key.endswith(b":pending")}
    pending = client.zrange(f"{settings.REDIS_PREFIX}:usage:pending", 0, -1, withscores=True)
    fold_everything()
    # As if the fold had died after its database commit, before it removed the minutes from Redis.
    for key, fields in saved.items():
        client.hset(key, mapping=fields)
    client.zadd(f"{settings.REDIS_PREFIX}:usage:pending", dict(pending))

    assert admin_client.get(URL, {"clientId": client_id(traffic)}).json()["totalRequests"] == 6
    fold_everything()
    assert sum(row.requests for row in UsageMinute.objects.filter(client_id=client_id(traffic))) == 6


def test_dashboard_pages_are_not_counted(admin_client, client, admin_user):
    client.force_login(admin_user)
    client.get("/")

    assert redis_usage_keys() == []


def test_recording_a_request_is_one_redis_round_trip(monkeypatch):
    executed = []
    real_pipeline = get_redis().pipeline

    def pipeline(*args, **kwargs):
        pipe = real_pipeline(*args, **kwargs)
        original = pipe.execute

        def execute(*a, **k):
            executed.append(len(pipe.command_stack))
            return original(*a, **k)

        pipe.execute = execute
        return pipe

    calls = []
    real_execute_command = get_redis().execute_command

    def execute_command(*args, **kwargs):
        calls.append(args[0])
        return real_execute_command(*args, **kwargs)

    monkeypatch.setattr(get_redis(), "pipeline", pipeline)
    monkeypatch.setattr(get_redis(), "execute_command", execute_command)

    usage.record("key:1", "GET", "/api/v1/health", 500, 1234)

    assert executed == [5]  # one pipeline of HINCRBY x3, EXPIRE, ZADD, sent once
    assert calls == []  # and no command outside it


def test_time_range_with_an_unencoded_offset(admin_client, traffic):
    now = timezone.now()
    start = (now - timedelta(minutes=10)).astimezone(timezone.get_fixed_timezone(420)).isoformat()
    end = (now + timedelta(minutes=1)).astimezone(timezone.get_fixed_timezone(420)).isoformat()

    # What a client sends when it forgets to encode "+": the query string turns it into a space.
    response = admin_client.get(f"{URL}?timeRange={start}/{end}&clientId={client_id(traffic)}")

    assert response.status_code == 200, response.content
    assert response.json()["totalRequests"] == 6


@pytest.mark.parametrize("clients", [2, 4])
def test_usage_stats_cost_the_same_queries_however_many_clients(admin_client, clients, django_assert_max_num_queries):
    for _ in range(clients):
        caller = key_client("counts:read")
        assert caller.get("/api/v1/counts/realtime").status_code == 200
        assert caller.get("/api/v1/cameras/nope/counts").status_code == 404
    fold_everything()

    with django_assert_max_num_queries(3):
        body = admin_client.get(URL, {"timeRange": "1h"}).json()

    assert (body["totalRequests"], body["failedRequests"]) == (2 * clients, clients)
