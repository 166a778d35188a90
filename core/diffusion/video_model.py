"""The masked conditional video denoiser (MCVD-style): p past frames and k noisy future frames
are concatenated on channels; a UNet predicts the noise of the k frames. Past frames are
masked (zeroed, with a flag) at random in training, so one model predicts the next frames,
generates from nothing, and revises (SDEdit) with or without past frames.

With `source` in the config, the k frames being revised also come in on their own channels,
with a plane that says whether they are given (as InstructPix2Pix gives its input image):
the model then learns what a user signal changes in a source rather than only where SDEdit's
noise leaves it room. Those channels come after the others, so a model without them starts
such a model with zero weights there (`checkpoint.grow_inputs`).

With `liked_tokens` in the config, every attention level of the UNet also attends to the
user's liked thumbnails (`core/diffusion/liked_attention.py`), as the thumbnail model does;
those blocks start at zero too, so they can be added to a trained model."""
from __future__ import annotations

import torch
from torch import nn

from core.diffusion.conditioning import ConditionEncoder, source_channels
from core.diffusion.liked_attention import LikedTokens, attach

DEFAULT_CONFIG = {
    "kind": "generec-video-diffusion",
    "size": 64, "patch": 1, "past": 4, "future": 4,
    "channels": [32, 64, 128], "layers_per_block": 1, "attention_head_dim": 32, "groups": 8,
    "cond_dims": {"hist": 128, "emb": 64, "text": 128},
    "train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "prediction": "v_prediction",
    "source": True, "liked_tokens": 8,
}


class VideoDenoiser(nn.Module):
    # config keys a --init checkpoint may lack: the model adds what they describe (`checkpoint.grow_inputs`)
    growable_keys = ("source", "liked_tokens")

    def __init__(self, config: dict) -> None:
        from diffusers import UNet2DModel

        super().__init__()
        self.config = dict(config)
        past, future, channels = config["past"], config["future"], config["channels"]
        patch = config["patch"]
        # Optional space-to-depth (patch 2: 32x32 maps of 2x2 patches). It needs a first level
        # wider than the 3k * patch^2 values it must pass through per position: with 32
        # channels for 48 values the noise could not get through and training stalled.
        self.fold, self.unfold = nn.PixelUnshuffle(patch), nn.PixelShuffle(patch)
        source = (3 * future + 1) if config.get("source") else 0
        self.unet = UNet2DModel(
            sample_size=config["size"] // patch, in_channels=(3 * (past + future) + source) * patch ** 2,
            out_channels=3 * future * patch ** 2,
            block_out_channels=tuple(channels), layers_per_block=config["layers_per_block"],
            down_block_types=("DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
            up_block_types=("AttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
            attention_head_dim=config["attention_head_dim"], norm_num_groups=config["groups"],
            class_embed_type="identity", resnet_time_scale_shift="scale_shift")
        self.condition = ConditionEncoder(config["cond_dims"], channels[0] * 4)
        self.liked = LikedTokens()
        if config.get("liked_tokens"):
            self.liked_attention = attach(self.unet, config["cond_dims"]["hist"],
                                          config["attention_head_dim"], config["groups"], self.liked)

    def forward(self, noisy: torch.Tensor, past: torch.Tensor, past_given: torch.Tensor,
                t: torch.Tensor, cond: dict[str, torch.Tensor], source: torch.Tensor | None = None,
                source_given: torch.Tensor | None = None) -> torch.Tensor:
        """noisy: B x 3k x H x W; past: B x 3p x H x W (ignored where past_given is 0);
        source: B x 3k x H x W, the frames being revised (ignored where source_given is 0 or
        the model has no source channels)."""
        past = past * past_given[:, None, None, None]
        embedding = self.condition(cond, past_given)
        inputs = [past, noisy]
        if self.config.get("source"):
            inputs += source_channels(noisy, source, source_given)
        x = self.fold(torch.cat(inputs, dim=1))
        self.liked.tokens, self.liked.mask = cond.get("liked"), cond.get("liked_mask")
        try:
            return self.unfold(self.unet(x, t, class_labels=embedding).sample)
        finally:
            self.liked.tokens = self.liked.mask = None

