"""`generec verify FILE|FOLDER`: read the watermark and say how sure the reading is, name the
generation it identifies (resolved in a corpus when one is given, otherwise the id's first 48
bits: whose generation it would be), load the provenance record exported beside the file, and
validate the file's Content Credentials."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from core.errors import GenerecError, InputError
from core.export.content_credentials import read_credentials
from core.export.expiry import parse_instant
from core.export.gate import file_sha256
from core.fidelity.watermark import FORMAT, WatermarkReading, read_watermark
from core.media import VIDEO_SUFFIXES
from core.store import Store
from core.store.watermarks import generation_by_payload

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def verify_file(store: Store | None, path: str | Path) -> dict:
    """Without a store, the generation is not looked up: `would_be_generation` says whose it
    would be (the payload is the id's first 48 bits)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        reading = read_watermark(path)
        error = None
    except GenerecError as exc:      # not decodable (e.g. damaged): report, do not stop
        reading, error = WatermarkReading(False, None, None, 0.0, 0), str(exc)
    generation = (generation_by_payload(store, reading.payload)
                  if store is not None and reading.found else None)
    generation_id = generation["id"] if generation else None
    provenance = _sidecar(path)
    credentials = read_credentials(path)
    expires_at = (provenance or {}).get("expires_at") or (credentials.get("provenance") or {}).get(
        "expires_at")
    return {"file": str(path), "payload": reading.payload, "agreement": reading.agreement,
            "frames": reading.frames, "watermark": reading.as_dict(),
            **({"watermark_error": error} if error else {}),
            "confidence": confidence(reading),
            "would_be_generation": f"gen-{reading.payload}" if reading.found else None,
            "resolved": store is not None, "generation_id": generation_id,
            "generation": generation, "provenance": provenance,
            "provenance_matches": bool(provenance and generation_id
                                       and provenance.get("generation_id") == generation_id),
            "sha256_matches": (provenance.get("sha256") == file_sha256(path)
                               if provenance and provenance.get("sha256") else None),
            "c2pa": credentials, "expires_at": expires_at,
            "expired": (parse_instant(expires_at, "expires_at") <= datetime.now(timezone.utc)
                        if expires_at else False)}


def verify_path(store: Store | None, path: str | Path) -> list[dict]:
    """One report per file: the file itself, or every video and image in a folder (not its
    subfolders, hidden files or provenance sidecars), in name order. A file that cannot be read
    is reported with its reason and the others go on."""
    path = Path(path)
    if not path.is_dir():
        return [verify_file(store, path)]
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() in (*VIDEO_SUFFIXES, *IMAGE_SUFFIXES))
    if not files:
        raise InputError(f"{path}: no videos or images in this folder")
    reports = []
    for file in files:
        try:
            reports.append(verify_file(store, file))
        except GenerecError as exc:
            reports.append({"file": str(file), "error": str(exc), "payload": None,
                            "generation_id": None})
    return reports


def confidence(reading: WatermarkReading) -> str:
    """How sure the reading is, in words."""
    if not reading.found:
        return "no payload passed the reader's checks"
    frames = f"{reading.agreement:.0%} of the bits read frame by frame agree ({reading.frames} frames)"
    if reading.format != FORMAT:
        return (f"{reading.format} (no check bits): {frames}; "
                f"{reading.bit_agreement:.0%} of blocks agree")
    return (f"Reed-Solomon corrected {reading.bits_corrected} of 155 code bits "
            f"({reading.bit_agreement:.0%} read right, {reading.symbols_erased} of 31 symbols "
            f"erased), CRC-16 matches, {reading.sync_agreement:.0%} of sync bits right; {frames}")


def describe(report: dict) -> list[str]:
    """The lines `generec verify` prints for one file."""
    name = report["file"]
    if "error" in report:
        return [f"{name}: cannot be verified ({report['error']})"]
    mark = report["watermark"]
    lines = []
    if report["generation_id"]:
        lines.append(f"{name}: AI-generated, generation {report['generation_id']} "
                     f"(watermark {mark['format']} {mark['payload']})")
    elif mark["found"] and report["resolved"]:
        lines.append(f"{name}: watermark {mark['format']} {mark['payload']}: would be generation "
                     f"{report['would_be_generation']}..., but no generation of this corpus has it")
    elif mark["found"]:
        lines.append(f"{name}: watermark {mark['format']} {mark['payload']}: AI-generated, "
                     f"generation {report['would_be_generation']}... (the id's first 48 bits; "
                     f"--db CORPUS resolves it)")
    else:
        lines.append(f"{name}: no watermark found"
                     + (f" ({report['watermark_error']})" if report.get("watermark_error") else ""))
    if mark["found"]:
        lines.append(f"  confidence: {report['confidence']}")
    lines.append(f"  Content Credentials: {report['c2pa']['summary']}")
    if report["expires_at"]:
        lines.append(f"  {'expired' if report['expired'] else 'expires'} {report['expires_at']}")
    return lines


def _sidecar(path: Path) -> dict | None:
    sidecar = path.with_name(f"{path.stem}.provenance.json")
    if not sidecar.is_file():
        return None
    try:
        return json.loads(sidecar.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{sidecar}: not a readable provenance record ({exc})") from None
