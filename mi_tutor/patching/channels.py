"""Channel interventions: zero or scale channels of a layer, and measure what the output loses.

These are the interventions of lesson 1, on any network whose hooked module
outputs ``[batch, channels, ...]``: zero or scale channels with a hook, then
compare the edited output with the clean one.

Examples:
    >>> import torch, torch.nn as nn
    >>> from mi_tutor.hooks import run_with_hooks
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    >>> out = run_with_hooks(net, torch.randn(2, 3, 8, 8), [("1", zero_channels([0, 1]))])
    >>> out[:, :2].abs().sum().item()
    0.0
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from ..hooks import HookContext, HookFn, get_module, run_with_cache, run_with_hooks
from ..validation import check_tensor

__all__ = ["zero_channels", "scale_channels", "ablation_effect", "channel_logit_drops", "scale_sweep"]


def _channel_list(channels: int | Sequence[int]) -> list[int]:
    return [channels] if isinstance(channels, int) else list(channels)


def _check_channels(act: torch.Tensor, channels: list[int], hook: HookContext) -> None:
    if act.dim() < 2:
        raise ValueError(f"Hook on {hook.name!r}: activation of shape {tuple(act.shape)} has no channel axis")
    bad = [c for c in channels if not -act.shape[1] <= c < act.shape[1]]
    if bad:
        raise IndexError(
            f"`channels` {bad} out of range for {hook.name!r}, whose output has shape {tuple(act.shape)}: "
            f"valid channels are 0..{act.shape[1] - 1}"
        )


def scale_channels(channels: int | Sequence[int], factor: float) -> HookFn:
    """A hook that multiplies the given channels (axis 1) by ``factor``.

    Args:
        channels: One channel index or several.
        factor: The multiplier (0 ablates, 1 leaves the network unchanged).

    Returns:
        ``hook_fn(activation, hook) -> activation`` for ``run_with_hooks``.
    """
    chans = _channel_list(channels)

    def hook_fn(act: torch.Tensor, hook: HookContext) -> torch.Tensor:
        _check_channels(act, chans, hook)
        act = act.clone()
        act[:, chans] = act[:, chans] * factor
        return act

    return hook_fn


def zero_channels(channels: int | Sequence[int]) -> HookFn:
    """A hook that sets the given channels (axis 1) to zero: a zero ablation."""
    return scale_channels(channels, 0.0)


def _correct_logit(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    return logits.gather(1, labels[:, None]).squeeze(1)


@torch.no_grad()
def ablation_effect(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, layer: str,
                    channels: int | Sequence[int]) -> dict[str, float]:
    """What zeroing ``channels`` of ``layer`` costs the network.

    Args:
        model: A classifier.
        images: ``[batch, 3, H, W]``.
        labels: ``[batch]`` correct classes.
        layer: The module whose output is edited.
        channels: The channel(s) to zero.

    Returns:
        ``{"accuracy_clean", "accuracy_ablated", "accuracy_drop", "logit_drop"}`` where
        ``logit_drop`` is the mean decrease of the correct-class logit.
    """
    dims = check_tensor("images", images, ("batch", None, None, None), floating=True)
    check_tensor("labels", labels, ("batch",), dims=dims)
    get_module(model, layer)
    clean = model(images)
    ablated = run_with_hooks(model, images, [(layer, zero_channels(channels))])
    acc_clean = (clean.argmax(-1) == labels).float().mean().item()
    acc_ablated = (ablated.argmax(-1) == labels).float().mean().item()
    drop = (_correct_logit(clean, labels) - _correct_logit(ablated, labels)).mean().item()
    return {"accuracy_clean": acc_clean, "accuracy_ablated": acc_ablated,
            "accuracy_drop": acc_clean - acc_ablated, "logit_drop": drop}


@torch.no_grad()
def channel_logit_drops(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, layer: str) -> torch.Tensor:
    """Mean drop of the correct-class logit when each channel of ``layer`` is zeroed alone.

    This is lesson 1's channel importance (its Exercise 1.5 writes it as ``channel_importance``).

    Returns:
        ``[channels]`` on the device of ``images``.
    """
    logits, cache = run_with_cache(model, images, [layer])
    clean = _correct_logit(logits, labels)  # once: only the ablated run changes from channel to channel
    drops = [(clean - _correct_logit(run_with_hooks(model, images, [(layer, zero_channels(c))]), labels)).mean().item()
             for c in range(cache[layer].shape[1])]
    return torch.tensor(drops, device=images.device)


@torch.no_grad()
def scale_sweep(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, layer: str,
                channel: int, factors: Sequence[float]) -> torch.Tensor:
    """Mean correct-class logit when ``channel`` of ``layer`` is scaled by each factor.

    Returns:
        ``[len(factors)]`` mean correct-class logits.
    """
    out = []
    for f in factors:
        logits = run_with_hooks(model, images, [(layer, scale_channels(channel, f))])
        out.append(_correct_logit(logits, labels).mean())
    return torch.stack(out)
