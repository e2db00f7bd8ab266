"""One retry and circuit-breaker policy for every outbound call of the platform (002 "strategies").

002 fixes the numbers: retry ``maxRetries 3``, ``retryDelay 1 s``, exponential backoff, retrying only
``SVC_001`` (service unavailable) and ``SVC_003`` (timeout); circuit breaker ``failureThreshold 5``,
``recoveryTimeout 30 s`` with a half-open state. Exporters, outbound callbacks, the Odoo sync and detection
providers all go through this module so the platform treats a failing peer one way everywhere.

The breaker's state lives in Redis (under ``settings.REDIS_PREFIX``) so every web and worker process
sees the same circuit: five failures seen by five different workers open it for all of them.
"""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, TypeVar

import httpx
import redis
from django.conf import settings

from config.api.contracts import ApiError, Kind
from config.redis import get_redis

logger = logging.getLogger("argus.resilience")

T = TypeVar("T")

# 002 strategies.retry / strategies.circuitBreaker
MAX_RETRIES = 3
RETRY_DELAY_MS = 1000
MAX_DELAY_MS = 60_000
FAILURE_THRESHOLD = 5
RECOVERY_TIMEOUT = 30.0

# HTTP answers that say "try again later" rather than "your request is wrong".
RETRYABLE_HTTP_STATUSES = frozenset({408, 425, 429})


class BackoffStrategy(StrEnum):
    EXPONENTIAL = "exponential"
    LINEAR = "linear"


def backoff_delay(attempt: int, strategy: str, initial_ms: int, max_ms: int) -> float:
    """Seconds to wait after the ``attempt``-th failed attempt (1-based), capped at ``max_ms``.

    Exponential doubles from ``initial_ms`` (1 s, 2 s, 4 s...); linear grows by it (1 s, 2 s, 3 s...).
    No jitter: the outbox spreads retries by each message's own failure time, and a predictable schedule
    is what the delivery log shows and the tests check.
    """
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    if strategy == BackoffStrategy.EXPONENTIAL:
        # Cap the exponent first so a large attempt number cannot build a huge integer.
        delay_ms = initial_ms * (2 ** min(attempt - 1, 62))
    elif strategy == BackoffStrategy.LINEAR:
        delay_ms = initial_ms * attempt
    else:
        raise ValueError(f"unknown backoff strategy {strategy!r}")
    return min(delay_ms, max_ms) / 1000.0


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a call is repeated. Defaults are 002's: 1 try + 3 retries, 1 s, exponential."""

    enabled: bool = True
    max_attempts: int = MAX_RETRIES + 1
    backoff_strategy: str = BackoffStrategy.EXPONENTIAL
    initial_delay_ms: int = RETRY_DELAY_MS
    max_delay_ms: int = MAX_DELAY_MS

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> RetryPolicy:
        """The policy of a stored ``retry_config`` (003 exporter field); missing keys take the defaults."""
        known = {key: value for key, value in (config or {}).items() if key in cls.__dataclass_fields__}
        return cls(**known)

    def as_config(self) -> dict[str, Any]:
        return {key: str(value) if isinstance(value, StrEnum) else value for key, value in asdict(self).items()}

    @property
    def attempts(self) -> int:
        """Attempts allowed in all: one when retrying is disabled."""
        return self.max_attempts if self.enabled else 1

    def delay_after(self, failures: int) -> float:
        return backoff_delay(failures, self.backoff_strategy, self.initial_delay_ms, self.max_delay_ms)


PLATFORM_RETRY = RetryPolicy()


# --- Errors callers see ------------------------------------------------------------------------------


class OutboundError(Exception):
    """A call to another system failed. ``code`` is 002's: SVC_001 unavailable, SVC_003 timeout."""

    code = "SVC_001"
    kind = Kind.UNAVAILABLE
    retryable = True

    def __init__(self, message: str, *, http_status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status

    def as_api_error(self) -> ApiError:
        """The error for an API client: each family renders the kind with its own code (002/001: SVC_*)."""
        return ApiError(self.kind, self.message)


class ServiceUnavailable(OutboundError):
    code = "SVC_001"
    kind = Kind.UNAVAILABLE


class ServiceTimeout(OutboundError):
    code = "SVC_003"
    kind = Kind.TIMEOUT


class CircuitOpen(ServiceUnavailable):
    """Refused without calling: the peer failed too often and its recovery time has not passed."""

    def __init__(self, name: str, retry_at: float) -> None:
        super().__init__(f"Circuit open for {name}: too many recent failures")
        self.name = name
        self.retry_at = retry_at


class PeerRejected(OutboundError):
    """The peer answered and refused the request (a 4xx): repeating it would not help."""

    code = "SVC_002"
    kind = Kind.INTERNAL
    retryable = False


def describe(exc: BaseException) -> str:
    """A short, human message for a transport error ("Connection refused", "Timed out")."""
    if isinstance(exc, (httpx.TimeoutException, socket.timeout, TimeoutError)):
        return "Timed out"
    cause: BaseException | None = exc
    while cause is not None:  # httpx wraps the OS error; the innermost one names what happened
        if isinstance(cause, ConnectionRefusedError):
            return "Connection refused"
        if isinstance(cause, socket.gaierror):
            return f"Cannot resolve host: {cause.strerror or cause}"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip()
    return text or type(exc).__name__


def classify(exc: BaseException) -> OutboundError | None:
    """The outbound error ``exc`` stands for, or None when it is not a failure of the peer (a bug)."""
    if isinstance(exc, OutboundError):
        return exc
    if isinstance(exc, (httpx.TimeoutException, socket.timeout, TimeoutError)):
        return ServiceTimeout(describe(exc))
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status == 408:
            return ServiceTimeout(f"HTTP {status}", http_status=status)
        if status >= 500 or status in RETRYABLE_HTTP_STATUSES:
            return ServiceUnavailable(f"HTTP {status}", http_status=status)
        return PeerRejected(f"HTTP {status}", http_status=status)
    if isinstance(exc, (httpx.TransportError, ConnectionError, OSError)):
        return ServiceUnavailable(describe(exc))
    return None


# --- Circuit breaker ---------------------------------------------------------------------------------


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


# Counts a failure and opens the circuit at the threshold, in one step so that concurrent workers
# cannot both miss the moment. A failure while open or half-open (the probe failed) opens it anew.
_RECORD_FAILURE = """
local opened = redis.call('GET', KEYS[2])
if opened then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
  redis.call('DEL', KEYS[1], KEYS[3])
  return -1
end
local failures = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
if failures >= tonumber(ARGV[2]) then
  redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[3])
  redis.call('DEL', KEYS[1], KEYS[3])
  return -1
end
return failures
"""

# Keys outlive any sensible outage, then clean themselves up (an expired "opened" key closes the circuit).
_KEY_TTL_SECONDS = 7 * 24 * 3600


class CircuitBreaker:
    """A circuit breaker shared by every process through Redis.

    closed: calls go through; ``failure_threshold`` consecutive failures open it.
    open: calls are refused until ``recovery_timeout`` seconds have passed since it opened.
    half-open: one caller at a time gets a trial call (``allow()`` hands out a probe token);
    its success closes the circuit, its failure opens it for another ``recovery_timeout``.

    Redis being unreachable never blocks a call: the breaker then allows everything and records nothing.
    """

    def __init__(
        self,
        name: str,
        failure_threshold: int = FAILURE_THRESHOLD,
        recovery_timeout: float = RECOVERY_TIMEOUT,
        client: redis.Redis | None = None,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.recovery_timeout = recovery_timeout
        self._client = client

    @property
    def client(self) -> redis.Redis:
        return self._client or get_redis()

    def key(self, part: str) -> str:
        """The Redis key of one part of the state: ``failures``, ``opened_at`` or ``probe``."""
        return f"{settings.REDIS_PREFIX}:circuit:{self.name}:{part}"

    def _opened_at(self) -> float | None:
        raw = self.client.get(self.key("opened_at"))
        return None if raw is None else float(raw)

    @property
    def state(self) -> CircuitState:
        try:
            opened_at = self._opened_at()
        except redis.RedisError:
            return CircuitState.CLOSED
        if opened_at is None:
            return CircuitState.CLOSED
        if time.time() - opened_at < self.recovery_timeout:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    @property
    def failures(self) -> int:
        """Consecutive failures counted while closed."""
        try:
            return int(self.client.get(self.key("failures")) or 0)
        except redis.RedisError:
            return 0

    def allow(self) -> bool:
        """Whether a call may go out now. In half-open state only the first caller gets a yes."""
        try:
            opened_at = self._opened_at()
            if opened_at is None:
                return True
            if time.time() - opened_at < self.recovery_timeout:
                return False
            # Half-open: the probe token expires so that a prober that died does not block the circuit.
            ttl = max(1, int(self.recovery_timeout))
            return bool(self.client.set(self.key("probe"), time.time(), nx=True, ex=ttl))
        except redis.RedisError:
            logger.warning("circuit %s: Redis unreachable, allowing the call", self.name)
            return True

    def record_success(self) -> None:
        """The peer answered: close the circuit and forget earlier failures."""
        try:
            self.client.delete(self.key("failures"), self.key("opened_at"), self.key("probe"))
        except redis.RedisError:
            logger.warning("circuit %s: Redis unreachable, success not recorded", self.name)

    def record_failure(self) -> CircuitState:
        """The peer failed (unreachable, timeout, 5xx). Returns the state after counting it."""
        try:
            result = self.client.eval(
                _RECORD_FAILURE,
                3,
                self.key("failures"),
                self.key("opened_at"),
                self.key("probe"),
                repr(time.time()),
                self.failure_threshold,
                _KEY_TTL_SECONDS,
            )
        except redis.RedisError:
            logger.warning("circuit %s: Redis unreachable, failure not recorded", self.name)
            return CircuitState.CLOSED
        if int(result) == -1:
            logger.warning("circuit %s is open for %ss", self.name, self.recovery_timeout)
            return CircuitState.OPEN
        return CircuitState.CLOSED

    def retry_at(self) -> float:
        """When (epoch seconds) a refused caller should come back.

        Open: when the recovery timeout ends. Half-open with a probe under way: a few seconds on, by
        when the probe has normally finished (it is bounded by the call timeout).
        """
        try:
            opened_at = self._opened_at()
        except redis.RedisError:
            opened_at = None
        now = time.time()
        if opened_at is not None and now - opened_at < self.recovery_timeout:
            return opened_at + self.recovery_timeout
        return now + min(5.0, self.recovery_timeout)

    def reset(self) -> None:
        """Forget all state (the peer it guarded is gone)."""
        self.record_success()


# --- One call under the policy ---------------------------------------------------------------------


def call_with_policy(
    func: Callable[[], T],
    *,
    breaker: CircuitBreaker | str | None = None,
    policy: RetryPolicy = PLATFORM_RETRY,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``func`` under 002's policy: retry SVC_001/SVC_003 failures with backoff, guarded by a breaker.

    ``func`` signals a failure of the peer by raising: an httpx error (``response.raise_for_status()``
    turns 5xx/408/429 into retryable failures and other 4xx into :class:`PeerRejected`), an OS connection
    error, a timeout, or an :class:`OutboundError` of its own. Any other exception is a bug, not the
    peer's failure: it propagates at once and does not count against the circuit.

    Raises :class:`CircuitOpen` (SVC_001) without calling while the circuit is open, otherwise the last
    :class:`ServiceUnavailable` (SVC_001) / :class:`ServiceTimeout` (SVC_003) / :class:`PeerRejected`.
    Callers in an API view turn it into the client's error with ``exc.as_api_error()``.
    """
    guard = CircuitBreaker(breaker) if isinstance(breaker, str) else breaker
    failures = 0
    while True:
        if guard is not None and not guard.allow():
            raise CircuitOpen(guard.name, guard.retry_at())
        try:
            result = func()
        except Exception as exc:
            error = classify(exc)
            if error is None:
                raise
            if guard is not None:
                # A refusal (4xx) proves the peer is up: it resets the failure count like a success.
                if error.retryable:
                    guard.record_failure()
                else:
                    guard.record_success()
            failures += 1
            if not error.retryable or failures >= policy.attempts:
                if error is exc:
                    raise
                raise error from exc
            sleep(policy.delay_after(failures))
            continue
        if guard is not None:
            guard.record_success()
        return result
