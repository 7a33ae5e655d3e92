"""One hook interface over the course's models: the hooked transformer and any ``nn.Module``.

The transformer has its own hook points (``blocks.0.attn.hook_z``); any other
module is hooked by its module name (``"layer2"``) through :mod:`mi_tutor.hooks`.
Everything in :mod:`mi_tutor.patching` runs models through
:func:`mi_tutor.hooks.run_hooked` and :func:`mi_tutor.hooks.run_cached` (re-exported here), and selects *where* to intervene with :func:`site_mask`:

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

from collections.abc import Sequence

import torch
from torch import nn

from ..hooks import hook_names, run_cached, run_hooked
from ..transformer.cache import get_act_name
from ..transformer.hook_points import HookedRootModule
from ..validation import ShapeError, check_positions, unknown_name

__all__ = ["Positions", "Heads", "hook_names", "resolve_hook", "run_hooked", "run_cached", "site_mask",
           "head_axis", "position_axis", "layer_hooks"]

Positions = int | Sequence[int] | torch.Tensor | None
Heads = int | Sequence[int] | None

_HEAD_AXIS_2 = ("hook_q", "hook_k", "hook_v", "hook_z", "hook_result")
_HEAD_AXIS_1 = ("hook_pattern", "hook_attn_scores")


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
        raise unknown_name(f"`{arg}`={hook!r} is not a hook of this {type(model).__name__}", hook, names,
                           tail=f"It has {len(names)} hooks, e.g. {', '.join(names[:5])}.", also=[full])
    return full


def layer_hooks(model: nn.Module, component: str) -> list[str]:
    """``component`` of every block of a transformer, e.g. ``"resid_pre"`` -> one name per layer."""
    if not isinstance(model, HookedRootModule) or not hasattr(model, "cfg"):
        raise TypeError(f"layer_hooks needs a HookedTransformer, not a {type(model).__name__}; pass hook names instead")
    return [resolve_hook(model, component, layer, arg="component") for layer in range(model.cfg.n_layers)]


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
        check_positions("positions", positions, n_pos)
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
