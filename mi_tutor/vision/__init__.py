"""Vision side of the course: a procedural image world and small CNNs."""

from .models import ConvNet, ConvNetConfig
from .world import SHAPE_KINDS, COLOURS, WorldBatch, WorldConfig, render_shapes

__all__ = [
    "ConvNet",
    "ConvNetConfig",
    "SHAPE_KINDS",
    "COLOURS",
    "WorldBatch",
    "WorldConfig",
    "render_shapes",
]
