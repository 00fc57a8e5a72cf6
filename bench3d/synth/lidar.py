"""The spinning LiDAR: a regular (beam, azimuth) ray grid cast against the scene in one vectorised pass.

Each solid only meets the rays inside its azimuth / elevation window as seen from the sensor, so the candidate
pairs stay few. Points are returned in the LIDAR_TOP frame in firing order (azimuth-major), with a small
deterministic range noise, a few dropped returns and an intensity that depends on material and incidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bench3d.labels.nuscenes import FINE_INDEX
from bench3d.synth import appearance as ap
from bench3d.synth import raycast as rc
from bench3d.synth.primitives import Prims
from bench3d.synth.rig import LidarSpec
from bench3d.synth.town import Town

EGO_LABEL = FINE_INDEX["vehicle.ego"]
MIN_RANGE = 0.8
RANGE_NOISE = 0.012  # metres (1 sigma)
DROPOUT = 0.01


@dataclass(frozen=True)
class LidarGrid:
    spec: LidarSpec
    elev: np.ndarray  # (B,) ascending
    dx: np.ndarray  # (R,) float32 unit directions in the sensor frame; ray = azimuth * B + beam
    dy: np.ndarray
    dz: np.ndarray
    ring: np.ndarray  # (R,) beam index of each ray
    t_ground: np.ndarray  # (R,) range at which each ray meets z = 0 (inf if never within range)


@lru_cache(maxsize=8)
def lidar_grid(spec: LidarSpec) -> LidarGrid:
    elev = spec.elevations()
    az = 2 * np.pi * np.arange(spec.azimuth_steps) / spec.azimuth_steps
    e, a = np.meshgrid(elev, az)  # (A, B): azimuth-major order
    dx = (np.cos(e) * np.cos(a)).ravel().astype(np.float32)
    dy = (np.cos(e) * np.sin(a)).ravel().astype(np.float32)
    dz = np.sin(e).ravel().astype(np.float32)
    with np.errstate(divide="ignore"):
        tg = np.where(dz < 0, spec.translation[2] / -dz, np.inf).astype(np.float32)
    tg[tg > spec.max_range] = np.inf
    ring = np.tile(np.arange(spec.beams), spec.azimuth_steps)
    return LidarGrid(spec, elev, dx, dy, dz, ring, tg)


@dataclass
class LidarSweep:
    points: np.ndarray  # (N, 5) float32: x, y, z, intensity, ring (LIDAR_TOP frame)
    labels: np.ndarray  # (N,) uint8 fine labels
    instance: np.ndarray  # (N,) int32 agent index, -1 for scenery / ground


def _windows(lp: rc.LocalPrims, grid: LidarGrid) -> tuple[np.ndarray, ...]:
    """Beam and azimuth index ranges of the rays that can meet each solid."""
    spec = grid.spec
    x, y, z = rc.corners(lp)
    rho_min = rc.footprint_distance(lp)
    rho_max = np.sqrt(np.max(x * x + y * y, axis=1))
    centre = np.arctan2(lp.cy, lp.cx)
    delta = np.angle(np.exp(1j * (np.arctan2(y, x) - centre[:, None])))
    step = 2 * np.pi / spec.azimuth_steps
    a0 = np.floor((centre + delta.min(axis=1)) / step).astype(np.int64)
    a1 = np.ceil((centre + delta.max(axis=1)) / step).astype(np.int64)
    na = np.minimum(a1 - a0 + 1, spec.azimuth_steps)
    inside = rho_min < 1e-3  # the sensor is above / below the solid: every azimuth
    a0[inside], na[inside] = 0, spec.azimuth_steps
    zmin, zmax = lp.cz - lp.hz, lp.cz + lp.hz
    rmin = np.maximum(rho_min, 1e-3)
    e_hi = np.arctan2(zmax, np.where(zmax > 0, rmin, rho_max))
    e_lo = np.arctan2(zmin, np.where(zmin < 0, rmin, rho_max))
    b0 = np.searchsorted(grid.elev, e_lo - 1e-6)
    b1 = np.searchsorted(grid.elev, e_hi + 1e-6, side="right")
    return b0, b1 - b0, np.mod(a0, spec.azimuth_steps), na


def render_lidar(prims: Prims, town: Town, origin: np.ndarray, yaw: float, grid: LidarGrid,
                 rng: np.random.Generator) -> LidarSweep:
    """One sweep from a sensor at world `origin` whose x axis points along world heading `yaw`."""
    spec = grid.spec
    reach = np.hypot(prims.cx - origin[0], prims.cy - origin[1]) - np.hypot(prims.hx, prims.hy)
    lp = rc.to_sensor_frame(prims, origin, yaw, np.flatnonzero(reach < spec.max_range))
    b0, nb, a0, na = _windows(lp, grid)
    pair_solid, pair_ray = rc.expand_windows(b0, nb, a0, na, 1, spec.beams, wrap_cols=spec.azimuth_steps)
    t_pair = rc.intersect(lp, pair_solid, pair_ray, grid.dx, grid.dy, grid.dz)
    t, solid = rc.nearest(grid.dx.shape[0], grid.t_ground, pair_solid, pair_ray, t_pair)
    ray = np.flatnonzero((t <= spec.max_range) & (t >= MIN_RANGE))
    solid = solid[ray]
    on_solid = solid >= 0
    prim_idx = lp.index[solid[on_solid]]
    labels = np.empty(ray.shape[0], dtype=np.uint8)
    labels[on_solid] = prims.label[prim_idx]
    keep = (labels != EGO_LABEL) | ~on_solid
    keep &= rng.random(ray.shape[0]) >= DROPOUT
    r = t[ray]
    dx, dy, dz = grid.dx[ray], grid.dy[ray], grid.dz[ray]
    # Ground: class and material from the town raster under the hit.
    g = ~on_solid
    c, s = np.cos(yaw), np.sin(yaw)
    gx, gy = r[g] * dx[g], r[g] * dy[g]
    ground_mat = town.ground_material(origin[0] + c * gx - s * gy, origin[1] + s * gx + c * gy)
    labels[g] = ap.GROUND_LABEL[ground_mat]
    material = np.empty(ray.shape[0], dtype=np.uint8)
    material[g] = ground_mat
    material[on_solid] = prims.material[prim_idx]
    # Incidence: |cos| between the ray and the surface normal.
    cos_inc = np.abs(dz).astype(np.float32)
    if on_solid.any():
        ox, oy, oz, ro = dx[on_solid], dy[on_solid], dz[on_solid], r[on_solid]
        _, normal = rc.surface(lp, solid[on_solid], ro * ox, ro * oy, ro * oz)
        cos_inc[on_solid] = np.abs(normal[:, 0] * ox + normal[:, 1] * oy + normal[:, 2] * oz)
    intensity = ap.REFLECTIVITY[material] * (0.3 + 0.7 * cos_inc) * (1 + 0.1 * rng.standard_normal(ray.shape[0]))
    intensity = np.clip(np.round(intensity), 0, 255)
    r = r + RANGE_NOISE * rng.standard_normal(ray.shape[0]).astype(np.float32)
    instance = np.full(ray.shape[0], -1, dtype=np.int32)
    instance[on_solid] = prims.instance[prim_idx]
    pts = np.stack([r * dx, r * dy, r * dz, intensity, grid.ring[ray]], axis=1).astype(np.float32)
    return LidarSweep(pts[keep], labels[keep], instance[keep])
