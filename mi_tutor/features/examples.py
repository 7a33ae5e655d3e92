"""The dataset examples that excite a unit, and statistics of a layer's units.

The unit of a conv layer is a channel; an image's activation of the unit is its
**spatial maximum** over the feature map (the place where it fires most:
``mi_tutor.hooks.pool(acts, "max")``). Collect a layer's activations over a
dataset with :func:`mi_tutor.hooks.collect`.

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

from ..hooks import pool
from ..validation import check_range, check_tensor

__all__ = ["top_activating", "examples_by_quantile", "majority_share",
           "ActivationStats", "activation_stats"]


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
    values, indices = pool(acts, "max")[:, unit].topk(k)
    return values, indices


def examples_by_quantile(acts: torch.Tensor, unit: int, quantiles: Sequence[float] = (0.5, 0.9, 0.99, 1.0)
                         ) -> torch.Tensor:
    """Indices of the examples nearest to given quantiles of a unit's spatial max.

    Top examples alone hide how a unit behaves at moderate activation; a
    "quilt" across the range shows it.

    Returns:
        ``[len(quantiles)]`` example indices.
    """
    values = pool(acts, "max")[:, unit]
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
    peak = pool(acts, "max")
    return ActivationStats(flat.mean(-1), flat.std(-1), flat.amax(-1), (peak > 0).float().mean(0),
                           flat.amax(-1) <= 0)
