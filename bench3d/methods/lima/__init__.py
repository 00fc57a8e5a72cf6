"""LiMA: long-term image-to-LiDAR memory aggregation (built from the paper's description; see its card)."""
