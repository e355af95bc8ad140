"""ecr-ptc: move container image references onto Amazon ECR pull-through cache."""

from __future__ import annotations

# A constant, not importlib.metadata: that lookup scans installed distributions at every start.
__version__ = "0.1.0"
