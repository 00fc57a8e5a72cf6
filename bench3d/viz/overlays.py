"""What figures draw over camera images and the BEV: 3D boxes as projected wireframes or BEV footprints,
and BEV map masks as coloured ground cells (projected into the images on the ground plane)."""

from __future__ import annotations

import numpy as np

from bench3d.data.frame import Box3D, Frame
from bench3d.data.nuscenes.projection import lidar_to_camera_transforms
from bench3d.geometry import apply_transform, invert_transform, quaternion_to_matrix

# The 12 edges of a box whose corners are ordered bottom 0-3, top 4-7 (same order).
BOX_EDGES = ((0, 1), (1, 2), (2, 3), (3, 0), (4, 5), (5, 6), (6, 7), (7, 4), (0, 4), (1, 5), (2, 6), (3, 7))

# Map classes (reader.bev_map order): drivable, crossing, walkway, stop line, carpark, divider.
MAP_COLOURS = np.array([[0.80, 0.80, 0.80], [1.00, 0.85, 0.30], [0.55, 0.75, 0.95], [0.95, 0.35, 0.35],
                        [0.70, 0.90, 0.60], [0.20, 0.20, 0.20]])


def box_corners(box: Box3D) -> np.ndarray:
    """(8, 3) global corners: bottom four then top four, front-left first."""
    w, length, h = box.size
    local = np.array([[length, w], [length, -w], [-length, -w], [-length, w]]) / 2.0
    bottom = np.c_[local, np.full(4, -h / 2)]
    top = np.c_[local, np.full(4, h / 2)]
    return box.center + np.r_[bottom, top] @ quaternion_to_matrix(box.rotation).T


def box_corners_bev(box: Box3D, global_to_lidar: np.ndarray) -> np.ndarray:
    """The four bottom corners (4, 2) of a box in the LiDAR frame's xy plane."""
    return apply_transform(global_to_lidar, box_corners(box)[:4])[:, :2]


def box_edges_in_camera(frame: Frame, boxes: list[Box3D], camera_index: int,
                        min_depth: float = 0.5) -> list[np.ndarray]:
    """Pixel segments (2, 2) of every box edge whose two ends lie in front of camera `camera_index`."""
    cam = list(frame.cameras.values())[camera_index]
    global_to_lidar = invert_transform(frame.ego_to_global @ frame.lidar_to_ego)
    to_cam = lidar_to_camera_transforms(frame)[camera_index] @ global_to_lidar
    segments = []
    for box in boxes:
        xyz = apply_transform(to_cam, box_corners(box))
        if (xyz[:, 2] <= min_depth).all():
            continue
        uv = (cam.intrinsic @ xyz.T).T
        uv = uv[:, :2] / np.maximum(uv[:, 2:3], 1e-6)
        segments += [uv[[a, b]] for a, b in BOX_EDGES if xyz[a, 2] > min_depth and xyz[b, 2] > min_depth]
    return segments


def map_underlay(masks: np.ndarray) -> np.ndarray:
    """RGBA image (rows = y, columns = x) of BEV masks (C, nx, ny) with axes (x, y), later classes on top."""
    rgba = np.zeros((*masks.shape[1:], 4))
    for c in range(masks.shape[0]):
        rgba[masks[c]] = [*MAP_COLOURS[c % len(MAP_COLOURS)], 0.6]
    return rgba.transpose(1, 0, 2)


def ground_cells_in_camera(frame: Frame, masks: np.ndarray, extent: float, camera_index: int,
                           stride: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (M, 2) and colours (M, 3) of masked BEV cells placed on the ground (the ego frame's z = 0)
    and projected into camera `camera_index`; every `stride`-th cell, the last masked class on top."""
    c, nx, ny = masks.shape
    cell = 2 * extent / nx
    ix, iy = np.meshgrid(np.arange(0, nx, stride), np.arange(0, ny, stride), indexing="ij")
    label = np.full(ix.shape, -1)
    for k in range(c):
        label[masks[k][ix, iy]] = k
    sel = label >= 0
    x, y = (ix[sel] + 0.5) * cell - extent, (iy[sel] + 0.5) * cell - extent
    ground_z = -frame.lidar_to_ego[2, 3]  # the ego frame's origin is on the ground
    xyz = np.c_[x, y, np.full(len(x), ground_z)]
    cam = list(frame.cameras.values())[camera_index]
    xyz_cam = apply_transform(lidar_to_camera_transforms(frame)[camera_index], xyz)
    front = xyz_cam[:, 2] > 1.0
    uvw = (cam.intrinsic @ xyz_cam[front].T).T
    uv = uvw[:, :2] / uvw[:, 2:3]
    h, w = cam.image.shape[:2]
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < w) & (uv[:, 1] >= 0) & (uv[:, 1] < h)
    return uv[inside], MAP_COLOURS[label[sel][front][inside] % len(MAP_COLOURS)]
