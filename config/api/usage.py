"""API usage statistics (002 ``GET /api/v1/stats/usage``): recorded per request, folded per minute.

Recording is one pipelined Redis round trip per API request (:class:`UsageMiddleware`): into the hash of
the current UTC minute, ``HINCRBY`` the request count, the error count (status 400 or above) and the
response time in microseconds, under a field named by client, method and route pattern; and ``ZADD``
the minute to the set of minutes not yet folded. No database write happens on the request path.

Every minute, Beat runs :func:`fold_usage`: each minute closed for over a minute is copied into
``UsageMinute`` rows (one upsert), then removed from Redis. The copy *replaces* the rows' figures with the
hash's (which is complete once its minute is closed), so a fold interrupted between the database commit and
the Redis cleanup is simply done again, with the same result.

:func:`usage_stats` adds up ``UsageMinute`` over a range, plus the minutes still only in Redis, so the
statistics are current to the request.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import redis
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Sum
from django.utils import timezone

from config.api.contracts import Contract, contract_for_path, utc_iso
from config.api.ratelimit import client_identity, queue_refund
from config.metrics import route_of
from config.redis import get_redis

logger = logging.getLogger("argus.api")

SEP = "\t"  # never in a client id, an HTTP method or a route pattern
BUCKET_TTL = int(timedelta(days=2).total_seconds())  # a minute Beat never folded is dropped after this
SETTLE_SECONDS = 60  # a minute is folded once it has been closed this long (no request still writing to it)
_FIELD_NAMES = {"r": "requests", "e": "errors", "us": "total_us"}
# Anything else a client sends as a method is counted as "OTHER": no field per invented verb.
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _keys(minute: int | None = None) -> str:
    if minute is None:
        return f"{settings.REDIS_PREFIX}:usage:pending"
    return f"{settings.REDIS_PREFIX}:usage:m:{minute}"


def record(client_id: str, method: str, route: str, status: int, elapsed_us: int, *, now: float | None = None) -> None:
    """Count one request in its minute's Redis hash: one pipelined round trip."""
    pipe = get_redis().pipeline(transaction=False)
    queue_record(pipe, client_id, method, route, status, elapsed_us, now=now)
    pipe.execute()


def queue_record(pipe, client_id, method, route, status, elapsed_us, *, now: float | None = None) -> None:
    """:func:`record`'s commands, added to ``pipe``."""
    minute = int((time.time() if now is None else now) // 60) * 60
    key = _keys(minute)
    base = f"{client_id}{SEP}{method}{SEP}{route}{SEP}"
    pipe.hincrby(key, base + "r", 1)
    pipe.hincrby(key, base + "us", max(0, elapsed_us))
    if status >= 400:
        pipe.hincrby(key, base + "e", 1)
    pipe.expire(key, BUCKET_TTL)
    pipe.zadd(_keys(), {str(minute): minute})


class UsageMiddleware:
    """Times every API request (every family; not the dashboard or admin) and records it with :func:`record`.

    The time is taken when the response leaves the middleware; the Redis write waits until the response is
    closed, which the server does once the client has it, so the round trip is not part of the answer's time.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if contract_for_path(request.path) == Contract.HTML:
            return self.get_response(request)
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed_us = int((time.perf_counter() - started) * 1_000_000)
        # DRF put the authenticated user (or API key) on the request; otherwise this is the client's IP.
        owner, _ = client_identity(request)
        method = request.method if request.method in KNOWN_METHODS else "OTHER"
        entry = (owner, method, route_of(request), response.status_code, elapsed_us)
        response._resource_closers.append(lambda: _record_quietly(request, entry))
        return response


def _record_quietly(request, entry) -> None:
    try:
        pipe = get_redis().pipeline(transaction=False)
        queue_record(pipe, *entry)
        # A rate-limit token authentication took for a request that never reached its throttle goes back.
        queue_refund(pipe, request)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("usage not recorded: %s", exc)


# --- Folding into the database ------------------------------------------------------------------------------

_UPSERT_SQL = """
INSERT INTO config_usageminute AS u (minute, client_id, method, path, requests, errors, total_us)
SELECT * FROM unnest(%(minute)s::timestamptz[], %(client)s::varchar[], %(method)s::varchar[], %(path)s::varchar[],
                     %(requests)s::integer[], %(errors)s::integer[], %(total_us)s::bigint[])
ON CONFLICT (minute, client_id, method, path) DO UPDATE SET
    requests = EXCLUDED.requests, errors = EXCLUDED.errors, total_us = EXCLUDED.total_us
"""


@dataclass
class Tally:
    requests: int = 0
    errors: int = 0
    total_us: int = 0

    def add(self, other: Tally) -> None:
        self.requests += other.requests
        self.errors += other.errors
        self.total_us += other.total_us


@dataclass
class MinuteBucket:
    minute: int
    rows: dict[tuple[str, str, str], Tally] = field(default_factory=dict)


def _parse(minute: int, raw: dict[bytes, bytes]) -> MinuteBucket:
    bucket = MinuteBucket(minute)
    for name, value in raw.items():
        client_id, method, path, what = name.decode().split(SEP)
        tally = bucket.rows.setdefault((client_id, method, path), Tally())
        setattr(tally, _FIELD_NAMES[what], int(value))
    return bucket


def _read_minutes(minutes: list[int]) -> list[MinuteBucket]:
    if not minutes:
        return []
    pipe = get_redis().pipeline(transaction=False)
    for minute in minutes:
        pipe.hgetall(_keys(minute))
    return [_parse(minute, raw) for minute, raw in zip(minutes, pipe.execute(), strict=True)]


def fold_usage(now: datetime | None = None) -> int:
    """Copy every closed minute from Redis into ``UsageMinute``; returns the rows written."""
    moment = (now or timezone.now()).timestamp()
    client = get_redis()
    minutes = [int(m) for m in client.zrangebyscore(_keys(), "-inf", moment - 60 - SETTLE_SECONDS)]
    buckets = _read_minutes(minutes)
    columns: dict[str, list] = {name: [] for name in ("minute", "client", "method", "path", "requests", "errors")}
    columns["total_us"] = []
    for bucket in buckets:
        stamp = datetime.fromtimestamp(bucket.minute, UTC)
        for (client_id, method, path), tally in bucket.rows.items():
            columns["minute"].append(stamp)
            columns["client"].append(client_id[:100])
            columns["method"].append(method[:10])
            columns["path"].append(path[:255])
            columns["requests"].append(tally.requests)
            columns["errors"].append(tally.errors)
            columns["total_us"].append(tally.total_us)
    if columns["minute"]:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_UPSERT_SQL, columns)
    if minutes:
        # Only after the rows are committed: a fold that dies before this line is repeated, not lost.
        pipe = client.pipeline(transaction=False)
        pipe.delete(*[_keys(minute) for minute in minutes])
        pipe.zrem(_keys(), *[str(minute) for minute in minutes])
        pipe.execute()
    return len(columns["minute"])


# --- Statistics ----------------------------------------------------------------------------------------------


def floor_minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def usage_stats(
    start: datetime,
    end: datetime,
    *,
    client_id: str | None = None,
    path: str | None = None,
    method: str | None = None,
) -> dict:
    """002's usage statistics over the whole minutes of ``[start, end)``, optionally of one client and one
    endpoint (route pattern, and method)."""
    from config.models import UsageMinute

    start, end = floor_minute(start), floor_minute(end - timedelta(microseconds=1)) + timedelta(minutes=1)
    totals: dict[tuple[str, str], Tally] = defaultdict(Tally)
    rows = UsageMinute.objects.filter(minute__gte=start, minute__lt=end)
    if client_id:
        rows = rows.filter(client_id=client_id)
    if path:
        rows = rows.filter(path=path)
    if method:
        rows = rows.filter(method=method)
    for item in rows.values("method", "path").annotate(r=Sum("requests"), e=Sum("errors"), us=Sum("total_us")):
        totals[(item["method"], item["path"])].add(Tally(item["r"], item["e"], item["us"]))
    try:
        pending = [int(m) for m in get_redis().zrangebyscore(_keys(), start.timestamp(), end.timestamp() - 1)]
    except redis.RedisError as exc:
        logger.warning("usage of the last minutes unavailable: %s", exc)
        pending = []
    if pending:
        # A minute already in the database (folded, not yet removed from Redis) is counted from there only.
        folded = {
            int(m.timestamp())
            for m in UsageMinute.objects.filter(minute__in=[datetime.fromtimestamp(p, UTC) for p in pending])
            .values_list("minute", flat=True)
            .distinct()
        }
        for bucket in _read_minutes([m for m in pending if m not in folded]):
            for (row_client, row_method, row_path), tally in bucket.rows.items():
                if client_id and row_client != client_id:
                    continue
                if (path and row_path != path) or (method and row_method != method):
                    continue
                totals[(row_method, row_path)].add(tally)
    overall = Tally()
    endpoints = []
    for (row_method, row_path), tally in sorted(totals.items(), key=lambda item: (-item[1].requests, item[0][1])):
        overall.add(tally)
        endpoints.append(
            {
                "path": row_path,
                "method": row_method,
                "requests": tally.requests,
                "errors": tally.errors,
                "avgResponseTime": _avg_ms(tally),
            }
        )
    return {
        "timeRange": {"start": utc_iso(start), "end": utc_iso(end)},
        "totalRequests": overall.requests,
        "successfulRequests": overall.requests - overall.errors,
        "failedRequests": overall.errors,
        "averageResponseTime": _avg_ms(overall),
        "endpoints": endpoints,
    }


def _avg_ms(tally: Tally) -> float:
    """Milliseconds, to the microsecond."""
    return round(tally.total_us / tally.requests / 1000, 3) if tally.requests else 0.0
