"""LiDAR semantic segmentation (nuScenes-lidarseg classes, mIoU with the dataset's reducer)."""
