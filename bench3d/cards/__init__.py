"""Method and protocol cards: YAML data, validated by typed schemas."""

from bench3d.cards.loader import load_method_card, load_protocol_card, method_names, protocol_names
from bench3d.cards.schema import MethodCard, ProtocolCard

__all__ = ["MethodCard", "ProtocolCard", "load_method_card", "load_protocol_card", "method_names", "protocol_names"]
