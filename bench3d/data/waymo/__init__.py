"""Waymo Open Dataset v2 (modular Parquet): range-image geometry now; the reader and writer come next."""
