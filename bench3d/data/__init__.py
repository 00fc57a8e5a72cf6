"""Dataset readers producing Frames and Sequences (see DESIGN.md, Contracts)."""

from bench3d.data.frame import Box3D, CameraView, Frame, PointPixelPairs

__all__ = ["Box3D", "CameraView", "Frame", "PointPixelPairs"]
