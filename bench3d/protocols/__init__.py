"""Evaluation protocols: cards over a task (what trains, fractions, draws, seeds) and the training they
share. They drive a task and never import method code: they receive a downstream model around a backbone."""

from bench3d.protocols.resolve import ResolvedProtocol, resolve_protocol
from bench3d.protocols.train import train_downstream

__all__ = ["ResolvedProtocol", "resolve_protocol", "train_downstream"]
