"""Each dataset's evaluation label space: its classes (index 0 = ignored) and the map from the raw ids its
reader puts in `Frame.labels` to evaluation ids. Tasks ask the dataset for its space instead of assuming one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench3d.labels import nuscenes, semantickitti, waymo


@dataclass(frozen=True)
class LabelSpace:
    name: str
    eval_classes: tuple[str, ...]  # index 0 is the ignored class
    to_eval: Callable[[np.ndarray], np.ndarray]  # raw ids -> eval ids 0..len(eval_classes) - 1
    ignore_index: int = 0

    @property
    def num_classes(self) -> int:
        """Evaluated classes (the ignored one excluded)."""
        return len(self.eval_classes) - 1


LABEL_SPACES: dict[str, LabelSpace] = {
    "nuscenes": LabelSpace("nuscenes", nuscenes.EVAL_CLASSES, lambda raw: nuscenes.FINE_TO_EVAL[raw]),
    "semantickitti": LabelSpace("semantickitti", semantickitti.EVAL_CLASSES, semantickitti.raw_to_train),
    "waymo": LabelSpace("waymo", waymo.SEGMENTATION_CLASSES, waymo.to_eval_ids),
}
