"""Host metrics: collection with real psutil readings, network rates, and GET /api/v1/system/health/metrics."""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.models import SystemMetric
from config.system import metrics as system

pytestmark = pytest.mark.django_db

METRICS_URL = "/api/v1/system/health/metrics"
NETWORK_URL = "/api/v1/system/network-metrics"


def by_label(rows) -> dict[str, SystemMetric]:
    return {row.label: row for row in rows}


def error_code(response) -> str:
    return response.json()["error"]["code"]


@pytest.fixture
def no_gpu_tools(tmp_path, monkeypatch):
    """A PATH without nvidia-smi, whatever the machine has."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def _loopback_udp_traffic(packets: int = 50) -> None:
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    try:
        for _ in range(packets):
            sender.sendto(b"x" * 1024, receiver.getsockname())
    finally:
        sender.close()
        receiver.close()


# --- Collection -----------------------------------------------------------------------------------


def test_collect_stores_cpu_memory_disk_and_network_rows():
    rows = system.collect_metrics()

    assert {"cpu", "memory", "disk", "network"} <= {row.category for row in rows}
    assert SystemMetric.objects.count() == len(rows)
    assert len({row.timestamp for row in rows}) == 1


def test_cpu_usage_is_a_percentage_and_core_count_matches_the_machine():
    import psutil

    rows = by_label(system.collect_metrics())

    assert 0 <= rows["CPU usage"].value <= 100
    assert rows["CPU usage"].unit == "%"
    assert rows["CPU cores"].value == psutil.cpu_count(logical=True)
    assert rows["Load average (1 min)"].value >= 0
    assert rows["Load average (1 min)"].limit_value == psutil.cpu_count(logical=True)


def test_memory_used_is_within_a_positive_total():
    rows = by_label(system.collect_metrics())

    assert rows["Memory used"].limit_value > 0
    assert 0 < rows["Memory used"].value <= rows["Memory used"].limit_value
    assert 0 < rows["Memory usage"].value <= 100


def test_disk_usage_covers_the_data_volume_and_root():
    rows = by_label(system.collect_metrics())

    data_mount = system._mountpoint(Path(settings.VAR_DIR))
    for mount in {data_mount, "/"}:
        assert 0 < rows[f"Disk usage {mount}"].value <= 100
        assert rows[f"Disk used {mount}"].limit_value > 0


def test_no_gpu_rows_without_nvidia_smi(no_gpu_tools):
    rows = system.collect_metrics()

    assert not [row for row in rows if row.category == "gpu"]


def test_gpu_rows_come_from_nvidia_smi(tmp_path, monkeypatch):
    tool = tmp_path / "nvidia-smi"
    tool.write_text("#!/bin/sh\nprintf '37, 1024, 8192\\n5, 100, 4096\\n'\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    rows = by_label(system.collect_metrics())

    assert rows["GPU 0 usage"].value == 37
    assert rows["GPU 0 memory"].value == 1024
    assert rows["GPU 0 memory"].limit_value == 8192
    assert rows["GPU 1 usage"].value == 5
    assert rows["GPU 1 memory"].limit_value == 4096


def test_first_sample_measures_network_over_the_sampling_window():
    system.collect_metrics()

    snapshot = cache.get(system.NETWORK_SNAPSHOT_KEY)
    assert snapshot["interval_seconds"] == pytest.approx(system.SAMPLE_WINDOW_SECONDS, abs=0.3)


def test_network_rate_is_computed_from_the_previous_sample():
    system.collect_metrics()
    first = cache.get(system.network_counters_key())
    _loopback_udp_traffic()
    time.sleep(1)

    rows = by_label(system.collect_metrics())

    second = cache.get(system.network_counters_key())
    interval = second["at"] - first["at"]
    snapshot = cache.get(system.NETWORK_SNAPSHOT_KEY)
    assert snapshot["interval_seconds"] == pytest.approx(interval, abs=0.001)
    interfaces = {item["name"]: item for item in snapshot["interfaces"]}
    expected_sent = 0.0
    for name, counters in second["nics"].items():
        rate = (counters["bytes_sent"] - first["nics"][name]["bytes_sent"]) / interval
        assert interfaces[name]["bytes_sent_per_sec"] == pytest.approx(rate, abs=0.01)
        if not interfaces[name]["is_loopback"]:
            expected_sent += rate
    assert rows["Network sent"].value == pytest.approx(expected_sent / 1024, abs=0.01)
    loopback = [item for item in snapshot["interfaces"] if item["is_loopback"]]
    assert loopback and loopback[0]["bytes_sent_per_sec"] > 0  # the UDP packets above


def test_a_stale_previous_sample_is_not_used_for_the_rate():
    system.collect_metrics()
    stale = cache.get(system.network_counters_key())
    stale["at"] -= system.MAX_RATE_GAP_SECONDS + 60
    cache.set(system.network_counters_key(), stale)

    system.collect_metrics()

    assert cache.get(system.NETWORK_SNAPSHOT_KEY)["interval_seconds"] < 5


def test_collect_caches_the_latest_set():
    rows = system.collect_metrics()

    cached = cache.get(system.LATEST_METRICS_KEY)
    assert {item["id"] for item in cached} == {str(row.id) for row in rows}


# --- GET /system/health/metrics -------------------------------------------------------------------


def test_endpoint_answers_the_metric_shape(viewer_client):
    system.collect_metrics()

    response = viewer_client.get(METRICS_URL)

    assert response.status_code == 200
    items = response.json()["data"]
    assert items
    assert all(set(item) == {"id", "category", "label", "value", "unit", "limit", "timestamp"} for item in items)


def test_endpoint_returns_the_latest_sample_of_each_label(viewer_client):
    system.collect_metrics()
    latest = system.collect_metrics()

    items = viewer_client.get(METRICS_URL).json()["data"]

    labels = [item["label"] for item in items]
    assert len(labels) == len(set(labels))
    assert {item["id"] for item in items} == {str(row.id) for row in latest}


def test_endpoint_falls_back_to_the_database_when_the_cache_is_empty(viewer_client):
    system.collect_metrics()
    latest = system.collect_metrics()
    cache.delete(system.LATEST_METRICS_KEY)

    items = viewer_client.get(METRICS_URL).json()["data"]

    assert {item["id"] for item in items} == {str(row.id) for row in latest}


def test_category_filter_keeps_one_category(viewer_client):
    system.collect_metrics()

    items = viewer_client.get(METRICS_URL, {"category": "memory"}).json()["data"]

    assert items
    assert {item["category"] for item in items} == {"memory"}


def test_unknown_category_is_refused(viewer_client):
    response = viewer_client.get(METRICS_URL, {"category": "toaster"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_history_returns_one_label_oldest_first_within_the_window(viewer_client):
    now = timezone.now().replace(microsecond=0)
    for minutes, value in ((90, 5.0), (50, 10.0), (30, 20.0), (10, 30.0)):
        SystemMetric.objects.create(
            category="cpu", label="CPU usage", value=value, unit="%", timestamp=now - timedelta(minutes=minutes)
        )
    SystemMetric.objects.create(category="memory", label="Memory usage", value=99.0, unit="%", timestamp=now)

    response = viewer_client.get(
        METRICS_URL,
        {
            "history": "1",
            "label": "CPU usage",
            "from": (now - timedelta(minutes=60)).isoformat(),
            "to": (now - timedelta(minutes=20)).isoformat(),
        },
    )

    assert response.status_code == 200
    assert [item["value"] for item in response.json()["data"]] == [10.0, 20.0]


def test_history_without_a_label_is_refused(viewer_client):
    response = viewer_client.get(METRICS_URL, {"history": "1"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_history_with_an_unreadable_from_is_refused(viewer_client):
    response = viewer_client.get(METRICS_URL, {"history": "1", "label": "CPU usage", "from": "yesterday"})

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_history_with_from_after_to_is_refused(viewer_client):
    now = timezone.now()
    response = viewer_client.get(
        METRICS_URL,
        {"history": "1", "label": "CPU usage", "from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()},
    )

    assert response.status_code == 400
    assert error_code(response) == "VALIDATION_ERROR"


def test_operator_without_system_read_is_refused(operator_client):
    response = operator_client.get(METRICS_URL)

    assert response.status_code == 403
    assert error_code(response) == "AUTH_003"


def test_anonymous_caller_is_refused(api_client):
    response = api_client.get(METRICS_URL)

    assert response.status_code == 401
    assert error_code(response) == "AUTH_001"


def test_latest_metrics_need_no_metric_query_when_cached(viewer_client, django_assert_max_num_queries):
    system.collect_metrics()
    viewer_client.get(METRICS_URL)  # warm the authentication path

    with django_assert_max_num_queries(1):  # the signed-in user only
        response = viewer_client.get(METRICS_URL)

    assert response.status_code == 200


def test_latest_metrics_take_one_query_from_the_database(viewer_client, django_assert_max_num_queries):
    system.collect_metrics()
    cache.delete(system.LATEST_METRICS_KEY)
    viewer_client.get(METRICS_URL)
    cache.delete(system.LATEST_METRICS_KEY)

    with django_assert_max_num_queries(2):  # the signed-in user, then one DISTINCT ON query
        response = viewer_client.get(METRICS_URL)

    assert response.status_code == 200


# --- GET /system/network-metrics ------------------------------------------------------------------


def test_network_metrics_list_interfaces_and_totals(viewer_client):
    system.collect_metrics()

    response = viewer_client.get(NETWORK_URL)

    assert response.status_code == 200
    data = response.json()["data"]
    assert {"timestamp", "intervalSeconds", "interfaces", "totals"} <= set(data)
    names = {item["name"] for item in data["interfaces"]}
    assert names
    first = data["interfaces"][0]
    assert {"bytesSentPerSec", "bytesRecvPerSec", "errorsIn", "errorsOut", "dropsIn", "dropsOut"} <= set(first)
    assert {"bytesSentPerSec", "bytesRecvPerSec", "errorsIn", "dropsIn"} <= set(data["totals"])


def test_network_metrics_are_measured_when_nothing_was_collected(viewer_client):
    response = viewer_client.get(NETWORK_URL)

    assert response.status_code == 200
    assert response.json()["data"]["interfaces"]
    assert SystemMetric.objects.count() == 0


def test_operator_cannot_read_network_metrics(operator_client):
    assert operator_client.get(NETWORK_URL).status_code == 403
