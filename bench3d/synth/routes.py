"""Paths that agents follow: rounded polylines sampled densely, and lane routes through the road grid.

A path is parametrised by arc length; agents move along it at constant speed, so annotation centres sampled at
keyframes give the devkit's centred-difference velocity exactly on straight stretches.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bench3d.synth.town import Road, Town

STEP = 0.25  # metres between path samples


@dataclass
class Path:
    x: np.ndarray
    y: np.ndarray
    hc: np.ndarray  # heading cos / sin
    hs: np.ndarray
    s: np.ndarray  # cumulative arc length, s[0] = 0
    turns: bool  # True if the path has a corner (arc) anywhere

    @property
    def length(self) -> float:
        return float(self.s[-1])

    def pose(self, s: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, yaw) at arc lengths s (clamped to the path)."""
        s = np.clip(s, 0.0, self.length)
        c, si = np.interp(s, self.s, self.hc), np.interp(s, self.s, self.hs)
        return np.interp(s, self.s, self.x), np.interp(s, self.s, self.y), np.arctan2(si, c)


def polyline_path(points: list[tuple[float, float]], radii: list[float] | None = None, step: float = STEP) -> Path:
    """Densely sampled polyline whose interior corners are rounded with the given radii."""
    pts = np.asarray(points, dtype=np.float64)
    radii = list(radii) if radii is not None else [0.0] * max(len(pts) - 2, 0)
    distinct = np.concatenate([[True], np.hypot(*np.diff(pts, axis=0).T) > 1e-6])
    radii = [r for r, k in zip(radii, distinct[1:-1]) if k]
    pts = pts[distinct]
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    cur = pts[0]
    turned = False
    for i in range(1, len(pts) - 1):
        u = pts[i] - pts[i - 1]
        v = pts[i + 1] - pts[i]
        lu, lv = np.linalg.norm(u), np.linalg.norm(v)
        u, v = u / lu, v / lv
        cross = u[0] * v[1] - u[1] * v[0]
        angle = float(np.arccos(np.clip(u @ v, -1.0, 1.0)))
        r = radii[i - 1]
        if angle < 1e-6 or r <= 0:
            continue
        tan_len = min(r * np.tan(angle / 2), lu * 0.999, lv * 0.999)
        r = tan_len / np.tan(angle / 2)
        a = pts[i] - tan_len * u
        _line(xs, ys, cur, a, step)
        n = np.array([-u[1], u[0]]) * np.sign(cross)  # towards the inside of the turn
        centre = a + r * n
        a0 = np.arctan2(a[1] - centre[1], a[0] - centre[0])
        k = max(int(np.ceil(r * angle / step)), 2)
        th = a0 + np.sign(cross) * angle * np.arange(1, k + 1) / k
        xs.append(centre[0] + r * np.cos(th))
        ys.append(centre[1] + r * np.sin(th))
        cur = np.array([xs[-1][-1], ys[-1][-1]])
        turned = True
    _line(xs, ys, cur, pts[-1], step)
    x, y = np.concatenate([[pts[0][0]]] + xs), np.concatenate([[pts[0][1]]] + ys)
    keep = np.concatenate([[True], np.hypot(np.diff(x), np.diff(y)) > 1e-9])
    x, y = x[keep], y[keep]
    ds = np.hypot(np.diff(x), np.diff(y))
    s = np.concatenate([[0.0], np.cumsum(ds)])
    hx = np.gradient(x, s) if len(x) > 2 else np.full(len(x), x[-1] - x[0])
    hy = np.gradient(y, s) if len(y) > 2 else np.full(len(y), y[-1] - y[0])
    norm = np.hypot(hx, hy)
    return Path(x, y, hx / norm, hy / norm, s, turned)


def _line(xs: list, ys: list, a: np.ndarray, b: np.ndarray, step: float) -> None:
    n = max(int(np.ceil(np.linalg.norm(b - a) / step)), 1)
    f = np.arange(1, n + 1) / n
    xs.append(a[0] + f * (b[0] - a[0]))
    ys.append(a[1] + f * (b[1] - a[1]))


def _heading(road: Road, direction: int) -> np.ndarray:
    return np.array([direction, 0.0]) if road.axis == 0 else np.array([0.0, direction])


def lane_route(town: Town, road: Road, direction: int, lane: int, along: float, length: float,
               rng: np.random.Generator, turn_prob: float = 0.5, out_lane: int | None = None,
               straight_for: float = 0.0) -> Path:
    """A route that starts on a lane at `along` and drives `length` metres, turning at junctions at random.

    Turns keep right-hand traffic; the corner radius is the largest that stays inside the junction box. Near the
    town border the route turns rather than leave the road grid. Junctions within `straight_for` metres of the
    start are crossed straight (lead-in before the agent's position at the first keyframe).
    """
    start = road.point(along, road.lane_across(direction, lane))
    points, radii = [start], []
    remaining = length
    pos = along
    travelled = 0.0
    while True:
        crossing = [x for x in town.along_axis(1 - road.axis) if (x.coord - pos) * direction > 1.0]
        crossing.sort(key=lambda x: (x.coord - pos) * direction)
        if not crossing or (crossing[0].coord - pos) * direction > remaining:
            end_along = pos + direction * remaining
            points.append(road.point(end_along, road.lane_across(direction, lane)))
            break
        x = crossing[0]
        dist = (x.coord - pos) * direction
        last = len(crossing) == 1
        if (travelled + dist < straight_for or rng.random() >= turn_prob) and not last:
            remaining -= dist
            travelled += dist
            pos = x.coord
            continue
        heading = _heading(road, direction)
        left = rng.random() < 0.5
        turn = np.array([-heading[1], heading[0]]) * (1 if left else -1)
        new_dir = int(np.sign(turn[0] if x.axis == 0 else turn[1]))
        new_lane = lane if out_lane is None else out_lane
        # Corner: where the incoming and outgoing lane centre lines cross.
        a_in = road.lane_across(direction, lane)
        along_on_x = road.point(0.0, a_in)[1 - road.axis]
        corner = np.array(x.point(along_on_x, x.lane_across(new_dir, new_lane)))
        junction = np.array(road.point(x.coord, 0.0))
        d_in = (corner - junction) @ heading + x.half_width
        d_out = road.half_width - (corner - junction) @ turn
        points.append(tuple(corner))
        radii.append(float(max(min(d_in, d_out), 1.0)))
        remaining = max(remaining - dist, 10.0)  # always leave the junction again
        travelled += dist
        road, direction, lane, pos = x, new_dir, new_lane, along_on_x
    return polyline_path(points, radii)


def sidewalk_path(road: Road, side: int, along: float, direction: int, length: float, inset: float = 0.62) -> Path:
    """Straight walk along one sidewalk (crossing side roads on the zebra crossings)."""
    across = side * (road.half_width + inset * road.sidewalk)
    a = road.point(along, across)
    b = road.point(along + direction * length, across)
    return polyline_path([a, b])
