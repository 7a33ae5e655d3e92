"""Path patching: the effect of a sender on chosen receivers, with every other head frozen.

Following Wang et al. (2023), the sender's activation is taken from the
``source`` run and allowed to reach the receivers only along direct paths
(residual connections and MLPs), never through other attention heads:

1. cache every head's output on the target run and the sender on the source run;
2. run the target with the sender patched and every other head's output
   frozen at its target value; record the receivers' inputs (e.g. the keys of
   ``L1H0``);
3. run the target again with only the receivers' inputs patched to those values.

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=10, n_ctx=5))
    >>> clean, corrupt = torch.randint(0, 10, (3, 5)), torch.randint(0, 10, (3, 5))
    >>> metric = lambda logits: logits[:, -1, 0].mean()
    >>> v = path_patch(model, corrupt, clean, metric, sender=(0, 1), receivers=[Receiver(1, 2, "k")])
    >>> v.shape
    torch.Size([])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..validation import check_choice, check_paired_inputs
from .core import Positions, run_cached, run_hooked, site_mask

__all__ = ["Receiver", "path_patch", "RECEIVER_INPUTS"]

RECEIVER_INPUTS = ("q", "k", "v")


@dataclass(frozen=True)
class Receiver:
    """A receiving head's input: ``layer``, ``head``, which input (``q``, ``k`` or ``v``) and positions."""

    layer: int
    head: int
    input: str = "v"
    positions: Positions = None


def _check_head(model: nn.Module, layer: int, head: int, arg: str) -> None:
    cfg = getattr(model, "cfg", None)
    if cfg is None:
        raise TypeError(f"path_patch needs a HookedTransformer, not a {type(model).__name__}")
    if not (0 <= layer < cfg.n_layers and 0 <= head < cfg.n_heads):
        raise IndexError(f"`{arg}` is (layer {layer}, head {head}) but the model has {cfg.n_layers} layers "
                         f"of {cfg.n_heads} heads")


def path_patch(model: nn.Module, target: torch.Tensor, source: torch.Tensor, metric: Callable[[torch.Tensor], torch.Tensor],
               sender: tuple[int, int], receivers: Sequence[Receiver], sender_positions: Positions = None) -> torch.Tensor:
    """``metric`` of the target run when only the path sender -> receivers carries the source activation.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        target: Tokens of the run patched into (the corrupt prompts when denoising).
        source: Tokens of the same shape the sender's output is taken from.
        metric: ``logits -> scalar``.
        sender: ``(layer, head)`` whose output ``hook_z`` is patched.
        receivers: The receiving inputs (a receiver must be in a later layer).
        sender_positions: Patch the sender only at these positions (default all).

    Returns:
        A scalar tensor.
    """
    check_paired_inputs(target, source, ("target", "source"))
    _check_head(model, *sender, arg="sender")
    if not receivers:
        raise ValueError("`receivers` is empty: name at least one Receiver(layer, head, input)")
    for r in receivers:
        _check_head(model, r.layer, r.head, arg="receivers")
        check_choice("receivers.input", r.input, list(RECEIVER_INPUTS))
        if r.layer <= sender[0]:
            raise ValueError(f"`receivers` has layer {r.layer} but the sender is in layer {sender[0]}: "
                             "a receiver must come after its sender")
    n_layers = model.cfg.n_layers
    z_names = [f"blocks.{L}.attn.hook_z" for L in range(n_layers)]
    s_layer, s_head = sender
    _, tgt = run_cached(model, target, z_names)
    _, src = run_cached(model, source, [z_names[s_layer]])

    def freeze(layer):
        def fn(a, h):
            new = tgt[h.name].clone()
            if layer == s_layer:
                m = site_mask(h.name, a.shape, sender_positions, [s_head], device=a.device)
                new = torch.where(m, src[h.name], new)
            return new
        return fn

    rec_names = sorted({f"blocks.{r.layer}.attn.hook_{r.input}" for r in receivers})
    with torch.no_grad():
        _, recorded = run_cached(model, target, rec_names, [(z_names[L], freeze(L)) for L in range(s_layer, n_layers)])

    def receive(a, h):
        out = a
        for r in receivers:
            if h.name == f"blocks.{r.layer}.attn.hook_{r.input}":
                m = site_mask(h.name, a.shape, r.positions, [r.head], device=a.device)
                out = torch.where(m, recorded[h.name], out)
        return out

    with torch.no_grad():
        logits = run_hooked(model, target, [(n, receive) for n in rec_names])
    return torch.as_tensor(metric(logits)).float()
