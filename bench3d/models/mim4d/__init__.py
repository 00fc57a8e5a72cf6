"""MIM4D (Zou et al., 2024): voxel volume, temporal decoder, rays and NeuS rendering."""
