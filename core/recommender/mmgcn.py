"""MMGCN (Wei et al., 2019), made sound: per modality, a graph convolution over the user-item
graph whose nodes start from trained ID embeddings plus the modality's content (items) or
preference vector (users); scores are dot products summed over modalities.

Per modality m, with Â the symmetrically normalised adjacency and L layers:
    h⁰ = [p_m + e_user ; W_m x_m + e_item]
    hˡ⁺¹ = Â hˡ,   representation = mean(h⁰ … hᴸ)
Propagation without per-layer weights or nonlinearity (as LightGCN found for collaborative
filtering): with them, this model trailed BPR-MF on MovieLens 100K by 9% Recall@10.
An item with no interactions receives no messages, so its representation is h⁰/(L+1) from its
content alone (no ID): the path that scores cold AI items. Unlike the reference code, the ID
embeddings are trained and there is no concatenation switch.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn


def normalised_adjacency(n_users: int, n_items: int, pairs: np.ndarray) -> torch.Tensor:
    """Â = D^-1/2 A D^-1/2 of the bipartite graph, users first, as a sparse tensor."""
    users = torch.as_tensor(pairs[:, 0], dtype=torch.long)
    items = torch.as_tensor(pairs[:, 1], dtype=torch.long) + n_users
    rows = torch.cat([users, items])
    cols = torch.cat([items, users])
    n = n_users + n_items
    degree = torch.zeros(n).index_add_(0, rows, torch.ones(len(rows)))
    scale = degree.clamp(min=1).pow(-0.5)
    values = scale[rows] * scale[cols]
    return torch.sparse_coo_tensor(torch.stack([rows, cols]), values, (n, n),
                                   check_invariants=True).coalesce()


class MMGCN(nn.Module):
    kind = "mmgcn"

    def __init__(self, n_users: int, n_items: int, feature_dims: dict[str, int], dim: int = 64,
                 layers: int = 2, warm: torch.Tensor | None = None) -> None:
        """`warm`: items with training interactions; the others (cold) have no ID embedding,
        so that they are scored by content alone in training as in use (default: all warm)."""
        super().__init__()
        self.n_users, self.n_items, self.dim = n_users, n_items, dim
        self.modalities = list(feature_dims)
        self.user_id = nn.Embedding(n_users, dim)
        self.item_id = nn.Embedding(n_items, dim)
        self.project = nn.ModuleDict({m: nn.Linear(f, dim) for m, f in feature_dims.items()})
        self.preference = nn.ParameterDict(
            {m: nn.Parameter(torch.randn(n_users, dim) * 0.01) for m in feature_dims})
        self.layers = layers
        self.register_buffer("warm", (torch.ones(n_items) if warm is None else warm.float())[:, None],
                             persistent=False)
        self.id_dropout = 0.0     # in training, the share of items whose ID embedding is dropped
        nn.init.normal_(self.user_id.weight, std=0.01)
        nn.init.normal_(self.item_id.weight, std=0.01)

    def _propagate(self, h: torch.Tensor, adjacency: torch.Tensor | None) -> torch.Tensor:
        """Mean of h⁰ … hᴸ; without a graph (cold items) every later layer is zero."""
        total, layer = h, h
        for _ in range(self.layers):
            if adjacency is None:
                break
            layer = torch.sparse.mm(adjacency, layer)
            total = total + layer
        return total / (self.layers + 1)

    def forward(self, features: dict[str, torch.Tensor], adjacency: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """User and item representations (summed over modalities)."""
        users = torch.zeros(self.n_users, self.dim)
        items = torch.zeros(self.n_items, self.dim)
        keep = self.warm
        if self.training and self.id_dropout > 0:
            keep = keep * (torch.rand(keep.shape) >= self.id_dropout)
        for m in self.modalities:
            h = torch.cat([self.preference[m] + self.user_id.weight,
                           self.project[m](features[m]) + self.item_id.weight * keep])
            h = self._propagate(h, adjacency)
            users = users + h[: self.n_users]
            items = items + h[self.n_users:]
        return users, items

    def cold_items(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """Representations of items outside the graph, from their content alone."""
        out = 0
        for m in self.modalities:
            out = out + self._propagate(self.project[m](features[m]), None)
        return out

    def content_shift(self, modality: str, old: torch.Tensor, new: torch.Tensor) -> torch.Tensor:
        """Change of an item's representation when its `modality` feature is replaced, with the
        messages from its neighbours held fixed: (W_m new − W_m old) / (L + 1)."""
        return (self.project[modality](new) - self.project[modality](old)) / (self.layers + 1)


class BPRMF(nn.Module):
    """Matrix factorisation trained with BPR: the baseline."""
    kind = "bpr-mf"

    def __init__(self, n_users: int, n_items: int, dim: int = 64) -> None:
        super().__init__()
        self.user = nn.Embedding(n_users, dim)
        self.item = nn.Embedding(n_items, dim)
        nn.init.normal_(self.user.weight, std=0.01)
        nn.init.normal_(self.item.weight, std=0.01)

    def forward(self, features=None, adjacency=None) -> tuple[torch.Tensor, torch.Tensor]:
        return self.user.weight, self.item.weight
