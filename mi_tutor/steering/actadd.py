"""Activation addition (Turner et al. 2023): add ``coefficient x vector`` to the residual stream.

The vector is the difference of the residual stream of two contrasting
prompts (or of two groups of prompts) at one layer; adding it at that layer
(``blocks.L.hook_resid_pre``) and chosen positions moves what the model writes
next. A sweep over the coefficient measures the concept's shift and what it
costs elsewhere (the **off-target loss**: the loss on unrelated text under the
same intervention).

Examples:
    >>> from mi_tutor.transformer import HookedTransformer, TransformerConfig
    >>> model = HookedTransformer(TransformerConfig(n_layers=2, d_vocab=16, n_ctx=8, attn_only=False))
    >>> tokens = torch.randint(0, 16, (3, 8))
    >>> v = torch.randn(64)
    >>> torch.equal(steered_logits(model, tokens, v, layer=1, coefficient=0.0), model(tokens))
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..validation import check_layer_index, check_position_list, check_tensor, check_vector

__all__ = ["steering_vector", "add_vector_hook", "steered_logits", "latent_probability", "answer_loss",
           "SteeringSweep", "steering_sweep"]


@torch.no_grad()
def steering_vector(model, pos_tokens: torch.Tensor, neg_tokens: torch.Tensor, layer: int,
                    position: int = -1) -> torch.Tensor:
    """``mean(resid_pre[layer] at position | pos_tokens) - mean(... | neg_tokens)`` -> ``[d_model]`` (not normalised)."""
    check_layer_index("layer", layer, model)
    check_tensor("pos_tokens", pos_tokens, ("batch", "pos"))
    check_tensor("neg_tokens", neg_tokens, (None, None))
    name = f"blocks.{layer}.hook_resid_pre"
    _, a = model.run_with_cache(pos_tokens, names_filter=name)
    _, b = model.run_with_cache(neg_tokens, names_filter=name)
    return a[name][:, position].mean(0) - b[name][:, position].mean(0)


def add_vector_hook(vector: torch.Tensor, coefficient: float, positions=None):
    """A hook adding ``coefficient * vector`` at ``positions`` (``None``: every position)."""
    def hook(resid, hook):
        if coefficient == 0:
            return None  # leave the forward pass untouched: exactly the unsteered logits
        resid = resid.clone()
        where = check_position_list("positions", positions, resid.shape[1])
        resid[:, where] = resid[:, where] + coefficient * vector.to(resid)
        return resid
    return hook


def steered_logits(model, tokens: torch.Tensor, vector: torch.Tensor, layer: int, coefficient: float,
                   positions=None) -> torch.Tensor:
    """Logits ``[batch, pos, d_vocab]`` with ``coefficient * vector`` added to ``blocks.{layer}.hook_resid_pre``.

    Args:
        model: The transformer.
        tokens: ``[batch, pos]``.
        vector: ``[d_model]`` steering vector.
        layer: Block whose input is steered (``0 .. n_layers - 1``).
        coefficient: Scale of the vector (0 reproduces the unsteered logits exactly).
        positions: Positions to steer (``None``: all).
    """
    check_layer_index("layer", layer, model)
    check_vector("vector", vector, model.cfg.d_model)
    check_position_list("positions", positions, tokens.shape[-1])
    hook = add_vector_hook(vector, float(coefficient), positions)
    return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.hook_resid_pre", hook)])


def latent_probability(logits: torch.Tensor, pos_ids: torch.Tensor, neg_ids: torch.Tensor) -> torch.Tensor:
    """``[batch]`` share of the next-word probability at the last position that goes to ``pos_ids`` out of
    ``pos_ids`` and ``neg_ids`` together: ``P(pos) / (P(pos) + P(neg))``."""
    probs = logits[:, -1].float().softmax(-1)
    p = probs[:, pos_ids.to(probs.device)].sum(-1)
    n = probs[:, neg_ids.to(probs.device)].sum(-1)
    return p / (p + n)


def answer_loss(logits: torch.Tensor, answers: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy of ``answers [batch]`` at the last position."""
    return F.cross_entropy(logits[:, -1].float(), answers.to(logits.device))


@dataclass
class SteeringSweep:
    """What :func:`steering_sweep` measured, one entry per coefficient."""

    coefficients: list[float]
    latent: list[float]
    off_target_loss: list[float]
    layer: int

    @property
    def loss_increase(self) -> list[float]:
        """Off-target loss minus its value at coefficient 0 (or the smallest |c|)."""
        base = self.off_target_loss[min(range(len(self.coefficients)), key=lambda i: abs(self.coefficients[i]))]
        return [l - base for l in self.off_target_loss]


@torch.no_grad()
def steering_sweep(model, prompts: torch.Tensor, vector: torch.Tensor, layer: int, coefficients: Sequence[float],
                   pos_ids: torch.Tensor, neg_ids: torch.Tensor, off_target_tokens: torch.Tensor,
                   off_target_answers: torch.Tensor, positions=None) -> SteeringSweep:
    """Steer with every coefficient: latent probability on ``prompts`` and answer loss on the off-target prompts.

    The off-target prompts get the same intervention (same layer; all positions when ``positions`` is None).
    """
    latent, loss = [], []
    for c in coefficients:
        latent.append(float(latent_probability(steered_logits(model, prompts, vector, layer, c, positions),
                                               pos_ids, neg_ids).mean()))
        off = steered_logits(model, off_target_tokens, vector, layer, c, positions)
        loss.append(float(answer_loss(off, off_target_answers)))
    return SteeringSweep(coefficients=[float(c) for c in coefficients], latent=latent, off_target_loss=loss,
                         layer=layer)
