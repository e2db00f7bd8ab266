"""Resource metrics of the host (001 ``system_metrics``): CPU, memory, disk, network and GPU, sampled by
psutil (and nvidia-smi where there is a GPU), stored every 60 s and cached as the latest set."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psutil
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from config.api.contracts import ApiError, Kind
from config.api.contracts import FieldError as ApiFieldError
from config.models import SystemMetric
from config.system.choices import MetricCategory

logger = logging.getLogger(__name__)

METRIC_CATEGORIES = tuple(MetricCategory.values)
LATEST_METRICS_KEY = "cameras:system:metrics:latest"
NETWORK_SNAPSHOT_KEY = "cameras:system:network:latest"
NETWORK_COUNTERS_KEY = "cameras:system:network:counters"
# The latest set outlives a few missed collections; past that, reads fall back to the database.
LATEST_TTL_SECONDS = 600
# A rate over a longer gap (worker down for hours) would be an average nobody asked for.
MAX_RATE_GAP_SECONDS = 600
# Long enough for a meaningful CPU figure, short enough for a task that runs every minute. The same
# window measures network rates when there is no recent previous sample.
SAMPLE_WINDOW_SECONDS = 0.5
NVIDIA_SMI_TIMEOUT_SECONDS = 3
HISTORY_MAX_POINTS = 1440  # a day of one-minute samples
GIB = 1024**3
KIB = 1024


@dataclass(frozen=True)
class _Counters:
    """Network counters of every interface at one moment."""

    at: float
    nics: dict[str, dict[str, int]]


def _read_counters() -> _Counters:
    nics = {name: c._asdict() for name, c in psutil.net_io_counters(pernic=True).items()}
    return _Counters(at=time.time(), nics=nics)


def _is_loopback(name: str, stats: Any) -> bool:
    flags = getattr(stats, "flags", "") if stats is not None else ""
    if flags:
        return "loopback" in flags.split(",")
    return name == "lo" or name.startswith("lo")


def _network_snapshot(previous: _Counters, current: _Counters) -> dict[str, Any]:
    """Per-interface throughput between two counter readings, with totals over real (non-loopback) links.

    Loopback is listed but left out of the totals: it is local services talking to each other, not
    traffic on the machine's network.
    """
    interval = max(current.at - previous.at, 1e-6)
    if_stats = psutil.net_if_stats()
    interfaces = []
    totals = dict.fromkeys(
        ("bytes_sent_per_sec", "bytes_recv_per_sec", "errors_in", "errors_out", "drops_in", "drops_out"), 0.0
    )
    link_speed_mbps = 0
    for name in sorted(current.nics):
        now = current.nics[name]
        before = previous.nics.get(name)
        stats = if_stats.get(name)
        # A counter that went backwards was reset (interface re-created): no rate for this window.
        sent = max(now["bytes_sent"] - before["bytes_sent"], 0) / interval if before else 0.0
        recv = max(now["bytes_recv"] - before["bytes_recv"], 0) / interval if before else 0.0
        loopback = _is_loopback(name, stats)
        row = {
            "name": name,
            "is_up": bool(stats.isup) if stats else None,
            "is_loopback": loopback,
            "speed_mbps": (stats.speed or None) if stats else None,
            "bytes_sent_per_sec": round(sent, 2),
            "bytes_recv_per_sec": round(recv, 2),
            "bytes_sent": now["bytes_sent"],
            "bytes_recv": now["bytes_recv"],
            "packets_sent": now["packets_sent"],
            "packets_recv": now["packets_recv"],
            "errors_in": now["errin"],
            "errors_out": now["errout"],
            "drops_in": now["dropin"],
            "drops_out": now["dropout"],
        }
        interfaces.append(row)
        if loopback:
            continue
        totals["bytes_sent_per_sec"] += sent
        totals["bytes_recv_per_sec"] += recv
        for key in ("errors_in", "errors_out", "drops_in", "drops_out"):
            totals[key] += row[key]
        if stats and stats.isup:
            link_speed_mbps += stats.speed or 0
    totals = {key: round(value, 2) if key.endswith("_per_sec") else int(value) for key, value in totals.items()}
    totals["link_speed_mbps"] = link_speed_mbps or None
    return {
        "timestamp": datetime.fromtimestamp(current.at, tz=UTC),
        "interval_seconds": round(interval, 3),
        "interfaces": interfaces,
        "totals": totals,
    }


def network_counters_key() -> str:
    """Counters are per host: a rate between two machines' counters would mean nothing."""
    return f"{NETWORK_COUNTERS_KEY}:{socket.gethostname()}"


def _previous_counters() -> _Counters | None:
    cached = cache.get(network_counters_key())
    if not cached or time.time() - cached["at"] > MAX_RATE_GAP_SECONDS:
        return None
    return _Counters(at=cached["at"], nics=cached["nics"])


def _mountpoint(path: Path) -> str:
    """The mount point of the filesystem holding ``path`` (or its nearest existing parent)."""
    path = path.resolve()
    while not path.exists():
        path = path.parent
    while not os.path.ismount(path) and path != path.parent:
        path = path.parent
    return str(path)


def _gpu_readings() -> list[tuple[int, float, float, float]]:
    """(index, utilisation %, memory used MiB, memory total MiB) per NVIDIA GPU; none without nvidia-smi."""
    binary = shutil.which("nvidia-smi")
    if not binary:
        return []
    try:
        result = subprocess.run(
            [binary, "--query-gpu=utilization.gpu,memory.used,memory.total", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=NVIDIA_SMI_TIMEOUT_SECONDS,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        # A driver that hangs or fails must not stop the CPU/memory/disk figures from being recorded.
        logger.warning("nvidia-smi failed: %s", exc)
        return []
    readings = []
    for index, line in enumerate(result.stdout.strip().splitlines()):
        try:
            utilisation, used, total = (float(part.strip()) for part in line.split(","))
        except ValueError:
            logger.warning("unreadable nvidia-smi line %r", line)
            continue
        readings.append((index, utilisation, used, total))
    return readings


def _metric(category: str, label: str, value: float, unit: str, limit: float | None, at: datetime) -> SystemMetric:
    return SystemMetric(
        category=category, label=label, value=round(float(value), 2), unit=unit, limit_value=limit, timestamp=at
    )


def metric_dict(metric: SystemMetric) -> dict[str, Any]:
    """The API shape of one metric sample."""
    return {
        "id": str(metric.id),
        "category": metric.category,
        "label": metric.label,
        "value": metric.value,
        "unit": metric.unit,
        "limit": metric.limit_value,
        "timestamp": metric.timestamp,
    }


def collect_metrics() -> list[SystemMetric]:
    """Sample the host now, store one row per figure, and cache the set for fast reads.

    Figures: CPU usage, core count and load averages; memory and swap; disk usage of the data
    volume (``settings.VAR_DIR``) and of ``/``; network send/receive rates over non-loopback
    interfaces, measured since the previous sample (its counters are kept in the cache, so any
    worker can take the next sample); NVIDIA GPUs where ``nvidia-smi`` answers.
    """
    previous = _previous_counters()
    window_start = _read_counters()
    cpu_percent = psutil.cpu_percent(interval=SAMPLE_WINDOW_SECONDS)
    counters = _read_counters()
    at = timezone.now()
    cores = psutil.cpu_count(logical=True) or 1

    rows = [
        _metric(MetricCategory.CPU, "CPU usage", cpu_percent, "%", 100.0, at),
        _metric(MetricCategory.CPU, "CPU cores", cores, "cores", None, at),
    ]
    # Load above the core count means runnable work is waiting for a CPU.
    for minutes, load in zip((1, 5, 15), psutil.getloadavg(), strict=True):
        rows.append(_metric(MetricCategory.CPU, f"Load average ({minutes} min)", load, "", float(cores), at))

    memory = psutil.virtual_memory()
    rows.append(_metric(MetricCategory.MEMORY, "Memory usage", memory.percent, "%", 100.0, at))
    rows.append(
        _metric(MetricCategory.MEMORY, "Memory used", memory.used / GIB, "GB", round(memory.total / GIB, 2), at)
    )
    swap = psutil.swap_memory()
    if swap.total:  # without swap configured, a "0 %" row would read as idle swap
        rows.append(_metric(MetricCategory.MEMORY, "Swap usage", swap.percent, "%", 100.0, at))
        rows.append(_metric(MetricCategory.MEMORY, "Swap used", swap.used / GIB, "GB", round(swap.total / GIB, 2), at))

    for mount in dict.fromkeys([_mountpoint(Path(settings.VAR_DIR)), "/"]):
        usage = psutil.disk_usage(mount)
        rows.append(_metric(MetricCategory.DISK, f"Disk usage {mount}", usage.percent, "%", 100.0, at))
        rows.append(
            _metric(MetricCategory.DISK, f"Disk used {mount}", usage.used / GIB, "GB", round(usage.total / GIB, 2), at)
        )

    snapshot = _network_snapshot(previous or window_start, counters)
    totals = snapshot["totals"]
    link_kib = round(totals["link_speed_mbps"] * 1_000_000 / 8 / KIB, 2) if totals["link_speed_mbps"] else None
    rows.append(
        _metric(MetricCategory.NETWORK, "Network sent", totals["bytes_sent_per_sec"] / KIB, "KB/s", link_kib, at)
    )
    rows.append(
        _metric(MetricCategory.NETWORK, "Network received", totals["bytes_recv_per_sec"] / KIB, "KB/s", link_kib, at)
    )

    for index, utilisation, used, total in _gpu_readings():
        rows.append(_metric(MetricCategory.GPU, f"GPU {index} usage", utilisation, "%", 100.0, at))
        rows.append(_metric(MetricCategory.GPU, f"GPU {index} memory", used, "MB", total, at))

    SystemMetric.objects.bulk_create(rows)
    cache.set(network_counters_key(), {"at": counters.at, "nics": counters.nics}, timeout=MAX_RATE_GAP_SECONDS * 2)
    cache.set(NETWORK_SNAPSHOT_KEY, snapshot, timeout=LATEST_TTL_SECONDS)
    cache.set(LATEST_METRICS_KEY, [metric_dict(row) for row in rows], timeout=LATEST_TTL_SECONDS)
    return rows


def _check_category(category: str | None) -> None:
    if category and category not in METRIC_CATEGORIES:
        raise ApiError(
            Kind.VALIDATION,
            f"category must be one of {', '.join(METRIC_CATEGORIES)}",
            field_errors=[ApiFieldError("category", f"Unknown category {category!r}")],
        )


def latest_metrics(category: str | None = None) -> list[dict[str, Any]]:
    """The latest sample of each label, from the cache when a collection is recent, else from the database."""
    _check_category(category)
    items = cache.get(LATEST_METRICS_KEY)
    if items is None:
        queryset = SystemMetric.objects.order_by("label", "-timestamp").distinct("label")
        items = [metric_dict(metric) for metric in queryset]
    items = [item for item in items if not category or item["category"] == category]
    return sorted(items, key=lambda item: (METRIC_CATEGORIES.index(item["category"]), item["label"]))


def metric_history(
    label: str, since: datetime | None = None, until: datetime | None = None, category: str | None = None
) -> list[dict[str, Any]]:
    """The samples of one label between ``since`` and ``until`` (default: the last 24 hours), oldest first.

    At most :data:`HISTORY_MAX_POINTS` samples: the most recent ones of the window.
    """
    _check_category(category)
    until = until or timezone.now()
    since = since or until - timedelta(days=1)
    if since > until:
        raise ApiError(
            Kind.VALIDATION, "from must be before to", field_errors=[ApiFieldError("from", "Must be before to")]
        )
    queryset = SystemMetric.objects.filter(label=label, timestamp__gte=since, timestamp__lte=until)
    if category:
        queryset = queryset.filter(category=category)
    newest = list(queryset.order_by("-timestamp")[:HISTORY_MAX_POINTS])
    return [metric_dict(metric) for metric in reversed(newest)]


def network_metrics() -> dict[str, Any]:
    """Per-interface throughput, counters, errors and drops, with totals over non-loopback interfaces.

    Answers the snapshot of the last collection; before any collection (or when it is stale) it
    measures now over a short window, without storing rows or touching the collector's counters.
    """
    snapshot = cache.get(NETWORK_SNAPSHOT_KEY)
    if snapshot is None:
        before = _read_counters()
        time.sleep(SAMPLE_WINDOW_SECONDS)
        snapshot = _network_snapshot(before, _read_counters())
    return snapshot
