"""A client for Odoo's external JSON-RPC API (``POST <base_url>/jsonrpc``).

Every call is ``{"jsonrpc": "2.0", "method": "call", "params": {"service", "method", "args"}, "id"}``:
``common.version()``, ``common.authenticate(db, login, api_key, {})`` (a uid, or ``false``) and
``object.execute_kw(db, uid, api_key, model, method, args, kwargs)``. Odoo answers errors with HTTP 200 and
``{"error": {"code": 200, "message": "Odoo Server Error", "data": {"name": "odoo.exceptions.ValidationError",
"message": ..., "arguments": [...], "debug": <traceback>, "context": {}}}}``: those become :class:`OdooError`
(the peer is up and refused: never retried). Transport failures, timeouts and 5xx go through the platform's
retry policy and the ``odoo`` circuit breaker (config.resilience).

Odoo datetimes travel as naive UTC strings ``YYYY-MM-DD HH:MM:SS`` (seconds precision).
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx

from config import outbound
from config.resilience import (
    CircuitBreaker,
    CircuitOpen,
    OutboundError,
    PeerRejected,
    RetryPolicy,
    call_with_policy,
    classify,
)
from integrations import masking

logger = logging.getLogger("argus.integrations.odoo")

T = TypeVar("T")

BREAKER_NAME = "odoo"
ODOO_RETRY = RetryPolicy(max_attempts=4, initial_delay_ms=1000, max_delay_ms=30_000)
NO_RETRY = RetryPolicy(enabled=False)
TIMEOUT_SECONDS = 15.0
DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

_ids = itertools.count(1)


class OdooError(PeerRejected):
    """Odoo answered the call with an error object (ValidationError, AccessDenied, MissingError...)."""

    def __init__(self, name: str, message: str, *, code: int = 200, arguments: list | None = None) -> None:
        super().__init__(message or name)
        self.name = name
        self.odoo_code = code
        self.arguments = list(arguments or [])

    @property
    def short_name(self) -> str:
        """``ValidationError`` for ``odoo.exceptions.ValidationError``."""
        return self.name.rsplit(".", 1)[-1]


class OdooAuthenticationFailed(PeerRejected):
    """``authenticate`` answered ``false`` or the API key was refused (AccessDenied)."""


def to_odoo_datetime(value: datetime) -> str:
    """An aware datetime as Odoo's naive-UTC string, seconds precision (Odoo drops microseconds)."""
    if value.tzinfo is None:
        raise ValueError("refusing a naive datetime: its time zone is unknown")
    return value.astimezone(UTC).strftime(DATETIME_FORMAT)


def from_odoo_datetime(value: str | bool | None) -> datetime | None:
    """Odoo's naive-UTC string (or ``False``) as an aware datetime."""
    if not value:
        return None
    return datetime.strptime(str(value)[:19], DATETIME_FORMAT).replace(tzinfo=UTC)


class OdooClient:
    """One Odoo database as one user. Not thread-safe; make one per sync run.

    ``policy`` and ``sleep`` govern retries of transport failures (tests pass a recording ``sleep``);
    ``breaker`` guards every call (None: unguarded, as the connection test is).
    """

    def __init__(
        self,
        base_url: str,
        database: str,
        username: str,
        api_key: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        policy: RetryPolicy = ODOO_RETRY,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.url = base_url.rstrip("/") + "/jsonrpc"
        self.database = database
        self.username = username
        self._api_key = api_key
        self.policy = policy
        self.breaker = breaker
        self.sleep = sleep
        self.uid: int | None = None
        self._timeout = timeout
        self._http: httpx.Client | None = None
        self._pinned: list = []

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> OdooClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- transport -------------------------------------------------------------------------------

    def scrub(self, text: str) -> str:
        """``text`` without the API key in it (an error echoing the request must not leak it)."""
        return masking.scrub(text, [self._api_key])

    def _call_once(self, service: str, method: str, args: list[Any]) -> Any:
        try:
            # Checked at every call (a client lives for a whole sync run); its connections go to the
            # addresses checked, and a new answer from DNS means a new client pinned to the new answer.
            addresses = outbound.check_target(self.url, "Odoo's base URL")
            if self._http is None or addresses != self._pinned:
                self.close()
                self._http = outbound.pinned_client(
                    self.url, "Odoo's base URL", timeout=self._timeout, headers={"User-Agent": "Argus-Odoo-Sync/1"}
                )
                self._pinned = addresses
        except outbound.BlockedTarget as exc:
            raise OdooError("BlockedTarget", str(exc)) from None
        http = self._http
        body = {"jsonrpc": "2.0", "method": "call", "params": {"service": service, "method": method, "args": args}}
        body["id"] = next(_ids)
        response = http.post(self.url, json=body)
        response.raise_for_status()
        try:
            answer = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PeerRejected(
                f"{self.url} did not answer JSON-RPC (is the base URL an Odoo server?)",
                http_status=response.status_code,
            ) from None
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise PeerRejected(f"{self.url} answered something that is not a JSON-RPC response")
        if "error" in answer:
            error = answer["error"] or {}
            data = error.get("data") or {}
            message = self.scrub(str(data.get("message") or error.get("message") or "Odoo Server Error"))
            raise OdooError(
                str(data.get("name") or "OdooError"),
                message,
                code=int(error.get("code") or 200),
                arguments=data.get("arguments"),
            )
        return answer["result"]

    def guarded(self, func: Callable[[], T], *, retry: bool = True) -> T:
        """Run ``func`` (one or more calls) under the breaker, retrying transport failures when ``retry``."""
        return call_with_policy(func, breaker=self.breaker, policy=self.policy if retry else NO_RETRY, sleep=self.sleep)

    def call(self, service: str, method: str, *args: Any, retry: bool = True) -> Any:
        """One JSON-RPC call. ``retry=False`` for calls that are not safe to repeat blindly (``create``)."""
        return self.guarded(lambda: self._call_once(service, method, list(args)), retry=retry)

    def retrying(self, func: Callable[[int], T]) -> T:
        """Run ``func(attempt)`` until it succeeds, retrying transport failures with the policy's backoff.

        For a unit of several calls that is idempotent as a whole although one of its calls is not (look
        for the record, then create it): ``func`` makes single-attempt calls and is repeated entirely.
        An open circuit, or a refusal, ends it at once.
        """
        failures = 0
        while True:
            try:
                return func(failures + 1)
            except CircuitOpen:
                raise
            except Exception as exc:
                error = classify(exc)
                if error is None or not error.retryable:
                    raise
                failures += 1
                if failures >= self.policy.attempts:
                    if error is exc:
                        raise
                    raise error from exc
                self.sleep(self.policy.delay_after(failures))

    # --- Odoo services ---------------------------------------------------------------------------

    def version(self) -> dict[str, Any]:
        """``common.version``: ``server_version``, ``server_version_info``, ``protocol_version``..."""
        return self.call("common", "version")

    def authenticate(self) -> int:
        """The uid of ``username``; raises :class:`OdooAuthenticationFailed` when the key is refused."""
        try:
            uid = self.call("common", "authenticate", self.database, self.username, self._api_key, {})
        except OdooError as exc:
            if exc.short_name == "AccessDenied":
                raise OdooAuthenticationFailed(f"Authentication failed for {self.username}: {exc.message}") from exc
            raise
        if not uid:
            raise OdooAuthenticationFailed(
                f"Authentication failed: Odoo refused the login {self.username!r} with this API key on database "
                f"{self.database!r}"
            )
        self.uid = int(uid)
        return self.uid

    def execute_kw(
        self, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None, *, retry: bool = True
    ) -> Any:
        """``object.execute_kw`` as the authenticated user (authenticating first when needed)."""
        if self.uid is None:
            self.authenticate()
        return self.call(
            "object",
            "execute_kw",
            self.database,
            self.uid,
            self._api_key,
            model,
            method,
            args,
            kwargs or {},
            retry=retry,
        )

    def search_read(
        self, model: str, domain: list, fields: list[str], *, limit: int | None = None, retry: bool = True
    ) -> list[dict[str, Any]]:
        kwargs: dict[str, Any] = {"fields": fields}
        if limit is not None:
            kwargs["limit"] = limit
        return self.execute_kw(model, "search_read", [domain], kwargs, retry=retry)

    def search_count(self, model: str, domain: list) -> int:
        return int(self.execute_kw(model, "search_count", [domain]))

    def create(self, model: str, values: dict[str, Any]) -> int:
        """Create one record; never retried here (a lost answer may hide a committed create)."""
        created = self.execute_kw(model, "create", [values], retry=False)
        return int(created[0] if isinstance(created, list) else created)

    def write(self, model: str, ids: list[int], values: dict[str, Any], *, retry: bool = True) -> bool:
        """Write ``values`` on ``ids``; safe to repeat (the same values land again)."""
        return bool(self.execute_kw(model, "write", [ids, values], retry=retry))


def describe_failure(exc: BaseException) -> str:
    """A one-line reason for a failed call, as a log or an operator should read it."""
    if isinstance(exc, OdooError):
        return exc.message
    if isinstance(exc, CircuitOpen):
        return "Odoo is unreachable (circuit open after repeated failures); will retry later"
    if isinstance(exc, OutboundError) and exc.retryable:
        return f"Odoo is unreachable: {exc.message}"
    if isinstance(exc, OutboundError):  # answered, but not as Odoo would (a wrong URL, a 404) or refused us
        return exc.message
    return str(exc) or type(exc).__name__
