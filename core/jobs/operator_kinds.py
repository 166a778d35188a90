"""Job kinds for what the operator runs besides generations (issue 19): the diffusion model
trainings, fairness, audit verify, verify a file and purge expired. Each is the function the
CLI command calls, so the GUI and `generec` give the same answer."""
from __future__ import annotations

from pathlib import Path

from core.jobs.generation import JobFunction
from core.progress import Progress
from core.store import Store


def _train_diffusion(kind: str) -> JobFunction:
    def run(store: Store, params: dict, progress: Progress):
        from core.diffusion.models import train_thumbnail_model, train_video_model
        from core.diffusion.trainer import TrainSettings

        params = dict(params)
        out = params.pop("out", None)
        encoder = params.pop("model", "bundled")
        settings = TrainSettings(**params, command=f"generec-studio train-{kind}-model")
        train = train_video_model if kind == "video" else train_thumbnail_model
        return train(store, Path(out) if out else None, settings, encoder=encoder,
                     progress=progress)
    return run


def _fairness(store: Store, params: dict, progress: Progress):
    from core.fidelity.checks.fairness import outcome_parity
    from core.store.reviews import generation_ids

    progress.update(0, 1, "approval and pass rates per group")
    report = outcome_parity(store, generation_ids(store))
    progress.update(1, 1, "done")
    return report


def _audit_verify(store: Store, params: dict, progress: Progress):
    from core.store.audit import verify_chain

    progress.update(0, 1, "recomputing the audit log's hash chain")
    result = verify_chain(store)
    progress.update(1, 1, "intact" if result["ok"] else "broken")
    return result


def _verify_file(store: Store, params: dict, progress: Progress):
    from core.export.verify import verify_file

    progress.update(0, 1, f"reading {Path(params['file']).name}")
    result = verify_file(store, params["file"])
    progress.update(1, 1, "done")
    return result


def _purge_expired(store: Store, params: dict, progress: Progress):
    from core.export.expiry import parse_instant, purge_expired

    now = parse_instant(params["now"], "now") if params.get("now") else None
    progress.update(0, 1, "dry run" if params.get("dry_run") else "removing expired AI items")
    result = purge_expired(store, now, dry_run=bool(params.get("dry_run")))
    progress.update(1, 1, f"{len(result['removed'])} expired")
    return result


OPERATOR_KINDS: dict[str, JobFunction] = {
    "train-video-model": _train_diffusion("video"),
    "train-thumbnail-model": _train_diffusion("thumbnail"),
    "fairness": _fairness,
    "audit-verify": _audit_verify,
    "verify-file": _verify_file,
    "purge-expired": _purge_expired,
}
