"""Which demo seeds each bundled model saw in training, so that a report can say whether it is
measured on a corpus those models never saw (issue 12)."""
from __future__ import annotations

import json

from core.paths import RESOURCES

# The documented evaluation corpus: `generec demo --seed 7` (docs/evaluation.md).
EVALUATION_SEED = 7


def bundled_model_seeds() -> dict:
    """Per bundled model: the demo seeds of its training frames (and of held-out ones)."""
    from core.encoders.train import HELDOUT_SEED, TRAIN_SEED
    from core.evaluation import judge

    models = {"encoder": {"trained_on_seeds": [TRAIN_SEED], "held_out_seeds": [HELDOUT_SEED]},
              "judge": {"trained_on_seeds": list(judge.TRAIN_SEEDS),
                        "held_out_seeds": [judge.VALIDATION_SEED, judge.TEST_SEED]}}
    for kind in ("video", "thumbnail"):
        meta = RESOURCES / "diffusion" / f"{kind}.domain.json"
        seeds = json.loads(meta.read_text()).get("seeds") if meta.is_file() else None
        models[f"{kind}_diffusion"] = {"trained_on_seeds": seeds}
    return models


def seed_report(corpus_seeds: list[int]) -> dict:
    """The evaluation corpus's seeds against the bundled models' training seeds."""
    models = bundled_model_seeds()
    seen = sorted({name for name, m in models.items()
                   for s in corpus_seeds if s in (m.get("trained_on_seeds") or [])})
    return {"evaluation": corpus_seeds, "training": models,
            "unseen_by_bundled_models": bool(corpus_seeds) and not seen,
            "seen_by": seen}
