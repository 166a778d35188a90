"""Baselines for the leave-one-out protocol besides BPR-MF and MMGCN (core/recommender/mmgcn.py):

- LightGCN (He et al., 2020): ID embeddings propagated over the normalised user-item graph
  without weights or nonlinearity, the mean of the layers; BPR.
- SASRec (Kang and McAuley, 2018): causal self-attention over the user's recent items; the
  state after the last item is the user's representation (and can serve as User_Emb). Items
  are their ID embedding plus a projection of their content (the title embedding and, where
  there is one, the visual feature), and an item without training interactions (cold) is its
  content alone. Trained with a sampled softmax: each next item against shared uniform
  negatives.
"""
from __future__ import annotations

import torch
from torch import nn


class LightGCN(nn.Module):
    kind = "lightgcn"

    def __init__(self, n_users: int, n_items: int, dim: int = 64, layers: int = 2) -> None:
        super().__init__()
        self.n_users, self.n_items, self.dim, self.layers = n_users, n_items, dim, layers
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        nn.init.normal_(self.user.weight, std=0.1)
        nn.init.normal_(self.item.weight, std=0.1)

    def forward(self, features=None, adjacency: torch.Tensor | None = None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        h = torch.cat([self.user.weight, self.item.weight])
        total, layer = h, h
        for _ in range(self.layers):
            layer = torch.sparse.mm(adjacency, layer)
            total = total + layer
        total = total / (self.layers + 1)
        return total[: self.n_users], total[self.n_users:]

    def ego(self, users: torch.Tensor, items: torch.Tensor) -> list[torch.Tensor]:
        """The layer-0 embeddings that the L2 penalty applies to."""
        return [self.user(users), self.item(items)]


class SASRec(nn.Module):
    kind = "sasrec"

    def __init__(self, n_items: int, feature_dims: dict[str, int], warm: torch.Tensor,
                 dim: int = 64, max_len: int = 50, blocks: int = 2, heads: int = 1,
                 dropout: float = 0.2, id_dropout: float = 0.0) -> None:
        """`id_dropout`: in training, the share of item lookups that drop the ID embedding
        and keep the content alone, so that the content path learns to stand for cold items."""
        super().__init__()
        self.n_items, self.dim, self.max_len, self.id_dropout = n_items, dim, max_len, id_dropout
        self.item_id = nn.Embedding(n_items + 1, dim, padding_idx=0)     # index 0: padding
        self.project = nn.ModuleDict({m: nn.Linear(f, dim) for m, f in feature_dims.items()})
        self.position = nn.Embedding(max_len, dim)
        layer = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout,
                                           batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer("warm", torch.cat([torch.zeros(1), warm.float()]), persistent=False)
        nn.init.normal_(self.item_id.weight, std=0.1)
        with torch.no_grad():
            self.item_id.weight[0].zero_()

    @staticmethod
    def padded(features: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Features with a zero row 0 for padding, so that row i + 1 is item i."""
        return {m: torch.cat([torch.zeros(1, x.shape[1]), x]) for m, x in features.items()}

    def embed(self, index: torch.Tensor, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Vectors of items index - 1 (index 0: padding, zero); `features` from `padded`.
        A cold item is its content alone."""
        keep = self.warm[index]
        if self.training and self.id_dropout > 0:
            keep = keep * (torch.rand(index.shape) >= self.id_dropout)
        out = self.item_id(index) * keep[..., None]
        real = (index > 0)[..., None]
        for m, layer in self.project.items():
            out = out + layer(features[m][index]) * real
        return out

    def item_table(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """(n_items + 1) x dim: row 0 padding, row i + 1 item i."""
        return self.embed(torch.arange(self.n_items + 1), features)

    def states(self, sequences: torch.Tensor, embedded: torch.Tensor) -> torch.Tensor:
        """sequences: B x L item indices + 1, left-padded with 0; embedded: their vectors.
        Returns B x L x dim."""
        length = sequences.shape[1]
        x = embedded * self.dim ** 0.5 + self.position.weight[-length:]
        x = self.dropout(x) * (sequences > 0)[..., None]
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        # causal mask only, as in SASRec: padding is zero input (a key padding mask would
        # leave the padded prefix's rows with nothing to attend to, and NaN)
        return self.norm(self.blocks(x, mask=causal))

    def user_state(self, sequences: torch.Tensor, table: torch.Tensor) -> torch.Tensor:
        """The state after each sequence's last item (the rightmost position)."""
        return self.states(sequences, table[sequences])[:, -1]
