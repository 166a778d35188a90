"""Reference computations with the bundled models, for comparing two installs of the app (the
packaged installer against the developer install, issue 16): the encoder's embeddings of a fixed
image and text, and the samplers' float outputs (before quantisation to pixels) of both
diffusion models from fixed inputs and seeds. `generec selftest --json` prints them;
`generec selftest --against FILE` compares them with another install's and fails beyond the
tolerance."""
from __future__ import annotations

import json
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.errors import InputError

TOLERANCE = 1e-3
SAMPLES = 256          # values kept from each output, evenly spaced over the flattened tensor
SEED = 7


@dataclass
class SelfTest:
    versions: dict[str, str]
    outputs: dict[str, list[float]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(asdict(self))


@dataclass
class Difference:
    name: str
    max_abs: float | None       # None: missing from one of the two

    @property
    def within(self) -> bool:
        return self.max_abs is not None and self.max_abs <= TOLERANCE


def _kept(values) -> list[float]:
    flat = np.asarray(values, np.float64).ravel()
    picks = np.linspace(0, len(flat) - 1, min(SAMPLES, len(flat))).round().astype(int)
    return [float(v) for v in flat[picks]] + [float(flat.mean()), float(flat.std())]


def _image(size: int = 96) -> np.ndarray:
    """A fixed RGB test card: gradients, a disc and stripes."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    disc = ((x - 0.6) ** 2 + (y - 0.4) ** 2 < 0.06).astype(float)
    stripes = (np.sin(x * 25) > 0).astype(float)
    rgb = np.stack([x * (1 - disc) + disc, y * stripes, 0.5 * (1 - x) + 0.3 * disc], -1)
    return (rgb * 255).round().astype(np.uint8)


def _unit(rng: np.random.Generator, dim: int) -> np.ndarray:
    v = rng.standard_normal(dim).astype(np.float32)
    return v / np.linalg.norm(v)


def run_selftest() -> SelfTest:
    import torch

    from core import __version__
    from core.diffusion import thumbnail, video
    from core.diffusion.conditioning import Condition
    from core.diffusion.data import to_working
    from core.diffusion.models import BUNDLED_DIR, load_model
    from core.encoders.encoder import load_encoder

    torch.manual_seed(SEED)
    result = SelfTest({"app": __version__, "torch": torch.__version__,
                       "python": platform.python_version()})
    encoder = load_encoder("bundled")
    result.outputs["encoder.image"] = _kept(encoder.encode_images([_image()]))
    result.outputs["encoder.text"] = _kept(encoder.encode_texts(["a red circle on a beach"]))

    rng = np.random.default_rng(SEED)
    model = load_model("video", BUNDLED_DIR / "video.safetensors")
    dims = model.config["cond_dims"]
    cond = Condition(hist=_unit(rng, dims["hist"]))
    size = model.config["size"]
    source = np.stack([to_working(np.roll(_image(), 4 * n, axis=1), size)
                       for n in range(model.config["future"])])[None]
    result.outputs["video.revise"] = _kept(video.sample_blocks(
        model, source.shape[1], [cond], source, strength=video.DEFAULT_STRENGTH, seed=SEED,
        source_guidance=video.SOURCE_GUIDANCE))      # the app's defaults: all three passes
    result.outputs["video.create"] = _kept(video.sample_blocks(
        model, model.config["future"], [cond], None, seed=SEED))

    model = load_model("thumbnail", BUNDLED_DIR / "thumbnail.safetensors")
    dim = encoder.dim
    item = np.stack([_unit(rng, dim) for _ in range(6)])
    liked = np.stack([_unit(rng, dim) for _ in range(3)])
    result.outputs["thumbnail.generate"] = _kept(thumbnail.sample_thumbnails(
        model, [item], [liked], seed=SEED))
    return result


def compare(ours: SelfTest, theirs: dict) -> list[Difference]:
    """Largest absolute difference per output (None where one side lacks it)."""
    other = theirs.get("outputs", {})
    out = []
    for name in sorted(set(ours.outputs) | set(other)):
        a, b = ours.outputs.get(name), other.get(name)
        if a is None or b is None or len(a) != len(b):
            out.append(Difference(name, None))
        else:
            out.append(Difference(name, float(np.max(np.abs(np.subtract(a, b))))))
    return out


def read_selftest(path: str | Path) -> dict:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not a selftest result ({exc})") from exc
    if not isinstance(data, dict) or "outputs" not in data:
        raise InputError(f"{path}: not a selftest result (no 'outputs')")
    return data
