"""The nuScenes reader against the official devkit, and its errors on bad input."""

from __future__ import annotations

import json
import re
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bench3d.data.nuscenes import NuScenesReader
from bench3d.data.nuscenes.projection import point_pixel_pairs
from bench3d.errors import DataError

VERSION = "v1.0-mini"


@pytest.fixture(scope="module")
def reader(tiny_release: Path) -> NuScenesReader:
    return NuScenesReader(tiny_release, VERSION)


def test_frame_matches_devkit(reader: NuScenesReader, tiny_nusc) -> None:
    from nuscenes.utils.data_classes import LidarPointCloud

    for sample in tiny_nusc.sample:
        frame = reader.frame(sample["token"])
        lidar_sd = sample["data"]["LIDAR_TOP"]
        assert frame.lidar_token == lidar_sd
        path, boxes, _ = tiny_nusc.get_sample_data(lidar_sd)
        pc = LidarPointCloud.from_file(path)
        np.testing.assert_array_equal(frame.points[:, :4], pc.points.T)
        labels = np.fromfile(os.path.join(tiny_nusc.dataroot, tiny_nusc.get("lidarseg", lidar_sd)["filename"]), np.uint8)
        np.testing.assert_array_equal(frame.labels, labels)
        assert sorted(b.token for b in frame.boxes) == sorted(sample["anns"])
        for box in frame.boxes:
            np.testing.assert_allclose(box.velocity, tiny_nusc.box_velocity(box.token), equal_nan=True)
        assert list(frame.cameras) == ["CAM_FRONT", "CAM_FRONT_RIGHT", "CAM_FRONT_LEFT", "CAM_BACK", "CAM_BACK_LEFT",
                                       "CAM_BACK_RIGHT"]


def test_point_pixel_pairs_equal_devkit_projection(reader: NuScenesReader, tiny_nusc) -> None:
    """Same pairs, same pixels (<= 1e-3 px) and depths as the devkit's map_pointcloud_to_image per camera."""
    from nuscenes.nuscenes import NuScenesExplorer

    explorer = NuScenesExplorer(tiny_nusc)
    checked = 0
    for sample in tiny_nusc.sample:
        frame = reader.frame(sample["token"], boxes=False)
        pairs = point_pixel_pairs(frame)
        for c, channel in enumerate(frame.camera_channels):
            h, w = frame.cameras[channel].image.shape[:2]
            # The devkit keeps the surviving points in cloud order and colours them by depth.
            points, depth, _ = explorer.map_pointcloud_to_image(sample["data"]["LIDAR_TOP"], sample["data"][channel])
            sel = pairs.camera_index == c
            ours_uv, ours_depth = pairs.uv[sel], pairs.depth[sel]
            dev_uv = points[:2].T
            # The devkit rounds to float32 after each of its four transforms; we compose them in float64. A point
            # within 1e-3 px of the image border may therefore fall on the other side: compare the rest exactly.
            def inner(uv: np.ndarray) -> np.ndarray:
                return ((uv[:, 0] > 1 + 1e-3) & (uv[:, 0] < w - 1 - 1e-3) & (uv[:, 1] > 1 + 1e-3) & (uv[:, 1] < h - 1 - 1e-3))
            assert abs(int(sel.sum()) - points.shape[1]) <= 2, channel
            a, b = ours_uv[inner(ours_uv)], dev_uv[inner(dev_uv)]
            assert len(a) == len(b), channel
            np.testing.assert_allclose(a, b, atol=1e-3)
            np.testing.assert_allclose(ours_depth[inner(ours_uv)], depth[inner(dev_uv)], rtol=1e-5)
            checked += len(a)
    assert checked > 10_000


def _corruptible_copy(src: Path, dst: Path) -> Path:
    """Hard-linked copy of a release; replace a file by unlinking it first so the original stays intact."""
    shutil.copytree(src, dst, copy_function=os.link)
    return dst


def _replace(path: Path, data: bytes) -> None:
    path.unlink()
    path.write_bytes(data)


def test_missing_dataroot_and_version(tiny_release: Path, tmp_path: Path) -> None:
    with pytest.raises(DataError, match="dataroot does not exist"):
        NuScenesReader(tmp_path / "nope", VERSION)
    with pytest.raises(DataError, match=r"v1.0-trainval: version folder is missing; versions found: \['v1.0-mini'\]"):
        NuScenesReader(tiny_release, "v1.0-trainval")


def test_truncated_pcd_bin_is_named(reader: NuScenesReader, tiny_release: Path, tmp_path: Path) -> None:
    root = _corruptible_copy(tiny_release, tmp_path / "rel")
    token = reader.sequences()[0].sample_tokens[0]
    rel = reader.tables.get("sample_data", reader.tables.lidar_token(token))["filename"]
    data = (root / rel).read_bytes()
    _replace(root / rel, data[:-7])
    with pytest.raises(DataError, match=rf"{re.escape(Path(rel).name)}.*not a positive multiple of 20"):
        NuScenesReader(root, VERSION).frame(token)
    (root / rel).unlink()
    with pytest.raises(DataError, match=rf"{re.escape(Path(rel).name)}: LiDAR file is missing"):
        NuScenesReader(root, VERSION).frame(token)


def test_lidarseg_length_mismatch_is_named(reader: NuScenesReader, tiny_release: Path, tmp_path: Path) -> None:
    root = _corruptible_copy(tiny_release, tmp_path / "rel")
    token = reader.sequences()[0].sample_tokens[1]
    rel = reader.tables.lidarseg_files[reader.tables.lidar_token(token)]
    _replace(root / rel, (root / rel).read_bytes() + b"\x01\x01")
    with pytest.raises(DataError, match=r"_lidarseg.bin: holds \d+ labels but its point cloud has \d+ points"):
        NuScenesReader(root, VERSION).frame(token)


def test_unknown_category_is_named(tiny_release: Path, tmp_path: Path) -> None:
    root = _corruptible_copy(tiny_release, tmp_path / "rel")
    path = root / VERSION / "category.json"
    cats = json.loads(path.read_text())
    cats[5]["name"] = "vehicle.hovercraft"
    _replace(path, json.dumps(cats).encode())
    with pytest.raises(DataError, match=r"category.json: unknown category 'vehicle.hovercraft'"):
        NuScenesReader(root, VERSION)


def test_missing_image_is_named(reader: NuScenesReader, tiny_release: Path, tmp_path: Path) -> None:
    root = _corruptible_copy(tiny_release, tmp_path / "rel")
    token = reader.sequences()[1].sample_tokens[0]
    cam = reader.tables.sample_data_by_channel[token]["CAM_BACK"]
    rel = reader.tables.get("sample_data", cam)["filename"]
    (root / rel).unlink()
    with pytest.raises(DataError, match=rf"{re.escape(Path(rel).name)}: camera image is missing"):
        NuScenesReader(root, VERSION).frame(token)


def test_multisweep_is_ego_motion_compensated(reader: NuScenesReader) -> None:
    token = reader.sequences()[0].sample_tokens[2]
    frame = reader.frame(token, sweeps=5, cameras=None, boxes=False)
    single = reader.frame(token, cameras=None, boxes=False)
    n = single.num_points
    assert frame.points.shape[1] == 5 and frame.num_points > n
    np.testing.assert_array_equal(frame.points[:n, :4], single.points)
    lags = frame.points[n:, 4]
    assert (lags > 0).all() and lags.max() < 0.25  # four earlier 20 Hz sweeps
    assert (frame.labels[n:] == 0).all()
    # Static ground seen by earlier sweeps lies on the keyframe's ground plane after compensation.
    ground = frame.points[n:][np.abs(frame.points[n:, 2] - np.median(single.points[:, 2])) < 0.3]
    assert len(ground) > 100


def test_sequences_and_neighbours(reader: NuScenesReader) -> None:
    seqs = reader.sequences()
    assert [s.name for s in seqs] == ["scene-0103", "scene-0916"] and all(len(s) == 3 for s in seqs)
    tokens = seqs[0].sample_tokens
    assert reader.neighbours(tokens[2], past=5) == list(tokens)
    assert reader.neighbours(tokens[0], past=2, future=1) == list(tokens[:2])
    with pytest.raises(DataError, match="scenes not in this release"):
        reader.sequences(["scene-9999"])
