"""MEMIT (Meng et al. 2023): many edits at once, spread over a range of MLP layers.

For edits ``i = 1 .. n``, each with prompts ``P_i`` (the same fact with different prefixes) and a new object
``o_i``, at the subject's last token ``p``:

1. the **target** ``z_i = h_i + delta_i``: ``h_i`` the residual stream after the last layer ``L`` of the range
   (mean over ``P_i``) and ``delta_i`` ROME's value optimisation at that layer
   (:func:`~mi_tutor.editing.rome.output_delta`; adding to block ``L``'s MLP output is adding to that stream);
2. for each layer ``l`` of the range in order, on the model edited so far: the keys ``K`` ``[n, d_mlp]``
   (:func:`~mi_tutor.editing.rome.compute_key`), the residuals ``R_i = (z_i - h_i) / (L - l + 1)`` (what is still
   missing, shared among the layers left) and the update ``W_out += (w C + K^T K)^{-1} K^T R``: the least-squares
   fit of ``K dW = R`` that moves typical keys (covariance ``C``, weight ``w``) least. For one edit and ``w -> 0``
   it is ROME's rank-one update; the update of each layer has rank at most ``n``.

Examples:
    >>> C = torch.eye(3)
    >>> keys = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    >>> R = torch.tensor([[2.0, 0.0], [0.0, 3.0]])
    >>> W = memit_update(torch.zeros(3, 2), C, keys, R, weight=1e-6, ridge=0.0)
    >>> (keys @ W).round(decimals=3).tolist()
    [[2.0, 0.0], [0.0, 3.0]]
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from ..validation import check_layer_index, check_tensor
from .rome import compute_key, output_delta, ridged

__all__ = ["memit_update", "MEMITRequest", "MEMITEdit", "memit_edit"]


def memit_update(W_out: torch.Tensor, C: torch.Tensor, keys: torch.Tensor, residuals: torch.Tensor,
                 weight: float = 10.0, ridge: float = 1e-4) -> torch.Tensor:
    """``W_out + (weight C + K^T K)^{-1} K^T R`` ``[d_mlp, d_model]``: the new output matrix that adds
    ``residuals`` to what ``keys`` write, in the least-squares sense, changing typical keys' output least.

    Args:
        W_out: ``[d_mlp, d_model]``.
        C: ``[d_mlp, d_mlp]`` key covariance ``E[k k^T]`` (ridge-regularised by :func:`~mi_tutor.editing.rome.ridged`).
        keys: ``[n, d_mlp]``, one key per edit.
        residuals: ``[n, d_model]``, what each key's output should gain.
        weight: How much the covariance term counts against the edits (MEMIT's ``mom2_update_weight``).
        ridge: Added to ``C``'s diagonal (times its mean diagonal).
    """
    dims = check_tensor("W_out", W_out, ("d_mlp", "d_model"), floating=True)
    check_tensor("C", C, (dims["d_mlp"], dims["d_mlp"]), floating=True)
    n = check_tensor("keys", keys, ("n", dims["d_mlp"]), floating=True)["n"]
    check_tensor("residuals", residuals, (n, dims["d_model"]), floating=True)
    K, R = keys.double(), residuals.double()
    delta = torch.linalg.solve(weight * ridged(C, ridge) + K.T @ K, K.T @ R)
    return (W_out.double() + delta).to(W_out.dtype)


@dataclass
class MEMITRequest:
    """One edit: ``prompts`` ``[batch, pos]`` (the fact with different prefixes), the ``new_object`` token and
    ``kl_prompts`` ``[batch', pos]`` (the subject's other facts, kept by the value's KL term) or None."""

    prompts: torch.Tensor
    new_object: int
    kl_prompts: torch.Tensor | None = None


@dataclass
class MEMITEdit:
    """Edits made together: the layers and position, the targets ``z`` ``[n, d_model]`` and the edited model."""

    layers: tuple[int, ...]
    position: int
    targets: torch.Tensor
    model: torch.nn.Module


@torch.no_grad()
def _resid(model, prompts: torch.Tensor, layer: int, position: int) -> torch.Tensor:
    name = f"blocks.{layer}.hook_resid_post"
    _, cache = model.run_with_cache(prompts, names_filter=name)
    return cache[name][:, position].mean(0)


def memit_edit(model, requests: Sequence[MEMITRequest], layers: Sequence[int], covariances: Sequence[torch.Tensor],
               position: int, weight: float = 10.0, ridge: float = 1e-4, **value_kw) -> MEMITEdit:
    """All ``requests`` at once, spread over the MLPs of ``layers`` (ascending), keys at ``position``.

    Args:
        model: The model (left unchanged; the edits go into a copy).
        requests: The edits.
        layers: The MLP layers to spread them over, e.g. ``(0,)`` or ``(0, 1)``.
        covariances: Key covariance ``[d_mlp, d_mlp]`` of every layer of the model, indexed by layer.
        position: Where the keys are read and the targets set (the subject's last token).
        weight: Covariance weight of :func:`memit_update`.
        ridge: Ridge of :func:`memit_update`.
        **value_kw: For :func:`~mi_tutor.editing.rome.output_delta` (``steps``, ``kl_factor``, ...).
    """
    layers = tuple(int(l) for l in layers)
    if not layers or list(layers) != sorted(set(layers)):
        raise ValueError(f"`layers` is {layers!r}: a non-empty ascending list of distinct MLP layers")
    for l in layers:
        check_layer_index("layers", l, model)
    if not requests:
        raise ValueError("`requests` is empty: give at least one MEMITRequest")
    last = layers[-1]
    device = model.W_E.device
    z = torch.stack([_resid(model, q.prompts, last, position)
                     + output_delta(model, q.prompts, q.new_object, last, position, kl_prompts=q.kl_prompts, **value_kw)
                     for q in requests])  # [n, d_model]
    edited = copy.deepcopy(model).eval()
    for i, l in enumerate(layers):
        keys = torch.stack([compute_key(edited, q.prompts, l, position) for q in requests])  # [n, d_mlp]
        h = torch.stack([_resid(edited, q.prompts, last, position) for q in requests])
        residuals = (z - h) / (len(layers) - i)
        W = edited.blocks[l].mlp.W_out.detach()
        with torch.no_grad():
            W.copy_(memit_update(W, covariances[l].to(device), keys, residuals, weight, ridge))
    return MEMITEdit(layers=layers, position=position, targets=z, model=edited)
