"""Small CNNs for the image world, with readable module names to hook."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["ConvNetConfig", "ConvNet"]


@dataclass
class ConvNetConfig:
    """A plain conv net: ``len(channels)`` conv-ReLU stages, pooling between, a linear head.

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
    """``conv{i} -> relu{i} -> pool{i}`` stages, then global average pool and ``fc``.

    Module names (what ``run_with_cache`` and ``run_with_hooks`` take) are
    ``conv1, relu1, pool1, conv2, ..., gap, fc``.

    Examples:
        >>> net = ConvNet(ConvNetConfig())
        >>> net(torch.zeros(2, 3, 32, 32)).shape
        torch.Size([2, 4])
    """

    def __init__(self, cfg: ConvNetConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or ConvNetConfig()
        c_in = cfg.in_channels
        n = len(cfg.channels)
        for i, c_out in enumerate(cfg.channels, start=1):
            self.add_module(f"conv{i}", nn.Conv2d(c_in, c_out, cfg.kernel_size, padding=cfg.kernel_size // 2))
            self.add_module(f"relu{i}", nn.ReLU())
            if i < n:
                self.add_module(f"pool{i}", nn.MaxPool2d(2))
            c_in = c_out
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(c_in, cfg.n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, 3, H, W]`` -> logits ``[batch, n_classes]``."""
        for module in self.children():
            x = module(x)
        return x
