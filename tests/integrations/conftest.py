"""Fixtures of the exporter tests: real local HTTP peers, the local MQTT broker, exporters."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from config.redis import get_redis
from integrations import services
from integrations.models import Exporter, OutboxMessage
from tests.integrations.peers import MqttSubscriber

TOKEN = "tok-3f9c1e7a5b"  # a bearer token that must never be seen outside the exporter


@pytest.fixture
def mqtt_topic() -> str:
    return f"argus-test/{uuid.uuid4().hex}"


@pytest.fixture
def subscriber(mqtt_topic) -> Iterator[MqttSubscriber]:
    sub = MqttSubscriber(mqtt_topic)
    yield sub
    sub.close()


FAST_RETRY = {
    "enabled": True,
    "max_attempts": 5,
    "backoff_strategy": "exponential",
    "initial_delay_ms": 1000,
    "max_delay_ms": 60000,
}


def rest_exporter(url: str, **fields: Any) -> Exporter:
    """A REST exporter created through the service (validation and secret splitting included)."""
    data = {
        "name": "Peer",
        "type": "rest",
        "url": url,
        "auth": {"type": "bearer", "token": TOKEN},
        "retry_config": FAST_RETRY,
        **fields,
    }
    return services.create_exporter(data)


def mqtt_exporter(topic: str, **fields: Any) -> Exporter:
    config = {"topic": topic, "qos": 1, **fields.pop("config", {})}
    data = {"name": "Broker", "type": "mqtt", "url": "mqtt://127.0.0.1:1883", "config": config, **fields}
    return services.create_exporter(data)


def make_due(message: OutboxMessage) -> None:
    """Move a message's next attempt into the past instead of waiting for it."""
    OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now() - timedelta(milliseconds=1))


def open_circuit_since(name: str, seconds_ago: float) -> None:
    """Put a breaker's Redis state as if it had opened ``seconds_ago`` (instead of sleeping through 30 s)."""
    from config.resilience import CircuitBreaker

    breaker = CircuitBreaker(name)
    get_redis().set(breaker.key("opened_at"), repr(time.time() - seconds_ago))
