"""Networks: the sparse LiDAR backbone, 2D teachers, heads."""
