"""Reading a host network: its layers and their widths.

The symbiote never touches the host's weights: it reads what the host computes
through forward hooks (``mi_tutor.hooks``) and, later, writes gates back into one
layer's output. A conv layer's output ``[n, channels, h, w]`` is read as one
number per channel and image, its spatial mean: ``hooks.collect(host, x, layers, pool="mean")``.

Examples:
    >>> import torch, torch.nn as nn
    >>> host = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    >>> H.collect(host, torch.rand(5, 3, 8, 8), ["1"], pool="mean")["1"].shape
    torch.Size([5, 4])
"""

from __future__ import annotations

import torch
from torch import nn

from .. import hooks as H
from ..validation import check_module_name

__all__ = ["layer_width"]


def layer_width(host: nn.Module, layer: str, x: torch.Tensor) -> int:
    """Number of channels of ``layer``'s output (from one forward pass on ``x[:1]``).

    Examples:
        >>> layer_width(nn.Sequential(nn.Conv2d(3, 6, 1)), "0", torch.rand(1, 3, 4, 4))
        6
    """
    check_module_name("layer", layer, host)
    return int(H.collect(host, x[:1], [layer])[layer].shape[1])
