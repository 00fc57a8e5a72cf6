"""LiDAR and cameras render the same world: projected LiDAR labels agree with the cameras' per-pixel classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image
from pyquaternion import Quaternion

from bench3d.synth.files import sidecar_filename
from bench3d.synth.rig import CAMERA_CHANNELS


def project(nusc, lidar_token: str, cam_token: str, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The devkit's map_pointcloud_to_image chain: lidar -> ego(t_lidar) -> global -> ego(t_cam) -> camera.
    Returns (uvz of the points, 3 x N)."""
    lidar, cam = nusc.get("sample_data", lidar_token), nusc.get("sample_data", cam_token)
    pc = points[:, :3].T.astype(np.float64)
    for rec, inverse in ((nusc.get("calibrated_sensor", lidar["calibrated_sensor_token"]), False),
                         (nusc.get("ego_pose", lidar["ego_pose_token"]), False),
                         (nusc.get("ego_pose", cam["ego_pose_token"]), True),
                         (nusc.get("calibrated_sensor", cam["calibrated_sensor_token"]), True)):
        rot, tr = Quaternion(rec["rotation"]).rotation_matrix, np.array(rec["translation"])[:, None]
        pc = rot.T @ (pc - tr) if inverse else rot @ pc + tr
    k = np.array(nusc.get("calibrated_sensor", cam["calibrated_sensor_token"])["camera_intrinsic"])
    uv = k @ pc
    return np.vstack([uv[:2] / uv[2:3], pc[2:3]]), pc


def test_projected_lidar_labels_match_pixel_classes(tiny_nusc, tiny_release: Path):
    agree = total = 0
    for sample in tiny_nusc.sample:
        sd = sample["data"]["LIDAR_TOP"]
        points = np.fromfile(tiny_nusc.get_sample_data_path(sd), dtype=np.float32).reshape(-1, 5)
        labels = np.fromfile(tiny_release / tiny_nusc.get("lidarseg", sd)["filename"], dtype=np.uint8)
        for ch in CAMERA_CHANNELS:
            cam = tiny_nusc.get("sample_data", sample["data"][ch])
            uvz, _ = project(tiny_nusc, sd, cam["token"], points)
            w, h = cam["width"], cam["height"]
            u, v, z = uvz
            keep = (z > 1.0) & (u > 1) & (u < w - 1) & (v > 1) & (v < h - 1)  # the devkit's filter
            col, row = np.floor(u[keep]).astype(int), np.floor(v[keep]).astype(int)
            classes = np.array(Image.open(tiny_release / sidecar_filename("pixel_classes", ch, cam["filename"])))
            depth = np.array(Image.open(tiny_release / sidecar_filename("depth", ch, cam["filename"]))) / 100.0
            assert classes.shape == depth.shape == (h, w)
            rendered = depth[row, col]
            visible = np.abs(rendered - z[keep]) < np.maximum(0.3, 0.05 * z[keep])
            agree += int((classes[row, col][visible] == labels[keep][visible]).sum())
            total += int(visible.sum())
    assert total > 5000
    assert agree / total >= 0.95, agree / total


def test_images_are_textured_not_flat(tiny_nusc, tiny_release: Path):
    """Appearance separates flat classes that geometry cannot: road, sidewalk and terrain differ in colour."""
    means: dict[int, list[np.ndarray]] = {}
    for sample in tiny_nusc.sample:
        for ch in CAMERA_CHANNELS:
            cam = tiny_nusc.get("sample_data", sample["data"][ch])
            rgb = np.array(Image.open(tiny_release / cam["filename"])).reshape(-1, 3).astype(float)
            cls = np.array(Image.open(tiny_release / sidecar_filename("pixel_classes", ch, cam["filename"]))).ravel()
            for c in (24, 26, 27):  # driveable_surface, sidewalk, terrain
                if (cls == c).sum() > 50:
                    means.setdefault(c, []).append(rgb[cls == c].mean(axis=0))
    m = {c: np.mean(v, axis=0) for c, v in means.items()}
    assert set(m) == {24, 26, 27}
    for a, b in ((24, 26), (26, 27), (24, 27)):
        assert np.linalg.norm(m[a] - m[b]) > 20, (a, b)


def test_points_sit_on_the_ground_and_in_their_boxes(tiny_nusc, tiny_release: Path):
    """In the global frame (devkit transforms), ground returns lie on z = 0 and num_lidar_pts is what the devkit's
    points_in_box counts."""
    from nuscenes.utils.geometry_utils import points_in_box

    from bench3d.labels.nuscenes import FINE_INDEX

    ground = [FINE_INDEX[n] for n in ("flat.driveable_surface", "flat.sidewalk", "flat.terrain", "flat.other")]
    checked = 0
    for sample in tiny_nusc.sample:
        sd = tiny_nusc.get("sample_data", sample["data"]["LIDAR_TOP"])
        points = np.fromfile(tiny_nusc.get_sample_data_path(sd["token"]), dtype=np.float32).reshape(-1, 5)
        labels = np.fromfile(tiny_release / tiny_nusc.get("lidarseg", sd["token"])["filename"], dtype=np.uint8)
        pc = points[:, :3].T.astype(np.float64)
        for rec in (tiny_nusc.get("calibrated_sensor", sd["calibrated_sensor_token"]),
                    tiny_nusc.get("ego_pose", sd["ego_pose_token"])):
            pc = Quaternion(rec["rotation"]).rotation_matrix @ pc + np.array(rec["translation"])[:, None]
        on_ground = np.isin(labels, ground)
        assert np.abs(pc[2, on_ground]).max() < 0.1
        for tok in sample["anns"]:
            box = tiny_nusc.get_box(tok)
            count = int(points_in_box(box, pc).sum())
            assert abs(count - tiny_nusc.get("sample_annotation", tok)["num_lidar_pts"]) <= 2
            checked += 1
    assert checked > 50
