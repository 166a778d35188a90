"""Invisible watermark (invisible-watermark's dwtDctSvd, which survives H.264) carrying a
payload that names the generation: the first 48 bits of its id, written three times over.
Frames whose shorter side is below 256 pixels are scaled up for embedding.

dwtDctSvd hides each bit in the U channel: the largest singular value s of the DCT of a 4x4
block of the Haar approximation is moved to the centre of a 0- or 1-interval of a `SCALE`
period. The library always moves it within its own period, up or down blindly, and then
converts to RGB, where the signal clips wherever blue sits near 0 or 255 (white, black,
saturated colours: a greyscale GIF lost its payload entirely). Here the embedding is done in
float and, per block, the target period (the one below or the one above s, both read the
same) is the one that costs fewer RGB errors once the colour is put back in gamut; a pixel
that would still clip gets its luma shifted just enough, which leaves U, the signal, intact.
The library's own decoder reads these files (tests check it); `read_payload` reads them the
same way, vectorised, with a soft vote per bit over all blocks of all copies and frames."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from core.errors import InputError
from core.media import iter_frames, probe, read_image, save_image, write_video
from core.media.write import carry_audio
from core.progress import Progress

METHOD = "dwtDctSvd"
SCALE = 64          # the U channel's period; the library's default is 36, too weak for H.264
SCALES = [0, SCALE, 0]
REPEAT = 3
PAYLOAD_BYTES = 6
MIN_SIDE = 256
READ_FRAMES = 64
BLOCK = 4           # DCT block in the Haar approximation, so 8x8 pixels
# RGB = Y + CHROMA_TO_RGB @ (U - 128, V - 128), OpenCV's YUV (what the library converts with)
CHROMA_TO_RGB = np.array([[0.0, 1.140], [-0.395, -0.581], [2.032, 0.0]], np.float32)


def payload_for(generation_id: str) -> bytes:
    hex_id = generation_id.removeprefix("gen-")[: PAYLOAD_BYTES * 2]
    try:
        return bytes.fromhex(hex_id)
    except ValueError:
        raise InputError(f"generation id {generation_id!r} cannot be a watermark payload") from None


def _large_enough(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    if min(h, w) >= MIN_SIDE:
        return rgb
    scale = MIN_SIDE / min(h, w)
    size = (int(np.ceil(w * scale / 2)) * 2, int(np.ceil(h * scale / 2)) * 2)
    return cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)


def _to_yuv(rgb: np.ndarray) -> np.ndarray:
    yuv = cv2.cvtColor(rgb.astype(np.float32) / 255, cv2.COLOR_RGB2YUV) * 255
    yuv[..., 1:] += 0.5                 # float offset is 127.5, the uint8 one (the reader's) 128
    return yuv


def _to_rgb(yuv: np.ndarray) -> np.ndarray:
    return yuv[..., :1] + (yuv[..., 1:] - 128) @ CHROMA_TO_RGB.T


def _in_gamut(yuv: np.ndarray) -> np.ndarray:
    """Shifts luma where the colour leaves 0..255, by the overshoot (half-way when both ends
    overshoot); chroma, which carries the mark, is untouched."""
    rgb = _to_rgb(yuv)
    over = np.maximum(rgb.max(-1) - 255, 0)
    under = np.maximum(-rgb.min(-1), 0)
    shift = np.where((over > 0) & (under > 0), (over - under) / 2, over - under)
    return np.concatenate([yuv[..., :1] - shift[..., None], yuv[..., 1:]], axis=-1)


def _blocks(u: np.ndarray) -> np.ndarray:
    """(rows, cols, 4, 4) blocks of the Haar approximation of `u`, in the library's layout."""
    h, w = u.shape[0] // 4 * 4, u.shape[1] // 4 * 4
    ca = (u[0:h:2, 0:w:2] + u[1:h:2, 0:w:2] + u[0:h:2, 1:w:2] + u[1:h:2, 1:w:2]) / 2
    rows, cols = ca.shape[0] // BLOCK, ca.shape[1] // BLOCK
    return ca[:rows * BLOCK, :cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)


def _pixels(blocks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of `_blocks` for a change of the approximation: each coefficient's change
    spreads as half of it over its 2x2 pixels; pixels outside the blocks stay 0."""
    rows, cols = blocks.shape[:2]
    ca = blocks.swapaxes(1, 2).reshape(rows * BLOCK, cols * BLOCK)
    out = np.zeros(shape, np.float32)
    out[:rows * BLOCK * 2, :cols * BLOCK * 2] = np.kron(ca, np.ones((2, 2))) / 2
    return out


def _svd(blocks: np.ndarray):
    """The library takes the SVD of each block's (orthonormal) DCT; its singular values are the
    block's own and its singular vectors the block's turned by the DCT, so the DCT drops out."""
    return np.linalg.svd(blocks.astype(np.float64))


def _block_bits(n_blocks: int, bits: np.ndarray) -> np.ndarray:
    return bits[np.arange(n_blocks) % len(bits)]


def _mark(yuv: np.ndarray, bits: np.ndarray) -> np.ndarray:
    blocks = _blocks(yuv[..., 1])
    rows, cols = blocks.shape[:2]
    u, s, vt = _svd(blocks)
    s0 = s[..., 0]
    centre = SCALE / 4 + SCALE / 2 * _block_bits(rows * cols, bits).reshape(rows, cols)
    below = np.floor((s0 - centre) / SCALE) * SCALE + centre
    rank1 = u[..., :, :1] * vt[..., :1, :]
    rgb = _to_rgb(yuv)
    choices, costs = [], []
    for target in (below, below + SCALE):
        delta = (target - s0)[..., None, None] * rank1
        marked = yuv.copy()
        marked[..., 1] += _pixels(delta, yuv.shape[:2])
        error = ((np.clip(_to_rgb(_in_gamut(marked)), 0, 255) - rgb) ** 2).sum(-1)
        choices.append(marked)
        costs.append(error[:rows * 8, :cols * 8].reshape(rows, 8, cols, 8).sum((1, 3)))
    upper = _pixels(np.broadcast_to((costs[1] < costs[0])[..., None, None], blocks.shape),
                    yuv.shape[:2]) > 0
    return _in_gamut(np.where(upper[..., None], choices[1], choices[0]))


def embed(rgb: np.ndarray, payload: bytes) -> np.ndarray:
    bits = np.unpackbits(np.frombuffer(payload * REPEAT, np.uint8))
    marked = _mark(_to_yuv(_large_enough(rgb)), bits)
    return np.clip(np.rint(_to_rgb(marked)), 0, 255).astype(np.uint8)


def _soft_bits(rgb: np.ndarray) -> np.ndarray:
    """Per block: +1 at the centre of a 1-interval, -1 at the centre of a 0-interval, 0 on a
    border (the library's decoder takes the sign of this), as (blocks,)."""
    u = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV)[..., 1].astype(np.float64)
    s0 = _svd(_blocks(u))[1][..., 0].ravel()
    return np.sin(2 * np.pi * (s0 % SCALE) / SCALE - np.pi)


def _frame_votes(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Soft sums per copy and bit over the frame's blocks, and the hard bits of each copy (the
    library's decoding of this frame), both as (REPEAT, bits)."""
    soft = _soft_bits(rgb)
    n_bits = PAYLOAD_BYTES * 8 * REPEAT
    slot = np.arange(len(soft)) % n_bits
    sums = np.bincount(slot, soft, n_bits)
    ones = np.bincount(slot, soft > 0, n_bits) / np.maximum(np.bincount(slot, None, n_bits), 1)
    return sums.reshape(REPEAT, -1), (ones > 127 / 255).reshape(REPEAT, -1)


def watermark_video(source: str | os.PathLike, out: str | os.PathLike, payload: bytes,
                    progress: Progress | None = None) -> Path:
    progress = progress or Progress()
    info = probe(source)
    out = Path(out)
    silent = out.with_name(f".{out.stem}.marking{out.suffix}")

    def frames():
        for done, frame in enumerate(iter_frames(source, info=info)):
            progress.check_cancelled()
            progress.update(done + 1, info.frames, "watermarking")
            yield embed(frame.image, payload)

    write_video(silent, frames(), info.fps, crf=18)
    try:
        carry_audio(source, silent, out, info.has_audio)
    finally:
        silent.unlink(missing_ok=True)
    return out


def watermark_image(source: str | os.PathLike, out: str | os.PathLike, payload: bytes) -> Path:
    return save_image(out, embed(read_image(source), payload))


def read_payload(path: str | os.PathLike) -> dict:
    """The payload by a soft vote per bit over all blocks of up to 64 frames (or the one
    image), and how strongly the frames agree: the share of copies' bits, read frame by frame
    as the library would, that match it (1.0: every frame gave the same bits)."""
    path = Path(path)
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        images = [read_image(path)]
    else:
        info = probe(path)
        step = max(1, info.frames // READ_FRAMES)
        images = (f.image for k, f in enumerate(iter_frames(path, info=info)) if k % step == 0)
    sums, copies = zip(*(_frame_votes(_large_enough(image)) for image in images))
    bits = (np.sum(sums, axis=(0, 1)) > 0).astype(np.uint8)
    agreement = float((np.concatenate(copies) == bits).mean())
    return {"payload": np.packbits(bits).tobytes().hex(), "agreement": round(agreement, 4),
            "frames": len(copies)}
