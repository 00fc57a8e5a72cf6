"""Materials: what a surface looks like to the cameras (albedo, procedural texture) and to the LiDAR (reflectivity).

Appearance deliberately carries information that geometry does not: road, sidewalk, terrain and median are all
flat at z = 0 and differ only in colour and texture (and a little in LiDAR intensity); hedges, low walls and
barriers are similar boxes with different materials.
"""

from __future__ import annotations

import numpy as np

from bench3d.labels.nuscenes import FINE_INDEX

# Ground materials (the town raster holds these ids).
GRASS, SOIL, ASPHALT, PARKING, PAINT_WHITE, PAINT_YELLOW, SIDEWALK, MEDIAN, FOOTPRINT = range(9)
# Object materials.
(WALL, GLASS, TRUNK, FOLIAGE, HEDGE, METAL, SIGN, BARRIER, CONE, PAINTED, TYRE, CLOTH, SKIN, CONCRETE, BUS_BODY,
 EGO) = range(16, 32)
N_MATERIALS = 32

GROUND_LABEL = np.zeros(N_MATERIALS, dtype=np.uint8)
for _m, _name in [
    (GRASS, "flat.terrain"), (SOIL, "flat.terrain"), (ASPHALT, "flat.driveable_surface"),
    (PARKING, "flat.driveable_surface"), (PAINT_WHITE, "flat.driveable_surface"),
    (PAINT_YELLOW, "flat.driveable_surface"), (SIDEWALK, "flat.sidewalk"), (MEDIAN, "flat.other"),
    (FOOTPRINT, "static.manmade"),
]:
    GROUND_LABEL[_m] = FINE_INDEX[_name]

BASE_ALBEDO = np.full((N_MATERIALS, 3), 0.5, dtype=np.float32)
for _m, _rgb in [
    (GRASS, (0.25, 0.42, 0.14)), (SOIL, (0.42, 0.32, 0.21)), (ASPHALT, (0.22, 0.22, 0.23)),
    (PARKING, (0.36, 0.35, 0.34)), (PAINT_WHITE, (0.86, 0.86, 0.83)), (PAINT_YELLOW, (0.86, 0.68, 0.12)),
    (SIDEWALK, (0.63, 0.61, 0.57)), (MEDIAN, (0.58, 0.40, 0.33)), (FOOTPRINT, (0.5, 0.5, 0.5)),
    (GLASS, (0.10, 0.13, 0.18)), (TRUNK, (0.33, 0.23, 0.15)), (FOLIAGE, (0.13, 0.33, 0.10)),
    (HEDGE, (0.17, 0.38, 0.13)), (METAL, (0.47, 0.48, 0.50)), (TYRE, (0.04, 0.04, 0.04)),
    (SKIN, (0.80, 0.62, 0.50)), (CONCRETE, (0.60, 0.58, 0.54)),
]:
    BASE_ALBEDO[_m] = _rgb

# LiDAR reflectivity on the nuScenes 0..255 intensity scale (signs and markings are retro-reflective).
REFLECTIVITY = np.full(N_MATERIALS, 20.0, dtype=np.float32)
for _m, _r in [
    (GRASS, 16), (SOIL, 12), (ASPHALT, 7), (PARKING, 9), (PAINT_WHITE, 75), (PAINT_YELLOW, 62), (SIDEWALK, 24),
    (MEDIAN, 30), (WALL, 32), (GLASS, 5), (TRUNK, 19), (FOLIAGE, 27), (HEDGE, 23), (METAL, 48), (SIGN, 190),
    (BARRIER, 64), (CONE, 95), (PAINTED, 36), (TYRE, 3), (CLOTH, 14), (SKIN, 11), (CONCRETE, 29), (BUS_BODY, 40),
]:
    REFLECTIVITY[_m] = _r

SKY_ZENITH = np.array([0.30, 0.50, 0.82], dtype=np.float32)
SKY_HORIZON = np.array([0.74, 0.80, 0.88], dtype=np.float32)
_NOISE = np.random.default_rng(20260101).random((256, 256)).astype(np.float32)  # fixed: textures never change


def noise(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Smooth value noise in [0, 1] on a unit lattice, periodic over 256 units."""
    fu, fv = np.floor(u), np.floor(v)
    iu, iv = fu.astype(np.int64) & 255, fv.astype(np.int64) & 255
    su, sv = u - fu, v - fv
    su = su * su * (3 - 2 * su)
    sv = sv * sv * (3 - 2 * sv)
    iu1, iv1 = (iu + 1) & 255, (iv + 1) & 255
    a = _NOISE[iv, iu] + su * (_NOISE[iv, iu1] - _NOISE[iv, iu])
    b = _NOISE[iv1, iu] + su * (_NOISE[iv1, iu1] - _NOISE[iv1, iu])
    return (a + sv * (b - a)).astype(np.float32)


def _grid_line(c: np.ndarray, period: float, width: float) -> np.ndarray:
    return np.mod(c, period) < width


def ground_albedo(mat: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(n, 3) albedo of ground hits with material ids `mat` at world coordinates x, y."""
    out = BASE_ALBEDO[mat].copy()
    fine = noise(x * 4.0, y * 4.0)
    coarse = noise(x * 0.35 + 31.0, y * 0.35 + 7.0)
    f = np.ones_like(x, dtype=np.float32)
    m = mat == GRASS
    f[m] = (0.65 + 0.7 * coarse[m]) * (0.8 + 0.4 * fine[m])
    m = mat == SOIL
    f[m] = 0.7 + 0.6 * noise(x[m] * 1.3, y[m] * 1.3)
    m = (mat == ASPHALT) | (mat == PARKING)
    f[m] = (0.85 + 0.3 * fine[m]) * (0.9 + 0.2 * coarse[m])
    m = (mat == PAINT_WHITE) | (mat == PAINT_YELLOW)
    f[m] = 0.85 + 0.15 * fine[m]
    m = mat == SIDEWALK
    if m.any():  # 0.6 m tiles with dark grout and a per-tile shade
        tx, ty = x[m] / 0.6, y[m] / 0.6
        grout = _grid_line(tx, 1.0, 0.07) | _grid_line(ty, 1.0, 0.07)
        tile = 0.9 + 0.2 * noise(np.floor(tx) * 7.3 + 0.5, np.floor(ty) * 3.1 + 0.5)
        f[m] = np.where(grout, 0.62, tile)
    m = mat == MEDIAN
    if m.any():  # running-bond paving bricks
        row = np.floor(y[m] / 0.25)
        bx = x[m] / 0.5 + 0.5 * np.mod(row, 2)
        mortar = _grid_line(y[m], 0.25, 0.03) | _grid_line(bx, 1.0, 0.08)
        f[m] = np.where(mortar, 0.7, 0.9 + 0.2 * noise(np.floor(bx) * 5.1, row * 2.3))
    return out * f[:, None]


def object_albedo(mat: np.ndarray, colour: np.ndarray, local: np.ndarray, half: np.ndarray) -> np.ndarray:
    """(n, 3) albedo of hits on solids: `colour` is the solid's own albedo, `local` the hit in its frame."""
    out = colour.copy()
    lx, ly, lz = local[:, 0], local[:, 1], local[:, 2]
    hx, hy, hz = half[:, 0], half[:, 1], half[:, 2]
    zb = lz + hz  # height above the solid's bottom
    m = mat == WALL
    if m.any():  # storeys of windows on the side faces; roofs plain
        side_x = np.abs(lx[m]) / hx[m] >= np.abs(ly[m]) / hy[m]
        q = np.where(side_x, ly[m], lx[m]) + np.where(side_x, hy[m], hx[m])
        zz = zb[m]
        top = np.abs(lz[m]) / hz[m] > np.maximum(np.abs(lx[m]) / hx[m], np.abs(ly[m]) / hy[m])
        window = (np.mod(zz, 3.2) > 0.9) & (np.mod(zz, 3.2) < 2.3) & (np.mod(q, 2.8) > 0.7) & (np.mod(q, 2.8) < 2.1)
        window &= (zz < 2 * hz[m] - 0.6) & ~top
        shade = 0.85 + 0.3 * noise(q * 1.5, zz * 1.5)
        col = out[m] * shade[:, None]
        col[window] = BASE_ALBEDO[GLASS] + 0.08 * noise(q[window], zz[window])[:, None]
        col[top] *= 0.7
        out[m] = col
    m = (mat == FOLIAGE) | (mat == HEDGE)
    if m.any():
        gx = lx[m] + lz[m] * 0.7
        gy = ly[m] - lz[m] * 0.7
        scale = np.where(mat[m] == FOLIAGE, 2.5, 4.0)
        out[m] *= (0.5 + 0.9 * noise(gx * scale + 11, gy * scale))[:, None]
    m = mat == TRUNK
    out[m] *= (0.75 + 0.5 * noise(lx[m] * 8 + lz[m] * 6, ly[m] * 8))[:, None]
    m = mat == BARRIER  # red / white chevrons along the long side
    if m.any():
        stripe = np.mod(np.floor((lx[m] + ly[m] + zb[m]) / 0.45), 2) == 0
        out[m] = np.where(stripe[:, None], out[m], np.float32(0.88))
    m = mat == CONE  # reflective white collar
    if m.any():
        rel = zb[m] / (2 * hz[m])
        band = (rel > 0.45) & (rel < 0.68)
        out[m] = np.where(band[:, None], np.float32(0.92), out[m])
    m = mat == BUS_BODY  # window band on the sides
    if m.any():
        rel = zb[m] / (2 * hz[m])
        side = np.abs(lz[m]) / hz[m] < 0.999
        band = side & (rel > 0.5) & (rel < 0.85) & (np.mod(lx[m], 1.6) > 0.15)
        out[m] = np.where(band[:, None], BASE_ALBEDO[GLASS], out[m])
    m = (mat == CONCRETE) | (mat == PAINTED) | (mat == CLOTH)
    out[m] *= (0.9 + 0.2 * noise(lx[m] * 3 + ly[m] * 2, lz[m] * 3))[:, None]
    return out


def shade(albedo: np.ndarray, normal: np.ndarray | None, sun: np.ndarray, ambient: float = 0.5) -> np.ndarray:
    """Lambertian shading with ambient light; `sun` is a unit vector in the same frame as the normals
    (normal None = facing straight up). Written out rather than `normal @ sun`: BLAS threads thrash on busy CPUs."""
    if normal is None:
        return albedo * np.float32(ambient + (1.0 - ambient) * 1.25 * max(float(sun[2]), 0.0))
    sx, sy, sz = (np.float32(v) for v in sun)
    lam = np.maximum(normal[:, 0] * sx + normal[:, 1] * sy + normal[:, 2] * sz, 0.0)
    return albedo * (np.float32(ambient) + np.float32((1.0 - ambient) * 1.25) * lam)[:, None]


def sky(dx: np.ndarray, dy: np.ndarray, dz: np.ndarray) -> np.ndarray:
    """Sky colour of view rays: a gradient from the horizon to the zenith."""
    elev = np.arctan2(dz, np.hypot(dx, dy))
    w = np.clip(elev / 0.7, 0.0, 1.0) ** 0.7
    return SKY_HORIZON + w[:, None] * (SKY_ZENITH - SKY_HORIZON)


def fog(colour: np.ndarray, distance: np.ndarray, visibility: float = 450.0) -> np.ndarray:
    """Aerial perspective: far surfaces fade into the horizon colour."""
    w = (1.0 - np.exp(-distance / visibility)).astype(np.float32)
    return colour + w[:, None] * (SKY_HORIZON - colour)
