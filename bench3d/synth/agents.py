"""Agents (vehicles, cyclists, pedestrians, barriers, cones): their motion and their solids at any time.

Poses are evaluated for all agents at once: moving agents' paths are concatenated into one arc-length bank so a
single `np.interp` per coordinate places everybody; parts are transformed from box frames in one vectorised step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.labels.nuscenes import FINE_INDEX
from bench3d.synth.primitives import Prims
from bench3d.synth.routes import Path
from bench3d.synth.shapes import build_parts


@dataclass
class Agent:
    category: str  # nuScenes fine category name
    shape: str  # key of shapes.BUILDERS
    size: tuple[float, float, float]  # w, l, h
    colour: tuple[float, float, float]
    attribute: str  # nuScenes attribute name, "" for barriers and cones
    path: Path | None = None  # None: stands still at `pose`
    s0: float = 0.0  # arc length at t = 0 (the first keyframe)
    speed: float = 0.0  # m/s along the path
    pose: tuple[float, float, float] = (0.0, 0.0, 0.0)  # x, y, yaw when static
    rider: bool = False

    def footprint(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, yaw) at each time, for collision checks while placing agents."""
        if self.path is None:
            n = len(times)
            return np.full(n, self.pose[0]), np.full(n, self.pose[1]), np.full(n, self.pose[2])
        return self.path.pose(self.s0 + self.speed * times)


class AgentSet:
    """All agents of a scene with their solids laid out for fast per-frame evaluation."""

    _GAP = 10.0  # arc-length gap between concatenated paths so interpolation never mixes two paths

    def __init__(self, agents: list[Agent], rng: np.random.Generator) -> None:
        self.agents = agents
        n = len(agents)
        self.size = np.array([a.size for a in agents], dtype=np.float64).reshape(n, 3)
        self.static_pose = np.array([a.pose for a in agents], dtype=np.float64).reshape(n, 3)
        self.moving = np.array([a.path is not None for a in agents], dtype=bool)
        self.s0 = np.array([a.s0 for a in agents], dtype=np.float64)
        self.speed = np.array([a.speed for a in agents], dtype=np.float64)
        self._build_bank()
        rows = []
        for i, a in enumerate(agents):
            label = FINE_INDEX[a.category]
            for p in build_parts(a.shape, a.size, a.colour, rng, a.rider):
                rows.append((i, p.kind, *p.centre, *p.half, label, p.material, *p.colour))
        arr = np.array(rows, dtype=np.float64).reshape(-1, 13)
        self.part_agent = arr[:, 0].astype(np.int64)
        self.part_kind = arr[:, 1].astype(np.int8)
        self.part_local = arr[:, 2:5]
        self.part_half = arr[:, 5:8].astype(np.float32)
        self.part_label = arr[:, 8].astype(np.uint8)
        self.part_material = arr[:, 9].astype(np.uint8)
        self.part_colour = arr[:, 10:13].astype(np.float32)

    def _build_bank(self) -> None:
        xs, ys, cs, ss, sg = [], [], [], [], []
        self.offset = np.zeros(len(self.agents))
        self.length = np.zeros(len(self.agents))
        cursor = 0.0
        for i, a in enumerate(self.agents):
            if a.path is None:
                continue
            p = a.path
            self.offset[i], self.length[i] = cursor, p.length
            xs.append(p.x), ys.append(p.y), cs.append(p.hc), ss.append(p.hs), sg.append(p.s + cursor)
            cursor += p.length + self._GAP
        cat = (lambda v: np.concatenate(v)) if sg else (lambda v: np.zeros(1))
        self.bank = tuple(cat(v) for v in (sg, xs, ys, cs, ss))

    def __len__(self) -> int:
        return len(self.agents)

    def poses(self, t: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """World x, y, yaw of every agent's box at time t (seconds from the first keyframe)."""
        x, y, yaw = self.static_pose[:, 0].copy(), self.static_pose[:, 1].copy(), self.static_pose[:, 2].copy()
        m = self.moving
        if m.any():
            sg, bx, by, bc, bs = self.bank
            s = np.clip(self.s0[m] + self.speed[m] * t, 0.0, self.length[m]) + self.offset[m]
            x[m], y[m] = np.interp(s, sg, bx), np.interp(s, sg, by)
            yaw[m] = np.arctan2(np.interp(s, sg, bs), np.interp(s, sg, bc))
        return x, y, yaw

    def velocities(self, t: float) -> np.ndarray:
        """(n, 2) true world velocity of every agent at time t."""
        v = np.zeros((len(self), 2))
        m = self.moving
        if m.any():
            sg, _, _, bc, bs = self.bank
            s = self.s0[m] + self.speed[m] * t
            inside = (s >= 0) & (s <= self.length[m])
            sgl = np.clip(s, 0, self.length[m]) + self.offset[m]
            speed = np.where(inside, self.speed[m], 0.0)
            v[m, 0], v[m, 1] = speed * np.interp(sgl, sg, bc), speed * np.interp(sgl, sg, bs)
        return v

    def prims(self, t: float) -> Prims:
        """Solids of all agents at time t, instance id = agent index."""
        x, y, yaw = self.poses(t)
        a = self.part_agent
        c, s = np.cos(yaw[a]), np.sin(yaw[a])
        lx, ly = self.part_local[:, 0], self.part_local[:, 1]
        return Prims(
            kind=self.part_kind,
            cx=x[a] + c * lx - s * ly,
            cy=y[a] + s * lx + c * ly,
            cz=self.part_local[:, 2].copy(),
            hx=self.part_half[:, 0],
            hy=self.part_half[:, 1],
            hz=self.part_half[:, 2],
            yaw=yaw[a],
            label=self.part_label,
            material=self.part_material,
            instance=a.astype(np.int32),
            colour=self.part_colour,
        )
