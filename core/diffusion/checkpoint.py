"""Checkpoints as safetensors with the model's config in the metadata. Nothing is unpickled:
a file that is not safetensors (a pickle, say) is refused with a clear error."""
from __future__ import annotations

import json
from pathlib import Path

import torch

from core.encoders.encoder import file_sha256
from core.errors import InputError


def save_weights(module: torch.nn.Module, path: Path, config: dict, half: bool = False) -> Path:
    from safetensors.torch import save_file

    tensors = {k: (v.half() if half and v.is_floating_point() else v).detach().cpu().contiguous()
               for k, v in module.state_dict().items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    save_file(tensors, str(partial), metadata={"config": json.dumps(config, sort_keys=True)})
    partial.replace(path)
    return path


def read_checkpoint(path: str | Path) -> tuple[dict, dict[str, torch.Tensor], str]:
    """(config, float32 tensors, sha256) of a safetensors checkpoint."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise InputError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), "pt") as handle:
            meta = handle.metadata() or {}
            tensors = {k: handle.get_tensor(k) for k in handle.keys()}
    except (SafetensorError, OSError, ValueError) as exc:
        raise InputError(f"checkpoint {path} is not a safetensors file ({exc}); pickled "
                         f"checkpoints are refused because loading them can run code") from exc
    if "config" not in meta:
        raise InputError(f"checkpoint {path} has no model config in its metadata")
    tensors = {k: v.float() if v.is_floating_point() else v for k, v in tensors.items()}
    return json.loads(meta["config"]), tensors, file_sha256(path)


def load_training_state(path: Path) -> dict:
    """Optimizer and EMA state for resuming; weights_only refuses pickled code."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unpickling failure means: refuse the file
        raise InputError(f"training state {path} cannot be loaded safely ({exc})") from exc


def add_new_modules(net: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> list[str]:
    """Give the weights a checkpoint lacks (blocks a grown config adds, such as the video
    model's liked-token attention) their values from the model as built; those blocks start
    at zero output, so the grown model computes what the checkpoint did. Returns their names."""
    added = [name for name in net.state_dict() if name not in tensors]
    own = net.state_dict()
    tensors.update({name: own[name] for name in added})
    return added


def grow_inputs(net: torch.nn.Module, tensors: dict[str, torch.Tensor]) -> list[str]:
    """Fit a checkpoint into a model that takes more input channels (a video model with source
    channels, started from one without): where a weight has more input channels in the model,
    the checkpoint's fill the first ones and the rest start at zero, so the grown model computes
    what the checkpoint did until training moves them. Returns the names of the grown weights."""
    grown, own = [], net.state_dict()
    for name, value in tensors.items():
        mine = own.get(name)
        if (mine is not None and mine.dim() == value.dim() > 1 and mine.shape[0] == value.shape[0]
                and mine.shape[2:] == value.shape[2:] and mine.shape[1] > value.shape[1]):
            wider = torch.zeros_like(mine)
            wider[:, :value.shape[1]] = value
            tensors[name] = wider
            grown.append(name)
    return grown
