"""Scenery: buildings, gardens, parks, parking lots, street trees, lamps, signs and traffic lights.

Everything here is static (instance id STATIC) and labelled static.manmade or static.vegetation; it also paints
what it stands on (footprints, tree pits, soil paths, parking lots) into the town's material raster.
"""

from __future__ import annotations

import numpy as np

from bench3d.labels.nuscenes import FINE_INDEX
from bench3d.synth import appearance as ap
from bench3d.synth.primitives import PrimBuilder
from bench3d.synth.town import Canvas, Road

MANMADE = FINE_INDEX["static.manmade"]
VEGETATION = FINE_INDEX["static.vegetation"]
WALL_COLOURS = np.array([
    (0.62, 0.35, 0.27), (0.78, 0.72, 0.60), (0.55, 0.55, 0.57), (0.85, 0.83, 0.78), (0.45, 0.40, 0.36),
    (0.70, 0.58, 0.42), (0.60, 0.66, 0.70),
], dtype=np.float32)
SIGN_COLOURS = np.array([(0.75, 0.08, 0.08), (0.10, 0.25, 0.70), (0.90, 0.75, 0.10), (0.92, 0.92, 0.92)])


def _jitter(rng: np.random.Generator, rgb, amount: float = 0.06) -> np.ndarray:
    return np.clip(np.asarray(rgb) * (1 + rng.uniform(-amount, amount, 3)), 0, 1)


def tree(b: PrimBuilder, rng: np.random.Generator, x: float, y: float, scale: float = 1.0) -> None:
    trunk_h = rng.uniform(2.0, 3.2) * scale
    r = rng.uniform(1.5, 2.8) * scale
    rz = r * rng.uniform(0.9, 1.35)
    b.cylinder(x, y, 0.0, trunk_h + 0.3 * rz, rng.uniform(0.14, 0.26) * scale, VEGETATION, ap.TRUNK,
               _jitter(rng, ap.BASE_ALBEDO[ap.TRUNK]))
    crown = _jitter(rng, ap.BASE_ALBEDO[ap.FOLIAGE], 0.2)
    b.spheroid((x, y, trunk_h + 0.75 * rz), r, rz, VEGETATION, ap.FOLIAGE, crown)


def hedge(b: PrimBuilder, rng: np.random.Generator, x: float, y: float, length: float, yaw: float) -> None:
    h = rng.uniform(0.8, 1.6)
    b.box((x, y, h / 2), (length / 2, rng.uniform(0.35, 0.6), h / 2), yaw, VEGETATION, ap.HEDGE,
          _jitter(rng, ap.BASE_ALBEDO[ap.HEDGE], 0.15))


def low_wall(b: PrimBuilder, rng: np.random.Generator, x: float, y: float, length: float, yaw: float) -> None:
    h = rng.uniform(0.8, 1.5)
    b.box((x, y, h / 2), (length / 2, rng.uniform(0.12, 0.3), h / 2), yaw, MANMADE, ap.CONCRETE,
          _jitter(rng, ap.BASE_ALBEDO[ap.CONCRETE]))


def lamp(b: PrimBuilder, rng: np.random.Generator, x: float, y: float, toward: tuple[float, float]) -> None:
    h = rng.uniform(6.5, 8.5)
    grey = _jitter(rng, ap.BASE_ALBEDO[ap.METAL])
    b.cylinder(x, y, 0.0, h, 0.09, MANMADE, ap.METAL, grey)
    yaw = float(np.arctan2(toward[1], toward[0]))
    b.box((x + 0.8 * toward[0], y + 0.8 * toward[1], h - 0.1), (0.8, 0.12, 0.08), yaw, MANMADE, ap.METAL, grey)


def sign(b: PrimBuilder, rng: np.random.Generator, x: float, y: float, facing: float) -> None:
    h = rng.uniform(2.2, 2.8)
    b.cylinder(x, y, 0.0, h, 0.045, MANMADE, ap.METAL, ap.BASE_ALBEDO[ap.METAL])
    b.box((x, y, h + 0.35), (0.03, 0.38, 0.38), facing, MANMADE, ap.SIGN, SIGN_COLOURS[rng.integers(len(SIGN_COLOURS))])


def traffic_light(b: PrimBuilder, rng: np.random.Generator, x: float, y: float, facing: float) -> None:
    b.cylinder(x, y, 0.0, 3.0, 0.1, MANMADE, ap.METAL, (0.25, 0.26, 0.28))
    b.box((x, y, 3.5), (0.18, 0.18, 0.5), facing, MANMADE, ap.METAL, (0.12, 0.12, 0.12))


def block_intervals(roads: list[Road], size: float) -> list[tuple[float, float]]:
    """Intervals of one axis between the outer edges (sidewalks) of consecutive parallel roads."""
    edges = [0.0] + [e for r in roads for e in (r.coord - r.outer, r.coord + r.outer)] + [size]
    return [(edges[i], edges[i + 1]) for i in range(0, len(edges), 2) if edges[i + 1] - edges[i] > 8]


def urban_block(b, canvas, rng, x0, x1, y0, y1) -> None:
    """Lots with one building each, gardens in front with hedges or low walls, a few trees."""
    w, h = x1 - x0, y1 - y0
    nx = max(1, int(w // rng.uniform(16, 26)))
    ny = 1 if h < 34 else 2
    for i in range(nx):
        for j in range(ny):
            lx0, lx1 = x0 + w * i / nx, x0 + w * (i + 1) / nx
            ly0, ly1 = y0 + h * j / ny, y0 + h * (j + 1) / ny
            # Setbacks: deeper towards the streets (block edges), narrow between neighbours.
            sx0 = rng.uniform(2.5, 5.5) if i == 0 else rng.uniform(0.6, 2.0)
            sx1 = rng.uniform(2.5, 5.5) if i == nx - 1 else rng.uniform(0.6, 2.0)
            sy0 = rng.uniform(2.5, 5.5) if j == 0 else rng.uniform(0.6, 2.0)
            sy1 = rng.uniform(2.5, 5.5) if j == ny - 1 else rng.uniform(0.6, 2.0)
            bx0, bx1, by0, by1 = lx0 + sx0, lx1 - sx1, ly0 + sy0, ly1 - sy1
            if bx1 - bx0 < 4 or by1 - by0 < 4:
                continue
            height = rng.uniform(5, 14) if rng.random() < 0.65 else rng.uniform(15, 36)
            colour = _jitter(rng, WALL_COLOURS[rng.integers(len(WALL_COLOURS))])
            b.box(((bx0 + bx1) / 2, (by0 + by1) / 2, height / 2), ((bx1 - bx0) / 2, (by1 - by0) / 2, height / 2), 0.0,
                  MANMADE, ap.WALL, colour)
            canvas.rect(bx0, bx1, by0, by1, ap.FOOTPRINT)
            if rng.random() < 0.35:
                tree(b, rng, (lx0 + bx0) / 2 if sx0 > 2 else (bx1 + lx1) / 2, rng.uniform(by0, by1), 0.9)
    # Front edges: hedges or low walls with gaps, just inside the block.
    for (ax, ay, bx, by) in ((x0, y0 + 0.8, x1, y0 + 0.8), (x0, y1 - 0.8, x1, y1 - 0.8),
                             (x0 + 0.8, y0, x0 + 0.8, y1), (x1 - 0.8, y0, x1 - 0.8, y1)):
        kind = rng.random()
        if kind > 0.6:
            continue
        length = float(np.hypot(bx - ax, by - ay))
        yaw = float(np.arctan2(by - ay, bx - ax))
        n = max(1, int(length // 9))
        for k in range(n):
            if rng.random() < 0.3:
                continue
            f = (k + 0.5) / n
            seg = length / n - rng.uniform(1.5, 3.0)
            fn = hedge if kind < 0.35 else low_wall
            fn(b, rng, ax + f * (bx - ax), ay + f * (by - ay), seg, yaw)


def park_block(b, canvas, rng, x0, x1, y0, y1) -> None:
    """Grass with soil paths and patches, scattered trees and hedges."""
    cx, cy = rng.uniform(x0 + 5, x1 - 5), rng.uniform(y0 + 5, y1 - 5)
    canvas.rect(x0, x1, cy - 1.0, cy + 1.0, ap.SOIL)
    canvas.rect(cx - 1.0, cx + 1.0, y0, y1, ap.SOIL)
    for _ in range(rng.integers(1, 4)):
        px, py = rng.uniform(x0, x1), rng.uniform(y0, y1)
        rx, ry = rng.uniform(2, 6, 2), rng.uniform(2, 6, 2)
        canvas.rect(px - rx[0], px + rx[1], py - ry[0], py + ry[1], ap.SOIL)
    placed: list[tuple[float, float]] = []
    for _ in range(int((x1 - x0) * (y1 - y0) / 90)):
        px, py = rng.uniform(x0 + 2, x1 - 2), rng.uniform(y0 + 2, y1 - 2)
        if abs(px - cx) < 3 or abs(py - cy) < 3 or any(np.hypot(px - qx, py - qy) < 6 for qx, qy in placed):
            continue
        placed.append((px, py))
        tree(b, rng, px, py, rng.uniform(0.8, 1.3))
    for _ in range(rng.integers(1, 4)):
        hedge(b, rng, rng.uniform(x0 + 6, x1 - 6), rng.uniform(y0 + 3, y1 - 3), rng.uniform(4, 10),
              float(rng.choice([0.0, np.pi / 2])))


def parking_block(b, canvas, rng, x0, x1, y0, y1) -> list[tuple[float, float, float]]:
    """A parking lot (driveable) with painted bays along its two long sides; returns the bay poses."""
    px0, px1, py0, py1 = x0 + 1.5, x1 - 1.5, y0 + 1.5, y1 - 1.5
    canvas.rect(px0, px1, py0, py1, ap.PARKING, layer="carpark_area")
    along_x = (px1 - px0) >= (py1 - py0)
    a0, a1 = (px0, px1) if along_x else (py0, py1)
    c0, c1 = (py0, py1) if along_x else (px0, px1)
    spots = []
    for edge, inward in ((c0, 1.0), (c1, -1.0)):
        n = int((a1 - a0 - 2) // 2.6)
        for k in range(n + 1):  # bay separator lines
            a = a0 + 1 + k * 2.6
            lo, hi = sorted((edge, edge + inward * 5.0))
            if along_x:
                canvas.rect(a - 0.05, a + 0.05, lo, hi, ap.PAINT_WHITE)
            else:
                canvas.rect(lo, hi, a - 0.05, a + 0.05, ap.PAINT_WHITE)
        for k in range(n):
            a, c = a0 + 1 + (k + 0.5) * 2.6, edge + inward * 2.6
            yaw = (np.pi / 2 if inward > 0 else -np.pi / 2) if along_x else (0.0 if inward > 0 else np.pi)
            spots.append((a, c, yaw) if along_x else (c, a, yaw))
    for (tx, ty) in ((x0 + 0.7, y0 + 0.7), (x1 - 0.7, y1 - 0.7)):
        tree(b, rng, tx, ty, 0.8)
    return spots


def street_furniture(b, canvas, rng, roads: tuple[Road, ...], size: float) -> None:
    """Lamps and street trees along the kerbs; signs and traffic lights at junction corners."""
    for r in roads:
        crossing = [x for x in roads if x.axis != r.axis]
        trees = rng.random() < 0.6
        for side in (-1, 1):
            a = rng.uniform(0, 10)
            k = 0
            while a < size:
                if all(abs(a - x.coord) > x.outer + 3.0 for x in crossing):
                    toward = r.point(0, -side)
                    base = r.point(0, 0)
                    dirn = (toward[0] - base[0], toward[1] - base[1])
                    if trees and k % 2 == 1:
                        x, y = r.point(a, side * (r.half_width + 1.0))
                        canvas.rect(x - 0.6, x + 0.6, y - 0.6, y + 0.6, ap.SOIL)
                        tree(b, rng, x, y)
                    else:
                        x, y = r.point(a, side * (r.half_width + 0.5))
                        lamp(b, rng, x, y, dirn)
                    k += 1
                a += rng.uniform(11, 16) if trees else rng.uniform(20, 30)
    for v in (r for r in roads if r.axis == 1):
        for h in (r for r in roads if r.axis == 0):
            for sx in (-1, 1):
                for sy in (-1, 1):
                    x, y = v.coord + sx * (v.half_width + 0.6), h.coord + sy * (h.half_width + 0.6)
                    u = rng.random()
                    if u < 0.45:
                        sign(b, rng, x, y, float(rng.choice([0.0, np.pi / 2])))
                    elif u < 0.75:
                        traffic_light(b, rng, x, y, 0.0)


def furnish(canvas: Canvas, roads: tuple[Road, ...], size: float, rng: np.random.Generator):
    """Fill every block and the streets; returns (PrimBuilder, parking bay poses (k, 3))."""
    b = PrimBuilder()
    spots: list[tuple[float, float, float]] = []
    xs = block_intervals(sorted((r for r in roads if r.axis == 1), key=lambda r: r.coord), size)
    ys = block_intervals(sorted((r for r in roads if r.axis == 0), key=lambda r: r.coord), size)
    for i, (x0, x1) in enumerate(xs):
        for j, (y0, y1) in enumerate(ys):
            border = i in (0, len(xs) - 1) or j in (0, len(ys) - 1)
            u = rng.random()
            if u < 0.55 or (border and u < 0.75):
                urban_block(b, canvas, rng, x0, x1, y0, y1)
            elif u < 0.78 or border:
                park_block(b, canvas, rng, x0, x1, y0, y1)
            else:
                spots += parking_block(b, canvas, rng, x0, x1, y0, y1)
    street_furniture(b, canvas, rng, roads, size)
    return b, np.array(spots, dtype=np.float64).reshape(-1, 3)
