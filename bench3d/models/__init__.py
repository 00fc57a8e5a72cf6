"""Backbones: voxelisation, sparse convolution backends and the MinkUNet LiDAR backbone."""

from bench3d.models.minkunet import MinkUNet, MinkUNetConfig
from bench3d.models.voxelize import VoxelConfig, Voxels, voxelize, voxelize_batch

__all__ = ["MinkUNet", "MinkUNetConfig", "VoxelConfig", "Voxels", "voxelize", "voxelize_batch"]
