"""The hourly and daily rollups: kept in the ingest's transaction, merged exactly, safe under concurrency."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from config.api.contracts import ApiError
from counting.ingest import record_counts
from counting.models import CountDaily, CountHourly, CountRecord
from counting.rollups import rebuild_rollups
from tests.counting.conftest import count, counts_url

H12 = datetime(2024, 3, 1, 12, tzinfo=UTC)


def _rollup(model, **key) -> tuple:
    row = model.objects.get(**key)
    return row.records, row.total, row.min_count, row.max_count, round(row.sum_confidence, 6)


@pytest.mark.django_db
def test_rollups_merge_several_batches_with_min_and_max(ingest_client, camera):
    ingest_client.post(
        counts_url(camera.pk),
        [count(5, "2024-03-01T12:10:00Z", 0.5), count(2, "2024-03-01T12:20:00Z", 0.7)],
        format="json",
    )
    ingest_client.post(
        counts_url(camera.pk),
        [count(9, "2024-03-01T12:30:00Z", 0.9), count(1, "2024-03-01T13:05:00Z", 0.4)],
        format="json",
    )
    ingest_client.post(counts_url(camera.pk), count(3, "2024-03-01T12:59:59.999Z", 0.6), format="json")

    assert _rollup(CountHourly, camera=camera, hour=H12) == (4, 19, 2, 9, 2.7)
    assert _rollup(CountHourly, camera=camera, hour=H12 + timedelta(hours=1)) == (1, 1, 1, 1, 0.4)
    assert _rollup(CountDaily, camera=camera, day=date(2024, 3, 1)) == (5, 20, 1, 9, 3.1)


@pytest.mark.django_db
def test_rollup_hours_and_days_are_utc(ingest_client, camera):
    ingest_client.post(counts_url(camera.pk), count(4, "2024-03-02T06:30:00+07:00"), format="json")

    assert CountHourly.objects.get().hour == datetime(2024, 3, 1, 23, tzinfo=UTC)
    assert CountDaily.objects.get().day == date(2024, 3, 1)


@pytest.mark.django_db
def test_rollups_are_per_camera(ingest_client, camera, other_camera):
    ingest_client.post(counts_url(camera.pk), count(4), format="json")
    ingest_client.post(counts_url(other_camera.pk), count(6), format="json")

    assert _rollup(CountHourly, camera=camera, hour=H12)[:2] == (1, 4)
    assert _rollup(CountHourly, camera=other_camera, hour=H12)[:2] == (1, 6)


@pytest.mark.django_db
def test_record_counts_stores_video_counts_and_returns_the_rows(camera):
    records = record_counts(
        camera,
        [
            {"count": 3, "timestamp": H12, "confidence": 0.8, "zone_id": "line-1"},
            {"count": 4, "timestamp": H12 + timedelta(minutes=1), "confidence": 0.9},
        ],
        source="video",
    )

    assert [r.count for r in records] == [3, 4]
    assert all(r.pk for r in records)
    assert list(CountRecord.objects.order_by("id").values_list("source", "zone_id")) == [
        ("video", "line-1"),
        ("video", ""),
    ]
    assert _rollup(CountHourly, camera=camera, hour=H12)[:2] == (2, 7)


@pytest.mark.django_db
def test_record_counts_refuses_invalid_items_and_stores_nothing(camera):
    with pytest.raises(ApiError) as caught:
        record_counts(camera, [{"count": 1, "timestamp": H12, "confidence": 0.5}, {"count": -1, "timestamp": H12}])

    assert [e.field for e in caught.value.field_errors] == ["1.count", "1.confidence"]
    assert not CountRecord.objects.exists()


@pytest.mark.django_db
def test_record_counts_refuses_an_unknown_source(camera):
    with pytest.raises(ValueError):
        record_counts(camera, [{"count": 1, "timestamp": H12, "confidence": 0.5}], source="guess")


@pytest.mark.django_db
def test_raw_rows_and_rollups_roll_back_together(camera):
    with pytest.raises(RuntimeError), transaction.atomic():
        record_counts(camera, [{"count": 1, "timestamp": H12, "confidence": 0.5}])
        raise RuntimeError("the caller's transaction fails after the counts were written")

    assert not CountRecord.objects.exists()
    assert not CountHourly.objects.exists()
    assert not CountDaily.objects.exists()


@pytest.mark.django_db
def test_ingest_batch_is_one_statement(camera):
    items = [{"count": n, "timestamp": H12 + timedelta(minutes=n * 7), "confidence": 0.5} for n in range(50)]

    with CaptureQueriesContext(connection) as captured:
        record_counts(camera, items)

    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 1  # raw rows, hourly and daily rollups together


@pytest.mark.django_db
def test_rebuild_from_raw_rows_gives_the_rollups_ingest_kept(camera, other_camera):
    for cam, base in ((camera, 0), (other_camera, 100)):
        record_counts(
            cam,
            [
                {"count": base + n, "timestamp": H12 + timedelta(minutes=37 * n), "confidence": (n % 10) / 10}
                for n in range(60)
            ],
        )
    kept_hourly = set(
        CountHourly.objects.values_list("camera_id", "hour", "records", "total", "min_count", "max_count")
    )
    kept_daily = set(CountDaily.objects.values_list("camera_id", "day", "records", "total", "min_count", "max_count"))

    rebuild_rollups()
    assert set(CountHourly.objects.values_list("camera_id", "hour", "records", "total", "min_count", "max_count")) == (
        kept_hourly
    )
    assert set(CountDaily.objects.values_list("camera_id", "day", "records", "total", "min_count", "max_count")) == (
        kept_daily
    )

    rebuild_rollups(H12 + timedelta(hours=5, minutes=10), H12 + timedelta(hours=20))
    assert set(CountDaily.objects.values_list("camera_id", "day", "records", "total", "min_count", "max_count")) == (
        kept_daily
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_for_one_camera_hour_lose_nothing(camera):
    threads_n, per_thread = 6, 40
    barrier = threading.Barrier(threads_n)
    failures: list[BaseException] = []

    def worker(seed: int) -> None:
        try:
            barrier.wait(timeout=10)
            for batch in range(4):
                items = [
                    {
                        "count": seed * 1000 + batch * 100 + n,
                        "timestamp": H12 + timedelta(seconds=seed * 100 + batch * 10 + n % 10),
                        "confidence": 0.5,
                    }
                    for n in range(per_thread // 4)
                ]
                record_counts(camera, items)
        except BaseException as exc:  # reported below: a thread's exception is lost otherwise
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(threads_n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert not failures
    raw = list(CountRecord.objects.filter(camera=camera).values_list("count", flat=True))
    assert len(raw) == threads_n * per_thread
    assert _rollup(CountHourly, camera=camera, hour=H12) == (len(raw), sum(raw), min(raw), max(raw), 0.5 * len(raw))
    assert _rollup(CountDaily, camera=camera, day=date(2024, 3, 1)) == (
        len(raw),
        sum(raw),
        min(raw),
        max(raw),
        0.5 * len(raw),
    )
