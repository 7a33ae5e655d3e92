"""Do feature visualizations agree with dataset examples? A check through the network.

Two images "look alike to the network" when they excite a layer alike. For a
set of units we compare, in the layer's channel space (spatial max per
channel), each unit's visualization with the mean of each unit's top dataset
examples. Agreement means the matrix is diagonal-dominant: the visualization of
unit ``u`` resembles ``u``'s own examples more than other units' examples.

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> m = vis_example_agreement(PlainNet().eval(), "layer3", torch.rand(2, 3, 32, 32),
    ...                           [torch.rand(3, 3, 32, 32), torch.rand(3, 3, 32, 32)])
    >>> m.shape
    torch.Size([2, 2])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..device import model_device
from ..hooks import run_with_cache

__all__ = ["layer_signature", "vis_example_agreement", "own_unit_rank"]


@torch.no_grad()
def layer_signature(model: nn.Module, layer: str, images: torch.Tensor) -> torch.Tensor:
    """``[n, channels]`` spatial-max activations of ``layer`` on ``images``."""
    device = model_device(model)
    _, cache = run_with_cache(model, images.to(device), [layer])
    return cache[layer].flatten(2).amax(-1).cpu()


def vis_example_agreement(model: nn.Module, layer: str, vis: torch.Tensor,
                          examples: Sequence[torch.Tensor]) -> torch.Tensor:
    """Cosine similarity between visualizations and units' mean example signatures.

    Args:
        model: The network.
        layer: Layer of the units.
        vis: ``[units, 3, H, W]`` one visualization per unit.
        examples: Per unit, ``[k, 3, H, W]`` its top dataset examples.

    Returns:
        ``[units, units]``; entry ``[i, j]`` compares visualization ``i`` with
        the examples of unit ``j``.
    """
    v = layer_signature(model, layer, vis)
    e = torch.stack([layer_signature(model, layer, ex).mean(0) for ex in examples])
    v = v / v.norm(dim=1, keepdim=True).clamp_min(1e-12)
    e = e / e.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return v @ e.T


def own_unit_rank(model: nn.Module, layer: str, vis: torch.Tensor, units: Sequence[int]) -> torch.Tensor:
    """For each visualization ``i``: the rank of ``units[i]`` among all channels (0 = the most active)."""
    sig = layer_signature(model, layer, vis)
    own = sig[torch.arange(len(units)), torch.tensor(list(units))]
    return (sig > own[:, None]).sum(1)
