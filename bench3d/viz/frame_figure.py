"""One frame as a figure: the six images with LiDAR points coloured by class, and a bird's-eye view."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from bench3d.data.frame import Box3D, Frame  # noqa: E402
from bench3d.data.nuscenes.projection import point_pixel_pairs  # noqa: E402
from bench3d.geometry import apply_transform, invert_transform, quaternion_to_matrix  # noqa: E402
from bench3d.labels.nuscenes import FINE_TO_EVAL  # noqa: E402
from bench3d.viz.palette import EVAL_CLASS_COLOURS  # noqa: E402

# Camera grid as nuScenes shows it: front row left-to-right, back row.
CAMERA_GRID = (
    ("CAM_FRONT_LEFT", "CAM_FRONT", "CAM_FRONT_RIGHT"),
    ("CAM_BACK_LEFT", "CAM_BACK", "CAM_BACK_RIGHT"),
)


def _point_colours(frame: Frame) -> np.ndarray:
    if frame.labels is None:  # no labels: colour by height
        z = frame.points[:, 2]
        return plt.cm.viridis((z - z.min()) / max(np.ptp(z), 1e-6))[:, :3]
    return EVAL_CLASS_COLOURS[FINE_TO_EVAL[frame.labels]]


def box_corners_bev(box: Box3D, global_to_lidar: np.ndarray) -> np.ndarray:
    """The four bottom corners (4, 2) of a box in the LiDAR frame's xy plane."""
    w, length, _ = box.size
    local = np.array([[length, w], [length, -w], [-length, -w], [-length, w]]) / 2.0
    rot = quaternion_to_matrix(box.rotation)
    corners = box.center + np.c_[local, np.zeros(4)] @ rot.T
    return apply_transform(global_to_lidar, corners)[:, :2]


# Map classes (reader.bev_map order) drawn under the BEV: drivable, crossing, walkway, stop line, carpark, divider.
MAP_COLOURS = np.array([[0.80, 0.80, 0.80], [1.00, 0.85, 0.30], [0.55, 0.75, 0.95], [0.95, 0.35, 0.35],
                        [0.70, 0.90, 0.60], [0.20, 0.20, 0.20]])


def _map_underlay(masks: np.ndarray) -> np.ndarray:
    """RGBA image (y up, x right) of BEV map masks (C, 200, 200) with axes (x, y), later classes on top."""
    rgba = np.zeros((*masks.shape[1:], 4))
    for c in range(masks.shape[0]):
        rgba[masks[c]] = [*MAP_COLOURS[c % len(MAP_COLOURS)], 0.6]
    return rgba.transpose(1, 0, 2)  # rows = y, columns = x for imshow


def render_frame(frame: Frame, out: Path, bev_range: float = 60.0, point_size: float = 1.0,
                 bev_map: np.ndarray | None = None) -> Path:
    """Write the figure to `out` (PNG) and return the path. `bev_map` (C, 200, 200), the reader's map masks
    around the LiDAR (+-50 m, axes x forward and y left), is drawn under the BEV."""
    colours = _point_colours(frame)
    pairs = point_pixel_pairs(frame)
    channels = frame.camera_channels
    fig = plt.figure(figsize=(16, 7.5), dpi=110)
    grid = fig.add_gridspec(2, 4, width_ratios=(1, 1, 1, 1.05))
    for row, names in enumerate(CAMERA_GRID):
        for col, name in enumerate(names):
            ax = fig.add_subplot(grid[row, col])
            ax.set_axis_off()
            if name not in frame.cameras:
                continue
            cam = frame.cameras[name]
            ax.imshow(cam.image)
            sel = pairs.camera_index == channels.index(name)
            uv = pairs.uv[sel]
            ax.scatter(uv[:, 0], uv[:, 1], c=colours[pairs.point_index[sel]], s=point_size, linewidths=0)
            ax.set_xlim(0, cam.image.shape[1])
            ax.set_ylim(cam.image.shape[0], 0)
            ax.set_title(name, fontsize=9)
    ax = fig.add_subplot(grid[:, 3])
    if bev_map is not None:
        ax.imshow(_map_underlay(bev_map), extent=(-50, 50, -50, 50), origin="lower", interpolation="nearest")
    pts = frame.points
    ax.scatter(pts[:, 0], pts[:, 1], c=colours, s=0.3, linewidths=0)
    global_to_lidar = invert_transform(frame.ego_to_global @ frame.lidar_to_ego)
    for box in frame.boxes:
        corners = box_corners_bev(box, global_to_lidar)
        ax.fill(corners[:, 0], corners[:, 1], fill=False, edgecolor="red", linewidth=0.8)
    ax.set_xlim(-bev_range, bev_range)
    ax.set_ylim(-bev_range, bev_range)
    ax.set_aspect("equal")
    ax.set_title(f"BEV (LiDAR frame)  {frame.scene_name}  {len(frame.boxes)} boxes", fontsize=9)
    fig.suptitle(f"sample {frame.token}  ·  {frame.num_points} points", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
