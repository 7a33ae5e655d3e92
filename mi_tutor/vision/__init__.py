"""Vision side of the course: procedural image worlds and small CNNs.

The nets lessons load come from the zoo (``zoo.load``); their class and builder are here
(:class:`ZooCNN`, :func:`build_zoo_net`), beside the shapes world's :class:`ConvNet` and the tiny
untrained stand-ins of doctests and tests (:func:`build_tiny_net`).
"""

from .architectures import (TINY_ARCHITECTURES, PlainNet, ResNet, TinyNetConfig, VGGNet, ZooCNN, ZooNetConfig,
                            build_tiny_net, build_zoo_net)
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
    "ZooCNN",
    "ZooNetConfig",
    "build_zoo_net",
    "TINY_ARCHITECTURES",
    "TinyNetConfig",
    "PlainNet",
    "ResNet",
    "VGGNet",
    "build_tiny_net",
]
