"""Zero, mean and resample ablation of any hook, per position and per head.

* **zero**: replace the activation by 0 (off the distribution the model saw:
  it can move the output for reasons unrelated to the component's role);
* **mean**: replace it by its mean over a *reference* distribution (e.g. ABC
  prompts), optionally per group (per template, so positions line up);
* **resample**: replace it by its value on another input drawn from the
  reference distribution (one random reference row per prompt).

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=1, d_vocab=10, n_ctx=5))
    >>> x = torch.randint(0, 10, (4, 5))
    >>> ablate(model, x, "blocks.0.attn.hook_z", "mean", reference=x, heads=0).shape
    torch.Size([4, 5, 10])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from ..validation import ShapeError, check_choice
from .core import Heads, Positions, resolve_hook, run_cached, run_hooked, site_mask

__all__ = ["ABLATIONS", "ablation_values", "ablation_hook", "ablate", "replace_hook"]

ABLATIONS = ("zero", "mean", "resample")


def replace_hook(values: torch.Tensor | Callable[[torch.Tensor], torch.Tensor], positions: Positions = None,
                 heads: Heads = None) -> Callable:
    """A hook function that writes ``values`` into the activation at (positions, heads).

    Args:
        values: A tensor broadcastable to the activation, or a function
            ``act -> replacement``.
        positions: Where (see :mod:`mi_tutor.patching.core`).
        heads: Which heads/channels.
    """

    def hook_fn(act: torch.Tensor, hook) -> torch.Tensor:
        new = values(act) if callable(values) else values.to(act.device, act.dtype)
        mask = site_mask(hook.name, act.shape, positions, heads, device=act.device)
        return torch.where(mask, new.expand_as(act) if new.shape != act.shape else new, act)

    return hook_fn


def _group_means(act: torch.Tensor, groups: torch.Tensor, reference_groups: torch.Tensor) -> torch.Tensor:
    """Mean of the reference rows of each prompt's group: ``[batch, ...]``."""
    out = torch.empty((len(groups),) + act.shape[1:], dtype=act.dtype, device=act.device)
    for g in groups.unique():
        ref = act[reference_groups.to(act.device) == g]
        if len(ref) == 0:
            raise ValueError(f"`reference_groups` has no reference prompt of group {int(g)}, which `groups` uses")
        out[groups.to(act.device) == g] = ref.mean(0)
    return out


def ablation_values(model: nn.Module, inputs: torch.Tensor, hook: str, kind: str = "mean",
                    reference: torch.Tensor | None = None, seed: int = 0, groups: torch.Tensor | None = None,
                    reference_groups: torch.Tensor | None = None) -> torch.Tensor:
    """What an ablation writes into ``hook``: zeros, the reference mean, or resampled reference values.

    Args:
        model: A hooked transformer or any ``nn.Module``.
        inputs: The batch to be ablated ``[batch, ...]``.
        hook: A hook name.
        kind: ``"zero"``, ``"mean"`` or ``"resample"``.
        reference: Inputs of the reference distribution (required for mean and resample).
        seed: Seed of the resampling draw.
        groups: ``[batch]`` group of each prompt (e.g. its template): the mean
            is then taken over reference prompts of the same group, and resampling
            draws from the same group.
        reference_groups: ``[n_reference]`` group of each reference prompt.

    Returns:
        A tensor broadcastable to the activation: ``[1, ...]`` for zero and a
        plain mean, ``[batch, ...]`` for per-group means and resampling.
    """
    check_choice("kind", kind, list(ABLATIONS))
    hook = resolve_hook(model, hook)
    if kind != "zero" and reference is None:
        raise ValueError(f"{kind} ablation needs a `reference` batch (the distribution the {kind} is taken over)")
    if (groups is None) != (reference_groups is None):
        raise ValueError("pass both `groups` and `reference_groups`, or neither")
    if kind == "zero":
        _, cache = run_cached(model, inputs[:1], [hook])
        return torch.zeros_like(cache[hook])
    _, cache = run_cached(model, reference, [hook])
    act = cache[hook]  # [n_reference, ...]
    n = inputs.shape[0]
    if kind == "mean":
        if groups is None:
            return act.mean(0, keepdim=True)
        return _group_means(act, groups, reference_groups)
    g = torch.Generator().manual_seed(seed)
    if groups is None:
        rows = torch.randint(len(act), (n,), generator=g)
    else:
        rows = torch.empty(n, dtype=torch.long)
        for grp in groups.unique():
            pool = torch.nonzero(reference_groups.cpu() == grp.cpu()).flatten()
            if len(pool) == 0:
                raise ValueError(f"`reference_groups` has no reference prompt of group {int(grp)}")
            where = torch.nonzero(groups.cpu() == grp.cpu()).flatten()
            rows[where] = pool[torch.randint(len(pool), (len(where),), generator=g)]
    return act[rows.to(act.device)]


def ablation_hook(model: nn.Module, inputs: torch.Tensor, hook: str, kind: str = "mean",
                  reference: torch.Tensor | None = None, positions: Positions = None, heads: Heads = None,
                  **kw) -> tuple[str, Callable]:
    """``(hook name, hook function)`` of an ablation, ready for ``fwd_hooks``."""
    name = resolve_hook(model, hook)
    values = ablation_values(model, inputs, name, kind, reference, **kw)
    if values.shape[0] not in (1, inputs.shape[0]):
        raise ShapeError(f"ablation values have batch {values.shape[0]}, the inputs {inputs.shape[0]}")
    return name, replace_hook(values, positions, heads)


def ablate(model: nn.Module, inputs: torch.Tensor, hooks: str | Sequence[str], kind: str = "mean",
           reference: torch.Tensor | None = None, positions: Positions = None, heads: Heads = None,
           **kw) -> torch.Tensor:
    """Run ``model(inputs)`` with ``hooks`` ablated at (positions, heads); returns the output.

    Args:
        model: A hooked transformer or any ``nn.Module``.
        inputs: ``[batch, ...]``.
        hooks: One hook name or several (each ablated the same way).
        kind: ``"zero"``, ``"mean"`` or ``"resample"``.
        reference: The reference distribution (mean and resample).
        positions: Where to ablate (default everywhere).
        heads: Which heads or channels (default all).
        **kw: ``seed``, ``groups``, ``reference_groups`` of :func:`ablation_values`.

    Returns:
        The model's output on ``inputs`` with the ablation.
    """
    hooks = [hooks] if isinstance(hooks, str) else list(hooks)
    fwd = [ablation_hook(model, inputs, h, kind, reference, positions, heads, **kw) for h in hooks]
    return run_hooked(model, inputs, fwd)
