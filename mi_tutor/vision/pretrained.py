"""The optional real path: torchvision ImageNet models from a local weights file.

Nothing is ever downloaded. :func:`load_pretrained` builds the torchvision
architecture and loads a state dict from, in order: the ``path`` argument, the
environment variable ``MI_TUTOR_<NAME>_WEIGHTS`` (e.g.
``MI_TUTOR_GOOGLENET_WEIGHTS``; ``MI_TUTOR_GOOGLENET`` as in
``mi_tutor.circuits_vision.googlenet`` works too), or torch hub's cache
``~/.cache/torch/hub/checkpoints/<file>`` (``$TORCH_HOME`` is honoured). Without
a file the error says how to fetch one on a machine with a network.

GoogLeNet is the InceptionV1 of the Circuits papers.

Examples:
    >>> sorted(PRETRAINED)
    ['googlenet', 'resnet18', 'vgg16']
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

from ..validation import check_choice

__all__ = ["PretrainedSpec", "PRETRAINED", "pretrained_weights_path", "load_pretrained"]


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


PRETRAINED: dict[str, PretrainedSpec] = {
    "googlenet": PretrainedSpec(
        lambda: torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=False),
        "googlenet-1378be20.pth", "GoogLeNet_Weights.IMAGENET1K_V1"),
    "resnet18": PretrainedSpec(lambda: torchvision.models.resnet18(weights=None),
                               "resnet18-f37072fd.pth", "ResNet18_Weights.IMAGENET1K_V1"),
    "vgg16": PretrainedSpec(lambda: torchvision.models.vgg16(weights=None),
                            "vgg16-397923af.pth", "VGG16_Weights.IMAGENET1K_V1"),
}


def _hub_dir() -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints"  # honours $TORCH_HOME


def pretrained_weights_path(name: str) -> Path | None:
    """Where the local weights of ``name`` are, or ``None`` when there are none."""
    check_choice("name", name, PRETRAINED)
    names = [f"MI_TUTOR_{name.upper()}_WEIGHTS", f"MI_TUTOR_{name.upper()}"]  # the second is lesson 4's name
    candidates = [Path(os.environ[var]) for var in names if os.environ.get(var)]
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
