"""1:N face search: pgvector HNSW against exact search and a plain NumPy scan, at 10k and 100k faces.

    .venv/bin/python bench/face_match.py [--sizes 10000 100000] [--queries 200] [--model Dlib]

The gallery is random unit vectors of the model's dimension, inserted with COPY into a scratch table of
the development database (the embedded PostgreSQL unless DATABASE_URL says otherwise), shaped like
``recognition_faceembedding``: a dimensionless ``vector`` column and the model's partial HNSW expression
index, queried with the same SQL as ``recognition.matching``. The table is dropped at the end.

Two query sets of ``--queries`` each: *probes*, a gallery face plus noise (a new photo of an enrolled
person: cosine distance about 0.04 from it), and *strangers*, fresh random vectors (nobody enrolled: the
hard case for an approximate index, every gallery face about equally far). Per query: p50/p95 latency of
HNSW at ef_search 40 and 100, exact search (index scans off: a sequential scan), and an exhaustive
NumPy cosine scan of the same gallery in this process (what ``DeepFace.find`` does), plain and with
unit rows computed once; recall@1 of each against exact search.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DJANGO_DEBUG", "true")  # a developer's bench, not a deployment

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from pgvector.psycopg import register_vector  # noqa: E402

from recognition.choices import FACE_MODELS  # noqa: E402

TABLE = f"bench_face_match_{os.getpid()}"
K = 10


def connect() -> psycopg.Connection:
    db = settings.DATABASES["default"]
    conn = psycopg.connect(
        host=db["HOST"],
        port=db["PORT"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        dbname=db["NAME"],
        autocommit=True,
    )
    conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
    register_vector(conn)
    return conn


def unit_rows(rng: np.random.Generator, count: int, dimension: int) -> np.ndarray:
    vectors = rng.standard_normal((count, dimension)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def build(conn: psycopg.Connection, gallery: np.ndarray, model: str) -> dict[str, float]:
    dimension = gallery.shape[1]
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(
        f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, model varchar(50) NOT NULL, embedding vector NOT NULL)"
    )
    start = time.perf_counter()
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY {TABLE} (id, model, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy,
    ):
        copy.set_types(["int4", "varchar", "vector"])
        for index, vector in enumerate(gallery):
            copy.write_row((index, model, vector))
    copy_seconds = time.perf_counter() - start
    conn.execute("SET maintenance_work_mem = '1GB'")
    start = time.perf_counter()
    conn.execute(
        f"CREATE INDEX {TABLE}_hnsw ON {TABLE} USING hnsw (((embedding::vector({dimension}))) vector_cosine_ops) "
        f"WITH (m = 16, ef_construction = 64) WHERE model = '{model}'"
    )
    index_seconds = time.perf_counter() - start
    conn.execute(f"VACUUM ANALYZE {TABLE}")
    size = conn.execute(f"SELECT pg_relation_size('{TABLE}_hnsw')").fetchone()[0]
    return {"copy_s": copy_seconds, "index_s": index_seconds, "index_mb": size / 1048576}


def search_sql(dimension: int) -> str:
    cast = f"vector({dimension})"
    return f"SELECT id FROM {TABLE} WHERE model = %s ORDER BY (embedding::{cast}) <=> %s::{cast} LIMIT {K}"


def run_sql(
    conn: psycopg.Connection, queries: np.ndarray, model: str, setup: list[str]
) -> tuple[list[float], list[int]]:
    sql = search_sql(queries.shape[1])
    times, firsts = [], []
    with conn.transaction():
        for statement in setup:
            conn.execute(statement)
        # HNSW runs must use the index, the exact one must not (on a small gallery at a high ef_search the
        # planner rightly prefers the scan: then the run is refused rather than mislabelled).
        plan = explain(conn, sql, queries[0], model)
        if (f"{TABLE}_hnsw" in plan) != ("enable_indexscan = off" not in " ".join(setup)):
            raise SystemExit(f"unexpected plan for {setup}:\n{plan}")
        for query in queries:
            start = time.perf_counter()
            rows = conn.execute(sql, (model, query)).fetchall()
            times.append((time.perf_counter() - start) * 1000)
            firsts.append(rows[0][0])
    return times, firsts


def explain(conn: psycopg.Connection, sql: str, query: np.ndarray, model: str) -> str:
    return "\n".join(row[0][:200] for row in conn.execute("EXPLAIN " + sql, (model, query)).fetchall())


def run_numpy(
    gallery: np.ndarray, queries: np.ndarray, normalised: np.ndarray | None = None
) -> tuple[list[float], list[int]]:
    """An exhaustive scan: cosine distance to every gallery face, then the k nearest. Plain: norms computed
    per query, as a scan over stored embeddings does; with ``normalised`` (unit rows computed once) it is
    one matrix-vector product, NumPy's best case."""
    times, firsts = [], []
    for query in queries:
        start = time.perf_counter()
        if normalised is None:
            distances = 1.0 - gallery @ query / (np.linalg.norm(gallery, axis=1) * np.linalg.norm(query))
        else:
            distances = 1.0 - normalised @ (query / np.linalg.norm(query))
        nearest = np.argpartition(distances, K)[:K]
        nearest = nearest[np.argsort(distances[nearest])]
        times.append((time.perf_counter() - start) * 1000)
        firsts.append(int(nearest[0]))
    return times, firsts


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--model", default=settings.ARGUS_FACE_MODEL, choices=sorted(FACE_MODELS))
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    dimension = FACE_MODELS[args.model].dimension
    rng = np.random.default_rng(args.seed)
    print(f"model {args.model} ({dimension} dimensions), {args.queries} queries per set, k={K}, {os.cpu_count()} cores")
    print(f"PostgreSQL {settings.DATABASES['default']['HOST']}:{settings.DATABASES['default']['PORT']}, table {TABLE}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, numpy {np.__version__}")

    conn = connect()
    try:
        for size in args.sizes:
            gallery = unit_rows(rng, size, dimension)
            picks = rng.choice(size, args.queries, replace=False)
            noise = unit_rows(rng, args.queries, dimension) * 0.29  # cosine distance ~0.04 from the enrolled face
            probes = gallery[picks] + noise
            probes /= np.linalg.norm(probes, axis=1, keepdims=True)
            strangers = unit_rows(rng, args.queries, dimension)
            built = build(conn, gallery, args.model)
            print(
                f"\n== {size:,} faces: COPY {built['copy_s']:.1f} s, HNSW build {built['index_s']:.1f} s "
                f"({built['index_mb']:.0f} MB)"
            )
            print(f"{'queries':<10} {'method':<20} {'p50 ms':>8} {'p95 ms':>8} {'recall@1':>9} {'p50 vs HNSW-100':>16}")
            for label, queries in (("probes", probes), ("strangers", strangers)):
                exact_times, exact_first = run_sql(
                    conn, queries, args.model, ["SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"]
                )
                results = {}
                for ef in (40, 100):
                    results[f"HNSW ef_search={ef}"] = run_sql(
                        conn, queries, args.model, [f"SET LOCAL hnsw.ef_search = {ef}"]
                    )
                results["exact (seq scan)"] = (exact_times, exact_first)
                results["NumPy scan"] = run_numpy(gallery, queries)
                unit_gallery = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
                results["NumPy, unit rows"] = run_numpy(gallery, queries, normalised=unit_gallery)
                reference = statistics.median(results["HNSW ef_search=100"][0])
                for method, (times, firsts) in results.items():
                    recall = sum(a == b for a, b in zip(firsts, exact_first, strict=True)) / len(firsts)
                    print(
                        f"{label:<10} {method:<20} {percentile(times, 50):>8.2f} {percentile(times, 95):>8.2f} "
                        f"{recall:>9.3f} {statistics.median(times) / reference:>15.1f}x"
                    )
                if label == "probes":
                    truth = sum(int(a) == int(b) for a, b in zip(exact_first, picks, strict=True)) / len(picks)
                    print(f"{'':<10} (exact search finds the probed person first for {truth:.3f} of probes)")
    finally:
        conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        conn.close()
        print(f"\ndropped {TABLE}")


if __name__ == "__main__":
    main()
