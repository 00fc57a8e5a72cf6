"""Evaluation protocols. They never import method code: they receive an encoder and token lists."""
