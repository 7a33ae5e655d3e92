"""Activation patching: copy an activation from one run into another and measure the output.

*Denoising* runs the corrupt input with a clean activation patched in (is this
component sufficient to restore the behaviour?); *noising* runs the clean input
with a corrupt activation (is it necessary?).

A sweep over many sites is batched (:func:`patch_sweep`): up to ``batch_patches``
patches share one forward pass on the target batch repeated once per patch, and on the
course's transformer each pass starts at its lowest patched layer and earliest patched
position, so a full layer x position x head sweep of a small model costs a few short passes.

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

from ..transformer.model import HookedTransformer
from ..validation import check_choice, check_paired_inputs
from .batching import FORWARD_COST, block_of, entry_point, plan_chunks, run_caches, run_chunk
from .core import Heads, Positions, layer_hooks, resolve_hook, run_cached, run_hooked, site_mask

__all__ = ["Site", "CPU_ROWS_PER_PASS", "DIRECTIONS", "HEAD_COMPONENTS", "patch", "patch_sweep", "patch_residual", "patch_heads",
           "patch_naive_loop"]

DIRECTIONS = ("denoise", "noise")
HEAD_COMPONENTS = ("z", "q", "k", "v", "pattern", "result")

Metric = Callable[[torch.Tensor], torch.Tensor]

#: On the CPU, a pass of a model other than the course's transformer holds at most this many inputs
#: (``bench/patching_sweep.py``: a CNN's 64-channel sweep of 16 images at one thread costs 1.0x the
#: naive loop in passes of 2 patches and 1.8x in passes of 32).
CPU_ROWS_PER_PASS = 32


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

    Up to ``batch_patches`` patches share one forward pass on the target batch repeated once per
    patch; one hook per hook name writes each copy's own site. On a
    :class:`~mi_tutor.transformer.HookedTransformer` each pass also starts at its lowest patched
    block and earliest patched position, from the target's cached residual stream and keys and
    values (nothing before them can change), so a (layer x position) sweep costs a few
    short passes (:mod:`mi_tutor.patching.batching` says how the passes are planned). There a
    site whose source activation equals the target's own, bit for bit (e.g. a position before
    the first token the corruption changes: the model is causal), runs no pass at all: its
    value is the unpatched target's metric. The numbers are those of one forward pass per patch
    (:func:`patch_naive_loop`) up to float rounding.

    Args:
        model: A hooked transformer or any ``nn.Module``.
        target: Inputs of the patched runs ``[batch, ...]`` (on the model's device).
        source: Inputs of the same shape whose activations are copied in.
        metric: ``output [batch, ...] -> scalar`` (e.g. a normalised logit difference); it always
            gets the whole output ``[batch, pos, d_vocab]`` of one patched run.
        sites: The patches; each result comes from its own patched run.
        batch_patches: At most this many patches per forward pass, the memory bound: a pass holds
            ``batch_patches * batch`` prompts' activations (1 = one pass per patch). A model other
            than the course's transformer on the CPU runs at most :data:`CPU_ROWS_PER_PASS`
            inputs per pass.
        progress: tqdm bar over the passes (default: when there are more than 4).

    Returns:
        ``[len(sites)]`` float metric values, on the CPU.

    Raises:
        ValueError: for an empty ``sites`` or a ``batch_patches`` below 1.
        KeyError: for a site's hook the model lacks (with the nearest names).

    Examples:
        >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
        >>> model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=10, n_ctx=5))
        >>> clean, corrupt = torch.randint(0, 10, (3, 5)), torch.randint(0, 10, (3, 5))
        >>> sites = [Site(f"blocks.{L}.hook_resid_pre", [p]) for L in range(2) for p in range(5)]
        >>> fast = patch_sweep(model, corrupt, clean, lambda lg: lg[:, -1, 0].mean(), sites)
        >>> slow = patch_naive_loop(model, corrupt, clean, lambda lg: lg[:, -1, 0].mean(), sites)
        >>> fast.shape, bool((fast - slow).abs().max() < 1e-5)
        (torch.Size([10]), True)
    """
    check_paired_inputs(target, source, ("target", "source"))
    if isinstance(batch_patches, bool) or not isinstance(batch_patches, int) or batch_patches < 1:
        raise ValueError(f"`batch_patches` must be an int >= 1 (patches per forward pass), not {batch_patches!r}")
    sites = _checked_sites(model, sites)
    fast = isinstance(model, HookedTransformer)
    starts = [entry_point(model, s.hook, s.positions, target.shape[1]) if fast else (-1, 0) for s in sites]
    hooks = sorted({s.hook for s in sites})
    with torch.no_grad():
        if fast and max(starts)[0] >= 0:
            terms = {s.hook for s, (layer, _) in zip(sites, starts) if layer > block_of(s.hook, model.cfg.n_layers)}
            src, cached = run_caches(model, source, target, hooks, min(starts)[0], sorted(terms))
        else:
            src, cached = run_caches(model, source, target, hooks)
    # every site's mask before any pass runs (it checks positions and heads against the activation)
    masks = [site_mask(s.hook, src[s.hook].shape, s.positions, s.heads, device=src[s.hook].device) for s in sites]
    results: list[torch.Tensor] = [torch.empty(0)] * len(sites)
    same = [False] * len(sites) if cached is None else _change_nothing(src, cached, sites, masks)
    if any(same):  # the patched run is the target's own run: its metric, computed once
        with torch.no_grad():
            unpatched = torch.as_tensor(metric(cached["logits"])).float().cpu()
        results = [unpatched if skip else r for skip, r in zip(same, results)]
    order = sorted((i for i in range(len(sites)) if not same[i]), key=lambda i: starts[i])
    n_layers, n_pos = (model.cfg.n_layers, target.shape[1]) if fast else (1, 1)
    per_pass = batch_patches
    if not fast and target.device.type == "cpu":  # a CPU gains nothing from a larger conv batch, and loses on a much larger one
        per_pass = min(batch_patches, max(1, CPU_ROWS_PER_PASS // target.shape[0]))
    chunks = plan_chunks([starts[i] for i in order], per_pass, n_layers, n_pos, FORWARD_COST / target.shape[0])
    show = len(chunks) > 16 if progress is None else progress
    n = target.shape[0]
    for chunk in tqdm(chunks, disable=not show, desc="patching", leave=False):
        idx = [order[j] for j in chunk]
        start = (min(starts[i][0] for i in idx), min(starts[i][1] for i in idx))
        with torch.no_grad():
            out = run_chunk(model, target, src, cached, [(sites[i].hook, masks[i]) for i in idx], start)
        for j, i in enumerate(idx):
            results[i] = torch.as_tensor(metric(out[j * n:(j + 1) * n])).float().cpu()
    return torch.stack(results)


def _change_nothing(src: dict, cached: dict, sites: Sequence[Site], masks: Sequence[torch.Tensor]) -> list[bool]:
    """For each site, whether the source's activation equals the target's own wherever its mask is True
    (bit for bit): then the patched run is the target's run."""
    differs = {}  # per hook: where source and target differ, reduced over the axes no mask of the hook indexes
    for hook in {s.hook for s in sites}:
        shapes = [m.shape for s, m in zip(sites, masks) if s.hook == hook]
        axes = tuple(ax for ax in range(len(shapes[0])) if all(sh[ax] == 1 for sh in shapes))
        d = src[hook] != cached[hook]
        differs[hook] = d.any(dim=axes, keepdim=True) if axes else d
    return [not bool((differs[s.hook] & m).any()) for s, m in zip(sites, masks)]


def _checked_sites(model: nn.Module, sites: Sequence[Site]) -> list[Site]:
    if isinstance(sites, Site) or not isinstance(sites, Sequence):
        raise TypeError(f"`sites` should be a list of Site, not a {type(sites).__name__}")
    if not sites:
        raise ValueError("`sites` is empty: pass at least one Site to patch")
    for i, s in enumerate(sites):
        if not isinstance(s, Site):
            raise TypeError(f"`sites[{i}]` should be a Site(hook, positions, heads) but is a {type(s).__name__}")
    full = {}  # one look-up per hook name
    for i, s in enumerate(sites):
        if s.hook not in full:
            full[s.hook] = resolve_hook(model, s.hook, arg=f"sites[{i}].hook")
    return [Site(full[s.hook], s.positions, s.heads) for s in sites]


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
