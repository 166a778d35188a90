"""Benchmark: personalize one user against a corpus held in the resident matrix (fp16, or int8
with one scale per frame), measured against the machine's floor and a strong baseline in the
same run.

    python bench/bench_personalize.py [--items 1000000] [--dim 128] [--frames 32]
                                      [--dtype float16|int8] [--json]

- floor: the time to read the corpus's embeddings once from memory (a sum over the matrix, and
  over the scales where int8, as 64-bit words, on 1 thread and on the scan's threads; the
  faster counts);
- baseline: what the project falls back to without its C scan: torch's batched matrix-vector
  product over the same matrix (fp16 as stored; int8 dequantized to float32 a slice at a
  time), then numpy's argmax and window means; and the product alone (fp16: torch.mv; int8:
  torch's int8-weight kernel `_weight_int8pack_mm`, int8 rows x per-row scales x a float
  vector, where this torch has it);
- project: FrameMatrix.scan, Eq. 1 and Eq. 2 for every item in one pass (core/store/_scan.c).

The corpus is made by the synthetic-scale generator (core/demo/synthetic_scale.py) in
`--corpus` (default bench/results/scale-N), once; later runs reuse it. Target: the project
within 2x the floor. Times are the best of `--repeats` runs with the matrix in the page cache
(the bench reads it once first), wall clock; CPU seconds are reported beside them because the
machine may be shared. Agreement: the share of items where the project picks the same frame
and window as float32 numpy on a sample of items: `agreement_with_float32` on the stored
values (fp16, or int8 dequantized: the kernel's arithmetic alone), and
`agreement_with_exact_embeddings` on the generator's float32 embeddings before storage
(whole blocks of items drawn again: what the storage costs, the figure to quote for int8).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.demo.synthetic_scale import BLOCK, build_synthetic_scale, synthetic_block  # noqa: E402
from core.editor.history import history_vector  # noqa: E402
from core.editor.personalize import frame_scores, window_scores  # noqa: E402
from core.store import Store  # noqa: E402
from core.store.embeddings import FrameIndex  # noqa: E402
from core.store.frame_matrix import (SCAN_BLOCK, FrameMatrix, _Outputs, _scan_torch,  # noqa: E402
                                     kernel_name, matrix_dir)

CLIP_LEN = 8
TARGET_RATIO = 2.0


def timed(fn, repeats: int) -> tuple[float, float]:
    """Best wall seconds and the CPU seconds of that run."""
    best = (float("inf"), 0.0)
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def blocks(rows: int) -> list[tuple[int, int]]:
    return [(lo, min(lo + SCAN_BLOCK, rows)) for lo in range(0, rows, SCAN_BLOCK)]


def read_once(matrix: FrameMatrix, threads: int) -> None:
    stored = [matrix.frames] + ([matrix.scales] if matrix.scales is not None else [])
    words = [np.asarray(a).reshape(-1).view(np.uint64) for a in stored]

    def part(block):
        for array in words:
            per_item = len(array) // matrix.rows
            array[block[0] * per_item:block[1] * per_item].sum()

    if threads == 1:
        for block in blocks(matrix.rows):
            part(block)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(part, blocks(matrix.rows)))


def baseline(matrix: FrameMatrix, user: np.ndarray) -> _Outputs:
    """torch fp16 mv per block (torch's own threads), numpy argmax and windows."""
    out = _Outputs(matrix.rows)
    for lo, hi in blocks(matrix.rows):
        _scan_torch(matrix, lo, hi, user, CLIP_LEN, 1, out)
    return out


def product_only(matrix: FrameMatrix, user: np.ndarray) -> str:
    """The frame scores alone, by torch's fastest kernel for the storage; returns its name."""
    import torch

    with warnings.catch_warnings():    # read-only memory map: torch only reads it
        warnings.simplefilter("ignore", UserWarning)
        rows = torch.from_numpy(np.asarray(matrix.frames).reshape(-1, matrix.dim))
        scales = None if matrix.scales is None else torch.from_numpy(
            np.asarray(matrix.scales).reshape(-1))
    if scales is None:
        torch.mv(rows, torch.from_numpy(user).half())
        return "torch.mv fp16"
    if hasattr(torch.ops.aten, "_weight_int8pack_mm"):
        torch.ops.aten._weight_int8pack_mm(torch.from_numpy(user)[None], rows, scales)
        return "torch _weight_int8pack_mm"
    for lo, hi in blocks(matrix.rows):                    # an older torch: dequantize per block
        torch.mv(torch.from_numpy(matrix.vectors(slice(lo, hi)).reshape(-1, matrix.dim)),
                 torch.from_numpy(user))
    return "torch.mv float32 (dequantized per block)"


def picks_of(frames: np.ndarray, counts: np.ndarray, user: np.ndarray):
    """float32 numpy: the frame and window the maths picks (frames: items x N x d)."""
    n = len(frames)
    index = FrameIndex("sample", [str(r) for r in range(n)], frames,
                       np.asarray(counts, np.int64), np.zeros(frames.shape[:2], np.float32),
                       np.zeros(n, np.float32), np.zeros((n, frames.shape[2])))
    scores = frame_scores(index, user)
    means, _ = window_scores(scores, index.counts, CLIP_LEN)
    return scores.argmax(axis=1), means.argmax(axis=1)


def exact_sample(matrix: FrameMatrix, user: np.ndarray, rows: np.ndarray):
    """float32 numpy on a sample of the stored values (int8 dequantized)."""
    return picks_of(matrix.vectors(rows), matrix.counts[rows], user)


def exact_embeddings(matrix: FrameMatrix, user: np.ndarray, n_blocks: int, seed: int = 0):
    """float32 numpy on the generator's embeddings before storage, for `n_blocks` random whole
    blocks of items (drawn again: a block at 512-d takes seconds); rows and picks."""
    starts = np.random.default_rng(seed).permutation(np.arange(0, matrix.rows, BLOCK))[:n_blocks]
    rows, frames, clips = [], [], []
    for lo in sorted(starts):
        hi = min(lo + BLOCK, matrix.rows)
        made = synthetic_block(int(lo), hi, matrix.n_frames, matrix.dim)
        if not np.array_equal(made.counts, matrix.counts[lo:hi]):
            raise ValueError("the corpus was not made by this generator with seed 0")
        picked = picks_of(made.vectors, made.counts, user)
        rows.append(np.arange(lo, hi))
        frames.append(picked[0])
        clips.append(picked[1])
    return np.concatenate(rows), np.concatenate(frames), np.concatenate(clips)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=32)
    parser.add_argument("--dim", type=int, default=128, help="128: the bundled encoder's width")
    parser.add_argument("--dtype", choices=("float16", "int8"), default="float16",
                        help="storage of the matrix (int8: one float32 scale per frame)")
    parser.add_argument("--exact-blocks", type=int, default=3,
                        help="blocks of items (8192 each) drawn again in float32 for "
                             "agreement with the exact embeddings")
    parser.add_argument("--corpus", type=Path, help="folder of the synthetic corpus (reused)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    name = f"scale-{args.items}"            # the 128-d fp16 corpus keeps its old folder
    if (args.dim, args.frames, args.dtype) != (128, 32, "float16"):
        name += f"-{args.frames}x{args.dim}-{args.dtype}"
    folder = args.corpus or Path(__file__).resolve().parent / "results" / name
    store = Store(folder / "corpus.db")
    made = build_synthetic_scale(store, args.items, args.users, args.frames, args.dim,
                                 dtype=args.dtype)
    matrix = FrameMatrix(matrix_dir(store.path, made.model_id))
    user = history_vector(store, made.model_id, "u0000000")

    read_once(matrix, 1)          # into the page cache
    floors = {t: timed(lambda t=t: read_once(matrix, t), args.repeats)
              for t in sorted({1, args.threads})}
    floor_threads, (floor_s, floor_cpu) = min(floors.items(), key=lambda kv: kv[1][0])
    picks = [None]

    def project():
        picks[0] = matrix.scan(user, CLIP_LEN, 1, threads=args.threads)

    project_s, project_cpu = timed(project, args.repeats)
    base = [None]

    def run_baseline():
        base[0] = baseline(matrix, user)

    baseline_s, baseline_cpu = timed(run_baseline, max(1, args.repeats // 2))
    product_kernel = product_only(matrix, user)          # also warms it up
    product_s, _ = timed(lambda: product_only(matrix, user), max(1, args.repeats // 2))

    ours = picks[0]
    sample = np.random.default_rng(0).choice(matrix.rows, min(20_000, matrix.rows), replace=False)
    sample.sort()
    exact_frames, exact_clips = exact_sample(matrix, user, sample)
    exact_rows, true_frames, true_clips = exact_embeddings(matrix, user, args.exact_blocks)
    gib = matrix.nbytes / 2**30
    result = {
        "items": matrix.rows, "frames": matrix.n_frames, "dim": matrix.dim,
        "dtype": matrix.dtype, "matrix_gib": round(gib, 2), "matrix_bytes": matrix.nbytes,
        "threads": args.threads, "kernel": kernel_name(matrix.dtype),
        "floor_ms": round(floor_s * 1000, 1), "floor_threads": floor_threads,
        "floor_gib_s": round(gib / floor_s, 1),
        "floor_ms_by_threads": {str(t): round(v[0] * 1000, 1) for t, v in floors.items()},
        "project_ms": round(project_s * 1000, 1), "project_gib_s": round(gib / project_s, 1),
        "baseline_ms": round(baseline_s * 1000, 1),
        "baseline_product_only_ms": round(product_s * 1000, 1),
        "baseline_product_kernel": product_kernel,
        "cpu_s": {"floor": round(floor_cpu, 2), "project": round(project_cpu, 2),
                  "baseline": round(baseline_cpu, 2)},
        "project_vs_floor": round(project_s / floor_s, 2),
        "baseline_vs_floor": round(baseline_s / floor_s, 2),
        "baseline_vs_project": round(baseline_s / project_s, 2),
        "agreement_with_float32": {
            "thumbnail": round(float(np.mean(ours.frame_idx[sample] == exact_frames)), 5),
            "clip": round(float(np.mean(ours.clip_start[sample] == exact_clips)), 5),
            "sample": len(sample)},
        "agreement_with_exact_embeddings": {
            "thumbnail": round(float(np.mean(ours.frame_idx[exact_rows] == true_frames)), 5),
            "clip": round(float(np.mean(ours.clip_start[exact_rows] == true_clips)), 5),
            "sample": len(exact_rows)},
        "agreement_with_baseline": {
            "thumbnail": round(float(np.mean(ours.frame_idx == base[0].frame_idx)), 5),
            "clip": round(float(np.mean(ours.clip_start == base[0].clip_start)), 5)},
        "target_vs_floor": TARGET_RATIO,
        "corpus": str(folder), "corpus_build_s": made.seconds,
    }
    print(json.dumps(result, indent=None if args.json else 1))
    return 0 if project_s <= TARGET_RATIO * floor_s else 1


if __name__ == "__main__":
    sys.exit(main())
