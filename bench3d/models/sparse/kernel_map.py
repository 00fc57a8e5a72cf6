"""Kernel maps of the pure-torch backend, built once per coordinate set and cached per forward pass.

A kernel map lists, for every kernel offset k, the (input row, output row) pairs the offset connects;
a conv then computes out[out_rows_k] += in[in_rows_k] @ W[k] for each k (gather - GEMM - scatter).

* submanifold conv (odd kernel, output sites = input sites): for each site and offset, the neighbour at
  site + offset is found by binary search (`torch.searchsorted`) in the sorted site keys.
* strided conv with kernel == stride = s: each fine site feeds its parent floor(coord / s) through the
  offset given by its position inside the parent; coarse sites = unique parents (sorted).
* transposed conv (kernel == stride = s): the strided map with inputs and outputs swapped, so it returns
  exactly to the cached finer sites.

`CoordinateContext` owns the coordinates of every stride reached from one input and the maps between them.
All tensors derived from that input share it, so each map is computed once per forward pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from bench3d.models.sparse import keys as keymod


@dataclass(frozen=True)
class SortedKeys:
    """Keys of one coordinate set in sorted order, with the row each sorted key came from."""

    keys: torch.Tensor  # (N,) int64, ascending
    rows: torch.Tensor  # (N,) int64, rows[i] = row of keys[i] in the coordinate tensor

    @classmethod
    def of(cls, coords: torch.Tensor) -> SortedKeys:
        keys, rows = torch.sort(keymod.encode(coords), stable=True)
        if keys.numel() > 1 and bool((keys[1:] == keys[:-1]).any()):
            raise ValueError("sparse coordinates contain duplicate sites; voxelise the points first")
        return cls(keys, rows)

    def lookup(self, queries: torch.Tensor, missing: int) -> torch.Tensor:
        """Row of each query key, or `missing` where the key is absent (same shape as queries)."""
        if self.keys.numel() == 0:
            return torch.full_like(queries, missing)
        pos = torch.searchsorted(self.keys, queries).clamp_(max=self.keys.numel() - 1)
        found = self.keys[pos] == queries
        return torch.where(found, self.rows[pos], torch.full_like(pos, missing))


@dataclass(frozen=True)
class KernelMap:
    """Per-offset (input row, output row) pairs of one sparse convolution."""

    in_rows: tuple[torch.Tensor, ...]  # one int64 tensor per kernel offset, in weight order
    out_rows: tuple[torch.Tensor, ...]
    num_in: int
    num_out: int
    identity_offset: int | None = None  # offset whose pairs are (i, i) for all i: a plain matmul

    @property
    def num_offsets(self) -> int:
        return len(self.in_rows)

    def transposed(self) -> KernelMap:
        return KernelMap(self.out_rows, self.in_rows, self.num_out, self.num_in, self.identity_offset)

    @classmethod
    def from_grouped_pairs(
        cls,
        in_rows: torch.Tensor,
        out_rows: torch.Tensor,
        counts: torch.Tensor,
        num_in: int,
        num_out: int,
        identity_offset: int | None = None,
    ) -> KernelMap:
        """Build from pairs already grouped by offset, with `counts[k]` pairs for offset k."""
        sizes = counts.tolist()
        return cls(in_rows.split(sizes), out_rows.split(sizes), num_in, num_out, identity_offset)


@dataclass(frozen=True)
class Downsampling:
    """Coarse sites of a kernel == stride = s conv and the map from the fine sites onto them."""

    coarse_coords: torch.Tensor  # (M, 4) int64, sorted lexicographically
    coarse_keys: SortedKeys
    kernel_map: KernelMap  # fine -> coarse; its transpose is the matching upsampling


def submanifold_map(coords: torch.Tensor, index: SortedKeys, kernel_size: int) -> KernelMap:
    num_sites = coords.shape[0]
    offsets = keymod.centred_offsets(kernel_size, coords.device)
    queries = keymod.encode(coords)[None, :] + keymod.encode_offsets(offsets)[:, None]  # (K, N)
    neighbour = index.lookup(queries, missing=num_sites)
    present = neighbour < num_sites
    out_rows = torch.arange(num_sites, device=coords.device).expand_as(neighbour)[present]
    # Boolean masking walks the (K, N) table row-major, so pairs come out grouped by offset.
    counts = present.sum(dim=1)
    centre = offsets.shape[0] // 2  # offset (0, 0, 0): every site is its own neighbour
    return KernelMap.from_grouped_pairs(
        neighbour[present], out_rows, counts, num_sites, num_sites, identity_offset=centre
    )


def downsampling(coords: torch.Tensor, factor: int) -> Downsampling:
    parent_spatial = torch.div(coords[:, 1:], factor, rounding_mode="floor")
    parent_coords = torch.cat([coords[:, :1], parent_spatial], dim=1)
    coarse_keys, parent = torch.unique(keymod.encode(parent_coords), sorted=True, return_inverse=True)
    inside = coords[:, 1:] - parent_coords[:, 1:] * factor
    position = (inside[:, 0] * factor + inside[:, 1]) * factor + inside[:, 2]  # weight order
    fine_rows = torch.sort(position, stable=True).indices
    counts = torch.bincount(position, minlength=factor**3)
    kernel_map = KernelMap.from_grouped_pairs(
        fine_rows, parent[fine_rows], counts, coords.shape[0], coarse_keys.numel()
    )
    rows = torch.arange(coarse_keys.numel(), device=coords.device)
    return Downsampling(keymod.decode(coarse_keys), SortedKeys(coarse_keys, rows), kernel_map)


@dataclass
class CoordinateContext:
    """Coordinates per tensor stride and the kernel maps between them, shared by derived tensors."""

    coords: dict[int, torch.Tensor] = field(default_factory=dict)
    _sorted: dict[int, SortedKeys] = field(default_factory=dict)
    _submanifold: dict[tuple[int, int], KernelMap] = field(default_factory=dict)
    _downsampling: dict[tuple[int, int], KernelMap] = field(default_factory=dict)

    @classmethod
    def from_coords(cls, coords: torch.Tensor) -> CoordinateContext:
        keymod.check_coords(coords)
        context = cls()
        context.coords[1] = coords.to(torch.int64)
        context._sorted[1] = SortedKeys.of(context.coords[1])
        return context

    def submanifold(self, stride: int, kernel_size: int) -> KernelMap:
        cache_key = (stride, kernel_size)
        if cache_key not in self._submanifold:
            kernel_map = submanifold_map(self.coords[stride], self._sorted[stride], kernel_size)
            self._submanifold[cache_key] = kernel_map
        return self._submanifold[cache_key]

    def downsample(self, stride: int, factor: int) -> KernelMap:
        """Map from `stride` to `stride * factor`, creating the coarse sites on first use."""
        cache_key = (stride, factor)
        if cache_key not in self._downsampling:
            coarse_stride = stride * factor
            if coarse_stride in self.coords:
                raise ValueError(
                    f"sites at stride {coarse_stride} already exist; reach each stride by one path only"
                )
            down = downsampling(self.coords[stride], factor)
            self.coords[coarse_stride] = down.coarse_coords
            self._sorted[coarse_stride] = down.coarse_keys
            self._downsampling[cache_key] = down.kernel_map
        return self._downsampling[cache_key]

    def upsample(self, stride: int, factor: int) -> KernelMap:
        """Map from `stride` back to the cached sites at `stride // factor`."""
        cache_key = (stride // factor, factor)
        if stride % factor or cache_key not in self._downsampling:
            raise ValueError(
                f"no sites cached at stride {stride // factor} for upsampling from stride {stride}: a "
                "transposed conv returns to the sites of the matching strided conv, so run that first"
            )
        return self._downsampling[cache_key].transposed()
