"""Cross-attention from the video UNet's attention levels to the user's liked thumbnails.

The UNet's own self-attention layers keep their weights; after each, a cross-attention block
reads the liked thumbnails' embeddings (and a learned null token, so a user with none still
has something to attend to) and adds its result. Its output projection starts at zero, so a
model grown from a checkpoint without these blocks first computes exactly what it did
(ControlNet's zero-initialised layers). The blocks are attached as attention processors:
their weights live in this module, under `liked_attention.*`, and the UNet's keys stay as
they were."""
from __future__ import annotations

import torch
from torch import nn


class LikedTokens:
    """The batch's liked-thumbnail tokens while the UNet runs (set by the denoiser)."""
    tokens: torch.Tensor | None = None      # B x T x d
    mask: torch.Tensor | None = None        # B x T, 1 = present


class LikedCrossAttention(nn.Module):
    def __init__(self, channels: int, token_dim: int, head_dim: int, groups: int) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels)
        self.attention = nn.MultiheadAttention(channels, max(1, channels // head_dim),
                                               kdim=token_dim, vdim=token_dim, batch_first=True)
        self.null = nn.Parameter(torch.randn(1, 1, token_dim) * 0.02)
        nn.init.zeros_(self.attention.out_proj.weight)
        nn.init.zeros_(self.attention.out_proj.bias)

    def forward(self, x: torch.Tensor, liked: LikedTokens) -> torch.Tensor:
        """x: B x C x H x W features; returns them plus what the liked tokens add."""
        if liked.tokens is None:
            return x
        b, c, h, w = x.shape
        query = self.norm(x).flatten(2).transpose(1, 2)
        keys = torch.cat([self.null.expand(b, -1, -1), liked.tokens], dim=1)
        present = torch.cat([torch.ones_like(liked.mask[:, :1]), liked.mask], dim=1) > 0
        out, _ = self.attention(query, keys, keys, key_padding_mask=~present, need_weights=False)
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class _WithLiked:
    """An attention processor: the UNet's own attention, then the liked-token block."""

    def __init__(self, base, block: LikedCrossAttention, liked: LikedTokens) -> None:
        self.base, self.block, self.liked = base, block, liked

    def __call__(self, attn, hidden_states, encoder_hidden_states=None, attention_mask=None,
                 temb=None):
        out = self.base(attn, hidden_states, encoder_hidden_states, attention_mask, temb=temb)
        return self.block(out, self.liked)


def attach(unet: nn.Module, token_dim: int, head_dim: int, groups: int,
           liked: LikedTokens) -> nn.ModuleList:
    """Add a liked-token block after every self-attention layer of a diffusers UNet2DModel;
    returns the blocks (to register on the model, which owns their weights)."""
    from diffusers.models.attention_processor import Attention

    blocks = nn.ModuleList()
    for module in unet.modules():
        if isinstance(module, Attention):
            block = LikedCrossAttention(module.inner_dim, token_dim, head_dim, groups)
            module.set_processor(_WithLiked(module.processor, block, liked))
            blocks.append(block)
    return blocks
