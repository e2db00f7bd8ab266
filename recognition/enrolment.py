"""Enrolment services: face profiles with their images and embeddings.

Every upload is checked whole before anything is written: each file's type, size and decodability,
then exactly one face per image (found and embedded by an inference worker, :mod:`recognition.inference`).
Only then are files stored, rows and embeddings written, in one transaction; if anything fails on the
way, the files already stored are deleted again. Deleting an image or a profile deletes its files after
the transaction commits, so nothing biometric is left behind and no row ever points at a missing file.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from config.api.contracts import ApiError, FieldError, Kind
from recognition import analysis, inference
from recognition.choices import FACE_MODELS, ProfileStatus
from recognition.engine import DetectedFace, FaceEngine, get_engine
from recognition.images import UploadedImage, read_upload
from recognition.models import Detection, FaceEmbedding, FaceImage, FaceProfile, SessionStudent

logger = logging.getLogger("argus.recognition")

MAX_IMAGES_PER_UPLOAD = 5  # 001: images[] (max 5 images)
# More images of one person add little recall and slow every search; 20 covers glasses, beard, seasons.
MAX_IMAGES_PER_PROFILE = 20


@dataclass(frozen=True)
class PreparedImage:
    """An upload with its one face, that face's embedding and quality: ready to store."""

    upload: UploadedImage
    face: DetectedFace
    embedding: np.ndarray
    quality: dict[str, Any]


@dataclass(frozen=True)
class Editor:
    """Who changes a profile, for the audit entry the service writes. ``surface`` names where the change
    was made when that is not the API ("dashboard": said in the message, with the page's ``path``)."""

    actor: str
    role: str = ""
    surface: str = ""
    path: str = ""

    def audit(self, action: str, resource_type: str, resource_id: str, message: str, **context: Any) -> None:
        """Write the audit entry of a change this editor made (face profiles and unknown-face clusters)."""
        from accounts.audit import record

        if self.surface:
            message = f"{message} ({self.surface})"
            context = {**context, "path": self.path} if self.path else context
        record(
            actor=self.actor,
            actor_role=self.role,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            message=message,
            context=context,
        )


SYSTEM = Editor("system")


def _audit(by: Editor, action: str, profile_id: str, employee_id: str, message: str, **context: Any) -> None:
    """The one place a face-profile audit entry is written."""
    by.audit(action, "face_profile", profile_id, message, employee_id=employee_id, **context)


def _refuse(code: str, errors: list[FieldError]) -> ApiError:
    message = errors[0].message if len(errors) == 1 else "; ".join(error.message for error in errors)
    return ApiError(Kind.VALIDATION, message, code=code, field_errors=errors)


def prepare_images(
    files: Sequence[Any], field: str = "images", engine: FaceEngine | None = None
) -> list[PreparedImage]:
    """Check and embed an upload of up to five images; refuse it whole, naming each image at fault.

    Refusals, in this order: TOO_MANY_IMAGES, INVALID_IMAGE (type, size, damaged), NO_FACE_DETECTED,
    MULTIPLE_FACES. Cheap checks of every image come before the face detector runs on any.
    """
    if len(files) > MAX_IMAGES_PER_UPLOAD:
        message = f"At most {MAX_IMAGES_PER_UPLOAD} images per upload; {len(files)} were sent"
        raise ApiError(Kind.VALIDATION, message, code="TOO_MANY_IMAGES", field_errors=[FieldError(field, message)])
    uploads: list[UploadedImage] = []
    invalid: list[FieldError] = []
    for index, upload in enumerate(files):
        try:
            uploads.append(read_upload(upload, f"{field}.{index}"))
        except ApiError as error:
            invalid.extend(error.field_errors)
    if invalid:
        raise _refuse("INVALID_IMAGE", invalid)

    engine = engine or get_engine()
    found = inference.run(analysis.enrolment_faces, engine, [upload.pixels for upload in uploads])
    detected = list(zip(uploads, found.faces, strict=True))
    no_face = [FieldError(u.field, f"No face detected in {u.label}") for u, faces in detected if not faces]
    if no_face:
        raise _refuse("NO_FACE_DETECTED", no_face)
    several = [
        FieldError(u.field, f"{len(faces)} faces detected in {u.label}; an enrolment image must show one person")
        for u, faces in detected
        if len(faces) > 1
    ]
    if several:
        raise _refuse("MULTIPLE_FACES", several)
    assert found.analysed is not None  # every image has exactly one face, so the worker embedded them
    return [
        PreparedImage(upload, face.face, face.embedding, face.quality)
        for upload, face in zip(uploads, found.analysed, strict=True)
    ]


def _store(profile: FaceProfile, prepared: PreparedImage, stored: list[str], engine: FaceEngine) -> FaceImage:
    image = FaceImage(
        profile=profile,
        content_type=prepared.upload.content_type,
        size_bytes=len(prepared.upload.data),
        width=prepared.upload.width,
        height=prepared.upload.height,
        bounding_box=prepared.face.box.as_api(),
        quality=prepared.quality,
    )
    name = default_storage.save(
        f"faces/{profile.pk}/{image.pk}{prepared.upload.extension}", ContentFile(prepared.upload.data)
    )
    stored.append(name)
    image.storage_key = name
    image.save()
    FaceEmbedding.objects.create(
        image=image,
        profile=profile,
        model=engine.model_name,
        dimension=engine.dimension,
        embedding=prepared.embedding.tolist(),
    )
    return image


def _delete_files(keys: Sequence[str]) -> None:
    for key in keys:
        try:
            default_storage.delete(key)
        except Exception:  # a file left behind is logged for an operator; the rows are already gone
            logger.exception("could not delete stored face image %s", key)


def _delete_files_on_commit(keys: Sequence[str], folder: str | None = None) -> None:
    def delete() -> None:
        _delete_files(keys)
        if folder:
            _remove_empty_folder(folder)

    transaction.on_commit(delete)


def _remove_empty_folder(folder: str) -> None:
    """The profile's own folder, once empty (filesystem storage; object stores have no folders)."""
    try:
        path = default_storage.path(folder)
    except NotImplementedError:
        return
    with contextlib.suppress(OSError):  # not empty, or already gone
        os.rmdir(path)


def _store_all(profile: FaceProfile, prepared: Sequence[PreparedImage], engine: FaceEngine) -> list[FaceImage]:
    stored: list[str] = []
    try:
        with transaction.atomic():
            return [_store(profile, item, stored, engine) for item in prepared]
    except BaseException:
        _delete_files(stored)
        raise


def _employee_id_taken(employee_id: str, exclude: FaceProfile | None = None) -> ApiError | None:
    taken = FaceProfile.objects.filter(employee_id=employee_id)
    if exclude is not None:
        taken = taken.exclude(pk=exclude.pk)
    if taken.exists():
        message = f"Employee {employee_id} already has a face profile"
        return ApiError(
            Kind.CONFLICT, message, code="DUPLICATE_EMPLOYEE_ID", field_errors=[FieldError("employee_id", message)]
        )
    return None


def create_profile(
    data: dict[str, Any], files: Sequence[Any] = (), engine: FaceEngine | None = None, *, by: Editor | None = None
) -> FaceProfile:
    """A new profile (``employee_id``, ``name``, ``department``, ``status``, ``notes``) with up to five images.

    Without an explicit status a profile with images is ``active`` (it is matched at once) and one
    without is ``pending``. Refuses a taken employee id (409) before looking at the images. Audited as
    ``face_profile.create`` when ``by`` says who enrolled (an API call has the API's own entry).
    """
    engine = engine or get_engine()
    if error := _employee_id_taken(data["employee_id"]):
        raise error
    prepared = prepare_images(files, engine=engine) if files else []
    profile = create_prepared_profile(data, prepared, engine=engine)
    if by is not None:
        count = len(prepared)
        _audit(
            by,
            "face_profile.create",
            str(profile.pk),
            profile.employee_id,
            f"Enrolled {profile.employee_id} with {count} images",
            images=count,
        )
    return profile


def create_prepared_profile(
    data: dict[str, Any], prepared: Sequence[PreparedImage], engine: FaceEngine | None = None
) -> FaceProfile:
    """:func:`create_profile` with images already checked and embedded (:func:`prepare_images`)."""
    engine = engine or get_engine()
    status = data.get("status") or (ProfileStatus.ACTIVE if prepared else ProfileStatus.PENDING)
    stored: list[str] = []
    try:
        with transaction.atomic():
            profile = FaceProfile.objects.create(
                employee_id=data["employee_id"],
                name=data["name"],
                department=data.get("department") or "",
                status=status,
                notes=data.get("notes") or "",
            )
            for item in prepared:
                _store(profile, item, stored, engine)
    except IntegrityError:
        _delete_files(stored)
        # Two enrolments of one employee at once: the unique index decides, the loser hears why.
        raise _employee_id_taken(data["employee_id"]) or ApiError(Kind.CONFLICT)
    except BaseException:
        _delete_files(stored)
        raise
    return profile


def _too_many(message: str) -> ApiError:
    return ApiError(Kind.VALIDATION, message, code="TOO_MANY_IMAGES", field_errors=[FieldError("images", message)])


def add_images(
    profile: FaceProfile, files: Sequence[Any], engine: FaceEngine | None = None, *, by: Editor | None = None
) -> list[FaceImage]:
    """Up to five more images of an existing profile (at most MAX_IMAGES_PER_PROFILE in all); audited as
    ``face_profile.add_images`` when ``by`` is given."""
    engine = engine or get_engine()
    if not files:
        message = "Send at least one image as images[]"
        raise ApiError(Kind.VALIDATION, message, field_errors=[FieldError("images", message)])
    existing = profile.images.count()
    # Over five is prepare_images' refusal; over the profile's cap is refused before any detection runs.
    if len(files) <= MAX_IMAGES_PER_UPLOAD and existing + len(files) > MAX_IMAGES_PER_PROFILE:
        raise _too_many(
            f"A profile may hold at most {MAX_IMAGES_PER_PROFILE} images; it has {existing} and {len(files)} were sent"
        )
    images = add_prepared_images(profile, prepare_images(files, engine=engine), engine=engine)
    if by is not None:
        _audit(
            by,
            "face_profile.add_images",
            str(profile.pk),
            profile.employee_id,
            f"Added {len(images)} images",
            images=len(images),
        )
    return images


def add_prepared_images(
    profile: FaceProfile, prepared: Sequence[PreparedImage], engine: FaceEngine | None = None
) -> list[FaceImage]:
    """:func:`add_images` with images already checked and embedded."""
    engine = engine or get_engine()
    with transaction.atomic():
        # The profile row locked, so two uploads at once cannot both pass the cap.
        FaceProfile.objects.select_for_update().filter(pk=profile.pk).first()
        if profile.images.count() + len(prepared) > MAX_IMAGES_PER_PROFILE:
            raise _too_many(f"A profile may hold at most {MAX_IMAGES_PER_PROFILE} images")
        images = _store_all(profile, prepared, engine)
        if images:
            FaceProfile.objects.filter(pk=profile.pk).update(updated_at=images[-1].created_at)
    return images


def update_profile(profile: FaceProfile, data: dict[str, Any], *, by: Editor | None = None) -> FaceProfile:
    """Change a profile's employee id, name, department, status or notes (images have their own calls);
    audited as ``face_profile.update`` with the fields sent when ``by`` is given."""
    changed_id = "employee_id" in data and data["employee_id"] != profile.employee_id
    if changed_id and (error := _employee_id_taken(data["employee_id"], exclude=profile)):
        raise error
    for name in ("employee_id", "name", "department", "status", "notes"):
        if name in data:
            value = data[name]
            setattr(profile, name, "" if value is None and name in ("department", "notes") else value)
    try:
        with transaction.atomic():
            profile.save()
    except IntegrityError:
        raise _employee_id_taken(profile.employee_id, exclude=profile) or ApiError(Kind.CONFLICT)
    if by is not None:
        fields = sorted(data)
        _audit(
            by,
            "face_profile.update",
            str(profile.pk),
            profile.employee_id,
            f"Changed {', '.join(fields)}",
            fields=fields,
        )
    return profile


def delete_image(image: FaceImage, *, by: Editor | None = None) -> None:
    """Delete one image: its row, its embeddings (cascade) and, once committed, its file; audited as
    ``face_profile.delete_image`` when ``by`` is given."""
    with transaction.atomic():
        key, image_id = image.storage_key, str(image.pk)
        profile = image.profile if by is not None else None
        image.delete()
        _delete_files_on_commit([key])
        if by is not None and profile is not None:
            _audit(
                by,
                "face_profile.delete_image",
                str(profile.pk),
                profile.employee_id,
                f"Deleted image {image_id}",
                image_id=image_id,
            )


def _erase_rejections(profile: FaceProfile) -> int:
    """Delete the match rejections holding the person's vectors: those of their profile, and those whose
    rejected face is theirs (within the model's threshold of one of their enrolled images). Returns how many."""
    from recognition.models import MatchRejection

    ids = set(MatchRejection.objects.filter(profile=profile).values_list("pk", flat=True))
    with connection.cursor() as cursor:
        for model, dimension in profile.embeddings.values_list("model", "dimension").distinct():
            spec = FACE_MODELS.get(model)
            if spec is None:
                continue
            threshold = get_engine().threshold if model == get_engine().model_name else spec.threshold
            cast = f"vector({int(dimension)})"
            cursor.execute(
                f"SELECT DISTINCT r.id FROM {MatchRejection._meta.db_table} r "
                f"JOIN {FaceEmbedding._meta.db_table} e ON e.model = r.model "
                f"WHERE r.model = %s AND e.profile_id = %s AND (r.embedding::{cast}) <=> (e.embedding::{cast}) <= %s",
                [model, profile.pk, threshold],
            )
            ids.update(row[0] for row in cursor.fetchall())
    MatchRejection.objects.filter(pk__in=ids).delete()
    return len(ids)


def delete_profile(profile: FaceProfile, *, by: Editor = SYSTEM) -> dict[str, int]:
    """Erase a person: the profile and everything biometric about them, in one transaction. Removed are
    their images (rows and files), embeddings, the face crops (thumbnails) of their detections, the
    face-service students (vectors) enrolled under their employee id, the operators' match rejections holding
    their vectors (of their profile, or of their own face rejected as someone else), whatever the apps above keep
    (:data:`recognition.signals.person_erased`: presence thumbnails, export files naming them). Detection
    rows stay as unnamed-crop history. Always audited, as ``faces.profile.delete`` with what was removed.
    Used by the API, the admin and the dashboard alike. Returns the counts."""
    from recognition.signals import person_erased

    with transaction.atomic():
        keys = list(profile.images.values_list("storage_key", flat=True))
        counts = {"images": len(keys), "embeddings": profile.embeddings.count()}
        profile_id, employee_id, name = str(profile.pk), profile.employee_id, profile.name
        detections = Detection.objects.filter(Q(profile=profile) | Q(person_id=employee_id)).exclude(thumbnail="")
        thumbnails = list(detections.values_list("thumbnail", flat=True).distinct())
        counts["detection_thumbnails"] = detections.update(thumbnail="")
        # The face service's students carry the caller's roll number, which is the employee id here.
        students = SessionStudent.objects.filter(roll_number=employee_id)
        counts["face_service_students"] = students.count()
        students.delete()  # their recognition results go with them (cascade)
        counts["match_rejections"] = _erase_rejections(profile)
        profile.delete()
        for _receiver, removed in person_erased.send(
            sender=FaceProfile, employee_id=employee_id, name=name, profile_id=profile_id
        ):
            counts.update(removed or {})
        _delete_files_on_commit(keys, folder=f"faces/{profile_id}")
        _delete_files_on_commit(thumbnails)
        _audit(
            by,
            "faces.profile.delete",
            profile_id,
            employee_id,
            f"Deleted the face profile of {employee_id} ({name}) and everything biometric about them: "
            + ", ".join(f"{count} {what.replace('_', ' ')}" for what, count in counts.items()),
            **counts,
        )
    return counts
