"""Pinhole cameras: one ray per pixel cast against the same scene as the LiDAR, then shaded.

Each solid only meets the pixels inside the bounding rectangle of its projected (near-plane clipped) box.
Besides the RGB image the renderer returns the per-pixel fine class (255 = sky) and z-depth, and, for
keyframes, how much of each agent is visible (for the nuScenes visibility levels).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from bench3d.synth import appearance as ap
from bench3d.synth import raycast as rc
from bench3d.synth.primitives import Prims
from bench3d.synth.rig import CameraSpec
from bench3d.synth.town import Town

NEAR = 0.05
FAR = 160.0  # solids beyond this are not drawn (fog has nearly swallowed them)
SKY_CLASS = 255
PIXEL_NOISE = 0.012
_EDGES = np.array([(0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7)])


@dataclass(frozen=True)
class CameraGrid:
    spec: CameraSpec
    height: int
    width: int
    intrinsic: np.ndarray
    dx: np.ndarray  # (H*W,) float32 ray directions in the camera's level frame (x forward = 1, y left, z up)
    dy: np.ndarray
    dz: np.ndarray
    t_ground: np.ndarray  # depth at which each pixel ray meets z = 0 (inf above the horizon)


_NOISE_BANK = (PIXEL_NOISE * np.random.default_rng(7).standard_normal(1 << 22)).astype(np.float32)


def sensor_noise(size: int, rng: np.random.Generator) -> np.ndarray:
    """Per-pixel sensor noise: a slice of a fixed Gaussian bank at a seeded random offset (drawing fresh normals
    for every pixel costs more than shading it)."""
    if size > _NOISE_BANK.size:
        return PIXEL_NOISE * rng.standard_normal(size, dtype=np.float32)
    start = int(rng.integers(0, _NOISE_BANK.size - size + 1))
    return _NOISE_BANK[start:start + size]


@lru_cache(maxsize=16)
def camera_grid(spec: CameraSpec, height: int, width: int) -> CameraGrid:
    k = spec.intrinsic(height, width)
    v, u = np.mgrid[0:height, 0:width]
    xc = ((u + 0.5 - k[0, 2]) / k[0, 0]).ravel()
    yc = ((v + 0.5 - k[1, 2]) / k[1, 1]).ravel()
    dx = np.ones(height * width, dtype=np.float32)
    dy = (-xc).astype(np.float32)
    dz = (-yc).astype(np.float32)
    with np.errstate(divide="ignore"):
        tg = np.where(dz < 0, spec.translation[2] / -dz, np.inf).astype(np.float32)
    return CameraGrid(spec, height, width, k, dx, dy, dz, tg)


@dataclass
class CameraImage:
    rgb: np.ndarray  # (H, W, 3) uint8
    classes: np.ndarray  # (H, W) uint8 fine class, 255 = sky
    depth: np.ndarray  # (H, W) float32 z-depth in metres, inf = sky
    visible: np.ndarray | None  # (n_agents,) pixels where the agent is the nearest surface
    extent: np.ndarray | None  # (n_agents,) pixels the agent covers, ignoring occlusion by others


def _pixel_rects(lp: rc.LocalPrims, grid: CameraGrid) -> tuple[np.ndarray, ...]:
    """Bounding pixel rectangle of each solid's box after clipping it at the near plane."""
    x, y, z = rc.corners(lp)
    k = grid.intrinsic
    zc, xc, yc = x, -y, -z  # camera coordinates: forward depth, right, down
    a, b = _EDGES[:, 0], _EDGES[:, 1]
    za, zb = zc[:, a], zc[:, b]
    crosses = (za - NEAR) * (zb - NEAR) < 0
    f = np.where(crosses, (NEAR - za) / np.where(crosses, zb - za, 1), 0)
    ex = xc[:, a] + f * (xc[:, b] - xc[:, a])
    ey = yc[:, a] + f * (yc[:, b] - yc[:, a])
    px = np.concatenate([xc, ex], axis=1)
    py = np.concatenate([yc, ey], axis=1)
    pz = np.concatenate([zc, np.full_like(ex, NEAR)], axis=1)
    ok = np.concatenate([zc >= NEAR, crosses], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        u = k[0, 0] * px / pz + k[0, 2]
        v = k[1, 1] * py / pz + k[1, 2]
    big = np.float32(1e9)
    u0 = np.floor(np.where(ok, u, big).min(axis=1))
    u1 = np.floor(np.where(ok, u, -big).max(axis=1))
    v0 = np.floor(np.where(ok, v, big).min(axis=1))
    v1 = np.floor(np.where(ok, v, -big).max(axis=1))
    c0 = np.clip(u0, 0, grid.width).astype(np.int64)
    c1 = np.clip(u1, -1, grid.width - 1).astype(np.int64)
    r0 = np.clip(v0, 0, grid.height).astype(np.int64)
    r1 = np.clip(v1, -1, grid.height - 1).astype(np.int64)
    return r0, r1 - r0 + 1, c0, c1 - c0 + 1


def render_camera(prims: Prims, town: Town, origin: np.ndarray, yaw: float, grid: CameraGrid, sun: np.ndarray,
                  rng: np.random.Generator, n_agents: int | None = None) -> CameraImage:
    """One image from a level camera at world `origin` looking along world heading `yaw`.

    With `n_agents`, also count each agent's visible and unoccluded pixel areas.
    """
    h, w = grid.height, grid.width
    n = h * w
    c, s = np.cos(yaw), np.sin(yaw)
    rx, ry = prims.cx - origin[0], prims.cy - origin[1]
    fwd = c * rx + s * ry
    radius = np.hypot(prims.hx, prims.hy)
    keep = np.flatnonzero((fwd + radius > NEAR) & (np.hypot(rx, ry) - radius < FAR))
    lp = rc.to_sensor_frame(prims, origin, yaw, keep)
    r0, nr, c0, nc = _pixel_rects(lp, grid)
    pair_solid, pair_ray = rc.expand_windows(r0, nr, c0, nc, w, 1)
    t_pair = rc.intersect(lp, pair_solid, pair_ray, grid.dx, grid.dy, grid.dz)
    t, solid = rc.nearest(n, grid.t_ground, pair_solid, pair_ray, t_pair)

    rgb = np.empty((n, 3), dtype=np.float32)
    classes = np.full(n, SKY_CLASS, dtype=np.uint8)
    sky = ~np.isfinite(t)
    rgb[sky] = ap.sky(grid.dx[sky], grid.dy[sky], grid.dz[sky])
    # Ground: material from the town raster, lit from above.
    g = np.flatnonzero((solid < 0) & ~sky)
    gx, gy = t[g] * grid.dx[g], t[g] * grid.dy[g]
    wx, wy = origin[0] + c * gx - s * gy, origin[1] + s * gx + c * gy
    mat = town.ground_material(wx, wy)
    classes[g] = ap.GROUND_LABEL[mat]
    col = ap.shade(ap.ground_albedo(mat, wx.astype(np.float32), wy.astype(np.float32)), None, sun)
    dist = t[g] * np.sqrt(grid.dx[g] ** 2 + grid.dy[g] ** 2 + grid.dz[g] ** 2)
    rgb[g] = ap.fog(col, dist)
    # Solids: albedo and texture in the solid's own frame, shaded in the camera's level frame.
    o = np.flatnonzero(solid >= 0)
    if o.size:
        sl = solid[o]
        pi = lp.index[sl]
        local, normal = rc.surface(lp, sl, t[o] * grid.dx[o], t[o] * grid.dy[o], t[o] * grid.dz[o])
        half = np.stack([lp.hx[sl], lp.hy[sl], lp.hz[sl]], axis=1)
        alb = ap.object_albedo(prims.material[pi], prims.colour[pi], local, half)
        sun_local = np.array([c * sun[0] + s * sun[1], -s * sun[0] + c * sun[1], sun[2]])
        dist = t[o] * np.sqrt(grid.dx[o] ** 2 + grid.dy[o] ** 2 + grid.dz[o] ** 2)
        rgb[o] = ap.fog(ap.shade(alb, normal, sun_local), dist)
        classes[o] = prims.label[pi]
    rgb += sensor_noise(rgb.size, rng).reshape(rgb.shape)
    img = (np.clip(rgb, 0, 1) * 255 + 0.5).astype(np.uint8).reshape(h, w, 3)
    visible = extent = None
    if n_agents is not None:
        inst = prims.instance[lp.index]
        win = inst[solid[o]] if o.size else np.zeros(0, dtype=np.int32)
        visible = np.bincount(win[win >= 0], minlength=n_agents)[:n_agents]
        hit = np.isfinite(t_pair)
        pi_inst = inst[pair_solid[hit]]
        agent = pi_inst >= 0
        keys = np.unique(pi_inst[agent].astype(np.int64) * n + pair_ray[hit][agent])
        extent = np.bincount(keys // n, minlength=n_agents)[:n_agents]
    return CameraImage(img, classes.reshape(h, w), t.reshape(h, w), visible, extent)
