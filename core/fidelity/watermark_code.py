"""The watermark's payload code (format `generec-v2`): what the bits of a mark mean, how they
are laid out on the frame, and the acceptance rule that keeps unmarked files from being read
as marked.

Message: the 48-bit generation id and its CRC-16 (CCITT, `binascii.crc_hqx`), 64 bits, plus one
zero bit, as 13 five-bit symbols. Code: Reed-Solomon RS(31, 13) over GF(32) (`reedsolo`), 18
parity symbols: 155 code bits that survive 9 wrong symbols, or 18 erased ones (2 x errors +
erasures <= 18). Layout: a 19-row x 10-column tile of 8 x 8-pixel blocks (at the grid's scale,
see watermark.py) holds the 155 code bits and 35 known sync bits; the tile repeats over the frame,
so a crop only shifts it cyclically, and every frame repeats it again (10 columns still fit
whole in a 9:16 crop of a 16:9 or square frame). The 190 slots are
interleaved by a fixed pseudo-random order (sha256 of the slot number), so the five bits of a
symbol lie far apart and a damaged region of the frame hits many symbols lightly rather than a
few hard.

Reading: each slot's soft votes (over all its blocks and frames) are summed; the sync bits find
the tile's cyclic shift; the code bits' signs are decoded, first as they are, then with the
least reliable symbols erased. A payload is accepted only when all of these hold:
- Reed-Solomon decodes, and the corrected word is a codeword within the code's guaranteed
  radius (2 x changed symbols + erased symbols <= 18; reedsolo alone may return a wrong
  "correction" beyond it),
- the CRC-16 over the id matches,
- the sync bits agree with the known pattern at least `MIN_SYNC_AGREEMENT`.
A random word passes the first two with probability about 1e-4 x 1.5e-5 at the widest erasure
setting, and the reader makes at most a few dozen attempts per file.
"""
from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

FORMAT = "generec-v2"
TILE_ROWS, TILE_COLS = 19, 10
TILE = (TILE_ROWS, TILE_COLS)
SLOTS = TILE_ROWS * TILE_COLS
SYMBOL_BITS = 5
N_SYMBOLS = 31
DATA_SYMBOLS = 13
PARITY = N_SYMBOLS - DATA_SYMBOLS
CODE_BITS = N_SYMBOLS * SYMBOL_BITS           # 155
SYNC_BITS = SLOTS - CODE_BITS                  # 35
PAYLOAD_BYTES = 6
PRIM = 37                 # x^5 + x^2 + 1, a primitive polynomial of GF(32)
MIN_SYNC_AGREEMENT = 0.7
ERASURE_STEPS = (0, 4, 8, 12, 16)


@lru_cache(maxsize=1)
def _codec():
    import reedsolo

    return reedsolo.RSCodec(PARITY, nsize=N_SYMBOLS, c_exp=SYMBOL_BITS, prim=PRIM)


def _digest_bits(label: str, n: int) -> np.ndarray:
    stream = b"".join(hashlib.sha256(f"{label}/{k}".encode()).digest() for k in range(n // 256 + 1))
    return np.unpackbits(np.frombuffer(stream, np.uint8))[:n]


@lru_cache(maxsize=1)
def layout() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flat tile positions of the code bits (CODE_BITS,) and of the sync bits (SYNC_BITS,),
    and the sync bits' values (0/1). Frozen: changing it makes a new format."""
    order = sorted(range(SLOTS),
                   key=lambda k: hashlib.sha256(f"generec-v2/slot/{k}".encode()).digest())
    order = np.array(order)
    return order[:CODE_BITS], order[CODE_BITS:], _digest_bits("generec-v2/sync", SYNC_BITS)


def _symbols_to_bits(symbols) -> np.ndarray:
    values = np.asarray(list(symbols), np.uint8)
    return ((values[:, None] >> np.arange(SYMBOL_BITS - 1, -1, -1)) & 1).astype(np.uint8).ravel()


def _bits_to_symbols(bits: np.ndarray) -> bytearray:
    weights = 1 << np.arange(SYMBOL_BITS - 1, -1, -1)
    return bytearray((bits.reshape(-1, SYMBOL_BITS) * weights).sum(1).astype(np.uint8).tolist())


def crc16(payload: bytes) -> bytes:
    return binascii.crc_hqx(payload, 0xFFFF).to_bytes(2, "big")


def codeword(payload: bytes) -> np.ndarray:
    """The 155 code bits of a 6-byte payload."""
    if len(payload) != PAYLOAD_BYTES:
        raise ValueError(f"the payload is {PAYLOAD_BYTES} bytes, got {len(payload)}")
    message = np.unpackbits(np.frombuffer(payload + crc16(payload), np.uint8))
    message = np.concatenate([message, np.zeros(DATA_SYMBOLS * SYMBOL_BITS - len(message), np.uint8)])
    return _symbols_to_bits(_codec().encode(_bits_to_symbols(message)))


def tile_bits(payload: bytes) -> np.ndarray:
    """The (TILE_ROWS, TILE_COLS) bits a mark repeats over the frame."""
    code_at, sync_at, sync = layout()
    tile = np.zeros(SLOTS, np.uint8)
    tile[code_at] = codeword(payload)
    tile[sync_at] = sync
    return tile.reshape(TILE)


def sync_scores(soft: np.ndarray) -> np.ndarray:
    """For a TILE-shaped array of summed soft votes (positive: 1), a TILE-shaped array of
    normalised correlations with the sync pattern, one per cyclic shift (dr, dc), where shift
    (dr, dc) means the tile as embedded is np.roll(soft, (dr, dc), (0, 1)). About N(0, 1) on
    noise; sqrt(SYNC_BITS) = 5.9 when every sync bit is read right."""
    _, sync_at, sync = layout()
    sign = 2.0 * sync - 1
    rows, cols = np.divmod(sync_at, TILE_COLS)
    dr, dc = np.meshgrid(np.arange(TILE_ROWS), np.arange(TILE_COLS), indexing="ij")
    taken = soft[(rows[None, None] - dr[..., None]) % TILE_ROWS,
                 (cols[None, None] - dc[..., None]) % TILE_COLS]
    norm = np.sqrt((taken ** 2).sum(-1))
    return np.where(norm > 0, (taken * sign).sum(-1) / np.maximum(norm, 1e-12), 0.0)


@dataclass(frozen=True)
class Decoded:
    payload: bytes
    bits_corrected: int        # code bits whose read sign the code corrected
    symbols_corrected: int     # of them, symbols changed (erased ones included)
    symbols_erased: int
    bit_agreement: float       # share of observed code bits read right before correction
    sync_agreement: float      # share of sync bits read right


def decode(soft: np.ndarray, observed: np.ndarray) -> Decoded | None:
    """Decode a TILE-shaped array of summed soft votes, already shifted into place, with the
    mask of slots that got any vote. None unless the acceptance rule holds."""
    code_at, sync_at, sync = layout()
    flat, seen = soft.ravel(), observed.ravel()
    sync_seen = seen[sync_at]
    if not sync_seen.any():
        return None
    sync_agreement = float(((flat[sync_at] > 0) == sync)[sync_seen].mean())
    if sync_agreement < MIN_SYNC_AGREEMENT:
        return None
    code, code_seen = flat[code_at], seen[code_at]
    bits = (code > 0).astype(np.uint8)
    reliability = np.where(code_seen, np.abs(code), -1.0).reshape(N_SYMBOLS, SYMBOL_BITS).min(1)
    unseen = np.flatnonzero(reliability < 0)
    received = _bits_to_symbols(bits)
    by_reliability = [int(k) for k in np.argsort(reliability, kind="stable") if reliability[k] >= 0]
    tried = set()
    for extra in ERASURE_STEPS:
        erased = sorted(set(unseen.tolist()) | set(by_reliability[:extra]))
        if len(erased) > PARITY or tuple(erased) in tried:
            continue
        tried.add(tuple(erased))
        found = _try(received, erased)
        if found is None:
            continue
        corrected = _symbols_to_bits(found)
        message = np.packbits(corrected[:DATA_SYMBOLS * SYMBOL_BITS][:8 * (PAYLOAD_BYTES + 2)]).tobytes()
        payload, crc = message[:PAYLOAD_BYTES], message[PAYLOAD_BYTES:]
        if crc16(payload) != crc:
            continue
        wrong = (corrected != bits) & code_seen
        return Decoded(payload, int(wrong.sum()),
                       int(sum(a != b for a, b in zip(found, received))), len(erased),
                       round(float(1 - wrong.sum() / max(code_seen.sum(), 1)), 4),
                       round(sync_agreement, 4))
    return None


def _try(received: bytearray, erased: list[int]) -> bytearray | None:
    """The corrected codeword, only when it lies within the code's guaranteed radius."""
    from reedsolo import ReedSolomonError

    codec = _codec()
    word = bytearray(received)
    for k in erased:
        word[k] = 0
    try:
        _, full, _ = codec.decode(word, erase_pos=erased or None)
    except (ReedSolomonError, ZeroDivisionError, ValueError, IndexError):
        return None
    full = bytearray(full)
    if len(full) != N_SYMBOLS or not codec.check(full)[0]:
        return None
    changed = sum(1 for k in range(N_SYMBOLS) if k not in erased and full[k] != received[k])
    if 2 * changed + len(erased) > PARITY:
        return None
    return full
