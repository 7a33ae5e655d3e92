"""The two building blocks of the zoo's CNNs: conv-BN-ReLU and a ResNet basic block.

They are torchvision's ``ops.Conv2dNormActivation`` and ``models.resnet.BasicBlock``, written
out here with the same parameter names (so the zoo's state dicts load unchanged) and the same
arithmetic, for one reason: importing torchvision imports all of it, ``torch._dynamo``
included, which costs about 3 s of CPU in every lesson kernel and every graded submission;
these two blocks are all the zoo's nets need of it. torchvision stays the door to the
pretrained ImageNet models (:mod:`mi_tutor.vision.pretrained`) and the image transforms of
feature visualisation, imported where those are used.

Unlike torchvision's, the ReLUs here are never in place: an in-place ReLU would overwrite the
pre-activation a hook has just captured.

Examples:
    >>> import torch
    >>> ConvBNReLU(3, 8, 5)(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 8, 16, 16])
    >>> skip = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
    >>> BasicBlock(8, 16, stride=2, downsample=skip)(torch.zeros(2, 8, 16, 16)).shape
    torch.Size([2, 16, 8, 8])
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ConvBNReLU", "BasicBlock"]


class ConvBNReLU(nn.Sequential):
    """``Conv2d`` (no bias, "same" padding) -> ``BatchNorm2d`` -> ``ReLU``, as modules ``0``, ``1``, ``2``.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Odd kernel size; the padding keeps the spatial size at stride 1.
        stride: Convolution stride.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3, stride: int = 1):
        super().__init__(nn.Conv2d(in_channels, out_channels, kernel_size, stride, (kernel_size - 1) // 2, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())


class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers with a skip connection (He et al. 2016), out of place.

    ``relu(bn2(conv2(relu(bn1(conv1(x))))) + downsample(x))``, where ``downsample`` is the
    identity unless given (it must map ``x`` to the output's shape when ``stride > 1`` or the
    channels change).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        stride: Stride of ``conv1`` (2 halves the resolution).
        downsample: The skip path's module, or ``None`` for the identity.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.downsample = downsample
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x``: ``[batch, in_channels, H, W]`` -> ``[batch, out_channels, H / stride, W / stride]``."""
        out = self.bn2(self.conv2(self.relu(self.bn1(self.conv1(x)))))
        identity = x if self.downsample is None else self.downsample(x)
        return self.relu(out + identity)
