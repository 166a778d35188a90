"""Fréchet Video Distance with I3D features, when the user supplies the I3D network.

The network is the TorchScript export used by common FVD implementations (called as
`net(videos, rescale=False, resize=False, return_features=True)` on B x 3 x T x 224 x 224
videos in [-1, 1], returning B x 400 features). Nothing is downloaded: pass the file with
`--i3d PATH`. TorchScript is loaded with torch.jit.load, which runs no pickled Python."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from core.errors import InputError

I3D_SIZE = 224


def load_i3d(path: str | Path):
    import torch

    path = Path(path)
    if not path.is_file():
        raise InputError(f"I3D weights {path} do not exist")
    try:
        return torch.jit.load(str(path), map_location="cpu").eval()
    except (RuntimeError, ValueError) as exc:
        raise InputError(f"{path} is not a TorchScript I3D network ({exc})") from exc


def i3d_features(net, clips: list[np.ndarray], batch: int = 8) -> np.ndarray:
    """clips: each T x H x W x 3 uint8 (T >= 8 recommended) -> N x F features."""
    import torch
    import torch.nn.functional as F

    out = []
    with torch.no_grad():
        for start in range(0, len(clips), batch):
            video = torch.from_numpy(np.stack(clips[start:start + batch])).float()
            video = video.permute(0, 4, 1, 2, 3) / 127.5 - 1.0                  # B 3 T H W
            b, c, t, h, w = video.shape
            frames = video.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
            frames = F.interpolate(frames, size=(I3D_SIZE, I3D_SIZE), mode="bilinear",
                                   align_corners=False)
            video = frames.reshape(b, t, c, I3D_SIZE, I3D_SIZE).permute(0, 2, 1, 3, 4)
            out.append(net(video, rescale=False, resize=False, return_features=True).numpy())
    return np.concatenate(out)
