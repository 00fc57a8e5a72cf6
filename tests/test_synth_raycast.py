"""Unit checks of the ray caster, the sensors' candidate windows, paths and collision tests."""

from __future__ import annotations

import numpy as np
import pytest

from bench3d.synth import raycast as rc
from bench3d.synth.camera import camera_grid
from bench3d.synth.camera import _pixel_rects
from bench3d.synth.lidar import _windows, lidar_grid
from bench3d.synth.placer import Placer
from bench3d.synth.primitives import BOX, CYLINDER, ELLIPSOID, make_prims
from bench3d.synth.rig import CAMERAS, LidarSpec
from bench3d.synth.routes import polyline_path


def solids(kinds, centres, halves, yaws):
    n = len(kinds)
    c, h = np.asarray(centres, float), np.asarray(halves, float)
    return make_prims(kinds, c[:, 0], c[:, 1], c[:, 2], h[:, 0], h[:, 1], h[:, 2], yaws, [1] * n, [0] * n,
                      list(range(n)), np.zeros((n, 3)))


def cast_all(prims, dx, dy, dz, origin=(0.0, 0.0, 0.0), yaw=0.0):
    """Brute force: every solid against every ray."""
    lp = rc.to_sensor_frame(prims, np.asarray(origin), yaw)
    n = dx.shape[0]
    pair_solid = np.repeat(np.arange(len(lp)), n)
    pair_ray = np.tile(np.arange(n), len(lp))
    t = rc.intersect(lp, pair_solid, pair_ray, dx, dy, dz)
    return lp, rc.nearest(n, np.full(n, np.inf, np.float32), pair_solid, pair_ray, t)


@pytest.mark.parametrize(("kind", "half", "expected"), [
    (BOX, (1.0, 2.0, 1.0), 9.0),
    (CYLINDER, (1.5, 1.5, 1.0), 8.5),
    (ELLIPSOID, (2.0, 2.0, 3.0), 8.0),
])
def test_ray_hits_solid_at_analytic_distance(kind, half, expected):
    prims = solids([kind], [(10.0, 0.0, 0.0)], [half], [0.0])
    d = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [-1.0, 0.0, 0.0]], dtype=np.float32)
    _, (t, solid) = cast_all(prims, d[:, 0], d[:, 1], d[:, 2])
    assert t[0] == pytest.approx(expected, abs=1e-4) and solid[0] == 0
    assert np.isinf(t[1:]).all() and (solid[1:] == -1).all()


def test_rotated_box_and_normals():
    # A 2 x 2 box rotated 45 degrees: its corner points at the sensor, 10 - sqrt(2) away.
    prims = solids([BOX], [(10.0, 0.0, 0.0)], [(1.0, 1.0, 1.0)], [np.pi / 4])
    d = np.array([[1.0], [0.0], [0.0]], dtype=np.float32)
    lp, (t, solid) = cast_all(prims, *d)
    assert t[0] == pytest.approx(10 - np.sqrt(2), abs=1e-4)
    # Straight down onto a cylinder's cap: normal +z.
    prims = solids([CYLINDER], [(0.0, 0.0, -5.0)], [(1.0, 1.0, 1.0)], [0.0])
    lp, (t, solid) = cast_all(prims, np.zeros(1, np.float32), np.zeros(1, np.float32), -np.ones(1, np.float32))
    assert t[0] == pytest.approx(4.0)
    _, normal = rc.surface(lp, solid, np.zeros(1), np.zeros(1), -t)
    assert normal[0] == pytest.approx([0, 0, 1], abs=1e-6)


def test_nearest_hit_wins_and_ground_counts():
    prims = solids([BOX, BOX], [(20.0, 0.0, 0.0), (10.0, 0.0, 0.0)], [(1, 1, 1), (1, 1, 1)], [0.0, 0.0])
    lp = rc.to_sensor_frame(prims, np.zeros(3), 0.0)
    one = np.ones(1, np.float32)
    pair_solid, pair_ray = np.array([0, 1]), np.array([0, 0])
    t = rc.intersect(lp, pair_solid, pair_ray, one, 0 * one, 0 * one)
    best, solid = rc.nearest(1, np.array([np.inf], np.float32), pair_solid, pair_ray, t)
    assert best[0] == pytest.approx(9.0) and lp.index[solid[0]] == 1
    best, solid = rc.nearest(1, np.array([5.0], np.float32), pair_solid, pair_ray, t)
    assert best[0] == 5.0 and solid[0] == -1


def test_expand_windows_wraps_columns():
    solid, ray = rc.expand_windows(np.array([1, 0]), np.array([2, 1]), np.array([9, 3]), np.array([3, 2]), 10, 1,
                                   wrap_cols=10)
    assert solid.tolist() == [0] * 6 + [1] * 2
    assert ray.tolist() == [19, 10, 11, 29, 20, 21, 3, 4]


def random_solids(rng, n=60, spread=30.0):
    kinds = rng.integers(0, 3, n)
    centres = np.c_[rng.uniform(-spread, spread, (n, 2)), rng.uniform(-1.5, 3.0, n)]
    halves = rng.uniform(0.2, 4.0, (n, 3))
    halves[kinds != BOX, 1] = halves[kinds != BOX, 0]
    return solids(kinds, centres, halves, rng.uniform(-np.pi, np.pi, n))


def test_lidar_windows_are_conservative():
    """Casting only inside the angular windows finds exactly what brute force over all rays finds."""
    rng = np.random.default_rng(0)
    grid = lidar_grid(LidarSpec(beams=16, azimuth_steps=360, max_range=200.0))
    prims = random_solids(rng)
    lp, (t_all, _) = cast_all(prims, grid.dx, grid.dy, grid.dz)
    b0, nb, a0, na = _windows(lp, grid)
    ps, pr = rc.expand_windows(b0, nb, a0, na, 1, 16, wrap_cols=360)
    t = rc.intersect(lp, ps, pr, grid.dx, grid.dy, grid.dz)
    t_win, _ = rc.nearest(grid.dx.size, np.full(grid.dx.size, np.inf, np.float32), ps, pr, t)
    assert np.isfinite(t_all).sum() > 1000
    np.testing.assert_array_equal(t_win, t_all)


def test_camera_rectangles_are_conservative():
    rng = np.random.default_rng(1)
    grid = camera_grid(CAMERAS[0], 45, 80)
    prims = random_solids(rng, spread=15.0)
    lp, (t_all, _) = cast_all(prims, grid.dx, grid.dy, grid.dz)
    r0, nr, c0, nc = _pixel_rects(lp, grid)
    ps, pr = rc.expand_windows(r0, nr, c0, nc, 80, 1)
    t = rc.intersect(lp, ps, pr, grid.dx, grid.dy, grid.dz)
    t_win, _ = rc.nearest(grid.dx.size, np.full(grid.dx.size, np.inf, np.float32), ps, pr, t)
    assert np.isfinite(t_all).sum() > 500
    np.testing.assert_array_equal(t_win, t_all)


def test_polyline_corner_is_a_circular_arc():
    path = polyline_path([(0, 0), (10, 0), (10, 10)], [4.0])
    assert path.turns
    assert path.length == pytest.approx(6 + 6 + 2 * np.pi * 4 / 4, rel=1e-3)
    x, y, yaw = path.pose(np.array([0.0, path.length]))
    assert yaw[0] == pytest.approx(0.0) and yaw[1] == pytest.approx(np.pi / 2)
    step = np.hypot(np.diff(path.x), np.diff(path.y))
    assert step.max() < 0.3  # densely sampled, no jumps


def test_placer_separating_axes():
    p = Placer(np.zeros(1))
    p.add_footprint(0.0, 0.0, 0.0, 2.0, 1.0)
    assert p.collides(3.9, 0.0, 0.0, 2.0, 1.0)
    assert not p.collides(4.1, 0.0, 0.0, 2.0, 1.0)
    assert not p.collides(0.0, 2.1, np.pi / 2, 1.0, 0.5) and p.collides(0.0, 1.9, np.pi / 2, 1.0, 0.5)
    assert p.collides(2.5, 1.5, np.pi / 4, 1.0, 1.0) != p.collides(3.5, 2.5, np.pi / 4, 1.0, 1.0)
