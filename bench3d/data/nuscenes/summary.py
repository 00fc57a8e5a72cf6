"""A dataset summary: table sizes and labelled points per evaluation class."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench3d.data.nuscenes.files import load_lidarseg, load_pcd_bin
from bench3d.data.nuscenes.reader import NuScenesReader
from bench3d.data.nuscenes.tables import LIDAR_CHANNEL, TABLE_NAMES
from bench3d.labels.nuscenes import EVAL_CLASSES, FINE_TO_EVAL


@dataclass
class DatasetSummary:
    dataroot: str
    version: str
    table_sizes: dict[str, int]
    keyframes: int
    points: int
    points_per_eval_class: dict[str, int] = field(default_factory=dict)

    @property
    def missing_eval_classes(self) -> list[str]:
        return [name for name, n in self.points_per_eval_class.items() if name != "ignore" and n == 0]


def summarise(reader: NuScenesReader) -> DatasetSummary:
    t = reader.tables
    counts = np.zeros(len(EVAL_CLASSES), dtype=np.int64)
    points = 0
    for sample_token, channels in t.sample_data_by_channel.items():
        lidar = channels.get(LIDAR_CHANNEL)
        if lidar is None:
            continue
        n = load_pcd_bin(reader.dataroot / t.get("sample_data", lidar)["filename"]).shape[0]
        points += n
        rel = t.lidarseg_files.get(lidar)
        if rel is not None:
            labels = load_lidarseg(reader.dataroot / rel, n)
            counts += np.bincount(FINE_TO_EVAL[labels], minlength=len(EVAL_CLASSES))
    return DatasetSummary(
        dataroot=str(reader.dataroot),
        version=reader.version,
        table_sizes={name: len(t.table(name)) for name in TABLE_NAMES},
        keyframes=len(t.sample),
        points=points,
        points_per_eval_class={name: int(c) for name, c in zip(EVAL_CLASSES, counts)},
    )
