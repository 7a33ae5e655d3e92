"""One hook interface over the course's models: the hooked transformer and any ``nn.Module``.

The transformer has its own hook points (``blocks.0.attn.hook_z``); any other
module is hooked by its module name (``"layer2"``) through :mod:`mi_tutor.hooks`.
Everything in :mod:`mi_tutor.patching` goes through :func:`run_hooked` and
:func:`run_cached`, and selects *where* to intervene with :func:`site_mask`:

* ``positions``: ``None`` (every position), an int, a list of ints, a
  ``[batch]`` tensor with one position per prompt (e.g. ``batch.pos["S2"]``)
  or a ``[batch, k]`` tensor with ``k`` positions per prompt;
* ``heads``: ``None`` (every head), an int or a list. For attention hooks the
  head axis is the one of ``hook_q/k/v/z/result`` (axis 2) or of
  ``hook_pattern/attn_scores`` (axis 1); for a CNN activation
  ``[batch, channel, height, width]`` a "head" is a channel.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=1, d_vocab=10, n_ctx=5))
    >>> resolve_hook(model, "z", 0)
    'blocks.0.attn.hook_z'
    >>> site_mask("blocks.0.attn.hook_z", (2, 5, 4, 16), positions=3, heads=[1]).expand(2, 5, 4, 16).sum().item()
    32
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from .. import hooks as module_hooks
from ..transformer.cache import get_act_name
from ..transformer.hook_points import HookedRootModule
from ..validation import ShapeError, close_matches

__all__ = ["Positions", "Heads", "hook_names", "resolve_hook", "run_hooked", "run_cached", "site_mask",
           "head_axis", "position_axis", "check_pair", "check_positions", "layer_hooks"]

Positions = int | Sequence[int] | torch.Tensor | None
Heads = int | Sequence[int] | None

_HEAD_AXIS_2 = ("hook_q", "hook_k", "hook_v", "hook_z", "hook_result")
_HEAD_AXIS_1 = ("hook_pattern", "hook_attn_scores")


def hook_names(model: nn.Module) -> list[str]:
    """Every name a hook can attach to: transformer hook points, or module names."""
    if isinstance(model, HookedRootModule):
        return model.hook_names()
    return module_hooks.module_names(model)


def resolve_hook(model: nn.Module, hook: str, layer: int | None = None, arg: str = "hook") -> str:
    """The full hook name of ``hook`` (a full name, or a short name with ``layer``).

    Raises:
        KeyError: naming the argument ``arg``, the name seen and the nearest valid names.
    """
    if not isinstance(hook, str):
        raise TypeError(f"`{arg}` should be a hook name (str) but is a {type(hook).__name__}")
    names = hook_names(model)
    full = hook
    if isinstance(model, HookedRootModule) and hook not in names:
        try:
            full = get_act_name(hook, layer)
        except KeyError:
            full = hook
    if full not in names:
        near = close_matches(hook, names) or close_matches(full, names)
        hint = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise KeyError(f"`{arg}`={hook!r} is not a hook of this {type(model).__name__}.{hint} "
                       f"It has {len(names)} hooks, e.g. {', '.join(names[:5])}.")
    return full


def layer_hooks(model: nn.Module, component: str) -> list[str]:
    """``component`` of every block of a transformer, e.g. ``"resid_pre"`` -> one name per layer."""
    if not isinstance(model, HookedRootModule) or not hasattr(model, "cfg"):
        raise TypeError(f"layer_hooks needs a HookedTransformer, not a {type(model).__name__}; pass hook names instead")
    return [resolve_hook(model, component, layer, arg="component") for layer in range(model.cfg.n_layers)]


def run_hooked(model: nn.Module, inputs: torch.Tensor, fwd_hooks: Sequence[tuple[str, Callable]] = ()) -> torch.Tensor:
    """``model(inputs)`` with temporary hooks ``[(name, fn(act, hook) -> act | None)]``."""
    if isinstance(model, HookedRootModule):
        return model.run_with_hooks(inputs, fwd_hooks=list(fwd_hooks))
    return module_hooks.run_with_hooks(model, inputs, list(fwd_hooks))


def run_cached(model: nn.Module, inputs: torch.Tensor, names: Sequence[str],
               fwd_hooks: Sequence[tuple[str, Callable]] = ()) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Run with ``fwd_hooks`` and record the (post-hook) activations of ``names``."""
    store: dict[str, torch.Tensor] = {}

    def save(act: torch.Tensor, hook) -> None:
        store[hook.name] = act.detach()

    out = run_hooked(model, inputs, [*fwd_hooks, *[(n, save) for n in names]])
    return out, store


def position_axis(name: str, ndim: int) -> int | None:
    """The axis of (query) positions of an activation, or ``None`` if it has none."""
    if name.endswith(_HEAD_AXIS_1):
        return 2
    if ".hook_" in name or name.startswith("hook_"):
        return 1 if ndim >= 2 else None
    return None  # module activations (CNNs): spatial positions are not indexed by a single int


def head_axis(name: str, ndim: int) -> int | None:
    """The axis of heads (attention hooks) or channels (module activations), or ``None``."""
    if name.endswith(_HEAD_AXIS_2):
        return 2
    if name.endswith(_HEAD_AXIS_1):
        return 1
    if ".hook_" in name or name.startswith("hook_"):
        return None
    return 1 if ndim >= 2 else None


def check_positions(positions: Positions, n_pos: int, arg: str = "positions") -> None:
    """Raise an error naming ``arg`` if a position is outside ``[0, n_pos)`` (negatives count from the end)."""
    if positions is None:
        return
    t = positions if isinstance(positions, torch.Tensor) else torch.as_tensor(positions)
    if t.is_floating_point():
        raise ShapeError(f"`{arg}` must hold integer positions, not dtype {t.dtype}")
    if t.numel() and (int(t.max()) >= n_pos or int(t.min()) < -n_pos):
        raise IndexError(f"`{arg}` has position {int(t.max()) if int(t.max()) >= n_pos else int(t.min())} "
                         f"but the prompt has {n_pos} positions (0 .. {n_pos - 1})")


def site_mask(name: str, shape: Sequence[int], positions: Positions = None, heads: Heads = None,
              per_prompt: bool | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Boolean mask of ``shape`` that is True where an intervention at (positions, heads) applies.

    Args:
        name: The hook name (it decides which axes are positions and heads).
        shape: The activation's shape, batch first.
        positions: See the module docstring. A ``[batch]`` tensor gives one
            position per prompt; a list applies every listed position to every prompt.
        heads: See the module docstring.
        per_prompt: Force the reading of a 1-D tensor ``positions`` (default:
            a tensor is per prompt, a list is not).
        device: Device of the mask.

    Returns:
        A bool tensor broadcastable to ``shape``.
    """
    shape = tuple(shape)
    ndim = len(shape)
    mask = torch.ones((1,) * ndim, dtype=torch.bool, device=device)
    if positions is not None:
        ax = position_axis(name, ndim)
        if ax is None:
            raise ValueError(f"`positions` cannot be used with the hook {name!r} of shape {shape}: it has no position axis")
        n_pos = shape[ax]
        check_positions(positions, n_pos)
        per = isinstance(positions, torch.Tensor) and positions.dim() in (1, 2) if per_prompt is None else per_prompt
        view = [1] * ndim
        if per:
            pos = torch.as_tensor(positions, device=device).long() % n_pos
            if pos.shape[0] != shape[0]:
                raise ShapeError(f"`positions` has {pos.shape[0]} per-prompt entries but the batch has {shape[0]} prompts")
            pos = pos.view(shape[0], -1)  # [batch, positions per prompt]
            m = torch.zeros(shape[0], n_pos, dtype=torch.bool, device=device)
            m[torch.arange(shape[0], device=device)[:, None], pos] = True
            view[0], view[ax] = shape[0], n_pos
        else:
            pos = torch.as_tensor(positions, device=device).long().flatten() % n_pos
            m = torch.zeros(n_pos, dtype=torch.bool, device=device)
            m[pos] = True
            view[ax] = n_pos
        mask = mask & m.view(view)
    if heads is not None:
        ax = head_axis(name, ndim)
        if ax is None:
            raise ValueError(f"`heads` cannot be used with the hook {name!r} of shape {shape}: it has no head axis "
                             "(use an attention hook such as hook_z, or a module's channels)")
        h = torch.as_tensor(heads, device=device).long().flatten()
        if h.numel() and (int(h.max()) >= shape[ax] or int(h.min()) < 0):
            raise IndexError(f"`heads` has {h.tolist()} but the hook {name!r} has {shape[ax]} heads/channels")
        m = torch.zeros(shape[ax], dtype=torch.bool, device=device)
        m[h] = True
        view = [1] * ndim
        view[ax] = shape[ax]
        mask = mask & m.view(view)
    return mask


def check_pair(clean: torch.Tensor, corrupt: torch.Tensor, names: tuple[str, str] = ("clean", "corrupt")) -> None:
    """Clean and corrupt inputs must have the same shape (patching is position by position)."""
    for n, t in zip(names, (clean, corrupt)):
        if not isinstance(t, torch.Tensor):
            raise ShapeError(f"`{n}` should be a tensor of inputs but is a {type(t).__name__}")
    if clean.shape != corrupt.shape:
        raise ShapeError(f"`{names[0]}` has shape {tuple(clean.shape)} but `{names[1]}` has shape "
                         f"{tuple(corrupt.shape)}: patching needs partners of the same shape (same batch and positions)")
