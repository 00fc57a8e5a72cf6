"""Waymo range image -> points, checked against a direct computation from the beam angles."""

from __future__ import annotations

import math

import numpy as np

from bench3d.data.waymo.range_image import azimuths, inclinations, pixel_of_direction, range_image_to_points


def _yaw(deg: float, t=(1.43, 0.0, 2.18)) -> np.ndarray:
    a = math.radians(deg)
    e = np.eye(4)
    e[:2, :2] = [[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]]
    e[:3, 3] = t
    return e


def test_inclinations_are_uniform_bin_centres_reversed_or_the_given_values() -> None:
    incl = inclinations(4, -0.4, 0.1)
    np.testing.assert_allclose(incl, [0.0375, -0.0875, -0.2125, -0.3375])  # row 0 is the highest beam
    np.testing.assert_allclose(inclinations(3, 0, 0, np.array([-0.3, -0.1, 0.2])), [0.2, -0.1, -0.3])


def test_range_image_to_points_equals_the_direct_computation() -> None:
    h, w = 5, 12
    extrinsic = _yaw(30.0)
    incl = inclinations(h, math.radians(-17.6), math.radians(2.4))
    rng = np.random.default_rng(0).uniform(2, 60, (h, w, 4)).astype(np.float32)
    rng[1, 3, 0] = 0.0  # no return: no point
    rng[4, 0, 0] = -1.0
    points, pixels = range_image_to_points(rng, extrinsic, incl)
    assert len(points) == h * w - 2 and pixels[0].tolist() == [0, 0] and [1, 3] not in pixels.tolist()
    for (i, j), p in zip(pixels[::7], points[::7]):
        # Column j's azimuth in the vehicle frame is pi - (2j + 1) pi / W; the laser's yaw is taken off, then put
        # back by the extrinsic.
        az_vehicle = math.pi - (2 * j + 1) * math.pi / w
        r, e = float(rng[i, j, 0]), incl[i]
        direct = np.array([r * math.cos(e) * math.cos(az_vehicle), r * math.cos(e) * math.sin(az_vehicle),
                           r * math.sin(e)]) + extrinsic[:3, 3]
        np.testing.assert_allclose(p, direct, atol=1e-4)


def test_pixel_of_direction_inverts_the_grid() -> None:
    h, w = 6, 40
    extrinsic = _yaw(-75.0, (0, 0, 0))
    incl = inclinations(h, -0.3, 0.05)
    full = np.ones((h, w), dtype=np.float32)
    points, pixels = range_image_to_points(full, extrinsic, incl)
    laser_dirs = points @ extrinsic[:3, :3]  # back to the laser frame (unit range)
    row, col = pixel_of_direction(laser_dirs, extrinsic, incl, w)
    np.testing.assert_array_equal(np.stack([row, col], 1), pixels)
    assert np.allclose(np.diff(azimuths(w, extrinsic)), -2 * math.pi / w)
