"""The stages of a zoo CNN and the weights between two of them.

A zoo net (:class:`~mi_tutor.vision.architectures.ZooCNN`) runs ``layer1 -> layer2 -> ... -> head``.
Stage ``layerK`` is read through the **next stage**: :func:`stage_entry` returns the weights
"between" the two stages and the next-stage units they feed, either those of the next stage's
first conv (``read="conv"``, batch norm folded in) or the expanded weights through the whole
next stage (``read="stage"``, :func:`~mi_tutor.circuits_vision.weights.expanded_weights`).

Examples:
    >>> from mi_tutor.vision.architectures import build_zoo_net
    >>> net = build_zoo_net("plainnet").eval()
    >>> stage_names(net), next_stage(net, "layer3")
    (['layer1', 'layer2', 'layer3', 'layer4'], 'layer4')
    >>> w, units = stage_entry(net, "layer3")
    >>> w.shape, units(torch.zeros(1, 3, 64, 64)).shape
    (torch.Size([64, 48, 3, 3]), torch.Size([1, 64, 8, 8]))
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ..device import model_device
from ..hooks import collect
from ..validation import check_choice
from .weights import expanded_weights

__all__ = [
    "READS",
    "stage_names",
    "next_stage",
    "stage_entry",
    "tap_spacing",
    "receptive_field_centre",
]

#: How weights between two stages are read: the first conv of the next stage, or the whole next stage expanded.
READS: tuple[str, ...] = ("conv", "stage")


def stage_names(model: nn.Module) -> list[str]:
    """The model's stages ``layer1``, ``layer2``..., input to output."""
    return [name for name, _ in model.named_children() if name.startswith("layer")]


def check_stage(model: nn.Module, layer: str) -> None:
    """Raise a clear error unless ``layer`` names a stage of ``model``."""
    check_choice("layer", layer, stage_names(model))


def next_stage(model: nn.Module, layer: str) -> str:
    """The stage after ``layer`` (an error for the last stage, which has none)."""
    stages = stage_names(model)
    check_choice("layer", layer, stages[:-1])
    return stages[stages.index(layer) + 1]


def _entry_conv(model: nn.Module, nxt: str) -> tuple[torch.Tensor, str]:
    """The first conv of stage ``nxt``, with the batch norm after it folded in, and that norm's name."""
    mods = list(getattr(model, nxt).modules())
    conv = next(m for m in mods if isinstance(m, nn.Conv2d))
    bn = next(m for m in mods[mods.index(conv):] if isinstance(m, nn.BatchNorm2d))
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
    name = next(n for n, m in model.named_modules() if m is bn)
    return (conv.weight.detach() * scale[:, None, None, None]).cpu(), name


def _stage_path(model: nn.Module, nxt: str) -> tuple[list[str], bool]:
    """Names of the children of stage ``nxt`` after its leading max pool, and whether it has one."""
    children = list(getattr(model, nxt).named_children())
    pooled = bool(children) and isinstance(children[0][1], nn.MaxPool2d)
    return [f"{nxt}.{n}" for n, _ in children[1 if pooled else 0:]], pooled


def _expanded_stage(model: nn.Module, nxt: str, size: int) -> torch.Tensor:
    """``[C_next, C_layer, k, k]`` expanded weights of stage ``nxt`` (ReLUs as identities), cropped to their support."""
    if size < 3 or size % 2 == 0:
        raise ValueError(f"`size` must be odd and at least 3 (the centre tap reads the map's centre), got {size}")
    path, _ = _stage_path(model, nxt)
    n_out = next(m for m in reversed(list(getattr(model, nxt).modules())) if isinstance(m, nn.BatchNorm2d)).num_features
    jac = expanded_weights(model, path, list(range(n_out)), size=size, linearize=True).cpu()   # [C_next, C, s, s]
    c = size // 2
    support = jac.abs().amax((0, 1)) > 1e-7 * jac.abs().max().clamp_min(1e-30)
    ys, xs = support.nonzero(as_tuple=True)
    r = int(max((ys - c).abs().max(), (xs - c).abs().max())) if len(ys) else 0
    return jac[:, :, c - r:c + r + 1, c - r:c + r + 1]


def stage_entry(model: nn.Module, layer: str, read: str = "conv", size: int = 17
                ) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """Weights from stage ``layer`` into the next stage, and the next-stage units they feed.

    ``read="conv"``: the first ``nn.Conv2d`` of the stage after ``layer`` reads ``layer``'s
    output (after max pooling in plain and VGG nets); its weight, scaled by the batch norm that
    follows it (``gamma / sqrt(var + eps)``), and that conv's post-ReLU output as the units.

    ``read="stage"``: the next stage with its ReLUs removed is an affine map; its linear part,
    read at one output position, is a ``k x k`` kernel from every unit of ``layer`` (after the
    stage's max pooling, if any) to every unit of the next stage's **output**, which are the
    units. For a stage of one conv it equals the ``"conv"`` weights; for two 3x3 convs (VGG) it
    is 5 x 5; for a stride-2 residual block it is 7 x 7 on the unpooled map, skip included.

    Args:
        model: A zoo CNN.
        layer: Any stage but the last.
        read: ``"conv"`` or ``"stage"``.
        size: Side of the probe map for ``read="stage"`` (odd, large enough that padding never
            reaches the centre).

    Returns:
        ``(weight [C_next, C_layer, k, k], units(images) -> [n, C_next, h, w])`` (weights on the CPU).

    Examples:
        >>> from mi_tutor.vision.architectures import build_zoo_net
        >>> w, units = stage_entry(build_zoo_net("vgg").eval(), "layer3", read="stage")
        >>> w.shape
        torch.Size([64, 48, 5, 5])
    """
    check_choice("read", read, READS)
    nxt = next_stage(model, layer)
    if read == "conv":
        weight, name = _entry_conv(model, nxt)

        def units(images: torch.Tensor) -> torch.Tensor:
            return F.relu(collect(model, images, name)[name])

        return weight, units

    def stage_units(images: torch.Tensor) -> torch.Tensor:
        return collect(model, images, nxt)[nxt]

    return _expanded_stage(model, nxt, size), stage_units


def tap_spacing(model: nn.Module, layer: str, image_size: int = 64) -> float:
    """Distance in input pixels between two taps of :func:`stage_entry`'s kernels from ``layer``.

    Examples:
        >>> from mi_tutor.vision.architectures import build_zoo_net
        >>> tap_spacing(build_zoo_net("vgg"), "layer3")
        8.0
    """
    nxt = next_stage(model, layer)
    probe = torch.zeros(1, 3, image_size, image_size, device=model_device(model))
    side = collect(model, probe, layer)[layer].shape[-1]
    return float(image_size / side * (2 if _stage_path(model, nxt)[1] else 1))


def receptive_field_centre(model: nn.Module, layer: str, size: int = 64, n: int = 4,
                           seed: int = 0) -> tuple[float, float]:
    """Where in the image (``x`` right, ``y`` up, in ``[-1, 1]``) the centre unit of ``layer`` looks.

    The centroid of ``|d activation / d pixel|`` of the units at the map's
    centre ``[h // 2, w // 2]``, averaged over ``n`` noise images. Pooling and
    strided convs put that centre a pixel or two off the image's centre; a
    tuning probe drawn there hits the unit where it looks.

    Examples:
        >>> from mi_tutor.vision.architectures import build_zoo_net
        >>> x, y = receptive_field_centre(build_zoo_net("plainnet").eval(), "layer2")
        >>> abs(x) < 0.2 and abs(y) < 0.2
        True
    """
    check_stage(model, layer)
    device = model_device(model)
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=g).to(device).requires_grad_(True)
    a = collect(model, x, layer, grad=True)[layer]
    a[:, :, a.shape[2] // 2, a.shape[3] // 2].sum().backward()
    w = x.grad.detach().abs().sum((0, 1)).cpu()
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    total = w.sum().clamp_min(1e-12)
    return float((w.sum(0) * coords).sum() / total), float((w.sum(1) * -coords).sum() / total)
