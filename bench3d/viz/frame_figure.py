"""One frame as a figure: the six images with LiDAR points coloured by class, and a bird's-eye view; with a
model's prediction (`tasks.prediction.FramePrediction`), a second BEV panel of it, its boxes drawn into the
images beside the ground truth's, and its map masks projected onto the ground in the images."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from bench3d.data.frame import Box3D, Frame  # noqa: E402
from bench3d.data.nuscenes.projection import point_pixel_pairs  # noqa: E402
from bench3d.geometry import invert_transform  # noqa: E402
from bench3d.labels.nuscenes import FINE_TO_EVAL  # noqa: E402
from bench3d.tasks.prediction import FramePrediction  # noqa: E402
from bench3d.viz.overlays import (MAP_COLOURS, box_corners_bev, box_edges_in_camera,  # noqa: E402
                                  ground_cells_in_camera, map_underlay)
from bench3d.viz.palette import EVAL_CLASS_COLOURS  # noqa: E402

# Camera grid as nuScenes shows it: front row left-to-right, back row.
CAMERA_GRID = (
    ("CAM_FRONT_LEFT", "CAM_FRONT", "CAM_FRONT_RIGHT"),
    ("CAM_BACK_LEFT", "CAM_BACK", "CAM_BACK_RIGHT"),
)
GT_COLOUR, PRED_COLOUR = "red", "blue"
POINTS_UNDER_BOXES = np.array([0.75, 0.75, 0.75])  # points in grey where boxes are drawn: colours would compete


def _point_colours(frame: Frame) -> np.ndarray:
    if frame.labels is None:  # no labels: colour by height
        z = frame.points[:, 2]
        return plt.cm.viridis((z - z.min()) / max(np.ptp(z), 1e-6))[:, :3]
    return EVAL_CLASS_COLOURS[FINE_TO_EVAL[frame.labels]]


def _draw_bev(ax, frame: Frame, colours: np.ndarray, boxes: list[Box3D], colour: str, masks: np.ndarray | None,
              extent: float, bev_range: float, title: str) -> None:
    if masks is not None:
        ax.imshow(map_underlay(masks), extent=(-extent, extent, -extent, extent), origin="lower",
                  interpolation="nearest")
    pts = frame.points
    ax.scatter(pts[:, 0], pts[:, 1], c=colours, s=0.3, linewidths=0)
    global_to_lidar = invert_transform(frame.ego_to_global @ frame.lidar_to_ego)
    for box in boxes:
        corners = box_corners_bev(box, global_to_lidar)
        ax.fill(corners[:, 0], corners[:, 1], fill=False, edgecolor=colour, linewidth=0.8)
    ax.set_xlim(-bev_range, bev_range)
    ax.set_ylim(-bev_range, bev_range)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)


def render_frame(frame: Frame, out: Path, bev_range: float = 60.0, point_size: float = 1.0,
                 bev_map: np.ndarray | None = None, prediction: FramePrediction | None = None,
                 title: str = "") -> Path:
    """Write the figure to `out` (PNG) and return the path. `bev_map` (C, 200, 200), the reader's map masks
    around the LiDAR (+-50 m, axes x forward and y left), is drawn under the ground-truth BEV; `prediction`
    adds a predicted BEV panel and draws its boxes (blue; ground truth red) or masks into the images."""
    colours = _point_colours(frame)
    if prediction is not None and prediction.boxes:
        colours = np.broadcast_to(POINTS_UNDER_BOXES, (frame.num_points, 3))
    pairs = point_pixel_pairs(frame)
    channels = frame.camera_channels
    predicted_masks = prediction.bev_masks if prediction is not None else None
    bev_panels = 1 if prediction is None else 2
    fig = plt.figure(figsize=(16 + 4.2 * (bev_panels - 1), 7.5), dpi=110)
    grid = fig.add_gridspec(2, 3 + bev_panels, width_ratios=(1, 1, 1) + (1.05,) * bev_panels)
    for row, names in enumerate(CAMERA_GRID):
        for col, name in enumerate(names):
            ax = fig.add_subplot(grid[row, col])
            ax.set_axis_off()
            if name not in frame.cameras:
                continue
            cam, index = frame.cameras[name], channels.index(name)
            ax.imshow(cam.image)
            if predicted_masks is not None:  # the map prediction on the ground instead of the points
                uv, rgb = ground_cells_in_camera(frame, predicted_masks, prediction.bev_extent, index, stride=1)
                ax.scatter(uv[:, 0], uv[:, 1], c=rgb, s=point_size * 4, linewidths=0, alpha=0.35)
            else:
                sel = pairs.camera_index == index
                uv = pairs.uv[sel]
                ax.scatter(uv[:, 0], uv[:, 1], c=colours[pairs.point_index[sel]], s=point_size, linewidths=0)
            if prediction is not None and prediction.boxes:
                for boxes, colour in ((frame.boxes, GT_COLOUR), (prediction.boxes, PRED_COLOUR)):
                    ax.add_collection(LineCollection(box_edges_in_camera(frame, boxes, index), colors=colour,
                                                     linewidths=0.7))
            ax.set_xlim(0, cam.image.shape[1])
            ax.set_ylim(cam.image.shape[0], 0)
            ax.set_title(name, fontsize=9)
    _draw_bev(fig.add_subplot(grid[:, 3]), frame, colours, frame.boxes, GT_COLOUR, bev_map, 50.0, bev_range,
              f"ground truth (LiDAR frame)  {frame.scene_name}  {len(frame.boxes)} boxes")
    if prediction is not None:
        ax = fig.add_subplot(grid[:, 4])
        _draw_bev(ax, frame, colours, prediction.boxes, PRED_COLOUR, predicted_masks, prediction.bev_extent,
                  bev_range, f"prediction  {len(prediction.boxes)} boxes  ({prediction.caption})"
                  if prediction.boxes or predicted_masks is None else f"prediction ({prediction.caption})")
        if prediction.bev_classes:
            ax.legend(handles=[Patch(color=MAP_COLOURS[k % len(MAP_COLOURS)], label=c)
                               for k, c in enumerate(prediction.bev_classes)], fontsize=7, loc="lower left")
    fig.suptitle(title or f"sample {frame.token}  ·  {frame.num_points} points", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out
