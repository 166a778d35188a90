"""Content Credentials (C2PA, through c2pa-python): sign an exported file offline with this
installation's local identity, and read a file's manifest back with its validation state.

A local CA is on no public trust list, so a correctly signed export reads as "valid signature,
untrusted CA"; `signed_by_local_ca` says whether the signature chains to this installation's CA.
"""
from __future__ import annotations

import os
from pathlib import Path

from core import __version__
from core.errors import GenerecError
from core.export.local_ca import SigningIdentity, local_ca_pem, signing_identity

SOFTWARE = {"name": "GeneRec Studio", "version": __version__}
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
PROVENANCE_LABEL = "org.generec.provenance"
FORMATS = {".mp4": "video/mp4", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
# Failure codes that concern trust only: the signature and the content are still sound.
TRUST_ONLY = {"signingCredential.untrusted"}


def manifest_for(record: dict, title: str) -> dict:
    """The manifest: first action c2pa.created (AI-made), then our provenance assertion.
    `record` is what the file may carry about itself (the gate leaves the user out)."""
    action = {"action": "c2pa.created", "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
              "softwareAgent": SOFTWARE,
              "parameters": {k: record.get(k) for k in
                             ("generation_id", "task", "source_item", "models", "expires_at")}}
    return {"claim_generator_info": [SOFTWARE], "title": title,
            "assertions": [{"label": "c2pa.actions", "data": {"actions": [action]}},
                           {"label": PROVENANCE_LABEL, "data": record}]}


def sign_file(source: str | os.PathLike, dest: str | os.PathLike, record: dict,
              title: str, identity: SigningIdentity | None = None) -> None:
    """Write `source` with an embedded, signed manifest to `dest` (the format from the
    suffix of `source`)."""
    import c2pa

    source, dest = Path(source), Path(dest)
    identity = identity or signing_identity()
    info = c2pa.C2paSignerInfo(b"es256", identity.chain_pem, identity.key_pem, None)
    try:
        with (c2pa.Signer.from_info(info) as signer,
              c2pa.Builder(manifest_for(record, title)) as builder,
              open(source, "rb") as src, open(dest, "w+b") as dst):
            builder.sign(signer, _format(source), src, dst)
    except c2pa.C2paError as exc:
        dest.unlink(missing_ok=True)
        raise GenerecError(f"{dest.name}: cannot sign Content Credentials ({exc})") from exc


def read_credentials(path: str | os.PathLike, ca_pem: bytes | None = None) -> dict:
    """The file's active manifest and what validating it found. `ca_pem` defaults to this
    installation's CA (None where it never signed anything)."""
    import c2pa

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        kind = path.suffix or "files without a suffix"
        return {"present": False, "valid": False, "summary": f"no C2PA support for {kind}"}
    try:
        manifest, state, results = _read(path, None)
    except c2pa.C2paError as exc:
        return {"present": False, "valid": False, "summary": f"unreadable manifest ({exc})"}
    if manifest is None:
        return {"present": False, "valid": False, "summary": "no C2PA manifest"}
    ca_pem = ca_pem if ca_pem is not None else local_ca_pem()
    local = False
    if ca_pem:
        local = "signingCredential.trusted" in _codes(_read(path, ca_pem)[2], "success")
    failures = _codes(results, "failure")
    signature_valid = ("claimSignature.validated" in _codes(results, "success")
                       and not any(c.startswith(("claimSignature", "signingCredential"))
                                   for c in failures - TRUST_ONLY))
    content_intact = not any(c.startswith("assertion.") for c in failures)
    trusted = "signingCredential.trusted" in _codes(results, "success")
    assertions = {a["label"]: a.get("data") for a in manifest.get("assertions", [])}
    actions = next((d.get("actions", []) for label, d in assertions.items()
                    if label.startswith("c2pa.actions")), [])
    summary = (f"{'valid' if signature_valid else 'invalid'} signature, "
               f"{'content intact' if content_intact else 'content changed after signing'}, "
               f"{'trusted' if trusted else 'untrusted'} CA{' (local)' if local else ''}")
    valid = signature_valid and content_intact and not (failures - TRUST_ONLY)
    return {"present": True, "valid": valid,
            "validation_state": state, "signature_valid": signature_valid,
            "content_intact": content_intact, "trust": "trusted" if trusted else "untrusted",
            "signed_by_local_ca": local, "signer": manifest.get("signature_info", {}),
            "actions": [{k: a.get(k) for k in ("action", "digitalSourceType", "parameters")}
                        for a in actions],
            "provenance": assertions.get(PROVENANCE_LABEL), "failures": sorted(failures),
            "summary": summary}


def _read(path: Path, ca_pem: bytes | None) -> tuple[dict | None, str | None, dict]:
    import c2pa

    context = None
    if ca_pem:
        settings = c2pa.Settings.from_dict({"trust": {"user_anchors": ca_pem.decode()}})
        context = c2pa.Context(settings)
    with open(path, "rb") as stream:
        reader = c2pa.Reader.try_create(_format(path), stream, context=context)
        if reader is None:
            return None, None, {}
        with reader:
            return (reader.get_active_manifest(), reader.get_validation_state(),
                    reader.get_validation_results() or {})


def _codes(results: dict, kind: str) -> set[str]:
    return {entry["code"] for entry in (results.get("activeManifest") or {}).get(kind, [])}


def _format(path: Path) -> str:
    try:
        return FORMATS[path.suffix.lower()]
    except KeyError:
        raise GenerecError(f"{path.name}: Content Credentials support {', '.join(FORMATS)} "
                           f"files only") from None
