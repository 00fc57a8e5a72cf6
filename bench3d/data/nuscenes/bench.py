"""Frames per second of the reader's full frame against the devkit's own path, measured in one run.

Ours: `NuScenesReader.frame` (LiDAR, labels, six decoded images, calibrations, boxes) plus
`point_pixel_pairs` for all cameras in one pass. Devkit: `get_sample_data` for the LiDAR and each camera
plus `map_pointcloud_to_image` per camera, the path its tutorials use. The devkit returns images as lazily
opened PIL objects (pixels never decoded), so it does less work than we do; the ratio is conservative.
With `max_image_size` our reader decodes the images at the size a consumer asks for (JPEG draft mode).
"""

from __future__ import annotations

import logging
from pathlib import Path

from bench3d.data.nuscenes.projection import point_pixel_pairs
from bench3d.data.nuscenes.reader import NuScenesReader
from bench3d.data.nuscenes.tables import CAMERA_CHANNELS, LIDAR_CHANNEL
from bench3d.data.pass_timing import alternating_best_seconds

log = logging.getLogger(__name__)


def compare_frame_speed(dataroot: str | Path, version: str, n_samples: int = 10, repeats: int = 3,
                        max_image_size: tuple[int, int] | None = None) -> dict:
    from nuscenes import NuScenes
    from nuscenes.nuscenes import NuScenesExplorer

    reader = NuScenesReader(dataroot, version)
    nusc = NuScenes(version, str(dataroot), verbose=False)
    explorer = NuScenesExplorer(nusc)
    tokens = [s["token"] for s in nusc.sample][:n_samples]

    def ours(token: str) -> None:
        point_pixel_pairs(reader.frame(token, max_image_size=max_image_size))

    def devkit(token: str) -> None:
        data = nusc.get("sample", token)["data"]
        nusc.get_sample_data(data[LIDAR_CHANNEL])
        for cam in CAMERA_CHANNELS:
            nusc.get_sample_data(data[cam])
            explorer.map_pointcloud_to_image(data[LIDAR_CHANNEL], data[cam])

    ours_s, devkit_s = alternating_best_seconds(ours, devkit, tokens, repeats)
    frame = reader.frame(tokens[0], max_image_size=max_image_size)
    shapes = sorted({c.image.shape[:2] for c in frame.cameras.values()})
    result = {"samples": len(tokens), "repeats": repeats, "image_sizes": [list(x) for x in shapes],
              "points_per_frame": int(len(frame.points)), "bench3d_frames_per_second": len(tokens) / ours_s,
              "devkit_frames_per_second": len(tokens) / devkit_s, "speedup": devkit_s / ours_s}
    log.info("full frame: bench3d %.1f fps, devkit %.1f fps (x%.1f)", result["bench3d_frames_per_second"],
             result["devkit_frames_per_second"], result["speedup"])
    return result
