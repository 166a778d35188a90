"""Retrieval-conditioned thumbnail diffusion: a UNet with cross-attention over retrieved
embeddings, namely the item's frame embeddings and the user's liked thumbnails' embeddings,
each tagged with a learned type vector. A learned null token is always present, so dropping
every retrieved token (for classifier-free guidance) leaves attention well defined.

With `source` in the config, a frame to start from (the Eq. 1 selection) also comes in on
its own channels, with a plane that says whether it is given, as in the video model: the
model learns what the user's tokens change in it."""
from __future__ import annotations

import torch
from torch import nn

from core.diffusion.conditioning import source_channels

DEFAULT_CONFIG = {
    "kind": "generec-thumbnail-diffusion",
    "size": 64, "patch": 2, "channels": [32, 64, 128], "layers_per_block": 1, "attention_head_dim": 32, "groups": 8,
    "embed_dim": 128, "item_tokens": 8, "user_tokens": 8,
    "train_timesteps": 1000, "beta_schedule": "squaredcos_cap_v2", "prediction": "v_prediction",
    "source": True,
}
ITEM, USER = 0, 1


class ThumbnailDenoiser(nn.Module):
    # config keys a --init checkpoint may lack (`checkpoint.grow_inputs` adds their weights)
    growable_keys = ("source",)

    def __init__(self, config: dict) -> None:
        from diffusers import UNet2DConditionModel

        super().__init__()
        self.config = dict(config)
        channels, dim, patch = config["channels"], config["embed_dim"], config["patch"]
        self.fold, self.unfold = nn.PixelUnshuffle(patch), nn.PixelShuffle(patch)  # space-to-depth
        self.unet = UNet2DConditionModel(
            sample_size=config["size"] // patch,
            in_channels=(3 + (4 if config.get("source") else 0)) * patch ** 2,
            out_channels=3 * patch ** 2,
            block_out_channels=tuple(channels), layers_per_block=config["layers_per_block"],
            down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
            up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
            mid_block_type="UNetMidBlock2DCrossAttn", cross_attention_dim=dim,
            attention_head_dim=config["attention_head_dim"], norm_num_groups=config["groups"])
        self.types = nn.Parameter(torch.randn(2, dim) * 0.02)
        self.null = nn.Parameter(torch.randn(1, 1, dim) * 0.02)

    def forward(self, noisy: torch.Tensor, t: torch.Tensor, tokens: torch.Tensor,
                kinds: torch.Tensor, mask: torch.Tensor, source: torch.Tensor | None = None,
                source_given: torch.Tensor | None = None) -> torch.Tensor:
        """tokens: B x T x d embeddings; kinds: B x T (ITEM or USER); mask: B x T (1 = keep);
        source: B x 3 x S x S, a frame to start from (ignored where source_given is 0)."""
        context = tokens + self.types[kinds]
        context = torch.cat([self.null.expand(len(tokens), -1, -1), context], dim=1)
        mask = torch.cat([torch.ones_like(mask[:, :1]), mask], dim=1)
        x = noisy
        if self.config.get("source"):
            x = torch.cat([noisy, *source_channels(noisy, source, source_given)], dim=1)
        return self.unfold(self.unet(self.fold(x), t, encoder_hidden_states=context,
                                     encoder_attention_mask=mask).sample)
