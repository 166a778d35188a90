"""Invisible watermark: invisible-watermark's dwtDctSvd transform as the carrier, a payload that
names the generation (the first 48 bits of its id) under an error-correcting code, laid out so
that the reader finds it again after re-encoding, scaling, cropping and trimming.

The carrier. dwtDctSvd hides each bit in the U channel: the largest singular value s of the DCT
of a 4x4 block of the Haar approximation (an 8x8-pixel block) is moved to the centre of a 0- or
1-interval of a `SCALE` period. The library moves it within its own period, up or down
blindly, and then converts to RGB, where the signal clips wherever blue sits near 0 or 255.
Here the embedding is done in float and, per block, the target period (the one below or above
s, both read the same) is the one that costs fewer RGB errors once the colour is back in gamut;
a pixel that would still clip gets its luma shifted just enough, which leaves U intact.

Format `generec-v2` (watermark_code.py: Reed-Solomon + CRC-16 + sync, a 19 x 10-block tile
repeated over the frame). The block grid lives on the frame scaled so that its short side is
one of `GRIDS` (256 or 160) pixels: the change is computed there and scaled up to the frame, so
a platform's rescaling moves the grid with the picture and the reader undoes it by scaling the
frame back to that short side. Centre crops to a narrower aspect (9:16, 1:1) keep the height of
a landscape frame (the width of a portrait one), so the reader tries both sides as the
canonical one; a crop's offset is found by trying the 16 even pixel phases of the block grid and
the tile's 190 cyclic shifts (by the sync bits). Frames below 256 pixels on the short side are
scaled up for embedding, so the export is larger than the source.

Format `generec-v1` (exports before issue 20): 48 bits written three times in raster order at
the frame's own size; still read, when no v2 mark is found, and named as such."""
from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from core.errors import InputError
from core.fidelity import watermark_code as code
from core.media import iter_frames, probe, read_image, save_image, write_video
from core.media.write import carry_audio
from core.progress import Progress

METHOD = "dwtDctSvd"
SCALE = 64          # the U channel's period; the library's default is 36, too weak for H.264
SCALES = [0, SCALE, 0]
PAYLOAD_BYTES = code.PAYLOAD_BYTES
MIN_SIDE = 256
# The v2 block grid lives on the frame scaled so that its short side is one of GRIDS: 256 for
# frames whose short side is 256 (generated outputs, small sources scaled up), where the 8-pixel
# blocks then sit on the codec's own 8 x 8 grid; 160 for every other size, where blocks of 1/20
# of the short side (13.5 pixels at 270, 36 at 720) survive compression and scaling far better
# than 8-pixel blocks off the codec's grid (bit accuracy after half size + CRF 23 on a 480x270
# clip: 0.87 at 256, 0.91 at 160; on the 256x256 demo: 0.97 at 256, 0.90 at 160).
GRIDS = (256, 160)
READ_FRAMES = 64
CANDIDATES = 6      # (phase, shift) alignments decoded per side hypothesis, best sync first
FORMAT = code.FORMAT
LEGACY_FORMAT = "generec-v1"
LEGACY_REPEAT = 3
LEGACY_MIN_AGREEMENT = 0.9
LEGACY_MIN_BLOCK_AGREEMENT = 0.85
LEGACY_MIN_ONES = 6
BLOCK = 4           # DCT block in the Haar approximation, so 8x8 pixels
# RGB = Y + CHROMA_TO_RGB @ (U - 128, V - 128), OpenCV's YUV (what the library converts with)
CHROMA_TO_RGB = np.array([[0.0, 1.140], [-0.395, -0.581], [2.032, 0.0]], np.float32)
# U - 128 = 0.492 (B - Y), Y = 0.299 R + 0.587 G + 0.114 B (OpenCV's RGB to YUV)
_U_FROM_RGB = (-0.492 * 0.299, -0.492 * 0.587, 0.492 * (1 - 0.114))


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


def _rgb_planes(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, ...]:
    """R, G, B = Y + CHROMA_TO_RGB @ (U - 128, V - 128), plane by plane (a matrix product over
    a last axis of 2 and reductions over one of 3 are several times slower)."""
    u, v = u - 128, v - 128
    (_, rv), (gu, gv), (bu, _) = CHROMA_TO_RGB
    return y + rv * v, y + gu * u + gv * v, y + bu * u


def _to_rgb(yuv: np.ndarray) -> np.ndarray:
    return np.dstack(_rgb_planes(yuv[..., 0], yuv[..., 1], yuv[..., 2]))


def _luma_shift(y: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """How far luma must move for the colour to stay within 0..255: the overshoot, half-way
    when both ends overshoot; chroma, which carries the mark, is untouched."""
    r, g, b = _rgb_planes(y, u, v)
    over = np.maximum(np.maximum(np.maximum(r, g), b) - 255, 0)
    under = np.maximum(-np.minimum(np.minimum(r, g), b), 0)
    return np.where((over > 0) & (under > 0), (over - under) / 2, over - under)


def _in_gamut(yuv: np.ndarray) -> np.ndarray:
    out = yuv.copy()
    out[..., 0] -= _luma_shift(yuv[..., 0], yuv[..., 1], yuv[..., 2])
    return out


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


def _grid_for(short_side: int) -> int:
    return GRIDS[0] if short_side == MIN_SIDE else GRIDS[1]


def _canonical_size(width: int, height: int, side: int, grid: int) -> tuple[int, int]:
    """The frame's size once `side` (its width or height) is scaled to `grid`."""
    factor = grid / side
    return max(8, round(width * factor)), max(8, round(height * factor))


def _tile_layout(rows: int, cols: int, tile: np.ndarray) -> np.ndarray:
    return tile[np.arange(rows)[:, None] % code.TILE_ROWS, np.arange(cols)[None, :] % code.TILE_COLS]


def _raster_layout(rows: int, cols: int, bits: np.ndarray) -> np.ndarray:
    """v1 (and the library's own) layout: bit k of the word in block k modulo its length."""
    return bits[np.arange(rows * cols) % len(bits)].reshape(rows, cols)


def _mark(yuv: np.ndarray, layout) -> np.ndarray:
    """`layout(rows, cols)`: the bit of each block."""
    blocks = _blocks(yuv[..., 1])
    rows, cols = blocks.shape[:2]
    u, s, vt = _svd(blocks)
    s0 = s[..., 0]
    bits = layout(rows, cols)
    centre = SCALE / 4 + SCALE / 2 * bits
    below = np.floor((s0 - centre) / SCALE) * SCALE + centre
    rank1 = u[..., :, :1] * vt[..., :1, :]
    y, chroma_u, chroma_v = yuv[..., 0], yuv[..., 1], yuv[..., 2]
    original = _rgb_planes(y, chroma_u, chroma_v)
    shape = chroma_u.shape
    choices, costs = [], []
    for target in (below, below + SCALE):
        marked_u = chroma_u + _pixels((target - s0)[..., None, None] * rank1, shape)
        marked_y = y - _luma_shift(y, marked_u, chroma_v)
        r, g, b = (np.clip(c, 0, 255) for c in _rgb_planes(marked_y, marked_u, chroma_v))
        error = (r - original[0]) ** 2 + (g - original[1]) ** 2 + (b - original[2]) ** 2
        # what a reader will see once the colour is clipped to 0..255: where clipping undoes
        # the mark in one period and not in the other, the one that reads right wins
        seen = _soft(_largest_singular(_blocks(_U_FROM_RGB[0] * r + _U_FROM_RGB[1] * g
                                               + _U_FROM_RGB[2] * b + 128)))
        wrong = (seen > 0) != (bits > 0)
        choices.append((marked_y, marked_u))
        costs.append(error[:rows * 8, :cols * 8].reshape(rows, 8, cols, 8).sum((1, 3))
                     + wrong * 1e12)
    upper = _pixels(np.broadcast_to((costs[1] < costs[0])[..., None, None], blocks.shape),
                    shape) > 0
    return np.dstack([np.where(upper, choices[1][0], choices[0][0]),
                      np.where(upper, choices[1][1], choices[0][1]), chroma_v])


def embed(rgb: np.ndarray, payload: bytes) -> np.ndarray:
    """The frame (scaled up first when its short side is below 256) with the v2 mark."""
    rgb = _large_enough(rgb)
    height, width = rgb.shape[:2]
    yuv = _to_yuv(rgb)
    size = _canonical_size(width, height, min(width, height), _grid_for(min(width, height)))
    tile = code.tile_bits(payload)

    def layout(rows, cols):
        return _tile_layout(rows, cols, tile)

    if size == (width, height):
        marked = _mark(yuv, layout)
    else:
        small = cv2.resize(yuv, size, interpolation=cv2.INTER_AREA)
        change = cv2.resize(_mark(small, layout) - small, (width, height),
                            interpolation=cv2.INTER_LINEAR)
        marked = _in_gamut(yuv + change)
    return np.clip(np.rint(_to_rgb(marked)), 0, 255).astype(np.uint8)


def embed_v1(rgb: np.ndarray, payload: bytes) -> np.ndarray:
    """The v1 mark (48 bits three times, raster order, at the frame's own size), as exports
    made before issue 20 carry it; kept so that their reading stays tested."""
    bits = np.unpackbits(np.frombuffer(payload * LEGACY_REPEAT, np.uint8))
    marked = _mark(_to_yuv(_large_enough(rgb)), lambda rows, cols: _raster_layout(rows, cols, bits))
    return np.clip(np.rint(_to_rgb(marked)), 0, 255).astype(np.uint8)


def _soft(s0: np.ndarray) -> np.ndarray:
    """+1 at the centre of a 1-interval, -1 at the centre of a 0-interval, 0 on a border (the
    library's decoder takes the sign of this)."""
    return np.sin(2 * np.pi * (s0 % SCALE) / SCALE - np.pi)


def _largest_singular(blocks: np.ndarray) -> np.ndarray:
    """The largest singular value of each 4x4 block, by power iteration on B^T B (a U block is
    nearly constant, so its top singular vector is near the all-ones one: three steps give the
    value to well under 0.01)."""
    gram = np.einsum("...ij,...ik->...jk", blocks, blocks)
    v = gram.sum(-1)
    for _ in range(2):
        v = np.einsum("...jk,...k->...j", gram, v)
        v /= np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    return np.sqrt(np.maximum(np.einsum("...j,...jk,...k->...", v, gram, v), 0))


def _u_plane(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV)[..., 1]


def _approximation(u: np.ndarray) -> np.ndarray:
    h, w = u.shape[0] // 2 * 2, u.shape[1] // 2 * 2
    return (u[0:h:2, 0:w:2] + u[1:h:2, 0:w:2] + u[0:h:2, 1:w:2] + u[1:h:2, 1:w:2]) / 2


PHASES = [(dy, dx) for dy in range(BLOCK) for dx in range(BLOCK)]   # in approximation pixels


def _canonical_approximation(u: np.ndarray, side: str, grid: int) -> np.ndarray:
    """The Haar approximation of the U plane scaled so that its `side` is `grid`."""
    height, width = u.shape
    size = _canonical_size(width, height, height if side == "height" else width, grid)
    scaled = cv2.resize(u.astype(np.float32), size,
                        interpolation=cv2.INTER_AREA if size[0] < width else cv2.INTER_CUBIC)
    return _approximation(scaled.astype(np.float64))


def _slots(rows: int, cols: int) -> np.ndarray:
    return ((np.arange(rows)[:, None] % code.TILE_ROWS) * code.TILE_COLS
            + np.arange(cols)[None, :] % code.TILE_COLS).ravel()


def _phase_search_votes(ca: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Summed soft votes and block counts per tile slot at every grid phase, both
    (len(PHASES), TILE * TILE), for the search only: each block's largest singular value is
    taken as its Frobenius norm (for U blocks, nearly rank one, the two differ by under 1 of
    the 64 period: 99.99% of blocks of real frames read the same bit), which one integral
    image gives for all 16 phases at once."""
    n = code.SLOTS
    integral = np.pad((ca * ca).cumsum(0).cumsum(1), ((1, 0), (1, 0)))
    windows = (integral[BLOCK:, BLOCK:] - integral[:-BLOCK, BLOCK:] - integral[BLOCK:, :-BLOCK]
               + integral[:-BLOCK, :-BLOCK])
    soft = _soft(np.sqrt(np.maximum(windows, 0)))
    sums, counts = np.zeros((len(PHASES), n)), np.zeros((len(PHASES), n))
    for k, (dy, dx) in enumerate(PHASES):
        rows, cols = (ca.shape[0] - dy) // BLOCK, (ca.shape[1] - dx) // BLOCK
        slot = _slots(rows, cols)
        sums[k] = np.bincount(slot, soft[dy::BLOCK, dx::BLOCK][:rows, :cols].ravel(), n)
        counts[k] = np.bincount(slot, None, n)
    return sums, counts


def _phase_votes(ca: np.ndarray, phase: int) -> np.ndarray:
    """Summed soft votes per tile slot at one grid phase, (TILE, TILE), with each block's
    largest singular value as dwtDctSvd defines it."""
    dy, dx = PHASES[phase]
    part = ca[dy:, dx:]
    rows, cols = part.shape[0] // BLOCK, part.shape[1] // BLOCK
    blocks = part[:rows * BLOCK, :cols * BLOCK].reshape(rows, BLOCK, cols, BLOCK).swapaxes(1, 2)
    return np.bincount(_slots(rows, cols), _soft(_largest_singular(blocks)).ravel(),
                       code.SLOTS).reshape(code.TILE)


@dataclass(frozen=True)
class WatermarkReading:
    """What the reader found in a file. `found` only when a format's acceptance rule holds
    (v2: Reed-Solomon within its radius, CRC-16, sync bits; v1: agreement >= 0.9)."""
    found: bool
    payload: str | None            # the 48-bit id, hex
    format: str | None             # FORMAT, LEGACY_FORMAT, or None
    agreement: float               # share of the bits read frame by frame that match the mark
    frames: int
    bits_corrected: int | None = None      # v2: code bits the Reed-Solomon code corrected
    symbols_erased: int | None = None      # v2: symbols (of 31) erased as least reliable
    bit_agreement: float | None = None     # v2: code bits right before correction (of 155)
    sync_agreement: float | None = None    # v2: sync bits right (of 41)
    sync_score: float | None = None        # v2: best sync correlation (about N(0, 1) on noise)
    grid: str | None = None                # v2: the side taken as canonical, offset in pixels
    raw_bits: str | None = None            # the best alignment's code bits as read (hex)

    def as_dict(self) -> dict:
        return asdict(self)


def _frames(path: Path) -> list[np.ndarray]:
    if path.suffix.lower() in (".png", ".jpg", ".jpeg"):
        return [read_image(path)]
    info = probe(path)
    step = max(1, -(-info.frames // READ_FRAMES))
    return [f.image for k, f in enumerate(iter_frames(path, info=info)) if k % step == 0][:READ_FRAMES]


def read_watermark(path: str | os.PathLike) -> WatermarkReading:
    """The v2 mark (both grids, both sides tried as the short one, each at every grid phase
    and tile shift), else the v1 mark, else a reading with `found` False."""
    planes = [_u_plane(image) for image in _frames(Path(path))]
    height, width = planes[0].shape
    sides = ["height", "width"] if height <= width else ["width", "height"]
    best = None
    for grid in GRIDS:
        for side in sides[:1] if height == width else sides:
            reading = _read_v2(planes, side, grid)
            if reading.found:
                return reading
            if best is None or (reading.sync_score or 0) > (best.sync_score or 0):
                best = reading
    legacy = _read_v1(planes)
    return legacy if legacy.found else best


def _read_v2(planes: list[np.ndarray], side: str, grid: int) -> WatermarkReading:
    """Search every phase and shift by the sync bits (with the fast block norm), then decode
    the best `CANDIDATES` alignments from the exact votes at their phase."""
    cas = [_canonical_approximation(u, side, grid) for u in planes]
    searched = [_phase_search_votes(ca) for ca in cas]
    counts = np.sum([c for _, c in searched], axis=0).reshape(-1, *code.TILE)   # (phases, *TILE)
    z = np.sum([s for s, _ in searched], axis=0).reshape(-1, *code.TILE) / np.sqrt(np.maximum(counts, 1))
    scores = np.stack([code.sync_scores(zk) for zk in z])      # (phases, *TILE) over shifts
    order = np.argsort(scores.ravel())[::-1][:CANDIDATES]
    code_at = code.layout()[0]
    exact, first = {}, None
    for flat in order:
        phase, dr, dc = (int(k) for k in np.unravel_index(flat, scores.shape))
        if phase not in exact:
            exact[phase] = np.stack([_phase_votes(ca, phase) for ca in cas])   # (frames, *TILE)
        shift = (dr, dc)
        seen = np.roll(counts[phase] > 0, shift, (0, 1))
        tile_z = np.roll(exact[phase].sum(0) / np.sqrt(np.maximum(counts[phase], 1)), shift, (0, 1))
        decoded = code.decode(tile_z, seen)
        raw = np.packbits((tile_z.ravel()[code_at] > 0).astype(np.uint8)).tobytes().hex()
        dy, dx = PHASES[phase]
        where = f"{side} {grid} px, phase ({2 * dy}, {2 * dx}) px, tile shift ({dr}, {dc})"
        score = round(float(scores.ravel()[flat]), 2)
        if decoded is None:
            first = first or WatermarkReading(False, None, None, 0.0, len(planes),
                                              sync_score=score, grid=where, raw_bits=raw)
            continue
        frames = np.roll(exact[phase], shift, (1, 2))
        expected = code.tile_bits(decoded.payload).astype(bool)
        agreement = float(((frames > 0) == expected)[np.broadcast_to(seen, frames.shape)].mean())
        return WatermarkReading(True, decoded.payload.hex(), FORMAT, round(agreement, 4),
                                len(planes), decoded.bits_corrected, decoded.symbols_erased,
                                decoded.bit_agreement, decoded.sync_agreement, score, where, raw)
    return first


def _read_v1(planes: list[np.ndarray]) -> WatermarkReading:
    """The v1 payload by a soft vote per bit over all blocks of all frames. v1 has no check
    bits, and content alone makes frames agree (a still or greyscale clip reads the same bits
    in every frame: the rule of v1's own reader, agreement >= 0.9, claimed a payload in 3 of
    the 12 unmarked clips in shared/media), so a v1 payload is accepted only when
    - the copies' bits, read frame by frame as the library would, agree >= 0.9 with it,
    - each block, not only each frame's vote, agrees with it (>= 0.85; 0.37-0.69 on those
      unmarked clips, 0.94-0.99 on v1 exports),
    - it is not nearly constant (6..42 ones of 48: flat or black areas all read one bit)."""
    votes = [_legacy_votes(u) for u in planes]
    bits = (np.sum([v[0] for v in votes], axis=(0, 1)) > 0).astype(np.uint8)
    agreement = float((np.concatenate([v[1] for v in votes]) == bits).mean())
    word = np.tile(bits, LEGACY_REPEAT)
    block_agreement = float(np.mean([((v[2] > 0) == word[np.arange(len(v[2])) % len(word)]).mean()
                                     for v in votes]))
    payload = np.packbits(bits).tobytes().hex()
    found = (agreement >= LEGACY_MIN_AGREEMENT and block_agreement >= LEGACY_MIN_BLOCK_AGREEMENT
             and LEGACY_MIN_ONES <= bits.sum() <= len(bits) - LEGACY_MIN_ONES)
    return WatermarkReading(found, payload if found else None, LEGACY_FORMAT if found else None,
                            round(agreement, 4), len(planes), bit_agreement=round(block_agreement, 4),
                            raw_bits=payload)


def _legacy_votes(u: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft sums per copy and bit over the frame's blocks and the hard bits of each copy (the
    library's decoding of this frame), both as (LEGACY_REPEAT, bits), and the blocks' soft
    values. Frames below 256 pixels are scaled up first, as v1 embedded them."""
    soft = _soft(_largest_singular(_blocks(_large_enough(u).astype(np.float64))).ravel())
    n_bits = PAYLOAD_BYTES * 8 * LEGACY_REPEAT
    slot = np.arange(len(soft)) % n_bits
    sums = np.bincount(slot, soft, n_bits)
    ones = np.bincount(slot, soft > 0, n_bits) / np.maximum(np.bincount(slot, None, n_bits), 1)
    return sums.reshape(LEGACY_REPEAT, -1), (ones > 127 / 255).reshape(LEGACY_REPEAT, -1), soft


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
    """`read_watermark` as a plain dict (what the export gate records as evidence)."""
    return read_watermark(path).as_dict()
