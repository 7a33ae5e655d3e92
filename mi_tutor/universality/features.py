"""Cached layer features of a vision net: the shared input of every similarity measure.

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> f = layer_features(PlainNet(), torch.rand(4, 3, 32, 32))
    >>> {k: tuple(v.shape) for k, v in f.items()}
    {'layer1': (4, 16), 'layer2': (4, 32), 'layer3': (4, 64)}
"""

from __future__ import annotations

import re

import torch
from torch import nn

from ..device import model_device
from ..hooks import get_module, module_names, run_with_cache
from ..validation import check_tensor

__all__ = ["default_layers", "pool_features", "layer_features"]


def default_layers(model: nn.Module) -> list[str]:
    """The model's ``layer_names`` attribute, else its top-level ``layer<k>`` modules in order."""
    names = getattr(model, "layer_names", None)
    if names:
        return list(names)
    found = [n for n in module_names(model) if re.fullmatch(r"layer\d+", n)]
    if not found:
        raise ValueError(f"{type(model).__name__} has no `layer_names` and no modules named layer<k>; "
                         "pass `layers` explicitly")
    return sorted(found, key=lambda n: int(n[5:]))


def pool_features(act: torch.Tensor, pool: str | int = "mean") -> torch.Tensor:
    """``[n, C, H, W]`` (or ``[n, d]``) activations -> ``[n, features]``.

    Args:
        act: A layer's output.
        pool: ``"mean"`` (global average per channel), ``"max"``, ``"flatten"``
            (every position of every channel) or an int ``p`` (average-pool to
            ``p x p``, then flatten: ``C p^2`` features).
    """
    if act.ndim == 2:
        return act
    check_tensor("act", act, ("n", "C", "H", "W"))
    if pool == "mean":
        return act.mean((-2, -1))
    if pool == "max":
        return act.amax((-2, -1))
    if pool == "flatten":
        return act.flatten(1)
    if isinstance(pool, int) and not isinstance(pool, bool) and pool >= 1:
        return nn.functional.adaptive_avg_pool2d(act, pool).flatten(1)
    raise ValueError(f"`pool` is {pool!r}; wanted 'mean', 'max', 'flatten' or an int >= 1")


@torch.no_grad()
def layer_features(model: nn.Module, images: torch.Tensor, layers: list[str] | None = None,
                   pool: str | int = "mean", batch_size: int = 256) -> dict[str, torch.Tensor]:
    """Pooled activations of ``layers`` for ``images``, in the images' order.

    Args:
        model: A vision net (put in eval mode by the caller).
        images: ``[n, 3, H, W]``.
        layers: Module names; :func:`default_layers` when ``None``.
        pool: See :func:`pool_features`.
        batch_size: Images per forward pass.

    Returns:
        ``{layer: [n, features]}`` float32 tensors on the CPU.
    """
    check_tensor("images", images, ("n", 3, "H", "W"), floating=True)
    layers = default_layers(model) if layers is None else list(layers)
    for name in layers:
        get_module(model, name)
    device = model_device(model)
    parts: dict[str, list[torch.Tensor]] = {n: [] for n in layers}
    for i in range(0, len(images), batch_size):
        _, cache = run_with_cache(model, images[i:i + batch_size].to(device), layers)
        for n in layers:
            parts[n].append(pool_features(cache[n], pool).float().cpu())
    return {n: torch.cat(p) for n, p in parts.items()}
