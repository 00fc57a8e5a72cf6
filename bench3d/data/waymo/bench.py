"""Frames per second of `WaymoReader.frame` (TOP points and labels, no images) against a plain read of the same
files: pyarrow reads the frame's `lidar` and `lidar_segmentation` rows (return 1), numpy reshapes them and converts
the range image with the beam angles directly (no return 2, no per-pixel ego-motion correction, no Frame),
measured in one run."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from bench3d.data.pass_timing import alternating_best_seconds
from bench3d.data.waymo import columns as col
from bench3d.data.waymo.range_image import inclinations, range_image_to_points
from bench3d.data.waymo.reader import WaymoReader, split_token

log = logging.getLogger(__name__)


def compare_waymo_speed(dataroot: str | Path, n_frames: int = 20, repeats: int = 3) -> dict:
    reader = WaymoReader(dataroot)
    segments = {s.name: s for s in reader.sequences()}
    tokens = [t for seg in segments.values() for t in seg.sample_tokens][:n_frames]
    values = col.range_image_column(col.LIDAR_COMPONENT, 1, "values")
    shape = col.range_image_column(col.LIDAR_COMPONENT, 1, "shape")
    lvalues = col.range_image_column(col.SEGMENTATION_COMPONENT, 1, "values")
    lshape = col.range_image_column(col.SEGMENTATION_COMPONENT, 1, "shape")

    def ours(token: str) -> None:
        reader.frame(token, cameras=None)

    calibrations: dict[str, dict] = {}  # read once per segment, as the reader does

    def plain(token: str) -> None:
        name, ts = split_token(token)
        seg = segments[name]
        if name not in calibrations:
            path = col.component_path(dataroot, seg.split, col.LIDAR_CALIBRATION, name)
            calibrations[name] = pq.read_table(path).to_pylist()[0]
        calib = calibrations[name]
        filters = [(col.TIMESTAMP, "=", ts), (col.LASER, "=", col.LASER_TOP)]
        row = pq.read_table(col.component_path(dataroot, seg.split, col.LIDAR, name), columns=[values, shape],
                            filters=filters)
        lrow = pq.read_table(col.component_path(dataroot, seg.split, col.LIDAR_SEGMENTATION, name),
                             columns=[lvalues, lshape], filters=filters)
        row = {c: row.column(c).chunk(0)[0].values.to_numpy() for c in (values, shape)}
        lrow = {c: lrow.column(c).chunk(0)[0].values.to_numpy() for c in (lvalues, lshape)}
        image = row[values].reshape(row[shape])
        incl = inclinations(image.shape[0], calib[col.BEAM_MIN], calib[col.BEAM_MAX], calib[col.BEAM_VALUES])
        _, pixels = range_image_to_points(image, np.asarray(calib[col.LIDAR_EXTRINSIC]).reshape(4, 4), incl)
        lrow[lvalues].reshape(lrow[lshape])[pixels[:, 0], pixels[:, 1], 1]

    ours_s, plain_s = alternating_best_seconds(ours, plain, tokens, repeats)
    result = {"frames": len(tokens), "repeats": repeats, "points_per_frame": int(len(reader.frame(tokens[0]).points)),
              "bench3d_frames_per_second": len(tokens) / ours_s, "plain_frames_per_second": len(tokens) / plain_s,
              "bench3d_time_over_plain": ours_s / plain_s}
    log.info("Waymo frame: bench3d %.0f/s, plain pyarrow + numpy %.0f/s (x%.2f the time)",
             result["bench3d_frames_per_second"], result["plain_frames_per_second"], result["bench3d_time_over_plain"])
    return result
