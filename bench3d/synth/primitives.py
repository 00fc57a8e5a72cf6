"""Scene geometry as a structure of arrays of simple solids (oriented boxes, vertical cylinders, spheroids).

Everything the sensors see except the ground plane is one of these solids; keeping them as flat 1-D arrays
lets the ray caster gather per-pair parameters with cheap 1-D fancy indexing.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

BOX, CYLINDER, ELLIPSOID = 0, 1, 2
STATIC = -1  # instance id of scenery (buildings, trees, poles, ...)


@dataclass
class Prims:
    """N solids in one frame. Boxes are yaw-rotated about +z; cylinders are vertical; spheroids have rx == ry.

    `hx, hy, hz` are half extents (box: along its local x / y / z; cylinder: radius, radius, half height;
    spheroid: radius, radius, vertical radius). `colour` is a linear RGB albedo in [0, 1].
    """

    kind: np.ndarray  # int8
    cx: np.ndarray  # float64 centre
    cy: np.ndarray
    cz: np.ndarray
    hx: np.ndarray  # float32 half extents
    hy: np.ndarray
    hz: np.ndarray
    yaw: np.ndarray  # float64
    label: np.ndarray  # uint8 nuScenes fine index
    material: np.ndarray  # uint8, see appearance.MATERIALS
    instance: np.ndarray  # int32, STATIC for scenery, else the agent index
    colour: np.ndarray  # (N, 3) float32

    def __len__(self) -> int:
        return int(self.kind.shape[0])

    def take(self, idx: np.ndarray) -> Prims:
        return Prims(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def concat(parts: list[Prims]) -> Prims:
        parts = [p for p in parts if len(p)] or parts[:1]
        if not parts:
            return empty_prims()
        return Prims(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(Prims)})


def empty_prims() -> Prims:
    return make_prims([], [], [], [], [], [], [], [], [], [], [], np.zeros((0, 3)))


def make_prims(kind, cx, cy, cz, hx, hy, hz, yaw, label, material, instance, colour) -> Prims:
    """Build a Prims from sequences, casting every field to its canonical dtype."""
    return Prims(
        kind=np.asarray(kind, dtype=np.int8),
        cx=np.asarray(cx, dtype=np.float64),
        cy=np.asarray(cy, dtype=np.float64),
        cz=np.asarray(cz, dtype=np.float64),
        hx=np.asarray(hx, dtype=np.float32),
        hy=np.asarray(hy, dtype=np.float32),
        hz=np.asarray(hz, dtype=np.float32),
        yaw=np.asarray(yaw, dtype=np.float64),
        label=np.asarray(label, dtype=np.uint8),
        material=np.asarray(material, dtype=np.uint8),
        instance=np.asarray(instance, dtype=np.int32),
        colour=np.asarray(colour, dtype=np.float32).reshape(-1, 3),
    )


class PrimBuilder:
    """Accumulates solids one by one (scene set-up only; never on the per-frame path)."""

    def __init__(self) -> None:
        self._rows: list[tuple] = []

    def add(self, kind: int, centre, half, yaw: float, label: int, material: int, colour, instance: int = STATIC):
        self._rows.append((kind, *centre, *half, yaw, label, material, instance, tuple(colour)))

    def box(self, centre, half, yaw, label, material, colour, instance: int = STATIC) -> None:
        self.add(BOX, centre, half, yaw, label, material, colour, instance)

    def cylinder(self, x, y, z0, z1, radius, label, material, colour, instance: int = STATIC) -> None:
        centre, half = (x, y, (z0 + z1) / 2), (radius, radius, (z1 - z0) / 2)
        self.add(CYLINDER, centre, half, 0.0, label, material, colour, instance)

    def spheroid(self, centre, radius, vradius, label, material, colour, instance: int = STATIC) -> None:
        self.add(ELLIPSOID, centre, (radius, radius, vradius), 0.0, label, material, colour, instance)

    def __len__(self) -> int:
        return len(self._rows)

    def build(self) -> Prims:
        if not self._rows:
            return empty_prims()
        cols = list(zip(*self._rows))
        return make_prims(*cols[:11], np.array(cols[11], dtype=np.float32))
