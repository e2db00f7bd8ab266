"""004 speaks 512-dimensional embeddings whatever the face model makes (Dlib: 128; ArcFace, Facenet512: 512).

The lift is fixed and isometric: a native vector ``v`` of ``d`` dimensions becomes ``[v, 0, ..., 0]`` of 512
(its ``d`` coordinates first, then zeros). Lengths, dot products and so cosine similarities are unchanged, so
the caller's own comparisons of lifted vectors agree with ours. Its inverse keeps the first ``d`` coordinates
of a vector the caller sends back; a vector whose other coordinates are not zero did not come from the lift
(another model, another service) and is refused with 004's ``INVALID_EMBEDDING_DIMENSION``. A model that is
already 512-dimensional lifts by the identity.
"""

from __future__ import annotations

import numpy as np

SPEC_DIMENSION = 512
# Lifted vectors come back through JSON, rounded: a tail this small against the whole is still zero.
TAIL_TOLERANCE = 1e-6


class NotLifted(ValueError):
    """A vector that is not 512 numbers, or whose coordinates past the model's are not zero."""


def lift(vector: np.ndarray) -> np.ndarray:
    """The native embedding ``vector`` as 004's 512 dimensions."""
    native = np.asarray(vector, dtype=np.float32)
    if native.shape[0] > SPEC_DIMENSION:
        raise ValueError(f"a {native.shape[0]}-dimension model cannot be spoken in {SPEC_DIMENSION} dimensions")
    return np.concatenate([native, np.zeros(SPEC_DIMENSION - native.shape[0], dtype=np.float32)])


def lower(vector: object, native_dimension: int) -> np.ndarray:
    """The native embedding of a lifted ``vector`` (the lift's inverse); :class:`NotLifted` when it is none."""
    try:
        values = np.asarray(vector, dtype=np.float32)
    except (TypeError, ValueError):
        raise NotLifted(f"Embedding vector must have exactly {SPEC_DIMENSION} dimensions") from None
    if values.shape != (SPEC_DIMENSION,) or not np.all(np.isfinite(values)):
        raise NotLifted(f"Embedding vector must have exactly {SPEC_DIMENSION} dimensions")
    head, tail = values[:native_dimension], values[native_dimension:]
    if tail.size and float(np.linalg.norm(tail)) > TAIL_TOLERANCE * max(float(np.linalg.norm(values)), 1.0):
        raise NotLifted(
            f"Embedding vector must have exactly {SPEC_DIMENSION} dimensions, as this service's embeddings/generate "
            f"answers them (the face model's {native_dimension} first, then zeros); this one was not made here"
        )
    return head
