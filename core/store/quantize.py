"""int8 frame embeddings for the resident matrix (issue 17: 512-d encoders at a million items).

Each frame is quantized symmetrically with its own float32 scale: scale = max|v| / 127,
q = round(v / scale), so that v ~ scale * q with an error of at most scale / 2 per component.
An all-zero frame (the padding past an item's count) has scale 0 and q = 0. A frame's score
against a user vector u is then scale * sum_d q[d] * u[d] (the user vector is not quantized).

Which storage a new matrix gets: the `dtype` its creator passes, else the environment variable
`GENEREC_MATRIX_DTYPE` (`float16` or `int8`), else float16. A matrix on disk keeps the dtype its
manifest records (no `dtype` key: float16, the layout before int8 existed) until it is rebuilt.
"""
from __future__ import annotations

import os

import numpy as np

DTYPES = ("float16", "int8")
ENV = "GENEREC_MATRIX_DTYPE"


def new_matrix_dtype(dtype: str | None = None) -> str:
    """The storage for a matrix about to be created: `dtype`, else $GENEREC_MATRIX_DTYPE, else
    float16."""
    chosen = dtype or os.environ.get(ENV) or "float16"
    if chosen not in DTYPES:
        source = "dtype" if dtype else ENV
        raise ValueError(f"{source}={chosen!r}: a frame matrix is stored as one of {DTYPES}")
    return chosen


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """... x d float vectors -> (... x d int8, ... float32 scales), one scale per vector."""
    vectors = np.asarray(vectors, np.float32)
    # max |v| without an |v| copy, and rounding in place: a synthetic block of 8192 x 32 x 512
    # quantizes in 0.3 s instead of 1.3 s
    scales = np.maximum(vectors.max(axis=-1), -vectors.min(axis=-1)) / np.float32(127.0)
    safe = np.where(scales > 0, scales, np.float32(1.0))[..., None]
    q = np.divide(vectors, safe)
    np.rint(q, out=q)
    np.clip(q, -127, 127, out=q)
    return q.astype(np.int8), scales.astype(np.float32)


def dequantize(q: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """The float32 vectors an int8 matrix stands for (q * scale)."""
    return np.asarray(q, np.float32) * np.asarray(scales, np.float32)[..., None]
