"""Optional path: the same curve analysis on ImageNet GoogLeNet (InceptionV1), layer mixed3b.

The Circuits papers studied InceptionV1; torchvision's ``googlenet`` is the
same architecture, and its ``inception3b`` module is the papers' ``mixed3b``.
Nothing is downloaded: the weights are used only when a local file exists,
found through the environment variable ``MI_TUTOR_GOOGLENET`` or torch's hub
cache (``<torch.hub.get_dir()>/checkpoints/googlenet-1378be20.pth``, where
``torchvision`` puts them after a download on a machine with a network).

Examples:
    >>> find_googlenet_weights() is None or find_googlenet_weights().exists()
    True
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..device import get_device
from ..validation import check_tensor

__all__ = ["GOOGLENET_FILE", "MIXED3B", "find_googlenet_weights", "load_googlenet", "imagenet_input", "ResizedInput"]

GOOGLENET_FILE = "googlenet-1378be20.pth"
MIXED3B = "net.inception3b"  # its name inside ResizedInput
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


def find_googlenet_weights() -> Path | None:
    """Path of a local GoogLeNet ImageNet weights file, or ``None`` when there is none."""
    env = os.environ.get("MI_TUTOR_GOOGLENET")
    candidates = [Path(env)] if env else []
    candidates.append(Path(torch.hub.get_dir()) / "checkpoints" / GOOGLENET_FILE)
    return next((p for p in candidates if p.is_file()), None)


def load_googlenet(path: str | Path | None = None, device: torch.device | str | None = None) -> nn.Module:
    """torchvision's GoogLeNet with ImageNet weights from a local file, in eval mode.

    Args:
        path: The weights file (default: :func:`find_googlenet_weights`).
        device: Target device (default :func:`~mi_tutor.device.get_device`).

    Returns:
        The model; it expects :func:`imagenet_input` images. ``"inception3b"`` is mixed3b.
        Wrap it in :class:`ResizedInput` to feed it the course's 32-pixel stimuli.

    Raises:
        FileNotFoundError: when no weights file is available (nothing is downloaded).
    """
    from torchvision.models import googlenet

    path = Path(path) if path is not None else find_googlenet_weights()
    if path is None or not path.is_file():
        raise FileNotFoundError(
            f"No GoogLeNet weights found (looked at $MI_TUTOR_GOOGLENET and the torch hub cache for {GOOGLENET_FILE}). "
            "On a machine with a network, `torchvision.models.googlenet(weights='IMAGENET1K_V1')` downloads them.")
    model = googlenet(weights=None, aux_logits=False, transform_input=True, init_weights=False)
    state = torch.load(path, map_location="cpu", weights_only=True)
    state = {k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2."))}
    model.load_state_dict(state)
    return model.to(device or get_device()).eval()


def imagenet_input(images: torch.Tensor, size: int = 112) -> torch.Tensor:
    """Resize ``[n, 3, H, W]`` images in ``[0, 1]`` to ``size`` and normalise them with ImageNet statistics.

    Examples:
        >>> imagenet_input(torch.rand(2, 3, 32, 32), size=64).shape
        torch.Size([2, 3, 64, 64])
    """
    check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    x = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor(_MEAN, device=x.device)[None, :, None, None]
    std = torch.tensor(_STD, device=x.device)[None, :, None, None]
    return (x - mean) / std


class ResizedInput(nn.Module):
    """Feeds ``[n, 3, H, W]`` images in ``[0, 1]`` to an ImageNet model at ``size`` pixels.

    Module names gain a ``"net."`` prefix (mixed3b is ``"net.inception3b"``).

    Examples:
        >>> wrapped = ResizedInput(nn.Conv2d(3, 2, 3), size=16)
        >>> wrapped(torch.rand(1, 3, 32, 32)).shape
        torch.Size([1, 2, 14, 14])
    """

    def __init__(self, net: nn.Module, size: int = 112):
        super().__init__()
        self.net, self.size = net, size

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """``images`` ``[n, 3, H, W]`` -> the wrapped model's output."""
        return self.net(imagenet_input(images, self.size))
