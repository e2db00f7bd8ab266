"""The request path's Redis traffic: a known caller's API call is one round trip before the answer (session,
stamps, activity, and the rate-limit token with the key's quota) and one after it (usage); a call refused
before its throttle ends having taken no token and no quota, as before the token moved into that trip."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import client_for, key_client, role_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def small_buckets(settings):
    """Ten calls a minute: a token comes back every 6 s, so counts taken over a test's second are exact."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "standard": 10}
    settings.API_KEY_TIER_LIMITS = dict.fromkeys(settings.API_KEY_TIER_LIMITS, 10)


STATUS = "/api/v1/rate-limit/status"  # reads the caller's bucket and quotas without taking anything
ME = "/api/v1/auth/me"
CAMERAS = "/api/v1/cameras"


def _remaining(client) -> int:
    return client.get(STATUS).json()["limits"]["remaining"]


def _daily_quota_used(client) -> int:
    return client.get(STATUS).json()["quotas"]["daily"]["used"]


@pytest.fixture
def round_trips(monkeypatch):
    """Every round trip to Redis (a pipeline sent, or a command on its own), in order."""
    trips: list[str] = []
    real_execute = redis.client.Pipeline.execute
    real_command = redis.Redis.execute_command

    def execute(pipe, *args, **kwargs):
        trips.append("pipeline")
        return real_execute(pipe, *args, **kwargs)

    def execute_command(client, *args, **options):
        trips.append(str(args[0]))
        return real_command(client, *args, **options)

    monkeypatch.setattr(redis.client.Pipeline, "execute", execute)
    monkeypatch.setattr(redis.Redis, "execute_command", execute_command)
    return trips


def test_a_known_users_call_is_one_round_trip_before_the_answer_and_one_after(viewer_user, round_trips):
    client = client_for(viewer_user)
    for _ in range(2):  # the first call of the minute also records activity and reads the user
        assert client.get(ME).status_code == 200
    round_trips.clear()

    assert client.get(ME).status_code == 200

    assert round_trips == ["pipeline", "pipeline"]  # authentication + token; usage once the answer is closed


def test_a_known_api_keys_call_is_one_round_trip_before_the_answer_and_one_after(round_trips):
    client = key_client("cameras:read")
    for _ in range(2):  # the first call reads the key and marks its use
        assert client.get(CAMERAS).status_code == 200
    round_trips.clear()

    assert client.get(CAMERAS).status_code == 200

    assert round_trips == ["pipeline", "pipeline"]  # authentication + token + quota; usage after the answer


def test_calls_through_the_throttle_take_their_tokens(viewer_user):
    client = client_for(viewer_user)
    before = _remaining(client)

    for _ in range(3):
        assert client.get(ME).status_code == 200

    assert _remaining(client) == before - 3


def test_a_call_refused_by_permissions_takes_no_token(viewer_user):
    client = client_for(viewer_user)
    before = _remaining(client)

    for _ in range(3):
        assert client.get("/api/v1/users").status_code == 403

    assert _remaining(client) == before


def test_a_call_with_a_revoked_session_takes_no_token(viewer_user):
    client = client_for(viewer_user)
    other = client_for(viewer_user)  # a second session of the same user: the same bucket
    other.post("/api/v1/auth/logout", {"refreshToken": other.tokens.refresh}, format="json")
    before = _remaining(client)

    for _ in range(3):
        assert other.get(ME).status_code == 401

    assert _remaining(client) == before


def test_an_api_keys_call_refused_by_its_scopes_uses_no_quota():
    client = key_client("cameras:read")
    assert client.get(CAMERAS).status_code == 200  # known to this process from here on
    used = _daily_quota_used(client)

    for _ in range(3):
        assert client.get("/api/v1/users").status_code == 403

    assert _daily_quota_used(client) == used


def test_an_api_keys_calls_through_the_throttle_count_against_its_quota():
    client = key_client("cameras:read")
    assert client.get(CAMERAS).status_code == 200  # known to this process from here on
    used = _daily_quota_used(client)

    for _ in range(3):
        assert client.get(CAMERAS).status_code == 200

    assert _daily_quota_used(client) == used + 3


def test_requests_in_contexts_of_their_own_share_the_processs_redis_connections(monkeypatch):
    """Under the ASGI server each request runs in a context of its own, where Django's context-local cache
    handler builds a new cache object: it must still use the process's client and pool, not open a new TCP
    connection to Redis per request."""
    import contextvars

    from django.core.cache import caches

    from config.cache import cache_client

    made = []
    real_make = redis.connection.ConnectionPool.make_connection

    def make_connection(pool):
        made.append(pool)
        return real_make(pool)

    monkeypatch.setattr(redis.connection.ConnectionPool, "make_connection", make_connection)
    caches["default"].get("warm")  # this context's first command (a connection, if the pool had none free)
    made.clear()

    def a_request():
        cache = caches["default"]
        cache.set("request-path:probe", 1, timeout=5)
        assert cache.get("request-path:probe") == 1
        return cache, cache_client()

    seen = [contextvars.Context().run(a_request) for _ in range(5)]

    assert len({id(cache) for cache, _ in seen}) == 5  # Django's handler: a cache object per context
    assert len({id(client) for _, client in seen}) == 1  # one client for them all
    assert made == []  # and no new connection


@pytest.mark.parametrize(
    ("path", "permission"), [("/api/v1/detections/live", "detections:read"), ("/api/v1/counts/realtime", "counts:read")]
)
def test_a_kept_live_list_is_one_round_trip_before_the_answer_and_no_query(
    path, permission, round_trips, django_assert_num_queries
):
    """The live lists' stamps come with authentication's round trip: a list this process keeps costs no
    other Redis command and no SQL."""
    client = role_client("ROLE-LIVE", [permission])
    for _ in range(2):  # the first call records activity and reads the user; the list is read and kept
        assert client.get(path).status_code == 200
    round_trips.clear()

    with django_assert_num_queries(0):
        assert client.get(path).status_code == 200

    assert round_trips == ["pipeline", "pipeline"]  # authentication + token + stamps; usage after the answer


@pytest.mark.parametrize(
    ("path", "scope"), [("/api/v1/detections/live", "detections:read"), ("/api/v1/counts/realtime", "counts:read")]
)
def test_a_kept_live_list_read_with_an_api_key_is_one_round_trip_too(path, scope, round_trips):
    client = key_client(scope)
    for _ in range(2):
        assert client.get(path).status_code == 200
    round_trips.clear()

    assert client.get(path).status_code == 200

    assert round_trips == ["pipeline", "pipeline"]
