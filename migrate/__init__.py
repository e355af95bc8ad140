"""ecr-ptc: move container image references onto Amazon ECR pull-through cache."""

from __future__ import annotations

# A constant, not importlib.metadata: that lookup costs ~40 ms of hook start-up.
__version__ = "0.1.0"
