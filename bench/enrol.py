"""Enrolment cost per image: Argus's pipeline against a bare ``DeepFace.represent`` of the same image.

    .venv/bin/python bench/enrol.py [--runs 10] [--images PATH ...]

Argus's pipeline is the whole enrolment of one image (``recognition.enrolment.create_profile``): type and
size checks, decoding, detection on a 640-pixel copy, the full-resolution aligned crop and its embedding,
quality, the stored file, the profile, image and embedding rows. The bare call is
``DeepFace.represent(path, model_name="Dlib", detector_backend="dlib")``: detection on the full image and
the embedding, nothing stored. Each is timed ``--runs`` times per image (median); the ratio is Argus's
time over deepface's.

Images: the shared photographs (../shared/data/faces, one face each) where present, else skimage's
astronaut at three sizes. The database is a scratch one on the development server (migrated, dropped
at the end); files go to a temporary folder, removed at the end.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
SHARED_FACES = BASE_DIR.parent / "shared" / "data" / "faces"
ONE_FACE = ["img1", "img2", "img4", "img13", "img14", "img16", "img17", "img26", "img30"]


def scratch_database() -> tuple[str, str]:
    """Create a scratch database beside the development one; (its URL, its name)."""
    import psycopg

    from config import devservices

    base = os.environ.get("DATABASE_URL") or devservices.up()["DATABASE_URL"]
    name = f"bench_enrol_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + "/" + name, name


def drop_database(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    base = os.environ["ARGUS_BENCH_BASE_URL"]
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def sample_images(paths: list[Path], workdir: Path) -> list[Path]:
    if paths:
        return paths
    if SHARED_FACES.is_dir():
        return [SHARED_FACES / f"{name}.jpg" for name in ONE_FACE]
    import cv2
    from skimage import data

    astronaut = data.astronaut()[:, :, ::-1]
    images = []
    for side in (512, 1024, 2048):
        path = workdir / f"astronaut-{side}.jpg"
        cv2.imwrite(str(path), cv2.resize(astronaut, (side, side), interpolation=cv2.INTER_CUBIC))
        images.append(path)
    return images


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--images", type=Path, nargs="*", default=[])
    args = parser.parse_args()

    from config import devservices

    os.environ["ARGUS_BENCH_BASE_URL"] = os.environ.get("DATABASE_URL") or devservices.up()["DATABASE_URL"]
    url, name = scratch_database()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DJANGO_DEBUG", "true")  # a developer's bench, not a deployment
    workdir = Path(tempfile.mkdtemp(prefix="argus-bench-enrol-"))
    os.environ["ARGUS_MEDIA_ROOT"] = str(workdir / "media")

    import django

    django.setup()
    try:
        run(args, workdir)
    finally:
        drop_database(name)
        shutil.rmtree(workdir, ignore_errors=True)
        print(f"dropped database {name} and {workdir}")


def run(args, workdir: Path) -> None:
    import cv2
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.db import transaction

    from recognition import enrolment
    from recognition.engine import get_engine

    call_command("migrate", verbosity=0)
    engine = get_engine()
    engine.load()
    DeepFace = engine._deepface()  # the same deepface, with downloads forbidden
    images = sample_images(args.images, workdir)

    class Rollback(Exception):
        pass

    def argus(path: Path, data: bytes) -> float:
        upload = SimpleUploadedFile(path.name, data, content_type="image/jpeg")
        start = time.perf_counter()
        try:
            with transaction.atomic():
                enrolment.create_profile({"employee_id": uuid.uuid4().hex[:20], "name": "Bench"}, [upload], engine)
                elapsed = time.perf_counter() - start
                raise Rollback  # keep the scratch database small; files stay in the temporary folder
        except Rollback:
            return elapsed

    def bare(path: Path) -> float:
        start = time.perf_counter()
        faces = DeepFace.represent(img_path=str(path), model_name="Dlib", detector_backend="dlib")
        elapsed = time.perf_counter() - start
        assert faces, path
        return elapsed

    print(f"{len(images)} images, {args.runs} runs each (median), {os.cpu_count()} cores, model {engine.model_name}")
    print(f"{'image':<22} {'size':>11} {'Argus ms':>9} {'deepface ms':>12} {'ratio':>6}")
    ratios, argus_all, bare_all = [], [], []
    for path in images:
        data = path.read_bytes()
        height, width = cv2.imread(str(path)).shape[:2]
        argus(path, data)  # warm caches
        bare(path)
        argus_ms = 1000 * statistics.median(argus(path, data) for _ in range(args.runs))
        bare_ms = 1000 * statistics.median(bare(path) for _ in range(args.runs))
        ratios.append(argus_ms / bare_ms)
        argus_all.append(argus_ms)
        bare_all.append(bare_ms)
        print(f"{path.name:<22} {width:>5}x{height:<5} {argus_ms:>9.0f} {bare_ms:>12.0f} {argus_ms / bare_ms:>6.2f}")
    print(
        f"{'median':<22} {'':>11} {statistics.median(argus_all):>9.0f} {statistics.median(bare_all):>12.0f} "
        f"{statistics.median(ratios):>6.2f}"
    )
    print("ratio = Argus enrolment of one image / bare DeepFace.represent of the same image")


if __name__ == "__main__":
    main()
