"""Activation patching: copy an activation from one run into another and measure the output.

*Denoising* runs the corrupt input with a clean activation patched in (is this
component sufficient to restore the behaviour?); *noising* runs the clean input
with a corrupt activation (is it necessary?).

A sweep over many sites is batched: ``batch_patches`` patches share one forward
pass on the target batch repeated ``batch_patches`` times, so a full
layer x position x head sweep of a small model costs a handful of passes.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=10, n_ctx=5))
    >>> clean, corrupt = torch.randint(0, 10, (3, 5)), torch.randint(0, 10, (3, 5))
    >>> metric = lambda logits: logits[:, -1, 0].mean()
    >>> patch_residual(model, clean, corrupt, metric).shape  # [n_layers, pos]
    torch.Size([2, 5])
    >>> patch_heads(model, clean, corrupt, metric, component="v").shape  # [n_layers, n_heads]
    torch.Size([2, 4])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from ..validation import check_choice, check_paired_inputs
from .core import Heads, Positions, layer_hooks, resolve_hook, run_cached, run_hooked, site_mask

__all__ = ["Site", "DIRECTIONS", "HEAD_COMPONENTS", "patch", "patch_sweep", "patch_residual", "patch_heads",
           "patch_naive_loop"]

DIRECTIONS = ("denoise", "noise")
HEAD_COMPONENTS = ("z", "q", "k", "v", "pattern", "result")

Metric = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Site:
    """Where one patch goes: a hook, positions (None = all) and heads/channels (None = all)."""

    hook: str
    positions: Positions = None
    heads: Heads = None


def _pair(clean, corrupt, direction):
    check_choice("direction", direction, list(DIRECTIONS))
    check_paired_inputs(clean, corrupt)
    return (corrupt, clean) if direction == "denoise" else (clean, corrupt)


def patch(model: nn.Module, target: torch.Tensor, source: torch.Tensor | dict, hook: str,
          positions: Positions = None, heads: Heads = None) -> torch.Tensor:
    """Run ``target`` with the activation of ``hook`` taken from ``source`` at (positions, heads).

    Args:
        model: A hooked transformer or any ``nn.Module``.
        target: Inputs of the run that is patched ``[batch, ...]``.
        source: Inputs of the same shape, or a cache (dict) holding ``hook``.
        hook: Hook name (short names with a layer are not accepted here: use the full name).
        positions: Positions to patch (default all).
        heads: Heads or channels to patch (default all).

    Returns:
        The output of the patched run (no autograd graph).
    """
    hook = resolve_hook(model, hook)
    if isinstance(source, dict):
        act = source[hook]
    else:
        check_paired_inputs(target, source, ("target", "source"))
        act = run_cached(model, source, [hook])[1][hook]

    def hook_fn(a, h):
        return torch.where(site_mask(h.name, a.shape, positions, heads, device=a.device), act.to(a.device), a)

    with torch.no_grad():
        return run_hooked(model, target, [(hook, hook_fn)])


def patch_sweep(model: nn.Module, target: torch.Tensor, source: torch.Tensor, metric: Metric,
                sites: Sequence[Site], batch_patches: int = 32, progress: bool | None = None) -> torch.Tensor:
    """``metric`` of the target run with each site patched from ``source``, batched.

    Args:
        model: A hooked transformer or any ``nn.Module``.
        target: Inputs of the patched runs ``[batch, ...]``.
        source: Inputs of the same shape whose activations are copied in.
        metric: ``output [batch, ...] -> scalar`` (e.g. a normalised logit difference).
        sites: The patches; each result comes from its own patched run.
        batch_patches: Patches per forward pass (1 = one pass per patch).
        progress: tqdm bar over the passes (default: when there are more than 4).

    Returns:
        ``[len(sites)]`` metric values.
    """
    check_paired_inputs(target, source, ("target", "source"))
    if batch_patches < 1:
        raise ValueError(f"`batch_patches` must be >= 1, not {batch_patches}")
    sites = [Site(resolve_hook(model, s.hook, arg="sites"), s.positions, s.heads) for s in sites]
    names = sorted({s.hook for s in sites})
    _, src = run_cached(model, source, names)
    n = target.shape[0]
    results = []
    chunks = range(0, len(sites), batch_patches)
    show = len(chunks) > 4 if progress is None else progress
    for start in tqdm(chunks, disable=not show, desc="patching", leave=False):
        part = sites[start:start + batch_patches]
        k = len(part)
        fwd = []
        for name in {s.hook for s in part}:
            act = src[name]
            masks = [site_mask(name, act.shape, s.positions, s.heads, device=act.device).expand(act.shape)
                     if s.hook == name else torch.zeros(act.shape, dtype=torch.bool, device=act.device) for s in part]
            mask = torch.cat(masks)  # [k * batch, ...]
            big = act.repeat((k,) + (1,) * (act.dim() - 1))

            def hook_fn(a, h, mask=mask, big=big):
                return torch.where(mask.to(a.device), big.to(a.device), a)

            fwd.append((name, hook_fn))
        with torch.no_grad():
            out = run_hooked(model, target.repeat((k,) + (1,) * (target.dim() - 1)), fwd)
        results += [torch.as_tensor(metric(out[i * n:(i + 1) * n])).float().cpu() for i in range(k)]
    return torch.stack(results)


def patch_naive_loop(model: nn.Module, target: torch.Tensor, source: torch.Tensor, metric: Metric,
                     sites: Sequence[Site]) -> torch.Tensor:
    """The same numbers as :func:`patch_sweep`, one forward pass per patch (for comparison)."""
    sites = [Site(resolve_hook(model, s.hook, arg="sites"), s.positions, s.heads) for s in sites]
    _, src = run_cached(model, source, sorted({s.hook for s in sites}))
    with torch.no_grad():
        return torch.stack([torch.as_tensor(metric(patch(model, target, src, s.hook, s.positions, s.heads))).float().cpu()
                            for s in sites])


def patch_residual(model: nn.Module, clean: torch.Tensor, corrupt: torch.Tensor, metric: Metric,
                   component: str = "resid_pre", direction: str = "denoise", **kw) -> torch.Tensor:
    """Patch ``component`` of every layer at every position: ``[n_layers, pos]``.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        clean: Clean tokens ``[batch, pos]``.
        corrupt: Corrupted partners of the same shape.
        metric: ``logits -> scalar``.
        component: A per-layer hook without heads: ``resid_pre``, ``resid_mid``,
            ``resid_post``, ``attn_out`` or ``mlp_out``.
        direction: ``"denoise"`` (clean into the corrupt run) or ``"noise"``.
        **kw: ``batch_patches``, ``progress`` of :func:`patch_sweep`.
    """
    target, source = _pair(clean, corrupt, direction)
    hooks = layer_hooks(model, component)
    n_pos = clean.shape[1]
    sites = [Site(h, positions=[p]) for h in hooks for p in range(n_pos)]
    return patch_sweep(model, target, source, metric, sites, **kw).view(len(hooks), n_pos)


def patch_heads(model: nn.Module, clean: torch.Tensor, corrupt: torch.Tensor, metric: Metric,
                component: str = "z", direction: str = "denoise", per_position: bool = False,
                positions: Positions = None, **kw) -> torch.Tensor:
    """Patch one head at a time: ``[n_layers, n_heads]`` (or ``[n_layers, n_heads, pos]``).

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        clean: Clean tokens ``[batch, pos]``.
        corrupt: Corrupted partners of the same shape.
        metric: ``logits -> scalar``.
        component: ``z`` (the head's output), ``q``, ``k``, ``v``, ``pattern`` or ``result``.
        direction: ``"denoise"`` or ``"noise"``.
        per_position: One patch per (head, position) instead of per head.
        positions: With ``per_position=False``: patch only these positions.
        **kw: ``batch_patches``, ``progress`` of :func:`patch_sweep`.
    """
    check_choice("component", component, list(HEAD_COMPONENTS))
    target, source = _pair(clean, corrupt, direction)
    hooks = layer_hooks(model, component)
    n_heads, n_pos = model.cfg.n_heads, clean.shape[1]
    if per_position:
        sites = [Site(h, [p], [i]) for h in hooks for i in range(n_heads) for p in range(n_pos)]
        return patch_sweep(model, target, source, metric, sites, **kw).view(len(hooks), n_heads, n_pos)
    sites = [Site(h, positions, [i]) for h in hooks for i in range(n_heads)]
    return patch_sweep(model, target, source, metric, sites, **kw).view(len(hooks), n_heads)
