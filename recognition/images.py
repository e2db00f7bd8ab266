"""Reading uploaded images: type by content (magic bytes), size, pixel count, decodability.

The declared content type and the file name are a client's claim; the bytes decide. Every refusal is
an INVALID_IMAGE ApiError naming the field (``images.2``, ``image1``) and the file.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from config.api.contracts import ApiError, FieldError, Kind

MAX_IMAGE_BYTES = 8 * 1024 * 1024
# A small file can still decode to a huge bitmap (a "decompression bomb"): 40 megapixels is ample for
# any camera and costs about 120 MB once decoded.
MAX_PIXELS = 40_000_000
MIN_SIDE = 32

CONTENT_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def sniff(data: bytes) -> str | None:
    """The image type of ``data`` from its first bytes: image/jpeg, image/png, image/webp or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class UploadedImage:
    """An accepted upload: its bytes, what they are, and the decoded BGR pixels."""

    field: str
    filename: str
    data: bytes
    content_type: str
    pixels: np.ndarray

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]

    @property
    def label(self) -> str:
        """How messages name this image: its field and file name."""
        return f"{self.field} ({self.filename})" if self.filename else self.field


def invalid(field: str, message: str, code: str = "INVALID_IMAGE") -> ApiError:
    return ApiError(Kind.VALIDATION, message, code=code, field_errors=[FieldError(field, message)])


def read_upload(upload, field: str) -> UploadedImage:
    """Check and decode one uploaded file (a Django ``UploadedFile`` or anything with ``read()``)."""
    filename = getattr(upload, "name", "") or ""
    label = f"{field} ({filename})" if filename else field
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_IMAGE_BYTES:
        raise invalid(field, f"{label} is {size / 1048576:.1f} MB; an image may be at most 8 MB")
    data = upload.read(MAX_IMAGE_BYTES + 1)
    if len(data) > MAX_IMAGE_BYTES:
        raise invalid(field, f"{label} is larger than 8 MB; an image may be at most 8 MB")
    return decode(data, field, filename)


def decode(data: bytes, field: str, filename: str = "") -> UploadedImage:
    label = f"{field} ({filename})" if filename else field
    if not data:
        raise invalid(field, f"{label} is empty")
    content_type = sniff(data)
    if content_type is None:
        raise invalid(field, f"{label} is not a JPEG, PNG or WebP image")
    try:
        with Image.open(io.BytesIO(data)) as header:  # reads the header only, not the pixels
            width, height = header.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise invalid(field, f"{label} could not be read as an image (damaged file?)")
    if width * height > MAX_PIXELS:
        raise invalid(field, f"{label} is {width}x{height} pixels; at most {MAX_PIXELS // 1_000_000} megapixels")
    if min(width, height) < MIN_SIDE:
        raise invalid(field, f"{label} is {width}x{height} pixels; both sides must be at least {MIN_SIDE}")
    # IMREAD_COLOR: 3-channel BGR whatever the file holds (grey, alpha), rotated as its EXIF says.
    pixels = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if pixels is None or pixels.size == 0:
        raise invalid(field, f"{label} could not be decoded as an image (damaged file?)")
    return UploadedImage(field=field, filename=filename, data=data, content_type=content_type, pixels=pixels)


def encode_jpeg(pixels: np.ndarray, quality: int = 92) -> bytes:
    """JPEG bytes of BGR pixels (demo data, tests)."""
    ok, buffer = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("could not encode the image as JPEG")
    return buffer.tobytes()
