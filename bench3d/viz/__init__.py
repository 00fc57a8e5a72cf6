"""Figures of frames and datasets (matplotlib, Agg backend; no display needed)."""
