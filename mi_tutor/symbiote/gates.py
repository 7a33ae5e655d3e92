"""Per-channel gates written into a host layer, and the hard-concrete inhibition.

A gate vector ``g`` in ``[0, 1]`` multiplies a layer's channels during the host's
forward pass: ``act[:, c] * g[c]`` (``g = 1`` leaves the channel, ``g = 0``
zero-ablates it). The symbiote learns *inhibitions* ``z = 1 - g`` with the
hard-concrete distribution of Louizos et al. (2018), which puts real mass on
exactly 0 (channel untouched) so that the expected number of touched channels,
``P(z > 0)``, is a differentiable L0 penalty. DiffMask (De Cao et al. 2020) uses
the same trick for gates predicted by a probe network.

Examples:
    >>> import torch, torch.nn as nn
    >>> host = nn.Sequential(nn.Conv2d(3, 4, 1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    >>> x = torch.rand(2, 3, 5, 5)
    >>> out = run_gated(host, x, "1", ablation_gates([0, 1, 2, 3], 4))
    >>> out.abs().sum().item()
    0.0
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from .. import hooks as H
from ..validation import check_module_name, check_range, check_tensor

__all__ = ["BETA", "GAMMA", "ZETA", "gate_hook", "run_gated", "ablation_gates", "random_channels",
           "hard_concrete_sample", "hard_concrete_mean", "prob_nonzero", "l0_penalty", "l1_penalty",
           "channels_touched"]

BETA, GAMMA, ZETA = 2 / 3, -0.1, 1.1  # Louizos et al.'s temperature and stretch interval


def _check_gates(gates: torch.Tensor, act: torch.Tensor, layer: str) -> torch.Tensor:
    """Gates ``[C]`` or ``[batch, C]`` for an activation ``[batch, C, ...]`` -> broadcastable view."""
    width = act.shape[1]
    if not isinstance(gates, torch.Tensor):
        raise TypeError(f"`gates` should be a torch.Tensor of {width} values but is a {type(gates).__name__}")
    if gates.dim() == 1:
        if gates.shape[0] != width:
            raise ValueError(f"`gates` has {gates.shape[0]} values but layer {layer!r} has {width} channels: "
                             f"give one gate per channel, shape ({width},) or (batch, {width})")
        g = gates[None]
    elif gates.dim() == 2:
        if gates.shape[1] != width or gates.shape[0] not in (1, act.shape[0]):
            raise ValueError(f"`gates` has shape {tuple(gates.shape)} but layer {layer!r} wants ({width},) or "
                             f"({act.shape[0]}, {width}): one gate per channel (and per image)")
        g = gates
    else:
        raise ValueError(f"`gates` has shape {tuple(gates.shape)}; wanted ({width},) or (batch, {width})")
    return g.reshape(*g.shape, *([1] * (act.dim() - 2))).to(act)


def gate_hook(gates: torch.Tensor) -> H.HookFn:
    """A hook function that multiplies the hooked layer's channels by ``gates``.

    Args:
        gates: ``[C]`` (one gate per channel) or ``[batch, C]`` (per image), in ``[0, 1]``.

    Returns:
        ``hook(act, hook) -> act * gates`` for ``mi_tutor.hooks`` (out of place, so the
        caller's tensors are never modified and gradients reach ``gates``).

    Examples:
        >>> hook = gate_hook(torch.tensor([1.0, 0.0]))
        >>> hook(torch.ones(1, 2, 1, 1), None).flatten().tolist()
        [1.0, 0.0]
    """
    check_tensor("gates", gates, floating=True)
    check_range("gates", gates.detach(), 0.0, 1.0)

    def hook(act: torch.Tensor, ctx) -> torch.Tensor:
        return act * _check_gates(gates, act, getattr(ctx, "name", "?"))

    return hook


def run_gated(host: nn.Module, x: torch.Tensor, layer: str, gates: torch.Tensor) -> torch.Tensor:
    """The host's output on ``x`` with ``layer``'s channels multiplied by ``gates``.

    Args:
        host: The host network.
        x: ``[n, ...]`` inputs.
        layer: Module name whose output is gated.
        gates: ``[C]`` or ``[n, C]`` in ``[0, 1]``.

    Returns:
        The host's output (gradients flow to ``gates`` when they require grad).

    Raises:
        KeyError: if ``host`` has no module ``layer``. ValueError: gates of the wrong width.
    """
    check_module_name("layer", layer, host)
    return H.run_with_hooks(host, x, [(layer, gate_hook(gates))])


def ablation_gates(channels: Sequence[int], width: int, device: torch.device | str | None = None) -> torch.Tensor:
    """Gates ``[width]`` that close (zero) ``channels`` and leave the others open.

    Examples:
        >>> ablation_gates([1], 3).tolist()
        [1.0, 0.0, 1.0]
    """
    channels = [int(c) for c in channels]
    bad = [c for c in channels if not 0 <= c < width]
    if bad:
        raise ValueError(f"`channels` {bad} out of range for a layer of {width} channels (0..{width - 1})")
    g = torch.ones(width, device=device)
    g[channels] = 0.0
    return g


def random_channels(width: int, k: int, seed: int = 0, exclude: Sequence[int] = ()) -> list[int]:
    """``k`` distinct channels out of ``width`` drawn with ``seed`` (never those in ``exclude``).

    Examples:
        >>> len(set(random_channels(10, 3, seed=1)))
        3
    """
    pool = [c for c in range(width) if c not in set(int(e) for e in exclude)]
    if not 0 <= k <= len(pool):
        raise ValueError(f"`k`={k} but only {len(pool)} channels can be drawn")
    order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:k]
    return sorted(pool[i] for i in order.tolist())


def hard_concrete_sample(log_alpha: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A reparameterised hard-concrete sample in ``[0, 1]`` with the shape of ``log_alpha``.

    ``s = sigmoid((log u - log(1 - u) + log_alpha) / BETA)``, stretched to
    ``(GAMMA, ZETA)`` and clamped to ``[0, 1]``: exact zeros and ones have mass.
    """
    u = torch.rand(log_alpha.shape, generator=generator, device="cpu").to(log_alpha).clamp(1e-6, 1 - 1e-6)
    s = torch.sigmoid((torch.log(u) - torch.log1p(-u) + log_alpha) / BETA)
    return (s * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


def hard_concrete_mean(log_alpha: torch.Tensor) -> torch.Tensor:
    """The deterministic (test-time) hard-concrete value: ``clamp(sigmoid(log_alpha) * (ZETA - GAMMA) + GAMMA)``.

    Examples:
        >>> hard_concrete_mean(torch.tensor([-10.0, 10.0])).tolist()
        [0.0, 1.0]
    """
    return (torch.sigmoid(log_alpha) * (ZETA - GAMMA) + GAMMA).clamp(0.0, 1.0)


def prob_nonzero(log_alpha: torch.Tensor) -> torch.Tensor:
    """``P(z > 0)`` of a hard-concrete variable: ``sigmoid(log_alpha - BETA * log(-GAMMA / ZETA))``."""
    return torch.sigmoid(log_alpha - BETA * math.log(-GAMMA / ZETA))


def l0_penalty(log_alpha: torch.Tensor) -> torch.Tensor:
    """Expected number of touched channels per image, ``sum_c P(z_c > 0)``, averaged over the batch.

    Args:
        log_alpha: ``[C]`` or ``[batch, C]`` inhibition logits.

    Returns:
        A scalar (differentiable).

    Examples:
        >>> round(l0_penalty(torch.full((2, 4), -20.0)).item(), 4)
        0.0
    """
    check_tensor("log_alpha", log_alpha, floating=True)
    p = prob_nonzero(log_alpha)
    return p.sum(-1).mean() if p.dim() > 1 else p.sum()


def l1_penalty(gates: torch.Tensor) -> torch.Tensor:
    """L1 on the closed part of the gates: ``sum_c (1 - g_c)``, averaged over the batch.

    Examples:
        >>> l1_penalty(torch.tensor([[1.0, 0.25, 0.5]])).item()
        1.25
    """
    check_tensor("gates", gates, floating=True)
    closed = 1 - gates
    return closed.sum(-1).mean() if closed.dim() > 1 else closed.sum()


def channels_touched(gates: torch.Tensor, tol: float = 1e-3) -> float:
    """Mean number of channels per image whose gate is below ``1 - tol``.

    Examples:
        >>> channels_touched(torch.tensor([[1.0, 0.0, 1.0], [0.5, 0.0, 1.0]]))
        1.5
    """
    check_tensor("gates", gates, floating=True)
    g = gates if gates.dim() > 1 else gates[None]
    return float((g < 1 - tol).float().sum(-1).mean())
