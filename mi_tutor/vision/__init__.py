"""Vision side of the course: procedural image worlds and small CNNs."""

from .architectures import ARCHITECTURES, CurveNetConfig, PlainNet, ResNet, VGGNet, build_curve_net
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
    "ARCHITECTURES",
    "CurveNetConfig",
    "PlainNet",
    "ResNet",
    "VGGNet",
    "build_curve_net",
]
