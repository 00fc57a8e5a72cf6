"""Shared fixtures: tiny synthetic nuScenes releases made by the suite itself."""
