"""Vectorised ray casting against the solids of `primitives` and the ground plane z = 0.

All work happens in a *sensor-level frame*: origin at the sensor, z up, x along the sensor's heading. The ego
vehicle drives on flat ground, so every sensor frame differs from the world only by a translation and a yaw;
the solids keep their "yaw about +z" form and one set of intersection formulas serves LiDAR and cameras.

Callers decide which (solid, ray) pairs are worth testing (angular windows for the LiDAR, pixel rectangles for
cameras); this module expands those windows into pairs, intersects them and keeps the nearest hit per ray.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.synth.primitives import BOX, CYLINDER, ELLIPSOID, Prims

EPS = 1e-4  # ignore hits closer than this (self-intersections, the sensor sitting on a surface)


@dataclass
class LocalPrims:
    """Solids in the sensor-level frame, sorted by kind, with per-solid constants the intersection tests reuse."""

    index: np.ndarray  # (P,) index into the frame's Prims
    kind: np.ndarray
    cx: np.ndarray  # float32 centre relative to the sensor
    cy: np.ndarray
    cz: np.ndarray
    hx: np.ndarray
    hy: np.ndarray
    hz: np.ndarray
    cos: np.ndarray  # of the solid's yaw relative to the sensor
    sin: np.ndarray
    kind_start: np.ndarray  # (4,) first position of each kind (BOX, CYLINDER, ELLIPSOID) and the end

    def __len__(self) -> int:
        return int(self.kind.shape[0])


def to_sensor_frame(prims: Prims, origin: np.ndarray, yaw: float, keep: np.ndarray | None = None) -> LocalPrims:
    """Express (a subset of) the solids relative to a sensor at `origin` (world) heading `yaw`."""
    idx = np.arange(len(prims)) if keep is None else np.asarray(keep)
    idx = idx[np.argsort(prims.kind[idx], kind="stable")]
    c, s = np.cos(yaw), np.sin(yaw)
    dx = prims.cx[idx] - origin[0]
    dy = prims.cy[idx] - origin[1]
    rel = prims.yaw[idx] - yaw
    kind = prims.kind[idx]
    return LocalPrims(
        index=idx,
        kind=kind,
        cx=(c * dx + s * dy).astype(np.float32),
        cy=(-s * dx + c * dy).astype(np.float32),
        cz=(prims.cz[idx] - origin[2]).astype(np.float32),
        hx=prims.hx[idx],
        hy=prims.hy[idx],
        hz=prims.hz[idx],
        cos=np.cos(rel).astype(np.float32),
        sin=np.sin(rel).astype(np.float32),
        kind_start=np.searchsorted(kind, [BOX, CYLINDER, ELLIPSOID, 127]),
    )


def corners(lp: LocalPrims) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(P, 8) x, y, z of each solid's bounding box corners in the sensor-level frame."""
    sx = np.array([-1, 1, 1, -1, -1, 1, 1, -1], dtype=np.float32)
    sy = np.array([-1, -1, 1, 1, -1, -1, 1, 1], dtype=np.float32)
    sz = np.array([-1, -1, -1, -1, 1, 1, 1, 1], dtype=np.float32)
    lx = lp.hx[:, None] * sx
    ly = lp.hy[:, None] * sy
    x = lp.cx[:, None] + lp.cos[:, None] * lx - lp.sin[:, None] * ly
    y = lp.cy[:, None] + lp.sin[:, None] * lx + lp.cos[:, None] * ly
    z = lp.cz[:, None] + lp.hz[:, None] * sz
    return x, y, z


def footprint_distance(lp: LocalPrims) -> np.ndarray:
    """Horizontal distance from the sensor to each solid's footprint rectangle (0 if the sensor is above it)."""
    qx = np.abs(lp.cos * -lp.cx + lp.sin * -lp.cy) - lp.hx
    qy = np.abs(-lp.sin * -lp.cx + lp.cos * -lp.cy) - lp.hy
    return np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))


def expand_windows(
    row0: np.ndarray, nrow: np.ndarray, col0: np.ndarray, ncol: np.ndarray, row_stride: int, col_stride: int,
    wrap_cols: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Every (solid, ray) pair inside per-solid rectangles of a regular ray grid.

    Returns (pair_solid, pair_ray), pair_solid non-decreasing. Columns wrap modulo `wrap_cols` when it is > 0
    (the LiDAR's azimuth). Two-level expansion (solid -> row segments -> pairs) avoids integer division.
    """
    nrow = np.maximum(nrow, 0).astype(np.int64)
    ncol = np.maximum(ncol, 0).astype(np.int64)
    nrow[ncol == 0] = 0
    seg_solid = np.repeat(np.arange(nrow.shape[0]), nrow)
    seg_first = np.cumsum(nrow) - nrow
    seg_row = row0[seg_solid] + (np.arange(seg_solid.shape[0]) - np.repeat(seg_first, nrow))
    seg_n = ncol[seg_solid]
    pair_seg = np.repeat(np.arange(seg_solid.shape[0], dtype=np.int32), seg_n)
    pair_first = np.cumsum(seg_n) - seg_n
    local = np.arange(pair_seg.shape[0], dtype=np.int64) - np.repeat(pair_first, seg_n)
    col = np.repeat(col0[seg_solid], seg_n) + local
    if wrap_cols:
        col %= wrap_cols
    ray = np.repeat(seg_row * row_stride, seg_n) + col * col_stride
    return seg_solid[pair_seg], ray.astype(np.int64)


def _slab(lo: np.ndarray, hi: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    inv = 1.0 / d
    a = lo * inv
    b = hi * inv
    return np.minimum(a, b), np.maximum(a, b)


def _box_t(lp: LocalPrims, pp: np.ndarray, dx, dy, dz) -> np.ndarray:
    c, s = lp.cos[pp], lp.sin[pp]
    # Sensor origin in the box frame, then the slab bounds relative to it.
    ox = -(c * lp.cx[pp] + s * lp.cy[pp])
    oy = -(-s * lp.cx[pp] + c * lp.cy[pp])
    oz = -lp.cz[pp]
    hx, hy, hz = lp.hx[pp], lp.hy[pp], lp.hz[pp]
    nx, fx = _slab(-hx - ox, hx - ox, c * dx + s * dy)
    ny, fy = _slab(-hy - oy, hy - oy, c * dy - s * dx)
    nz, fz = _slab(-hz - oz, hz - oz, dz)
    near = np.maximum(np.maximum(nx, ny), nz)
    far = np.minimum(np.minimum(fx, fy), fz)
    return np.where((near <= far) & (near > EPS), near, np.inf)


def _cylinder_t(lp: LocalPrims, pp: np.ndarray, dx, dy, dz) -> np.ndarray:
    ox, oy = -lp.cx[pp], -lp.cy[pp]
    r2 = lp.hx[pp] ** 2
    zlo = lp.cz[pp] - lp.hz[pp]
    zhi = lp.cz[pp] + lp.hz[pp]
    a = dx * dx + dy * dy
    b = ox * dx + oy * dy  # half of the usual b
    cc = ox * ox + oy * oy - r2
    disc = b * b - a * cc
    t_side = (-b - np.sqrt(np.maximum(disc, 0))) / a
    z = t_side * dz
    t_side = np.where((disc >= 0) & (t_side > EPS) & (z >= zlo) & (z <= zhi), t_side, np.inf)
    best = t_side
    for plane in (zhi, zlo):  # caps: visible from above (cones, pedestrians) or below (lamp heads)
        tc = plane / dz
        px, py = ox + tc * dx, oy + tc * dy
        best = np.minimum(best, np.where((tc > EPS) & (px * px + py * py <= r2), tc, np.inf))
    return best


def _ellipsoid_t(lp: LocalPrims, pp: np.ndarray, dx, dy, dz) -> np.ndarray:
    k = lp.hx[pp] / lp.hz[pp]  # squash z so the spheroid becomes a sphere of radius hx
    ox, oy, oz = -lp.cx[pp], -lp.cy[pp], -lp.cz[pp] * k
    sdz = dz * k
    a = dx * dx + dy * dy + sdz * sdz
    b = ox * dx + oy * dy + oz * sdz
    cc = ox * ox + oy * oy + oz * oz - lp.hx[pp] ** 2
    disc = b * b - a * cc
    t = (-b - np.sqrt(np.maximum(disc, 0))) / a
    return np.where((disc >= 0) & (t > EPS), t, np.inf)


_TESTS = {BOX: _box_t, CYLINDER: _cylinder_t, ELLIPSOID: _ellipsoid_t}


def intersect(lp: LocalPrims, pair_solid: np.ndarray, pair_ray: np.ndarray, rdx, rdy, rdz) -> np.ndarray:
    """Ray parameter t of the first intersection of every pair (inf = miss). pair_solid must be sorted."""
    t = np.empty(pair_solid.shape[0], dtype=np.float32)
    bounds = np.searchsorted(pair_solid, lp.kind_start)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for kind, test in _TESTS.items():
            lo, hi = bounds[kind], bounds[kind + 1]
            if hi > lo:
                rays = pair_ray[lo:hi]
                t[lo:hi] = test(lp, pair_solid[lo:hi], rdx[rays], rdy[rays], rdz[rays])
    return t


def nearest(n_rays: int, t_floor: np.ndarray, pair_solid, pair_ray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest hit per ray among the ground (`t_floor`, inf where none) and the pairs.

    Returns (t, solid) per ray; solid = -1 where the ground (or nothing) is nearest.
    """
    best = t_floor.astype(np.float32, copy=True)
    hit = np.flatnonzero(t < best[pair_ray])
    solid = np.full(n_rays, -1, dtype=np.int32)
    if hit.size:
        hr, ht = pair_ray[hit], t[hit]
        np.minimum.at(best, hr, ht)
        win = hit[ht == best[hr]]
        solid[pair_ray[win]] = pair_solid[win]
    return best, solid


def surface(lp: LocalPrims, solid: np.ndarray, px, py, pz) -> tuple[np.ndarray, np.ndarray]:
    """Solid-frame hit coordinates (n, 3) and sensor-level-frame unit normals (n, 3) of hits (px, py, pz)."""
    c, s = lp.cos[solid], lp.sin[solid]
    qx, qy, qz = px - lp.cx[solid], py - lp.cy[solid], pz - lp.cz[solid]
    lx = c * qx + s * qy
    ly = -s * qx + c * qy
    hx, hy, hz = lp.hx[solid], lp.hy[solid], lp.hz[solid]
    kind = lp.kind[solid]
    nlx = np.zeros_like(lx)
    nly = np.zeros_like(lx)
    nlz = np.zeros_like(lx)
    # Boxes: the face whose normalised coordinate is largest.
    ax, ay, az = np.abs(lx / hx), np.abs(ly / hy), np.abs(qz / hz)
    bx = (kind == BOX) & (ax >= ay) & (ax >= az)
    by = (kind == BOX) & ~bx & (ay >= az)
    bz = (kind == BOX) & ~bx & ~by
    nlx[bx] = np.sign(lx[bx])
    nly[by] = np.sign(ly[by])
    nlz[bz] = np.sign(qz[bz])
    # Cylinders: side or cap, whichever surface the point is closer to.
    cyl = kind == CYLINDER
    rho = np.hypot(lx, ly)
    cap = cyl & (np.abs(rho - hx) > hz - np.abs(qz))
    side = cyl & ~cap
    nlz[cap] = np.sign(qz[cap])
    nlx[side] = lx[side] / np.maximum(rho[side], 1e-6)
    nly[side] = ly[side] / np.maximum(rho[side], 1e-6)
    ell = kind == ELLIPSOID
    nlx[ell] = lx[ell] / hx[ell] ** 2
    nly[ell] = ly[ell] / hy[ell] ** 2
    nlz[ell] = qz[ell] / hz[ell] ** 2
    norm = np.sqrt(nlx * nlx + nly * nly + nlz * nlz) + 1e-12
    nlx, nly, nlz = nlx / norm, nly / norm, nlz / norm
    normal = np.stack([c * nlx - s * nly, s * nlx + c * nly, nlz], axis=1)
    return np.stack([lx, ly, qz], axis=1), normal
