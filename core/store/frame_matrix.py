"""The resident frame-embedding store: one memory-mapped matrix per encoder, beside the
SQLite corpus, so that personalizing against a million items reads the embeddings once from
memory instead of unpacking millions of SQLite blobs.

Layout, in `<corpus>_media/embeddings/<model slug>/`:

    frames.f16      rows x N x d float16, padded to N frames per item (zeros past the count)
                    or, for a matrix stored as int8 (manifest `"dtype": "int8"`):
    frames.i8       rows x N x d int8, each frame quantized with its own scale, and
    scales.f32      rows x N float32, those scales (core/store/quantize.py)
    times.f32       rows x N float32, the frames' times in seconds
    counts.i32      rows int32, frames per item
    durations.f32   rows float32, item durations
    items.txt       one item id per line, row order
    manifest.json   model id, N, d, dtype, rows, frames in all, where the rows came from

Appends go to the end of each file and only count once the manifest (written last, by rename)
says so, so a crash mid-write leaves the matrix as it was. SQLite stays the record for indexed
corpora: indexing writes each batch there first, then here (`write_rows`), and
`open_frame_matrix` resyncs from SQLite when SQLite holds another number of frame
embeddings of the model than the matrix. A synthetic-scale corpus
(`core/demo/synthetic_scale.py`) has its frame embeddings only here (`source: synthetic`).

float16 is the default storage; int8 halves it (a million items x 32 frames x 512 dimensions:
16.4 GB instead of 32.8 GB) at a measured cost in selection agreement (docs/scaling.md). A new
matrix is int8 when its creator asks (`rebuild_frame_matrix(..., dtype="int8")`,
`build_synthetic_scale(..., dtype="int8")`, `generec demo --frames-only --dtype int8`) or when
`GENEREC_MATRIX_DTYPE=int8` is set; a matrix on disk keeps its dtype (a manifest without one is
float16) until it is rebuilt. So to turn an indexed corpus's matrix into int8, set the variable
and call `rebuild_frame_matrix` (or remove the matrix's folder: the next open rebuilds it).
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.paths import media_dir
from core.store.corpus import item_duration
from core.store.database import Store
from core.store.quantize import DTYPES, ENV, dequantize, new_matrix_dtype, quantize

MATRIX_VERSION = 1
_COMMON = {"times": ("times.f32", np.float32), "counts": ("counts.i32", np.int32),
           "durations": ("durations.f32", np.float32)}
_LAYOUTS = {"float16": {"frames": ("frames.f16", np.float16), **_COMMON},
            "int8": {"frames": ("frames.i8", np.int8), "scales": ("scales.f32", np.float32),
                     **_COMMON}}
# items per kernel call: large enough to amortise the call, small enough to cancel promptly
SCAN_BLOCK = 16384
TORCH_INT8_SLICE = 1 << 24    # values dequantized at once by the torch fallback (64 MB)


def _shapes(rows: int, n: int, d: int) -> dict[str, tuple[int, ...]]:
    return {"frames": (rows, n, d), "scales": (rows, n), "times": (rows, n), "counts": (rows,),
            "durations": (rows,)}


def _layout(manifest: dict, where: Path) -> str:
    dtype = manifest.get("dtype", "float16")
    if dtype not in DTYPES:
        raise ValueError(f"{where}: frame embeddings stored as {dtype!r}, this version reads "
                         f"{DTYPES}")
    return dtype


def matrix_dir(store_path: str | os.PathLike, model_id: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model_id).strip("_") or "model"
    return media_dir(store_path) / "embeddings" / slug


@dataclass(frozen=True)
class Selections:
    """Eq. 1 and Eq. 2 for every row of a matrix, as arrays (one entry per item)."""
    item_ids: list[str]
    frame_idx: np.ndarray      # int32, best frame (Eq. 1)
    frame_score: np.ndarray    # float32, its cosine
    clip_start: np.ndarray     # int32, first frame of the best window (Eq. 2)
    clip_end: np.ndarray       # int32, exclusive
    clip_score: np.ndarray     # float32, mean cosine of the window
    kernel: str                # "c" (core/store/_scan.c) or "torch" (the fallback)


@dataclass(frozen=True)
class MatrixRow:
    """One item's frame embeddings, as indexing hands them over."""
    item_id: str
    times: np.ndarray          # n float
    vectors: np.ndarray        # n x d
    duration_s: float


class FrameMatrix:
    """A read view of the store (memory-mapped; nothing is read until scanned)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        manifest = json.loads((self.folder / "manifest.json").read_text())
        if manifest.get("version") != MATRIX_VERSION:
            raise ValueError(f"{self.folder}: embedding matrix version {manifest.get('version')}, "
                             f"expected {MATRIX_VERSION}")
        self.manifest = manifest
        self.model_id: str = manifest["model_id"]
        self.rows: int = manifest["rows"]
        self.n_frames: int = manifest["frames_per_item"]
        self.dim: int = manifest["dim"]
        self.dtype: str = _layout(manifest, self.folder)
        self.scales: np.ndarray | None = None       # int8 only: rows x N float32
        shapes = _shapes(self.rows, self.n_frames, self.dim)
        for name, (file, dtype) in _LAYOUTS[self.dtype].items():
            array = (np.memmap(self.folder / file, dtype, "r", shape=shapes[name])
                     if self.rows else np.zeros(shapes[name], dtype))
            setattr(self, name, array)
        self._item_ids: list[str] | None = None

    @property
    def item_ids(self) -> list[str]:
        if self._item_ids is None:
            text = (self.folder / "items.txt").read_text(encoding="utf-8")
            self._item_ids = _split_lines(text)[:self.rows] if self.rows else []
        return self._item_ids

    @property
    def nbytes(self) -> int:
        """Bytes a scan reads: the frames, and their scales where int8."""
        cells = self.rows * self.n_frames
        if self.dtype == "int8":
            return cells * self.dim + cells * 4
        return cells * self.dim * 2

    def vectors(self, rows) -> np.ndarray:
        """float32 frame embeddings of `rows` (any numpy index; int8 dequantized)."""
        if self.scales is None:
            return np.asarray(self.frames[rows], np.float32)
        return dequantize(self.frames[rows], self.scales[rows])

    def scan(self, user: np.ndarray, clip_len: int = 8, stride: int = 1, threads: int | None = None,
             cancelled=None) -> Selections:
        """Score every frame of every item against `user` in one pass over the matrix and
        keep, per item, the best frame and the best window of `clip_len` frames (starts every
        `stride` frames, and the last full window). `cancelled()` is polled between blocks."""
        if clip_len < 1 or stride < 1:
            raise ValueError("clip length and stride must be at least 1")
        user = np.ascontiguousarray(user, np.float32).reshape(-1)
        if user.shape[0] != self.dim:
            raise ValueError(f"user vector has {user.shape[0]} dimensions, the matrix {self.dim}")
        out = _Outputs(self.rows)
        kernel = _kernel(self.dtype)
        threads = threads or min(os.cpu_count() or 1, 8)
        blocks = [(lo, min(lo + SCAN_BLOCK, self.rows)) for lo in range(0, self.rows, SCAN_BLOCK)]

        def run(block: tuple[int, int]) -> None:
            if cancelled is not None and cancelled():
                return
            lo, hi = block
            if kernel is not None:
                _scan_c(kernel, self, lo, hi, user, clip_len, stride, out)
            else:
                _scan_torch(self, lo, hi, user, clip_len, stride, out)

        if threads > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(threads) as pool:
                list(pool.map(run, blocks))
        else:
            for block in blocks:
                run(block)
        length = np.minimum(clip_len, self.counts).astype(np.int32)
        return Selections(self.item_ids, out.frame_idx, out.frame_score, out.clip_start,
                          out.clip_start + length, out.clip_score,
                          "c" if kernel is not None else "torch")


def _split_lines(text: str, chunk: int = 1 << 20) -> list[str]:
    """The lines of `text` (each ended by a newline, the last one optionally), about `chunk`
    characters per step: splitting a million ids in one call held the GIL 220 ms in the app."""
    text = text[:-1] if text.endswith("\n") else text
    lines: list[str] = []
    start = 0
    while start < len(text):
        end = text.find("\n", start + chunk)
        end = len(text) if end < 0 else end
        lines.extend(text[start:end].split("\n"))
        start = end + 1
    return lines


class _Outputs:
    def __init__(self, rows: int) -> None:
        self.frame_idx = np.zeros(rows, np.int32)
        self.frame_score = np.zeros(rows, np.float32)
        self.clip_start = np.zeros(rows, np.int32)
        self.clip_score = np.zeros(rows, np.float32)


_KERNEL_LOCK = threading.Lock()
_KERNEL: list = []        # [{dtype: the C function or None}], filled on first use
_SYMBOLS = {"float16": ("generec_scan_f16", 0), "int8": ("generec_scan_i8", 1)}  # extra pointers


def _kernel(dtype: str = "float16"):
    """The compiled scan of `dtype` (`core/store/_scan.c`), or None where the extension was not
    built (or predates that dtype)."""
    with _KERNEL_LOCK:
        if not _KERNEL:
            functions = dict.fromkeys(_SYMBOLS)
            if os.environ.get("GENEREC_SCAN") != "torch":
                try:
                    from core.store import _scan
                    library = ctypes.CDLL(_scan.__file__)
                except (ImportError, OSError):
                    library = None
                p, i32 = ctypes.c_void_p, ctypes.c_int32
                for name, (symbol, extra) in _SYMBOLS.items():
                    function = getattr(library, symbol, None) if library else None
                    if function is not None:
                        function.argtypes = [p] * (1 + extra) + [ctypes.c_int64, i32, i32, p, p,
                                                                 i32, i32, p, p, p, p]
                        function.restype = ctypes.c_int
                    functions[name] = function
            _KERNEL.append(functions)
        return _KERNEL[0][dtype]


def kernel_name(dtype: str = "float16") -> str:
    return "c" if _kernel(dtype) is not None else "torch"


def _scan_c(kernel, matrix: FrameMatrix, lo: int, hi: int, user: np.ndarray, clip_len: int,
            stride: int, out: _Outputs) -> None:
    data = [matrix.frames[lo:hi].ctypes.data]
    if matrix.scales is not None:
        data.append(matrix.scales[lo:hi].ctypes.data)
    counts = np.ascontiguousarray(matrix.counts[lo:hi], np.int64)
    ptr = lambda array: array.ctypes.data + lo * array.itemsize  # noqa: E731
    status = kernel(*data, hi - lo, matrix.n_frames, matrix.dim, counts.ctypes.data,
                    user.ctypes.data, clip_len, stride, ptr(out.frame_idx), ptr(out.frame_score),
                    ptr(out.clip_start), ptr(out.clip_score))
    if status != 0:
        raise ValueError(f"the scan refused its arguments (frames per item {matrix.n_frames})")


def _scan_torch(matrix: FrameMatrix, lo: int, hi: int, user: np.ndarray, clip_len: int,
                stride: int, out: _Outputs) -> None:
    """Where the C scan is not built: torch's matrix-vector product, then numpy."""
    from core.editor.personalize import window_scores

    scores = _torch_scores(matrix, lo, hi, user).reshape(hi - lo, matrix.n_frames)
    counts = np.asarray(matrix.counts[lo:hi], np.int64)
    scores[np.arange(matrix.n_frames)[None, :] >= counts[:, None]] = -np.inf
    best = scores.argmax(axis=1)
    out.frame_idx[lo:hi] = best
    out.frame_score[lo:hi] = scores[np.arange(hi - lo), best]
    means, _ = window_scores(scores, counts, clip_len, stride)
    start = means.argmax(axis=1)
    out.clip_start[lo:hi] = start
    out.clip_score[lo:hi] = means[np.arange(hi - lo), start]


def _torch_scores(matrix: FrameMatrix, lo: int, hi: int, user: np.ndarray) -> np.ndarray:
    """Frame scores of items lo..hi, flat: fp16 as stored; int8 dequantized to float32 a
    slice at a time (a whole block of 512-d frames in float32 would be a gigabyte)."""
    import torch

    if matrix.scales is None:
        with warnings.catch_warnings():    # read-only memory map: torch only reads it
            warnings.simplefilter("ignore", UserWarning)
            rows = torch.from_numpy(np.asarray(matrix.frames[lo:hi]).reshape(-1, matrix.dim))
        return torch.mv(rows, torch.from_numpy(user).half()).float().numpy()
    step = max(1, TORCH_INT8_SLICE // (matrix.n_frames * matrix.dim))
    vector = torch.from_numpy(user)
    return np.concatenate([
        torch.mv(torch.from_numpy(matrix.vectors(slice(a, min(a + step, hi)))
                                  .reshape(-1, matrix.dim)), vector).numpy()
        for a in range(lo, hi, step)])


# -- writing ---------------------------------------------------------------------------------

class MatrixWriter:
    """Appends rows and overwrites re-indexed ones; `commit()` publishes them (manifest last)."""

    def __init__(self, folder: Path, model_id: str, dim: int, frames_per_item: int,
                 source: str, dtype: str | None = None) -> None:
        """`dtype` ("float16" or "int8") is the storage of a new matrix (None: see
        `new_matrix_dtype`); an existing matrix keeps its own, and asking for another is an
        error."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / "manifest.json"
        if path.exists():
            self.manifest = json.loads(path.read_text())
            stored = _layout(self.manifest, self.folder)
            if dtype is not None and dtype != stored:
                raise ValueError(f"{self.folder} holds {stored} frame embeddings, not {dtype}; "
                                 "rebuild it to change")
        else:
            self.manifest = {"version": MATRIX_VERSION, "model_id": model_id, "dim": dim,
                             "frames_per_item": frames_per_item, "rows": 0, "source": source,
                             "dtype": new_matrix_dtype(dtype)}
        self.rows = self.manifest["rows"]
        self.frames_total = self.manifest.get("frames_total", 0)
        self.n_frames = self.manifest["frames_per_item"]
        self.dim = self.manifest["dim"]
        self.dtype = _layout(self.manifest, self.folder)
        self.files = _LAYOUTS[self.dtype]
        # drop whatever an interrupted append left past the published rows
        per_row = _shapes(1, self.n_frames, self.dim)
        for name, (file, dtype) in self.files.items():
            with open(self.folder / file, "ab") as handle:
                handle.truncate(self.rows * int(np.prod(per_row[name])) *
                                np.dtype(dtype).itemsize)
        ids_path = self.folder / "items.txt"
        ids = ids_path.read_text(encoding="utf-8").split("\n")[:self.rows] if self.rows else []
        with open(ids_path, "ab") as handle:     # one id and a newline per row
            handle.truncate(sum(len(i.encode("utf-8")) + 1 for i in ids))
        self.positions = {item_id: k for k, item_id in enumerate(ids)}
        self.new_ids: list[str] = []

    def fits(self, n_frames: int) -> bool:
        return n_frames <= self.n_frames

    def _encode(self, frames: np.ndarray) -> dict[str, np.ndarray]:
        """Frame embeddings (... x d) as this matrix stores them: fp16 (cast on writing), or
        int8 and scales."""
        if self.dtype == "int8":
            q, scales = quantize(frames)
            return {"frames": q, "scales": scales}
        return {"frames": frames}

    def write_block(self, frames: np.ndarray, times: np.ndarray, counts: np.ndarray,
                    durations: np.ndarray, item_ids: list[str]) -> None:
        """Append whole padded rows (the synthetic generator's path): frames B x N x d, float
        (zeros past each count)."""
        arrays = {**self._encode(frames), "times": times, "counts": counts,
                  "durations": durations}
        for name, (file, dtype) in self.files.items():
            with open(self.folder / file, "ab") as handle:
                handle.write(np.ascontiguousarray(arrays[name], dtype).tobytes())
        self.frames_total += int(np.sum(counts))
        for item_id in item_ids:
            if "\n" in item_id:
                raise ValueError(f"an item id with a line break: {item_id!r}")
            self.positions[item_id] = self.rows + len(self.new_ids)
            self.new_ids.append(item_id)

    def write_rows(self, rows: list[MatrixRow]) -> None:
        fresh = [r for r in rows if r.item_id not in self.positions]
        for row in rows:
            if row.item_id in self.positions and len(row.times) > self.n_frames:
                raise ValueError("more frames than the matrix holds per item")
            if row.item_id in self.positions:
                self._overwrite(self.positions[row.item_id], row)
        if not fresh:
            return
        n, d = self.n_frames, self.dim
        # staged as fp16 for an fp16 matrix (as before int8), float32 for quantizing
        frames = np.zeros((len(fresh), n, d), np.float16 if self.dtype == "float16"
                          else np.float32)
        times = np.zeros((len(fresh), n), np.float32)
        for k, row in enumerate(fresh):
            frames[k, :len(row.times)] = row.vectors
            times[k, :len(row.times)] = row.times
        counts = np.array([len(r.times) for r in fresh], np.int32)
        durations = np.array([r.duration_s or 0.0 for r in fresh], np.float32)
        self.write_block(frames, times, counts, durations, [r.item_id for r in fresh])

    def _overwrite(self, position: int, row: MatrixRow) -> None:
        if position >= self.rows:          # appended earlier in this writer: rewrite the tail
            raise ValueError(f"{row.item_id} written twice before commit")
        shapes = _shapes(self.rows, self.n_frames, self.dim)
        maps = {name: np.memmap(self.folder / file, dtype, "r+", shape=shapes[name])
                for name, (file, dtype) in self.files.items()}
        for name, values in {**self._encode(row.vectors), "times": row.times}.items():
            maps[name][position] = 0
            maps[name][position, :len(row.times)] = values
        self.frames_total += len(row.times) - int(maps["counts"][position])
        maps["counts"][position] = len(row.times)
        maps["durations"][position] = row.duration_s or 0.0
        for array in maps.values():
            array.flush()

    def commit(self, **manifest) -> None:
        if self.new_ids:
            with open(self.folder / "items.txt", "a", encoding="utf-8") as handle:
                handle.write("".join(f"{item_id}\n" for item_id in self.new_ids))
        self.rows += len(self.new_ids)
        self.new_ids = []
        self.manifest.update(manifest, rows=self.rows, frames_total=self.frames_total)
        tmp = self.folder / "manifest.json.tmp"
        tmp.write_text(json.dumps(self.manifest, indent=1))
        os.replace(tmp, self.folder / "manifest.json")


# -- keeping it in step with SQLite ----------------------------------------------------------

def _frame_rows(store: Store, model_id: str) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM embeddings WHERE model_id = ? "
                              "AND kind = 'frame'", (model_id,)).fetchone()[0]


def _indexed_items(store: Store, model_id: str) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT item_id FROM embeddings WHERE model_id = ? AND kind = 'frame' "
        "ORDER BY item_id", (model_id,))]


def _rows_from_sqlite(store: Store, model_id: str, item_ids: list[str]) -> list[MatrixRow]:
    from core.store.embeddings import from_blob

    rows = []
    for item_id in item_ids:
        entries = store.conn.execute(
            "SELECT e.vector, f.t_s FROM embeddings e JOIN frames f ON f.item_id = e.item_id "
            "AND f.idx = e.idx WHERE e.model_id = ? AND e.kind = 'frame' AND e.item_id = ? "
            "ORDER BY e.idx", (model_id, item_id)).fetchall()
        rows.append(MatrixRow(item_id, np.array([t for _, t in entries], np.float32),
                              np.stack([from_blob(b) for b, _ in entries]),
                              item_duration(store, item_id)))
    return rows


def _model_dim(store: Store, model_id: str) -> int:
    row = store.conn.execute("SELECT dim FROM models WHERE id = ?", (model_id,)).fetchone()
    return int(row[0]) if row else 0


class MatrixMirror:
    """Indexing's hook, one per run: mirrors rows SQLite has just committed. It keeps one
    writer (and its item positions) for the whole run, so a batch costs its own rows only."""

    def __init__(self, store: Store, model_id: str, frames_per_item: int) -> None:
        self.store, self.model_id, self.frames_per_item = store, model_id, frames_per_item
        self.writer: MatrixWriter | None = None

    def add(self, rows: list[MatrixRow]) -> None:
        if not rows:
            return
        if self.writer is None:
            self.writer = MatrixWriter(matrix_dir(self.store.path, self.model_id), self.model_id,
                                       _model_dim(self.store, self.model_id),
                                       self.frames_per_item, "index")
        if any(not self.writer.fits(len(r.times)) for r in rows):
            widest = max(self.frames_per_item, *(len(r.times) for r in rows))
            rebuild_frame_matrix(self.store, self.model_id, widest)
            self.writer = None          # the next batch opens the rebuilt matrix
            return
        self.writer.write_rows(rows)
        self.writer.commit()


def rebuild_frame_matrix(store: Store, model_id: str, frames_per_item: int | None = None,
                         batch: int = 256, dtype: str | None = None) -> FrameMatrix:
    """Make the matrix again from SQLite's frame embeddings of `model_id`, stored as `dtype`,
    else as $GENEREC_MATRIX_DTYPE says, else as the matrix it replaces was, else float16."""
    import shutil

    folder = matrix_dir(store.path, model_id)
    try:
        previous = json.loads((folder / "manifest.json").read_text()).get("dtype", "float16")
    except (OSError, ValueError):
        previous = None
    dtype = new_matrix_dtype(dtype or os.environ.get(ENV) or previous)
    shutil.rmtree(folder, ignore_errors=True)
    items = _indexed_items(store, model_id)
    widest = store.conn.execute(
        "SELECT MAX(n) FROM (SELECT COUNT(*) AS n FROM embeddings WHERE model_id = ? "
        "AND kind = 'frame' GROUP BY item_id)", (model_id,)).fetchone()[0] or 1
    writer = MatrixWriter(folder, model_id, _model_dim(store, model_id),
                          max(frames_per_item or 1, widest), "index", dtype)
    for start in range(0, len(items), batch):
        writer.write_rows(_rows_from_sqlite(store, model_id, items[start:start + batch]))
    writer.commit()
    return FrameMatrix(folder)


def open_frame_matrix(store: Store, model_id: str) -> FrameMatrix:
    """The matrix of `model_id`, brought in step with SQLite first where they disagree (a crash
    between SQLite's commit and the matrix's, an older version of the app, a purge)."""
    folder = matrix_dir(store.path, model_id)
    manifest_path = folder / "manifest.json"
    if not manifest_path.exists():
        return rebuild_frame_matrix(store, model_id)
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("source") != "index" or manifest.get("version") != MATRIX_VERSION:
        return FrameMatrix(folder) if manifest.get("version") == MATRIX_VERSION \
            else rebuild_frame_matrix(store, model_id)
    live = _frame_rows(store, model_id)
    if manifest.get("frames_total") == live:
        return FrameMatrix(folder)
    matrix = FrameMatrix(folder)
    indexed = _indexed_items(store, model_id)
    have = set(matrix.item_ids)
    if have - set(indexed):                 # items gone from SQLite: start again
        return rebuild_frame_matrix(store, model_id)
    missing = [i for i in indexed if i not in have]
    writer = MatrixWriter(folder, model_id, matrix.dim, matrix.n_frames, "index")
    rows = _rows_from_sqlite(store, model_id, missing)
    if any(not writer.fits(len(r.times)) for r in rows):
        return rebuild_frame_matrix(store, model_id)
    writer.write_rows(rows)
    writer.commit()
    matrix = FrameMatrix(folder)
    # anything else (an item re-indexed with other frames behind the matrix's back)
    return matrix if int(matrix.counts.sum()) == live else rebuild_frame_matrix(store, model_id)
