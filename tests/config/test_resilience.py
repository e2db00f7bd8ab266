"""002's retry and circuit-breaker policy: backoff schedules, a Redis-backed breaker shared by every process,
and ``call_with_policy`` for every outbound call of the platform."""

from __future__ import annotations

import time

import httpx
import pytest
from django.conf import settings

from config.api.contracts import Kind
from config.redis import get_redis
from config.resilience import (
    CircuitBreaker,
    CircuitOpen,
    CircuitState,
    PeerRejected,
    RetryPolicy,
    ServiceTimeout,
    ServiceUnavailable,
    backoff_delay,
    call_with_policy,
)
from tests.integrations.conftest import open_circuit_since

# --- backoff -------------------------------------------------------------------------------------


def test_exponential_backoff_doubles_from_the_initial_delay():
    assert [backoff_delay(n, "exponential", 1000, 60000) for n in range(1, 6)] == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_linear_backoff_grows_by_the_initial_delay():
    assert [backoff_delay(n, "linear", 1000, 60000) for n in range(1, 5)] == [1.0, 2.0, 3.0, 4.0]


def test_exponential_backoff_is_capped_at_the_maximum_delay():
    assert [backoff_delay(n, "exponential", 1000, 5000) for n in range(1, 6)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_linear_backoff_is_capped_at_the_maximum_delay():
    assert [backoff_delay(n, "linear", 2000, 5000) for n in range(1, 5)] == [2.0, 4.0, 5.0, 5.0]


def test_backoff_of_a_huge_attempt_number_stays_capped():
    assert backoff_delay(10_000, "exponential", 1000, 60000) == 60.0


def test_backoff_refuses_an_unknown_strategy():
    with pytest.raises(ValueError, match="strategy"):
        backoff_delay(1, "fibonacci", 1000, 60000)


def test_backoff_counts_attempts_from_one():
    with pytest.raises(ValueError):
        backoff_delay(0, "linear", 1000, 60000)


def test_default_policy_is_002s_three_retries_after_one_second_exponentially():
    policy = RetryPolicy()
    assert (policy.max_attempts, policy.initial_delay_ms, policy.backoff_strategy) == (4, 1000, "exponential")


def test_policy_from_a_partial_retry_config_takes_the_defaults():
    policy = RetryPolicy.from_config({"max_attempts": 3, "backoff_strategy": "linear"})
    assert policy == RetryPolicy(max_attempts=3, backoff_strategy="linear", initial_delay_ms=1000, max_delay_ms=60000)


def test_disabled_retry_allows_a_single_attempt():
    assert RetryPolicy(enabled=False, max_attempts=5).attempts == 1


# --- circuit breaker -----------------------------------------------------------------------------


def test_new_circuit_is_closed_and_allows_calls():
    breaker = CircuitBreaker("peer-a")
    assert breaker.state == CircuitState.CLOSED
    assert breaker.allow()


def test_circuit_stays_closed_below_the_failure_threshold():
    breaker = CircuitBreaker("peer-a")
    for _ in range(4):
        breaker.record_failure()
    assert breaker.state == CircuitState.CLOSED
    assert breaker.failures == 4


def test_circuit_opens_at_the_fifth_failure():
    breaker = CircuitBreaker("peer-a")
    states = [breaker.record_failure() for _ in range(5)]
    assert states[-1] == CircuitState.OPEN
    assert breaker.state == CircuitState.OPEN


def test_open_circuit_refuses_calls():
    breaker = CircuitBreaker("peer-a")
    for _ in range(5):
        breaker.record_failure()
    assert not breaker.allow()


def test_success_resets_the_failure_count():
    breaker = CircuitBreaker("peer-a")
    for _ in range(4):
        breaker.record_failure()
    breaker.record_success()
    breaker.record_failure()
    assert breaker.state == CircuitState.CLOSED
    assert breaker.failures == 1


def test_circuit_half_opens_after_the_recovery_timeout():
    open_circuit_since("peer-a", 31)
    assert CircuitBreaker("peer-a").state == CircuitState.HALF_OPEN


def test_circuit_is_still_open_before_the_recovery_timeout():
    open_circuit_since("peer-a", 29)
    assert CircuitBreaker("peer-a").state == CircuitState.OPEN


def test_half_open_circuit_lets_one_probe_through():
    open_circuit_since("peer-a", 31)
    breaker = CircuitBreaker("peer-a")
    assert [breaker.allow(), breaker.allow(), CircuitBreaker("peer-a").allow()] == [True, False, False]


def test_successful_probe_closes_the_circuit():
    open_circuit_since("peer-a", 31)
    breaker = CircuitBreaker("peer-a")
    breaker.allow()
    breaker.record_success()
    assert breaker.state == CircuitState.CLOSED
    assert breaker.allow()


def test_failed_probe_opens_the_circuit_for_another_recovery_timeout():
    open_circuit_since("peer-a", 31)
    breaker = CircuitBreaker("peer-a")
    breaker.allow()
    breaker.record_failure()
    assert breaker.state == CircuitState.OPEN
    assert breaker.retry_at() == pytest.approx(time.time() + 30, abs=1)


def test_open_circuit_says_when_to_come_back():
    open_circuit_since("peer-a", 10)
    assert CircuitBreaker("peer-a").retry_at() == pytest.approx(time.time() + 20, abs=1)


def test_circuit_state_is_shared_by_every_breaker_of_the_same_name():
    for _ in range(5):
        CircuitBreaker("peer-a").record_failure()  # as five different processes would
    assert CircuitBreaker("peer-a").state == CircuitState.OPEN
    assert CircuitBreaker("peer-b").state == CircuitState.CLOSED


def test_circuit_state_lives_under_the_platform_redis_prefix():
    CircuitBreaker("peer-a").record_failure()
    keys = [key.decode() for key in get_redis().scan_iter(match=f"{settings.REDIS_PREFIX}:circuit:peer-a:*")]
    assert keys == [f"{settings.REDIS_PREFIX}:circuit:peer-a:failures"]


def test_thresholds_are_configurable():
    breaker = CircuitBreaker("peer-a", failure_threshold=2, recovery_timeout=60)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == CircuitState.OPEN


# --- call_with_policy ------------------------------------------------------------------------------


def _post(url: str):
    return lambda: httpx.post(url, json={}, timeout=5).raise_for_status()


def test_call_with_policy_retries_an_unavailable_peer_until_it_answers(http_peer):
    peer = http_peer(fail_first=2)
    sleeps: list[float] = []
    response = call_with_policy(_post(peer.url), sleep=sleeps.append)
    assert response.status_code == 200
    assert len(peer.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_call_with_policy_gives_up_after_three_retries_with_svc_001(http_peer):
    peer = http_peer(fail_first=100)
    with pytest.raises(ServiceUnavailable) as caught:
        call_with_policy(_post(peer.url), sleep=lambda _s: None)
    assert caught.value.code == "SVC_001"
    assert len(peer.requests) == 4  # 1 try + maxRetries 3


def test_call_with_policy_reports_an_unreachable_peer_as_svc_001(closed_url):
    with pytest.raises(ServiceUnavailable) as caught:
        call_with_policy(_post(closed_url), sleep=lambda _s: None)
    assert caught.value.code == "SVC_001"
    assert caught.value.message == "Connection refused"


def test_call_with_policy_reports_a_timeout_as_svc_003(http_peer):
    peer = http_peer(delay=1.0)
    slow = lambda: httpx.post(peer.url, json={}, timeout=0.2).raise_for_status()  # noqa: E731
    with pytest.raises(ServiceTimeout) as caught:
        call_with_policy(slow, policy=RetryPolicy(max_attempts=1))
    assert caught.value.code == "SVC_003"


def test_call_with_policy_does_not_retry_a_refused_request(http_peer):
    peer = http_peer(fail_first=100, failure_status=400)
    with pytest.raises(PeerRejected):
        call_with_policy(_post(peer.url), sleep=lambda _s: None)
    assert len(peer.requests) == 1


def test_call_with_policy_refuses_without_calling_while_the_circuit_is_open(http_peer):
    peer = http_peer()
    open_circuit_since("odoo", 1)
    with pytest.raises(CircuitOpen) as caught:
        call_with_policy(_post(peer.url), breaker="odoo")
    assert caught.value.code == "SVC_001"
    assert peer.requests == []


def test_call_with_policy_failures_open_the_shared_circuit(http_peer):
    peer = http_peer(fail_first=100)
    with pytest.raises(ServiceUnavailable):
        call_with_policy(_post(peer.url), breaker="odoo", policy=RetryPolicy(max_attempts=5), sleep=lambda _s: None)
    assert CircuitBreaker("odoo").state == CircuitState.OPEN


def test_call_with_policy_lets_a_bug_through_without_retrying_or_counting_it():
    calls: list[int] = []

    def broken():
        calls.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_policy(broken, breaker="odoo", sleep=lambda _s: None)
    assert calls == [1]
    assert CircuitBreaker("odoo").failures == 0


def test_outbound_errors_become_the_clients_unavailable_and_timeout_errors():
    assert ServiceUnavailable("down").as_api_error().kind == Kind.UNAVAILABLE
    assert ServiceTimeout("slow").as_api_error().kind == Kind.TIMEOUT
