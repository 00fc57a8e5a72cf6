"""The BEV stack every backbone shares downstream: camera features lifted by LSS, or LiDAR point features
pooled, into one BEV grid in the LiDAR frame; a BEV encoder with an FPN on top."""
