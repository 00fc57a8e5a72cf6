"""Networks: voxelisation, sparse convolution backends, the MinkUNet LiDAR backbone, 2D teachers, losses."""

from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.voxelize import VoxelConfig, Voxels, voxelize, voxelize_batch

__all__ = ["MinkUNet", "MinkUNetConfig", "VoxelConfig", "Voxels", "voxelize", "voxelize_batch"]
