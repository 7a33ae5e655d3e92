"""Reading a host network: its layers, their widths and their pooled activations.

The symbiote never touches the host's weights: it reads what the host computes
through forward hooks (``mi_tutor.hooks``) and, later, writes gates back into one
layer's output. A conv layer's output ``[n, channels, h, w]`` is read as one
number per channel and image, its spatial mean.

Examples:
    >>> import torch, torch.nn as nn
    >>> host = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))
    >>> pooled_activations(host, torch.rand(5, 3, 8, 8), ["1"])["1"].shape
    torch.Size([5, 4])
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .. import hooks as H
from ..device import model_device
from ..validation import check_module_name, check_tensor

__all__ = ["layer_width", "pool", "pooled_activations", "layer_activations"]


def pool(acts: torch.Tensor) -> torch.Tensor:
    """``[n, channels, h, w]`` -> ``[n, channels]`` spatial means; ``[n, d]`` passes through.

    Examples:
        >>> pool(torch.ones(2, 3, 4, 4)).shape
        torch.Size([2, 3])
    """
    check_tensor("acts", acts, floating=True)
    if acts.dim() not in (2, 4):
        raise ValueError(f"`acts` should be [n, channels, h, w] or [n, d] but has shape {tuple(acts.shape)}")
    return acts if acts.dim() == 2 else acts.flatten(2).mean(-1)


def layer_activations(host: nn.Module, x: torch.Tensor, layers: Sequence[str],
                      batch_size: int = 512, grad: bool = False) -> dict[str, torch.Tensor]:
    """Outputs of ``layers`` on ``x`` (unpooled), batch by batch, on the device of ``x``.

    Args:
        host: The host network.
        x: ``[n, 3, H, W]`` images.
        layers: Module names of ``host``.
        batch_size: Images per forward pass.
        grad: Keep the autograd graph (one pass, no batching).

    Returns:
        Layer name -> ``[n, channels, h, w]``.

    Raises:
        KeyError: for a layer the host does not have (the message lists the valid names).
    """
    check_tensor("x", x, ("n", None, "height", "width"), floating=True)
    layers = [layers] if isinstance(layers, str) else list(layers)
    for layer in layers:
        check_module_name("layers", layer, host)
    dev = model_device(host)
    if grad:
        _, cache = H.run_with_cache(host, x.to(dev), layers, detach=False)
        return {n: cache[n].to(x.device) for n in layers}
    parts: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            _, cache = H.run_with_cache(host, x[i:i + batch_size].to(dev), layers)
            for n in layers:
                parts[n].append(cache[n].to(x.device))
    return {n: torch.cat(v) for n, v in parts.items()}


def pooled_activations(host: nn.Module, x: torch.Tensor, layers: Sequence[str],
                       batch_size: int = 512) -> dict[str, torch.Tensor]:
    """Spatially pooled outputs of ``layers`` on ``x``: name -> ``[n, channels]`` (detached)."""
    return {n: pool(a) for n, a in layer_activations(host, x, layers, batch_size).items()}


def layer_width(host: nn.Module, layer: str, x: torch.Tensor) -> int:
    """Number of channels of ``layer``'s output (from one forward pass on ``x[:1]``).

    Examples:
        >>> layer_width(nn.Sequential(nn.Conv2d(3, 6, 1)), "0", torch.rand(1, 3, 4, 4))
        6
    """
    return int(layer_activations(host, x[:1], [layer])[layer].shape[1])
