"""bench3d: benchmark and evaluation suite for self-supervised 3D representation learning in driving."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
