"""Dataset readers producing Frames and Sequences (see DESIGN.md, Contracts)."""

from bench3d.data.frame import Box3D, CameraView, Frame, PointPixelPairs
from bench3d.data.reader import Reader

__all__ = ["Box3D", "CameraView", "Frame", "PointPixelPairs", "Reader"]
