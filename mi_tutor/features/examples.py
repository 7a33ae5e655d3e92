"""Activations of a layer over a dataset, the examples that excite a unit, statistics.

The unit of a conv layer is a channel; an image's activation of the unit is its
**spatial maximum** over the feature map (the place where it fires most).

Examples:
    >>> acts = torch.rand(10, 4, 5, 5)
    >>> values, index = top_activating(acts, unit=2, k=3)
    >>> values.shape, index.shape
    (torch.Size([3]), torch.Size([3]))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..device import model_device
from ..hooks import get_module, run_with_cache
from ..validation import check_range, check_tensor

__all__ = ["collect_activations", "spatial_max", "top_activating", "examples_by_quantile", "majority_share",
           "ActivationStats", "activation_stats"]


@torch.no_grad()
def collect_activations(model: nn.Module, images: torch.Tensor, layers: Sequence[str],
                        batch_size: int = 500) -> dict[str, torch.Tensor]:
    """Record the outputs of ``layers`` on ``images``, batch by batch, on the CPU.

    The pseudo-layer ``"input"`` returns the images themselves.

    Args:
        model: The network (its device is used for the forward passes).
        images: ``[n, 3, H, W]``.
        layers: Module names (``"layer2"``, ``"layer2.0.conv1"``, ...) or ``"input"``.
        batch_size: Images per forward pass.

    Returns:
        Name -> ``[n, channels, h, w]`` activations (or ``[n, features]``).

    Raises:
        KeyError: for a layer name the model does not have, listing the valid ones.

    Examples:
        >>> from mi_tutor.vision.architectures import PlainNet
        >>> collect_activations(PlainNet(), torch.rand(2, 3, 32, 32), ["layer1"])["layer1"].shape
        torch.Size([2, 16, 32, 32])
    """
    check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    names = [name for name in layers if name != "input"]
    for name in names:
        get_module(model, name)
    device = model_device(model)
    parts: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    for i in range(0, len(images), batch_size):
        _, cache = run_with_cache(model, images[i:i + batch_size].to(device), names)
        for name in names:
            parts[name].append(cache[name].cpu())
    out = {name: torch.cat(parts[name]) for name in names}
    return {name: images.cpu() if name == "input" else out[name] for name in layers}


def spatial_max(acts: torch.Tensor) -> torch.Tensor:
    """Per-image, per-unit maximum over positions.

    Args:
        acts: ``[n, units, h, w]`` (a ``[n, units]`` input is returned as is).

    Returns:
        ``[n, units]``.
    """
    check_tensor("acts", acts, floating=True)
    return acts if acts.dim() == 2 else acts.flatten(2).amax(-1)


def top_activating(acts: torch.Tensor, unit: int, k: int = 9) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``k`` dataset examples whose spatial maximum of ``unit`` is largest.

    Args:
        acts: ``[n, units, h, w]`` activations of a layer over a dataset.
        unit: The channel.
        k: How many examples.

    Returns:
        ``(values [k], indices [k])``, largest first.

    Examples:
        >>> top_activating(torch.arange(8.).reshape(2, 1, 2, 2), 0, k=1)
        (tensor([7.]), tensor([1]))
    """
    check_tensor("acts", acts, ("n", "units", "h", "w"), floating=True)
    check_range("unit", unit, 0, acts.shape[1] - 1)
    check_range("k", k, 1, acts.shape[0])
    values, indices = spatial_max(acts)[:, unit].topk(k)
    return values, indices


def examples_by_quantile(acts: torch.Tensor, unit: int, quantiles: Sequence[float] = (0.5, 0.9, 0.99, 1.0)
                         ) -> torch.Tensor:
    """Indices of the examples nearest to given quantiles of a unit's spatial max.

    Top examples alone hide how a unit behaves at moderate activation; a
    "quilt" across the range shows it.

    Returns:
        ``[len(quantiles)]`` example indices.
    """
    values = spatial_max(acts)[:, unit]
    targets = torch.quantile(values, torch.tensor(list(quantiles), dtype=values.dtype))
    return (values[None, :] - targets[:, None]).abs().argmin(-1)


def majority_share(labels: torch.Tensor, indices: torch.Tensor) -> float:
    """Share of the examples ``indices`` that carry the most common of their ``labels``.

    Args:
        labels: ``[n]`` non-negative integer labels of the whole dataset.
        indices: ``[k]`` examples (e.g. a unit's top ``k``).

    Returns:
        A fraction in ``[1/k, 1]``: 1 when every example has the same label.

    Examples:
        >>> majority_share(torch.tensor([0, 1, 1, 2]), torch.tensor([1, 2, 3]))
        0.6666666666666666
    """
    check_tensor("labels", labels, ("n",))
    check_tensor("indices", indices, ("k",))
    if len(indices) == 0:
        raise ValueError("`indices` is empty: give at least one example")
    chosen = labels[indices.long().cpu()].long()
    return torch.bincount(chosen).max().item() / len(chosen)


@dataclass
class ActivationStats:
    """Per-unit statistics of a layer over a dataset (every tensor is ``[units]``).

    Attributes:
        mean: Mean activation over images and positions.
        std: Standard deviation over images and positions.
        max: Largest activation.
        frac_active: Fraction of images whose spatial max is above 0.
        dead: Units that never fire.
    """

    mean: torch.Tensor
    std: torch.Tensor
    max: torch.Tensor
    frac_active: torch.Tensor
    dead: torch.Tensor


def activation_stats(acts: torch.Tensor) -> ActivationStats:
    """Summarise ``acts`` ``[n, units, h, w]`` per unit.

    Examples:
        >>> activation_stats(torch.zeros(3, 2, 4, 4)).dead.tolist()
        [True, True]
    """
    check_tensor("acts", acts, ("n", "units", "h", "w"), floating=True)
    flat = acts.transpose(0, 1).reshape(acts.shape[1], -1)
    peak = spatial_max(acts)
    return ActivationStats(flat.mean(-1), flat.std(-1), flat.amax(-1), (peak > 0).float().mean(0),
                           flat.amax(-1) <= 0)
