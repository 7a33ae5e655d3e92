"""Small CNN families built from conv-BN-ReLU and basic blocks (:mod:`.blocks`): the zoo's object-world nets and 3-stage test nets.

:func:`build_zoo_net` builds the object-world nets of the zoo (``layer1``..``layer4``, then
``head``; see :mod:`mi_tutor.zoo.entries.objects`). The three-stage nets below
(:func:`build_curve_net`; named after the curve world they were first trained on, which has left
the package) are small untrained stand-ins for doctests, checks and tests. They share one outline:
``layer1`` (32x32), ``layer2`` (16x16), ``layer3`` (8x8), then
global average pooling ``gap`` and a linear ``fc``. The outputs of ``layer1..3``
are post-ReLU feature maps; their inner modules can be hooked too
(``layer2.0``, ``layer2.0.conv1``...).

* :class:`PlainNet`: one conv + ReLU per stage (5x5, 5x5, 3x3).
* :class:`VGGNet`: two 3x3 conv + ReLU per stage (:class:`~mi_tutor.vision.blocks.ConvBNReLU`).
* :class:`ResNet`: a 5x5 stem, then :class:`~mi_tutor.vision.blocks.BasicBlock` s
  with batch norm and skip connections.

Examples:
    >>> net = build_curve_net("resnet")
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 9])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..validation import check_choice
from .blocks import BasicBlock, ConvBNReLU

__all__ = ["CurveNetConfig", "PlainNet", "VGGNet", "ResNet", "ARCHITECTURES", "LAYERS", "build_curve_net",
           "ZooNetConfig", "ZooCNN", "ZOO_ARCHITECTURES", "build_zoo_net"]

LAYERS: tuple[str, ...] = ("layer1", "layer2", "layer3")


@dataclass
class CurveNetConfig:
    """Widths and output size shared by the three families.

    Attributes:
        channels: Channels of ``layer1``, ``layer2``, ``layer3``.
        n_classes: Number of logits (8 orientation bins + "line").
        in_channels: Image channels.
    """

    channels: tuple[int, int, int] = (16, 32, 64)
    n_classes: int = 9
    in_channels: int = 3


class _CurveNet(nn.Module):
    """Shared forward: ``layer1 -> pool1 -> layer2 -> pool2 -> layer3 -> gap -> fc``."""

    layer_names: tuple[str, ...] = LAYERS

    def _head(self, cfg: CurveNetConfig) -> None:
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(cfg.channels[2], cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, 3, H, W]`` in ``[0, 1]`` -> logits ``[batch, n_classes]``."""
        for module in self.children():
            x = module(x)
        return x


class PlainNet(_CurveNet):
    """Plain conv net: ``conv(5x5)-ReLU`` stages with max pooling between them.

    Examples:
        >>> PlainNet()(torch.zeros(1, 3, 32, 32)).shape
        torch.Size([1, 9])
    """

    def __init__(self, cfg: CurveNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or CurveNetConfig()
        c1, c2, c3 = cfg.channels
        self.layer1 = ConvBNReLU(cfg.in_channels, c1, 5)
        self.pool1 = nn.MaxPool2d(2)
        self.layer2 = ConvBNReLU(c1, c2, 5)
        self.pool2 = nn.MaxPool2d(2)
        self.layer3 = ConvBNReLU(c2, c3, 3)
        self._head(cfg)


class VGGNet(_CurveNet):
    """VGG-style net: two ``conv(3x3)-ReLU`` per stage, max pooling between stages.

    Examples:
        >>> VGGNet()(torch.zeros(1, 3, 32, 32)).shape
        torch.Size([1, 9])
    """

    def __init__(self, cfg: CurveNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or CurveNetConfig()
        c1, c2, c3 = cfg.channels

        def stage(c_in: int, c_out: int) -> nn.Sequential:
            return nn.Sequential(ConvBNReLU(c_in, c_out, 3),
                                 ConvBNReLU(c_out, c_out, 3))

        self.layer1 = stage(cfg.in_channels, c1)
        self.pool1 = nn.MaxPool2d(2)
        self.layer2 = stage(c1, c2)
        self.pool2 = nn.MaxPool2d(2)
        self.layer3 = stage(c2, c3)
        self._head(cfg)


class _Identity(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class ResNet(_CurveNet):
    """ResNet-style net: a 5x5 conv stem, then :class:`~mi_tutor.vision.blocks.BasicBlock` s.

    ``layer1`` = stem + one block at full resolution; ``layer2`` and ``layer3``
    = one stride-2 block each (so ``pool1``/``pool2`` are identities, kept for
    the shared layout).

    Examples:
        >>> ResNet()(torch.zeros(1, 3, 32, 32)).shape
        torch.Size([1, 9])
    """

    def __init__(self, cfg: CurveNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or CurveNetConfig()
        c1, c2, c3 = cfg.channels

        def down(c_in: int, c_out: int) -> BasicBlock:
            skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm2d(c_out))
            return BasicBlock(c_in, c_out, stride=2, downsample=skip)

        self.layer1 = nn.Sequential(ConvBNReLU(cfg.in_channels, c1, 5),
                                    BasicBlock(c1, c1))
        self.pool1 = _Identity()
        self.layer2 = nn.Sequential(down(c1, c2))
        self.pool2 = _Identity()
        self.layer3 = nn.Sequential(down(c2, c3))
        self._head(cfg)


ARCHITECTURES: dict[str, type[_CurveNet]] = {"plainnet": PlainNet, "vgg": VGGNet, "resnet": ResNet}


def build_curve_net(arch: str, cfg: CurveNetConfig | None = None) -> nn.Module:
    """Build an untrained net of family ``arch`` (``"plainnet"``, ``"vgg"`` or ``"resnet"``).

    Examples:
        >>> type(build_curve_net("vgg")).__name__
        'VGGNet'
    """
    check_choice("arch", arch, ARCHITECTURES)
    return ARCHITECTURES[arch](cfg)


# --------------------------------------------------------------------------------------------
# The zoo CNNs of the object world: one layer-naming scheme for every architecture.
# --------------------------------------------------------------------------------------------

@dataclass
class ZooNetConfig:
    """Widths and output size of a zoo CNN (:func:`build_zoo_net`).

    Attributes:
        channels: Output channels of ``layer1``, ``layer2``, ... (one stage each;
            every stage after the first halves the resolution).
        n_classes: Number of logits of ``head``.
        in_channels: Image channels.
    """

    channels: tuple[int, ...] = (12, 24, 48, 64)
    n_classes: int = 9
    in_channels: int = 3


class ZooCNN(nn.Module):
    """A CNN laid out as ``layer1 -> layer2 -> ... -> head``.

    Every stage ``layerK`` outputs a post-ReLU feature map; stage ``K > 1``
    works at half the resolution of stage ``K - 1`` (64 x 64 input: 64, 32,
    16, 8). ``head`` is global average pooling + a linear readout
    (``head.2`` is the linear layer). Hook any stage by its name.

    Examples:
        >>> net = build_zoo_net("plainnet")
        >>> net.layer_names
        ('layer1', 'layer2', 'layer3', 'layer4')
        >>> net(torch.zeros(2, 3, 64, 64)).shape
        torch.Size([2, 9])
    """

    def __init__(self, arch: str, stages: list[nn.Module], cfg: ZooNetConfig):
        super().__init__()
        self.arch, self.cfg = arch, cfg
        for i, stage in enumerate(stages):
            self.add_module(f"layer{i + 1}", stage)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cfg.channels[-1], cfg.n_classes))

    @property
    def layer_names(self) -> tuple[str, ...]:
        """Names of the conv stages, input to output."""
        return tuple(f"layer{i + 1}" for i in range(len(self.cfg.channels)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, 3, H, W]`` in ``[0, 1]`` -> logits ``[batch, n_classes]``."""
        for module in self.children():
            x = module(x)
        return x


def _conv(c_in: int, c_out: int, k: int = 3) -> ConvBNReLU:
    return ConvBNReLU(c_in, c_out, k)


def _plain_stages(cfg: ZooNetConfig) -> list[nn.Module]:
    ins = (cfg.in_channels, *cfg.channels[:-1])
    return [nn.Sequential(*([] if i == 0 else [nn.MaxPool2d(2)]), _conv(c_in, c_out, 5 if i == 0 else 3))
            for i, (c_in, c_out) in enumerate(zip(ins, cfg.channels))]


def _vgg_stages(cfg: ZooNetConfig) -> list[nn.Module]:
    ins = (cfg.in_channels, *cfg.channels[:-1])
    return [nn.Sequential(*([] if i == 0 else [nn.MaxPool2d(2)]), _conv(c_in, c_out), _conv(c_out, c_out))
            for i, (c_in, c_out) in enumerate(zip(ins, cfg.channels))]


def _resnet_stages(cfg: ZooNetConfig) -> list[nn.Module]:
    stages: list[nn.Module] = [nn.Sequential(_conv(cfg.in_channels, cfg.channels[0], 5))]
    for c_in, c_out in zip(cfg.channels[:-1], cfg.channels[1:]):
        skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm2d(c_out))
        stages.append(nn.Sequential(BasicBlock(c_in, c_out, stride=2, downsample=skip)))
    return stages


ZOO_ARCHITECTURES: dict[str, object] = {"plainnet": _plain_stages, "resnet": _resnet_stages, "vgg": _vgg_stages}


def build_zoo_net(arch: str, cfg: ZooNetConfig | None = None) -> ZooCNN:
    """Build an untrained zoo CNN of family ``arch``.

    * ``"plainnet"``: per stage one conv-BN-ReLU (5x5 in ``layer1``, then 3x3), max pooling between stages;
    * ``"vgg"``: per stage two 3x3 conv-BN-ReLU (:class:`~mi_tutor.vision.blocks.ConvBNReLU`);
    * ``"resnet"``: a 5x5 conv-BN-ReLU stem as ``layer1``, then one stride-2
      :class:`~mi_tutor.vision.blocks.BasicBlock` per stage.

    Args:
        arch: ``"plainnet"``, ``"resnet"`` or ``"vgg"``.
        cfg: Widths and number of classes.

    Examples:
        >>> [type(m).__name__ for m in build_zoo_net("resnet").layer2.children()]
        ['BasicBlock']
    """
    check_choice("arch", arch, ZOO_ARCHITECTURES)
    cfg = cfg or ZooNetConfig()
    if len(cfg.channels) < 2:
        raise ValueError(f"`cfg.channels` needs at least 2 stages, got {cfg.channels}")
    return ZooCNN(arch, ZOO_ARCHITECTURES[arch](cfg), cfg)
