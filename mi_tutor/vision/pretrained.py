"""The one door to ImageNet models: torchvision architectures with weights from a local file.

Nothing is ever downloaded. Lessons reach GoogLeNet through the zoo,
``zoo.load("googlenet_imagenet")``, which calls :func:`load_pretrained`. It builds
the torchvision architecture and loads a state dict from, in order: the ``path``
argument, the environment variable ``MI_TUTOR_<NAME>_WEIGHTS`` (the one
variable per model, e.g. ``MI_TUTOR_GOOGLENET_WEIGHTS``), or torch hub's cache
``~/.cache/torch/hub/checkpoints/<file>`` (``$TORCH_HOME`` is honoured). Without
a file the error says how to fetch one on a machine with a network.

GoogLeNet is the InceptionV1 of the Circuits papers; its ``inception3b`` module
is the papers' mixed3b. :class:`ResizedInput` feeds it the course's small images
(resized and normalised with ImageNet statistics by :func:`imagenet_input`).

Examples:
    >>> sorted(PRETRAINED)
    ['googlenet', 'resnet18', 'vgg16']
    >>> ResizedInput(nn.Conv2d(3, 2, 3), size=16)(torch.rand(1, 3, 32, 32)).shape
    torch.Size([1, 2, 14, 14])
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_choice, check_tensor

__all__ = ["PretrainedSpec", "PRETRAINED", "MIXED3B", "pretrained_weights_path", "load_pretrained",
           "imagenet_input", "ResizedInput"]

MIXED3B = "net.inception3b"  # the Circuits papers' mixed3b, as named inside ResizedInput
_MEAN = (0.485, 0.456, 0.406)
_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class PretrainedSpec:
    """A torchvision ImageNet model the course can load.

    Attributes:
        build: Builds the architecture with no weights.
        filename: torchvision's checkpoint file name (as torch hub caches it).
        weights_enum: The ``torchvision.models`` weights enum to fetch it with.
    """

    build: Callable[[], nn.Module]
    filename: str
    weights_enum: str


def _torchvision_model(name: str, **kwargs) -> Callable[[], nn.Module]:
    """A builder of ``torchvision.models.<name>(weights=None, **kwargs)``; torchvision is imported only when it runs."""
    def build() -> nn.Module:
        import torchvision  # here, not at the top: importing torchvision costs ~3 s of CPU in every kernel

        return getattr(torchvision.models, name)(weights=None, **kwargs)
    return build


PRETRAINED: dict[str, PretrainedSpec] = {
    "googlenet": PretrainedSpec(
        # transform_input=True: the ImageNet weights expect it (torchvision sets it when it loads them)
        _torchvision_model("googlenet", aux_logits=False, transform_input=True, init_weights=False),
        "googlenet-1378be20.pth", "GoogLeNet_Weights.IMAGENET1K_V1"),
    "resnet18": PretrainedSpec(_torchvision_model("resnet18"),
                               "resnet18-f37072fd.pth", "ResNet18_Weights.IMAGENET1K_V1"),
    "vgg16": PretrainedSpec(_torchvision_model("vgg16"),
                            "vgg16-397923af.pth", "VGG16_Weights.IMAGENET1K_V1"),
}


def _hub_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"  # honours $TORCH_HOME


def pretrained_weights_path(name: str) -> Path | None:
    """Where the local weights of ``name`` are, or ``None`` when there are none."""
    check_choice("name", name, PRETRAINED)
    var = f"MI_TUTOR_{name.upper()}_WEIGHTS"
    candidates = [Path(os.environ[var])] if os.environ.get(var) else []
    candidates.append(_hub_dir() / PRETRAINED[name].filename)
    return next((p for p in candidates if p.is_file()), None)


def load_pretrained(name: str, path: str | Path | None = None,
                    device: torch.device | str | None = None) -> nn.Module:
    """Build torchvision's ``name`` and load ImageNet weights from a local file.

    Args:
        name: ``"googlenet"``, ``"resnet18"`` or ``"vgg16"``.
        path: Explicit weights file (a state dict saved with ``torch.save``).
        device: Where to put the model (default CPU).

    Returns:
        The model in eval mode.

    Raises:
        FileNotFoundError: with the commands that fetch the weights.
    """
    check_choice("name", name, PRETRAINED)
    spec = PRETRAINED[name]
    file = Path(path) if path is not None else pretrained_weights_path(name)
    if file is None or not file.is_file():
        raise FileNotFoundError(
            f"No local ImageNet weights for {name!r} (mi-tutor never downloads at run time). On a machine "
            f"with a network run\n    python -c \"import torchvision; torchvision.models.{spec.weights_enum.split('.')[0]}"
            f".{spec.weights_enum.split('.')[1]}.get_state_dict(progress=True)\"\n"
            f"which saves {spec.filename} under {_hub_dir()}, or download it and point "
            f"MI_TUTOR_{name.upper()}_WEIGHTS at the file."
            + (f" (looked for {file})" if file is not None else ""))
    model = spec.build()
    state = torch.load(file, map_location="cpu", weights_only=True)
    if name == "googlenet":  # torchvision's checkpoint carries the auxiliary heads
        state = {k: v for k, v in state.items() if not k.startswith("aux")}
    model.load_state_dict(state)
    return model.to(device or "cpu").eval()


def imagenet_input(images: torch.Tensor, size: int = 112) -> torch.Tensor:
    """Resize ``[n, 3, H, W]`` images in ``[0, 1]`` to ``size`` and normalise them with ImageNet statistics.

    Examples:
        >>> imagenet_input(torch.rand(2, 3, 32, 32), size=64).shape
        torch.Size([2, 3, 64, 64])
    """
    check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    if size < 16:
        raise ValueError(f"`size` must be at least 16 pixels for an ImageNet model, got {size}")
    x = F.interpolate(images, size=(size, size), mode="bilinear", align_corners=False)
    mean = torch.tensor(_MEAN, device=x.device)[None, :, None, None]
    std = torch.tensor(_STD, device=x.device)[None, :, None, None]
    return (x - mean) / std


class ResizedInput(nn.Module):
    """Feeds ``[n, 3, H, W]`` images in ``[0, 1]`` to an ImageNet model at ``size`` pixels.

    Module names gain a ``"net."`` prefix (mixed3b is :data:`MIXED3B`, ``"net.inception3b"``).

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
