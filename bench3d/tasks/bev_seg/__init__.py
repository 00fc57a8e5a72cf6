"""BEV map segmentation (BEVFusion's protocol) for camera and LiDAR backbones."""
