"""Colours for the 16 nuScenes evaluation classes (index 0 = ignore), close to the devkit's colour map."""

from __future__ import annotations

import numpy as np

EVAL_CLASS_COLOURS = np.array(
    [
        (0, 0, 0),  # ignore
        (112, 128, 144),  # barrier
        (220, 20, 60),  # bicycle
        (255, 127, 80),  # bus
        (255, 158, 0),  # car
        (233, 150, 70),  # construction_vehicle
        (255, 61, 99),  # motorcycle
        (0, 0, 230),  # pedestrian
        (47, 79, 79),  # traffic_cone
        (255, 140, 0),  # trailer
        (255, 99, 71),  # truck
        (0, 207, 191),  # driveable_surface
        (175, 0, 75),  # other_flat
        (75, 0, 75),  # sidewalk
        (112, 180, 60),  # terrain
        (222, 184, 135),  # manmade
        (0, 175, 0),  # vegetation
    ],
    dtype=np.float64,
) / 255.0
