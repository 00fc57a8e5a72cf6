"""CMCR's occupancy estimation (Eaphan/CMCR `pretrain/dataloader_nuscenes.py`, `lightning_trainer.py`).

Queries per scan, each from a random point p of the scan (sensor frame, origin at the LiDAR), d = p/|p|, r ~ U(0, 1):
- *inside*  p + `shell`·r·d — just behind the surface along the ray: occupied, intensity target = p's;
- *outside* p - `shell`·r·d — just in front of it: free, intensity target = p's;
- *far*     r·p — anywhere between the sensor and the point: free, no intensity target.
Every scan point within `radius` of a query (at most `max_neighbours`, the nearest) makes one prediction
from [its feature, query - point]: an occupancy logit and an intensity (BCE and L1 on intensity / 255), each
pair carrying its query's labels — no pooling over neighbours, as released.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

INSIDE, OUTSIDE, FAR = 0, 1, 2


@dataclass
class OccupancyQueries:
    positions: torch.Tensor  # (Q, 3)
    occupied: torch.Tensor  # (Q,) float 0/1
    intensity: torch.Tensor  # (Q,) intensity / 255; -1 where there is no target (far queries)
    kind: torch.Tensor  # (Q,) INSIDE / OUTSIDE / FAR


def occupancy_queries(points: torch.Tensor, count: int, shell: float, rng: torch.Generator) -> OccupancyQueries:
    """`count` queries split into thirds (inside, outside, far; the remainder goes to inside) from points
    (N, >=4: x, y, z, intensity on 0..255). Each third draws its source points without replacement."""
    n_out = n_far = count // 3
    sizes = (count - n_out - n_far, n_out, n_far)
    n = len(points)
    xyz = points[:, :3]
    pos, occ, inten, kinds = [], [], [], []
    for kind, size in zip((INSIDE, OUTSIDE, FAR), sizes):
        src = torch.randperm(n, generator=rng)[:size] if size <= n else torch.randint(n, (size,), generator=rng)
        src = src.to(points.device)
        p = xyz[src]
        r = torch.rand(len(src), 1, generator=rng).to(points.device)
        if kind == FAR:
            pos.append(r * p)
        else:
            d = p / p.norm(dim=1, keepdim=True).clamp_min(1e-6)
            pos.append(p + (shell if kind == INSIDE else -shell) * r * d)
        occ.append(torch.full((len(src),), float(kind == INSIDE), device=points.device))
        inten.append(points[src, 3] / 255.0 if kind != FAR else torch.full((len(src),), -1.0, device=points.device))
        kinds.append(torch.full((len(src),), kind, dtype=torch.long, device=points.device))
    return OccupancyQueries(torch.cat(pos), torch.cat(occ), torch.cat(inten), torch.cat(kinds))


@torch.no_grad()
def radius_neighbours(points: torch.Tensor, queries: torch.Tensor, radius: float, max_neighbours: int,
                      chunk: int = 256, cell: float = 8.0) -> tuple[torch.Tensor, torch.Tensor]:
    """(query index, point index) of every point within `radius` of a query, at most the `max_neighbours`
    nearest per query (torch_geometric's `radius` keeps an arbitrary 32; nearest is deterministic).

    Queries are visited in `cell`-metre BEV cell order, so a chunk covers a compact area and only the points
    inside its bounding box (grown by `radius`) are compared with it."""
    key = torch.floor(queries[:, 0] / cell) * 1e6 + torch.floor(queries[:, 1] / cell)
    order = torch.argsort(key, stable=True)
    q_idx, p_idx = [], []
    for start in range(0, len(queries), chunk):
        rows = order[start:start + chunk]
        q = queries[rows]
        lo, hi = q.min(dim=0).values - radius, q.max(dim=0).values + radius
        inside = ((points >= lo) & (points <= hi)).all(dim=1).nonzero().squeeze(1)
        if len(inside) == 0:
            continue
        dist, idx = torch.cdist(q, points[inside]).topk(min(max_neighbours, len(inside)), dim=1, largest=False)
        keep = dist <= radius
        q_idx.append(rows.unsqueeze(1).expand_as(idx)[keep])
        p_idx.append(inside[idx[keep]])
    if not q_idx:
        empty = torch.zeros(0, dtype=torch.long, device=points.device)
        return empty, empty
    return torch.cat(q_idx), torch.cat(p_idx)


class OccupancyHead(nn.Module):
    """MLP [feature (dim) + relative position (3)] -> (occupancy logit, intensity): three hidden layers of
    `width`, ReLU after the first two (as released: Linear, ReLU, Linear, ReLU, Linear, Linear)."""

    def __init__(self, dim: int, width: int = 128) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim + 3, width), nn.ReLU(inplace=True), nn.Linear(width, width),
                                 nn.ReLU(inplace=True), nn.Linear(width, width), nn.Linear(width, 2))

    def forward(self, features: torch.Tensor, offsets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.mlp(torch.cat([features, offsets], dim=1))
        return out[:, 0], out[:, 1]


def occupancy_losses(head: OccupancyHead, point_features: torch.Tensor, points_xyz: torch.Tensor,
                     queries: OccupancyQueries, radius: float, max_neighbours: int
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """(BCE of occupancy, L1 of intensity) over all (query, neighbour) pairs of one scan; queries with no
    neighbour within `radius` contribute nothing (zero losses that keep the graph if none has one)."""
    qi, pi = radius_neighbours(points_xyz, queries.positions, radius, max_neighbours)
    if len(qi) == 0:
        zero = point_features.sum() * 0.0
        return zero, zero
    # index_select, not `point_features[pi]`: each point neighbours many queries, and on CPU the backward of
    # advanced indexing adds those duplicates with parallel atomics (an order that changes run to run), while
    # index_select's backward (index_add_) adds them in index order.
    logit, inten = head(point_features.index_select(0, pi), queries.positions[qi] - points_xyz[pi])
    bce = nn.functional.binary_cross_entropy_with_logits(logit, queries.occupied[qi])
    has = queries.intensity[qi] >= 0
    l1 = (inten[has] - queries.intensity[qi][has]).abs().mean() if has.any() else inten.sum() * 0.0
    return bce, l1
