"""The plain ConvNet of the shapes world (lessons 1, 6, 9), laid out like every zoo CNN."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ConvNetConfig", "ConvNet"]


@dataclass
class ConvNetConfig:
    """A plain conv net: ``len(channels)`` conv-ReLU stages, pooling between, a linear ``head``.

    Attributes:
        channels: Output channels of each conv stage.
        kernel_size: Kernel size of every conv.
        n_classes: Number of output logits.
        in_channels: Input image channels.
    """

    channels: tuple[int, ...] = (16, 32, 64)
    kernel_size: int = 5
    n_classes: int = 4
    in_channels: int = 3


class ConvNet(nn.Module):
    """``layer1 -> layer2 -> ... -> head``: the layout of every zoo CNN.

    Stage ``layerK`` is ``[MaxPool2d(2) for K > 1] -> Conv2d -> ReLU`` and
    outputs a post-ReLU feature map; ``head`` is global average pooling,
    flatten and the linear readout (``head.2``). Module names (what
    ``run_with_cache`` and ``run_with_hooks`` take) are ``layer1`` (its conv
    ``layer1.0``, its ReLU ``layer1.1``), ``layer2`` (pool ``layer2.0``, conv
    ``layer2.1``, ReLU ``layer2.2``), ..., ``head`` (``head.0``, ``head.1``,
    ``head.2``), as in :class:`~mi_tutor.vision.architectures.ZooCNN`.

    Examples:
        >>> net = ConvNet(ConvNetConfig())
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 4])
        >>> [name for name, _ in net.named_children()]
        ['layer1', 'layer2', 'layer3', 'head']
    """

    def __init__(self, cfg: ConvNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or ConvNetConfig()
        c_in = cfg.in_channels
        for i, c_out in enumerate(cfg.channels, start=1):
            pool = [nn.MaxPool2d(2)] if i > 1 else []
            conv = nn.Conv2d(c_in, c_out, cfg.kernel_size, padding=cfg.kernel_size // 2)
            self.add_module(f"layer{i}", nn.Sequential(*pool, conv, nn.ReLU()))
            c_in = c_out
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c_in, cfg.n_classes))

    @property
    def layer_names(self) -> tuple[str, ...]:
        """Names of the conv stages, input to output."""
        return tuple(f"layer{i + 1}" for i in range(len(self.cfg.channels)))

    def conv(self, stage: int) -> nn.Conv2d:
        """The convolution of stage ``stage`` (1-based), e.g. ``net.conv(2)`` is ``net.layer2[1]``."""
        if not 1 <= stage <= len(self.cfg.channels):
            raise ValueError(f"`stage` must be 1 .. {len(self.cfg.channels)}, got {stage}")
        return getattr(self, f"layer{stage}")[0 if stage == 1 else 1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, 3, H, W]`` -> logits ``[batch, n_classes]``."""
        for module in self.children():
            x = module(x)
        return x
