"""Boxes in the LiDAR frame, per-camera LiDAR depth (z and ray), cropped intrinsics and camera sweeps,
cross-checked against the nuscenes-devkit on the tiny synthetic release."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.projection import point_pixel_pairs
from bench3d.data.sensor_geometry import boxes_in_lidar, crop_intrinsic, depth_image, ray_lengths


@pytest.fixture(scope="module")
def reader(tiny_release: Path) -> NuScenesReader:
    return NuScenesReader(tiny_release, "v1.0-mini")


def _token(reader: NuScenesReader) -> str:
    return reader.sequences()[0].sample_tokens[1]


def test_boxes_in_lidar_frame_equal_the_devkits(reader: NuScenesReader, tiny_nusc) -> None:
    token = _token(reader)
    ours = boxes_in_lidar(reader.frame(token, cameras=None))
    _, theirs, _ = tiny_nusc.get_sample_data(tiny_nusc.get("sample", token)["data"]["LIDAR_TOP"])
    assert len(ours) == len(theirs) > 0
    by_token = {b.token: b for b in theirs}
    for i, tok in enumerate(ours.token):
        box = by_token[tok]
        np.testing.assert_allclose(ours.center[i], box.center, atol=1e-6)
        np.testing.assert_allclose(ours.size[i], box.wlh, atol=1e-9)  # w, l, h order
        dyaw = (ours.yaw[i] - box.orientation.yaw_pitch_roll[0] + np.pi) % (2 * np.pi) - np.pi
        assert abs(dyaw) < 1e-6
        if not np.isnan(box.velocity).any():
            np.testing.assert_allclose(ours.velocity[i], box.velocity[:2], atol=1e-6)


def test_z_depth_image_equals_the_devkit_projection(reader: NuScenesReader, tiny_nusc) -> None:
    from nuscenes.nuscenes import NuScenesExplorer

    token = _token(reader)
    frame = reader.frame(token, labels=False, boxes=False)
    pairs = point_pixel_pairs(frame)
    data = tiny_nusc.get("sample", token)["data"]
    for c, channel in enumerate(frame.cameras):
        pts, depth, _ = NuScenesExplorer(tiny_nusc).map_pointcloud_to_image(data["LIDAR_TOP"], data[channel])
        h, w = frame.cameras[channel].image.shape[:2]
        expected = np.full((h, w), np.inf)
        np.minimum.at(expected, (np.floor(pts[1]).astype(int), np.floor(pts[0]).astype(int)), depth)
        expected[np.isinf(expected)] = 0
        ours = depth_image(frame, pairs, c)
        # Pairs keep uv in float32: a point within ~1e-5 px of a pixel edge may land one pixel over.
        differ = ~np.isclose(ours, expected, atol=1e-4)
        assert differ.sum() <= max(2, 0.002 * (expected > 0).sum()), (channel, differ.sum())
        coarse = depth_image(frame, pairs, c, stride=4)
        assert coarse.shape == (-(-h // 4), -(-w // 4)) and (coarse > 0).sum() <= (expected > 0).sum()
    ray = ray_lengths(frame, pairs)
    assert np.all(ray >= pairs.depth - 1e-4) and np.median(ray / pairs.depth) < 1.5
    with pytest.raises(ValueError, match="'z' or 'ray'"):
        depth_image(frame, pairs, 0, kind="disparity")


def test_cropped_intrinsics_move_the_pixels_by_the_crop(reader: NuScenesReader) -> None:
    frame = reader.frame(_token(reader), labels=False, boxes=False)
    cam = frame.cameras["CAM_FRONT"]
    k = crop_intrinsic(cam.intrinsic, 10, 7)
    p = np.array([3.0, -1.0, 20.0])
    uv_full = (cam.intrinsic @ p)[:2] / p[2]
    uv_crop = (k @ p)[:2] / p[2]
    np.testing.assert_allclose(uv_full - uv_crop, [10, 7])


def test_camera_sweeps_are_the_non_key_images_before_the_keyframe(reader: NuScenesReader, tiny_nusc) -> None:
    token = _token(reader)
    sweeps = reader.camera_sweeps(token, "CAM_FRONT", 20)
    key = tiny_nusc.get("sample_data", tiny_nusc.get("sample", token)["data"]["CAM_FRONT"])
    expected, tok = [], key["prev"]
    while tok and not tiny_nusc.get("sample_data", tok)["is_key_frame"]:
        expected.append(tok)
        tok = tiny_nusc.get("sample_data", tok)["prev"]
    assert [v.token for v in sweeps] == expected and len(expected) > 0
    times = [key["timestamp"]] + [v.timestamp for v in sweeps]
    assert times == sorted(times, reverse=True)
    assert all(v.image.shape == sweeps[0].image.shape for v in sweeps)
    assert len(reader.camera_sweeps(token, "CAM_FRONT", 1)) == 1
