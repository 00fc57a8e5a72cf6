"""BEV segmentation samples: a frame's sensor inputs (tasks/bev_inputs.py) and its BEV map masks
(reader.bev_map: 6 classes, 200 x 200 at 0.5 m, LiDAR frame)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from bench3d.data.reader import Reader
from bench3d.engine.loader import LazySamples
from bench3d.tasks.bev_inputs import SensorInputs, load_sensor_inputs


@dataclass
class BevSample:
    inputs: SensorInputs
    target: torch.Tensor  # (classes, 200, 200) bool, axes (x forward, y left)


def load_samples(reader: Reader, tokens: Sequence[str], image_size: tuple[int, int], max_points: int | None,
                 seed: int) -> LazySamples[BevSample]:
    tokens = list(tokens)

    def load(i: int) -> BevSample:
        inputs, _ = load_sensor_inputs(reader, tokens[i], image_size, max_points, seed)
        return BevSample(inputs, torch.from_numpy(reader.bev_map(tokens[i])))

    return LazySamples(len(tokens), load)
