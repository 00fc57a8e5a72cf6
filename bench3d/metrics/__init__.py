"""Metrics: one confusion-matrix core, one reducer per dataset convention, BEV IoU, devkit detection."""

from bench3d.metrics.confusion import ConfusionMatrix
from bench3d.metrics.reducers import (
    REDUCERS,
    SegmentationScores,
    reduce_nuscenes,
    reduce_semantickitti,
    reduce_waymo,
)

__all__ = [
    "REDUCERS",
    "ConfusionMatrix",
    "SegmentationScores",
    "reduce_nuscenes",
    "reduce_semantickitti",
    "reduce_waymo",
]
