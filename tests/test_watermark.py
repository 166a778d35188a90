"""The invisible watermark: on content where dwtDctSvd's U channel clips (greyscale frames that
are mostly pure white, like the old cartoon GIF in shared/media, whose payload was lost), the
payload code's correction and acceptance rule, v1 exports, and unmarked files."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from core.fidelity.checks.authenticity import psnr
from core.fidelity import watermark_code as code
from core.fidelity.watermark import (FORMAT, LEGACY_FORMAT, SCALES, embed, embed_v1, read_payload,
                                     read_watermark, watermark_video)
from core.media import write_video


def cartoon_frame(k: int, size: tuple[int, int] = (320, 272)) -> np.ndarray:
    """Greyscale drawing on pure white with pure black outlines, moving a little per frame."""
    w, h = size
    grey = np.full((h, w), 255, np.uint8)
    cv2.ellipse(grey, (110 + 3 * k, 140), (70, 50), 0, 0, 360, 0, 4)
    cv2.ellipse(grey, (110 + 3 * k, 140), (30, 20), 0, 0, 360, 150, -1)
    cv2.rectangle(grey, (200, 40 + 2 * k), (290, 120 + 2 * k), 0, -1)
    cv2.putText(grey, "POLKA", (40, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.5, 0, 3)
    return np.repeat(grey[:, :, None], 3, axis=2)


@pytest.fixture(scope="module")
def cartoon(tmp_path_factory):
    path = tmp_path_factory.mktemp("cartoon") / "cartoon.mp4"
    return write_video(path, (cartoon_frame(k) for k in range(12)), fps=10)


def test_payload_survives_h264_on_white_greyscale_frames(cartoon, tmp_path):
    """Embed + H.264 + read as the export gate does it, for several payloads."""
    rng = np.random.default_rng(7)
    for k in range(4):
        payload = rng.integers(0, 256, 6, dtype=np.uint8).tobytes()
        found = read_payload(watermark_video(cartoon, tmp_path / f"m{k}.mp4", payload))
        assert found["payload"] == payload.hex() and found["agreement"] >= 0.9


def test_library_decoder_reads_the_mark_and_white_stays_close():
    """The carrier stays invisible-watermark's dwtDctSvd: on a 256 x 256 frame (the canonical
    size, so the grid is the frame's own) the library's decoder, asked for one bit per block,
    reads every block's bit of the v2 tile; and the mark costs little on white: luma moves only
    where the colour would clip."""
    from imwatermark import WatermarkDecoder

    frame = cartoon_frame(0, size=(256, 256))
    payload = bytes.fromhex("c0ffee123456")
    marked = embed(frame, payload)
    blocks = 256 // 8
    decoded = WatermarkDecoder("bits", blocks * blocks).decode(
        np.ascontiguousarray(marked[:, :, ::-1]), "dwtDctSvd", scales=SCALES)
    tile = code.tile_bits(payload)
    rows = np.arange(blocks)
    expected = tile[rows[:, None] % code.TILE_ROWS, rows[None, :] % code.TILE_COLS].ravel()
    assert (np.asarray(decoded) == expected).all()
    assert psnr(marked, frame) > 36


def test_code_corrects_nine_symbols_and_accepts_nothing_random():
    """RS(31, 13): any 9 wrong symbols are corrected, also with the tile shifted as a crop
    shifts it; 600 random tiles (sync check off, so Reed-Solomon and the CRC alone decide)
    yield no payload."""
    rng = np.random.default_rng(11)
    payload = bytes.fromhex("0123456789ab")
    code_at = code.layout()[0]
    seen = np.ones(code.TILE, bool)
    for trial in range(20):
        soft = 2.0 * code.tile_bits(payload) - 1
        flat = soft.ravel()
        for symbol in rng.choice(code.N_SYMBOLS, 9, replace=False):
            bits = code_at[symbol * code.SYMBOL_BITS:(symbol + 1) * code.SYMBOL_BITS]
            flat[bits[rng.integers(0, 5)]] *= -1         # one wrong bit in each of 9 symbols
        shift = (int(rng.integers(code.TILE_ROWS)), int(rng.integers(code.TILE_COLS)))
        scores = code.sync_scores(np.roll(soft, (-shift[0], -shift[1]), (0, 1)))
        assert np.unravel_index(scores.argmax(), scores.shape) == shift
        decoded = code.decode(soft, seen)
        assert decoded is not None and decoded.payload == payload
        assert decoded.bits_corrected == 9 and decoded.symbols_corrected == 9
    strict, code.MIN_SYNC_AGREEMENT = code.MIN_SYNC_AGREEMENT, 0.0
    try:
        claimed = [code.decode(rng.normal(size=code.TILE), seen) for _ in range(600)]
    finally:
        code.MIN_SYNC_AGREEMENT = strict
    assert claimed == [None] * 600


def test_v1_exports_stay_readable_and_are_named(tmp_path):
    """Exports made before the v2 format carry 48 bits three times in raster order."""
    payload = bytes.fromhex("5eed0f00dcaf")
    video = write_video(tmp_path / "v1.mp4", (embed_v1(cartoon_frame(k), payload) for k in range(8)),
                        fps=8, crf=18)
    found = read_watermark(video)
    assert (found.found, found.format, found.payload) == (True, LEGACY_FORMAT, payload.hex())
    marked = write_video(tmp_path / "v2.mp4", (embed(cartoon_frame(k), payload) for k in range(8)),
                         fps=8, crf=18)
    assert read_watermark(marked).format == FORMAT


@pytest.mark.parametrize("name", ["pigs_in_a_polka.gif", "fire2.mp4", "mmaction2_demo.mp4"])
def test_unmarked_real_clips_claim_no_payload(shared_media, name):
    """A greyscale GIF and a dark clip made v1's old rule (frame agreement >= 0.9) claim a
    payload; neither format's rule may."""
    found = read_watermark(shared_media / name)
    assert not found.found and found.payload is None and found.format is None
