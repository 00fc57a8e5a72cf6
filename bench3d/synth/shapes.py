"""How each kind of agent is built from solids, in its annotation box frame (origin at the box's bottom
centre, x forward). Every part stays inside the w x l x h box so the annotation encloses the object.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.synth import appearance as ap
from bench3d.synth.primitives import BOX, CYLINDER, ELLIPSOID

TYRE_RGB = ap.BASE_ALBEDO[ap.TYRE]
GLASS_RGB = ap.BASE_ALBEDO[ap.GLASS]
SKIN_RGB = ap.BASE_ALBEDO[ap.SKIN]


@dataclass(frozen=True)
class Part:
    kind: int
    centre: tuple[float, float, float]
    half: tuple[float, float, float]
    material: int
    colour: tuple[float, float, float]


def _box(x0, x1, y0, y1, z0, z1, mat, rgb) -> Part:
    return Part(BOX, ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2), ((x1 - x0) / 2, (y1 - y0) / 2, (z1 - z0) / 2),
                mat, tuple(rgb))


def _cyl(x, y, z0, z1, r, mat, rgb) -> Part:
    return Part(CYLINDER, (x, y, (z0 + z1) / 2), (r, r, (z1 - z0) / 2), mat, tuple(rgb))


def _ball(x, y, z, r, rz, mat, rgb) -> Part:
    return Part(ELLIPSOID, (x, y, z), (r, r, rz), mat, tuple(rgb))


def _axles(l, w, xs, radius) -> list[Part]:
    return [_box(x - radius, x + radius, -0.47 * w, 0.47 * w, 0.0, 2 * radius, ap.TYRE, TYRE_RGB) for x in xs]


def car(w, l, h, rgb, rng) -> list[Part]:
    return [
        _box(-l / 2, l / 2, -w / 2, w / 2, 0.18 * h, 0.58 * h, ap.PAINTED, rgb),
        _box(-0.33 * l, 0.22 * l, -0.45 * w, 0.45 * w, 0.58 * h, 0.96 * h, ap.GLASS, GLASS_RGB),
        _box(-0.31 * l, 0.18 * l, -0.43 * w, 0.43 * w, 0.96 * h, h, ap.PAINTED, rgb),
        *_axles(l, w, (-0.32 * l, 0.32 * l), 0.17 * h),
    ]


def truck(w, l, h, rgb, rng) -> list[Part]:
    cargo = (0.92, 0.92, 0.90) if rng.random() < 0.5 else rgb
    return [
        _box(0.29 * l, 0.5 * l, -w / 2, w / 2, 0.45, 0.62 * h, ap.PAINTED, rgb),
        _box(0.30 * l, 0.48 * l, -0.47 * w, 0.47 * w, 0.62 * h, 0.82 * h, ap.GLASS, GLASS_RGB),
        _box(-0.5 * l, 0.27 * l, -w / 2, w / 2, 0.5, h, ap.PAINTED, cargo),
        *_axles(l, w, (-0.36 * l, -0.22 * l, 0.38 * l), 0.5),
    ]


def bus(w, l, h, rgb, rng) -> list[Part]:
    return [_box(-l / 2, l / 2, -w / 2, w / 2, 0.32, h, ap.BUS_BODY, rgb), *_axles(l, w, (-0.3 * l, 0.36 * l), 0.5)]


def bendy_bus(w, l, h, rgb, rng) -> list[Part]:
    return [
        _box(0.03 * l, l / 2, -w / 2, w / 2, 0.32, h, ap.BUS_BODY, rgb),
        _box(-0.03 * l, 0.03 * l, -0.42 * w, 0.42 * w, 0.4, 0.95 * h, ap.CLOTH, (0.15, 0.15, 0.15)),
        _box(-l / 2, -0.03 * l, -w / 2, w / 2, 0.32, h, ap.BUS_BODY, rgb),
        *_axles(l, w, (-0.38 * l, -0.08 * l, 0.38 * l), 0.5),
    ]


def trailer(w, l, h, rgb, rng) -> list[Part]:
    return [
        _box(-l / 2, l / 2, -w / 2, w / 2, 1.15, h, ap.PAINTED, rgb),
        _box(0.30 * l, 0.36 * l, -0.3 * w, 0.3 * w, 0.0, 1.15, ap.METAL, ap.BASE_ALBEDO[ap.METAL]),
        *_axles(l, w, (-0.38 * l, -0.25 * l), 0.5),
    ]


def construction(w, l, h, rgb, rng) -> list[Part]:
    return [
        _box(-0.45 * l, 0.25 * l, -w / 2, -w / 2 + 0.55, 0.0, 0.9, ap.TYRE, TYRE_RGB),
        _box(-0.45 * l, 0.25 * l, w / 2 - 0.55, w / 2, 0.0, 0.9, ap.TYRE, TYRE_RGB),
        _box(-0.5 * l, 0.15 * l, -0.45 * w, 0.45 * w, 0.9, 0.62 * h, ap.PAINTED, rgb),
        _box(-0.12 * l, 0.18 * l, -0.45 * w, 0.0, 0.62 * h, h, ap.GLASS, GLASS_RGB),
        _box(0.12 * l, 0.5 * l, -0.15, 0.15, 0.45 * h, 0.62 * h, ap.PAINTED, rgb),
        _box(0.40 * l, 0.5 * l, -0.5, 0.5, 0.0, 0.4 * h, ap.METAL, ap.BASE_ALBEDO[ap.METAL]),
    ]


def _rider(x, h, shirt, r_torso=0.2) -> list[Part]:
    return [
        _cyl(x, 0.0, 0.55 * h, h - 0.3, r_torso, ap.CLOTH, shirt),
        _ball(x, 0.0, h - 0.15, 0.13, 0.15, ap.PAINTED, (0.1, 0.1, 0.12)),
    ]


def motorcycle(w, l, h, rgb, rng, rider=True) -> list[Part]:
    parts = [
        _box(0.3 * l, 0.5 * l, -0.06, 0.06, 0.0, 0.6, ap.TYRE, TYRE_RGB),
        _box(-0.5 * l, -0.3 * l, -0.06, 0.06, 0.0, 0.6, ap.TYRE, TYRE_RGB),
        _box(-0.3 * l, 0.32 * l, -0.18, 0.18, 0.3, 0.85, ap.PAINTED, rgb),
    ]
    return parts + (_rider(-0.08 * l, h, _shirt(rng)) if rider else [])


def bicycle(w, l, h, rgb, rng, rider=True) -> list[Part]:
    parts = [
        _box(0.22 * l, 0.5 * l, -0.03, 0.03, 0.0, 0.68, ap.TYRE, TYRE_RGB),
        _box(-0.5 * l, -0.22 * l, -0.03, 0.03, 0.0, 0.68, ap.TYRE, TYRE_RGB),
        _box(-0.25 * l, 0.28 * l, -0.04, 0.04, 0.35, 0.95, ap.PAINTED, rgb),
    ]
    return parts + (_rider(-0.1 * l, h, _shirt(rng), 0.17) if rider else [])


def _shirt(rng) -> tuple[float, float, float]:
    return tuple(float(v) for v in rng.uniform(0.1, 0.9, 3))


def pedestrian(w, l, h, rgb, rng) -> list[Part]:
    s = h / 1.75
    legs = tuple(float(v) for v in rng.uniform(0.05, 0.4, 3))
    return [
        _cyl(0.0, -0.1 * s, 0.0, 0.47 * h, 0.075 * s, ap.CLOTH, legs),
        _cyl(0.0, 0.1 * s, 0.0, 0.47 * h, 0.075 * s, ap.CLOTH, legs),
        _cyl(0.0, 0.0, 0.47 * h, 0.84 * h, 0.18 * s, ap.CLOTH, rgb),
        _ball(0.0, 0.0, 0.92 * h, 0.1 * s, 0.08 * h, ap.SKIN, SKIN_RGB),
    ]


def barrier(w, l, h, rgb, rng) -> list[Part]:
    return [
        _box(-l / 2, l / 2, -w / 2, w / 2, 0.0, 0.35 * h, ap.BARRIER, rgb),
        _box(-0.3 * l, 0.3 * l, -w / 2, w / 2, 0.35 * h, h, ap.BARRIER, rgb),
    ]


def cone(w, l, h, rgb, rng) -> list[Part]:
    return [
        _box(-l / 2, l / 2, -w / 2, w / 2, 0.0, 0.05, ap.CONE, rgb),
        _cyl(0.0, 0.0, 0.05, h, min(w, l) * 0.35, ap.CONE, rgb),
    ]


BUILDERS = {
    "car": car, "truck": truck, "bus": bus, "bendy_bus": bendy_bus, "trailer": trailer,
    "construction": construction, "motorcycle": motorcycle, "bicycle": bicycle, "pedestrian": pedestrian,
    "barrier": barrier, "cone": cone,
}


def build_parts(shape: str, size: tuple[float, float, float], rgb, rng: np.random.Generator, rider: bool) -> list[Part]:
    w, l, h = size
    fn = BUILDERS[shape]
    if shape in ("motorcycle", "bicycle"):
        return fn(w, l, h, rgb, rng, rider)
    return fn(w, l, h, rgb, rng)
