"""Enrol a folder of people: one subfolder per person, named "EMP-001 Jane Doe" or "Jane Doe".

    python manage.py enrol_folder PATH [--department Sales] [--update]

Each image is checked on its own: one without exactly one face (or not an image) is skipped and
reported, and the person's other images are enrolled. A person already enrolled is skipped unless
``--update`` adds the new images to their profile.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from config.api.contracts import ApiError
from recognition import enrolment, inference
from recognition.engine import FaceEngineUnavailable, get_engine
from recognition.models import FaceProfile

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
# A leading token with a digit in it is an employee id: "EMP-001 Jane Doe", "1042_Jane_Doe".
_ID_FIRST = re.compile(r"^(?P<id>[A-Za-z]*[-.]?\d[A-Za-z0-9.\-]*)[\s_]+(?P<name>.+)$")


def parse_person_folder(folder_name: str) -> tuple[str, str]:
    """(employee id, name) of a person's folder: "EMP-001 Jane Doe" -> ("EMP-001", "Jane Doe");
    without an id, one is derived from the name: "Jane Doe" -> ("JANE-DOE", "Jane Doe")."""
    text = folder_name.strip()
    match = _ID_FIRST.match(text)
    if match:
        return match["id"][:50], match["name"].replace("_", " ").strip()
    name = text.replace("_", " ").strip()
    derived = re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").upper()
    return (derived or "PERSON")[:50], name


@dataclass
class Report:
    people: int = 0
    images: int = 0
    skipped_people: list[str] = field(default_factory=list)
    skipped_images: list[str] = field(default_factory=list)


class Command(BaseCommand):
    help = "Enrol a folder of people (one subfolder per person) through the face engine."

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", type=Path)
        parser.add_argument("--department", default="", help="department of every person enrolled")
        parser.add_argument("--update", action="store_true", help="add images to people already enrolled")
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **options) -> None:
        root: Path = options["path"]
        if not root.is_dir():
            raise CommandError(f"{root} is not a folder")
        people = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not people:
            raise CommandError(f"{root} has no subfolders (one per person)")
        plan = [
            (folder, sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)) for folder in people
        ]
        try:
            engine = get_engine()
            engine.load()
        except FaceEngineUnavailable as exc:
            raise CommandError(str(exc)) from exc

        report = Report()
        total = sum(len(images) for _, images in plan)
        # The bar goes to the command's own stderr stream (Django's wrapper would end each write with "\n").
        stream = getattr(self.stderr, "_out", sys.stderr)
        # A batch command owns the machine: its faces are analysed here, at full priority, not in a pool.
        with (
            inference.in_process(),
            tqdm(total=total, unit="image", file=stream, disable=options["no_progress"]) as bar,
        ):
            for folder, images in plan:
                bar.set_description(folder.name[:30])
                self._enrol_person(folder, images, options, report, bar, engine)

        self.stdout.write(self.style.SUCCESS(f"Enrolled {report.images} images of {report.people} people from {root}"))
        for line in report.skipped_people:
            self.stdout.write(self.style.WARNING(f"  skipped person: {line}"))
        for line in report.skipped_images:
            self.stdout.write(self.style.WARNING(f"  skipped image: {line}"))

    def _enrol_person(self, folder: Path, images: list[Path], options, report: Report, bar, engine) -> None:
        employee_id, name = parse_person_folder(folder.name)
        profile = FaceProfile.objects.filter(employee_id=employee_id).first()
        if profile is not None and not options["update"]:
            report.skipped_people.append(f"{folder.name}: {employee_id} is already enrolled (--update adds images)")
            bar.update(len(images))
            return
        prepared: list[enrolment.PreparedImage] = []
        for path in images:
            try:
                with path.open("rb") as handle:
                    prepared.extend(enrolment.prepare_images([File(handle, name=path.name)], engine=engine))
            except ApiError as error:
                # The service names the image as an upload field ("images.0 (x.jpg)"); here the path says it.
                reason = error.text().replace(f"images.0 ({path.name})", "the image")
                report.skipped_images.append(f"{folder.name}/{path.name}: {reason}")
            bar.update(1)
        if not prepared:
            report.skipped_people.append(f"{folder.name}: no usable image")
            return
        room = enrolment.MAX_IMAGES_PER_PROFILE - (profile.images.count() if profile else 0)
        for extra in prepared[max(room, 0) :]:
            report.skipped_images.append(
                f"{folder.name}/{extra.upload.filename}: a profile holds at most {enrolment.MAX_IMAGES_PER_PROFILE}"
            )
        prepared = prepared[: max(room, 0)]
        if not prepared:
            return
        if profile is None:
            data = {"employee_id": employee_id, "name": name, "department": options["department"]}
            enrolment.create_prepared_profile(data, prepared, engine=engine)
        else:
            enrolment.add_prepared_images(profile, prepared, engine=engine)
        report.people += 1
        report.images += len(prepared)
