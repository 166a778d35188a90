"""Benchmark: robustness of the invisible watermark on real exported clips (target: the payload
recovered from every clip exported at the default quality), its cost in PSNR, and its bit
accuracy after a platform-style re-encode (CRF 28) and after scaling to half size.

Clips: 64-frame cuts (the generator's own `cut_clip`) from the first demo items (built into a
temporary folder) and from every video in ../shared/media. Each is exported the way the export
gate does it (`watermark_video`: the payload embedded in every frame, H.264 at the gate's
quality) and read back with `read_payload` (majority vote per bit over up to 64 frames).
Frames whose short side is below 256 pixels are scaled up (bicubic) by the watermark itself
before embedding, so their exported file is larger than the source (carphone: 176x144 ->
314x256). Half size is read twice: as is (the reader scales frames below 256 up again) and
after scaling back to the exported size.

    python bench/bench_watermark.py [--demo-items 12] [--frames 64] [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.editor.outputs import cut_clip  # noqa: E402
from core.fidelity.checks.authenticity import psnr  # noqa: E402
from core.fidelity.watermark import embed, payload_for, read_payload, watermark_video  # noqa: E402
from core.media import VIDEO_SUFFIXES, iter_frames, probe  # noqa: E402
from core.media.write import ffmpeg_to_file  # noqa: E402

MEDIA = Path(__file__).resolve().parent.parent.parent / "shared" / "media"
TARGET_RECOVERY = 1.0
PSNR_EVERY = 8          # PSNR of the embedding on every 8th frame (embedding is the slow part)
# The attacks, as ffmpeg video options on the exported file. Half size and back up are
# written at CRF 18 so that they measure the scaling, not more compression.
HALF = "scale=trunc(iw/4)*2:trunc(ih/4)*2"
ATTACKS = {
    "crf28": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "28"],
    "half": ["-vf", HALF, "-c:v", "libx264", "-preset", "veryfast", "-crf", "18"],
}


def demo_videos(folder: Path, n_items: int) -> list[Path]:
    from core.demo.build import build_demo
    from core.store import open_store

    with open_store(folder / "corpus.db") as store:
        build_demo(store, n_items=n_items, n_users=4, seed=0)
        return [Path(r[0]) for r in store.conn.execute("SELECT path FROM items ORDER BY id")]


def media_videos() -> list[Path]:
    if not MEDIA.is_dir():
        return []
    return sorted(p for p in MEDIA.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def cut(video: Path, out: Path, n_frames: int) -> Path:
    """n_frames from the middle of the video (all of it when shorter), as the generator cuts."""
    info = probe(video)
    length = min(info.duration_s, n_frames / info.fps)
    start = max(0.0, (info.duration_s - length) / 2)
    return cut_clip(video, start, start + length, out)


def attack(exported: Path, name: str, options: list[str]) -> Path:
    out = exported.with_name(f"{exported.stem}.{name}.mp4")
    return ffmpeg_to_file(["-i", str(exported), "-an", *options, "-pix_fmt", "yuv420p"], out,
                          f"{exported}: {name} failed")


def back_to_size(half: Path, width: int, height: int) -> Path:
    return attack(half, "up", ["-vf", f"scale={width}:{height}:flags=bicubic", "-c:v", "libx264",
                               "-preset", "veryfast", "-crf", "18"])


def bit_accuracy(found: str, payload: bytes) -> float:
    a = np.unpackbits(np.frombuffer(bytes.fromhex(found), np.uint8))
    b = np.unpackbits(np.frombuffer(payload, np.uint8))
    return float((a == b).mean())


def embedding_psnr(clip: Path, payload: bytes) -> float:
    """Mean PSNR of marked against unmarked frames (the unmarked one scaled like the marked)."""
    import cv2

    values = []
    for k, frame in enumerate(iter_frames(clip)):
        if k % PSNR_EVERY:
            continue
        marked = embed(frame.image, payload)
        original = frame.image
        if marked.shape != original.shape:
            original = cv2.resize(original, marked.shape[1::-1], interpolation=cv2.INTER_CUBIC)
        values.append(psnr(marked, original))
    return float(np.mean(values))


def measure(name: str, video: Path, folder: Path, payload: bytes, n_frames: int) -> dict:
    stem = name.replace("/", "_")
    clip = cut(video, folder / f"{stem}.clip.mp4", n_frames)
    source = probe(clip)
    exported = watermark_video(clip, folder / f"{stem}.mp4", payload)
    info = probe(exported)
    row = {"clip": name, "source_size": f"{source.width}x{source.height}",
           "size": f"{info.width}x{info.height}", "frames": info.frames,
           "psnr_db": round(embedding_psnr(clip, payload), 2)}
    half = attack(exported, "half", ATTACKS["half"])
    files = {"default": exported, "crf28": attack(exported, "crf28", ATTACKS["crf28"]),
             "half": half, "half_up": back_to_size(half, info.width, info.height)}
    for attack_name, path in files.items():
        found = read_payload(path)
        row[attack_name] = {"recovered": found["payload"] == payload.hex(),
                            "bit_accuracy": round(bit_accuracy(found["payload"], payload), 4),
                            "agreement": found["agreement"]}
    return row


def summary(rows: list[dict]) -> dict:
    return {attack: {"recovery_rate": round(float(np.mean([r[attack]["recovered"] for r in rows])), 4),
                     "bit_accuracy_mean": round(float(np.mean([r[attack]["bit_accuracy"] for r in rows])), 4),
                     "bit_accuracy_min": round(float(min(r[attack]["bit_accuracy"] for r in rows)), 4)}
            for attack in ("default", "crf28", "half", "half_up")} | {
        "psnr_db_mean": round(float(np.mean([r["psnr_db"] for r in rows])), 2),
        "psnr_db_min": round(float(min(r["psnr_db"] for r in rows)), 2)}


def print_table(rows: list[dict], totals: dict) -> None:
    head = f"{'clip':<30}{'size':>10}{'fr':>4}{'PSNR':>7}  " + "".join(
        f"{a:>14}" for a in ("default", "crf28", "half", "half_up"))
    print(head)
    for r in rows:
        cells = "".join(f"{('ok ' if r[a]['recovered'] else 'LOST ') + format(r[a]['bit_accuracy'], '.3f'):>14}"
                        for a in ("default", "crf28", "half", "half_up"))
        print(f"{r['clip'][:29]:<30}{r['size']:>10}{r['frames']:>4}{r['psnr_db']:>7.1f}  {cells}")
    print("recovery rate / mean bit accuracy: " + ", ".join(
        f"{a} {totals[a]['recovery_rate']:.0%} / {totals[a]['bit_accuracy_mean']:.3f}"
        for a in ("default", "crf28", "half", "half_up"))
          + f"; PSNR mean {totals['psnr_db_mean']} dB, lowest {totals['psnr_db_min']} dB")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo-items", type=int, default=12)
    parser.add_argument("--frames", type=int, default=64)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        videos = {f"demo/{p.stem}": p for p in demo_videos(folder, args.demo_items)}
        videos |= {f"media/{p.name}": p for p in media_videos()}
        for k, (name, video) in enumerate(videos.items()):
            payload = payload_for("gen-" + rng.integers(0, 256, 6, dtype=np.uint8).tobytes().hex())
            rows.append(measure(name, video, folder, payload, args.frames))
            print(f"{k + 1}/{len(videos)} {name}", file=sys.stderr)
    totals = summary(rows)
    result = {"clips": len(rows), "target_recovery": TARGET_RECOVERY, "summary": totals,
              "rows": rows}
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print_table(rows, totals)
    return 0 if totals["default"]["recovery_rate"] >= TARGET_RECOVERY else 1


if __name__ == "__main__":
    sys.exit(main())
