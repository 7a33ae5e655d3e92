"""Reading the grokked algorithm: activations over all inputs, key frequencies, progress measures.

The network of Nanda et al. embeds ``cos/sin(w_k a)`` for a few key frequencies ``w_k = 2 pi k / p``,
multiplies them into ``cos/sin(w_k (a + b))`` and reads out ``logit(c) ~ sum_k alpha_k cos(w_k (a + b - c))``.

Logit tensors here have the ``[p, p, p]`` layout ``(a, b, c)`` (all ``p^2`` inputs, ``c`` the answer).

Examples:
    >>> p = 7
    >>> a, b, c = torch.meshgrid(torch.arange(p), torch.arange(p), torch.arange(p), indexing="ij")
    >>> logits = 5 * torch.cos(2 * math.pi * 2 * (a + b - c) / p)   # a pure frequency-2 circuit
    >>> torch.allclose(restricted_logits(logits, [2]), logits, atol=1e-4)
    True
    >>> excluded_logits(logits, [2]).abs().max().item() < 1e-4
    True
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import ShapeError, check_choice, check_tensor
from .data import ModularData, check_prime
from .fourier import fourier_basis, fourier_transform, fourier_transform_2d, frequency_norms
from .models import EmbedMLP, answer_logits

__all__ = [
    "all_logits", "check_logits", "cos_sum_terms", "embedding", "excluded_logits", "fit_cos_sum", "gini",
    "grid_accuracy", "grid_loss", "key_frequencies_from_embedding", "key_frequencies_from_neurons",
    "neuron_activations", "neuron_frequency_fractions", "restricted_logits", "sum_directions",
    "excluded_logits_with_basis", "restricted_logits_with_basis",
]


def check_logits(logits: object, name: str = "logits") -> int:
    """Raise ``ShapeError`` unless ``logits`` is a float tensor ``[p, p, p]`` with p prime; return p."""
    if not isinstance(logits, torch.Tensor) or not logits.is_floating_point():
        raise ShapeError(f"`{name}` should be a float tensor [p, p, p] (a, b, answer) but is {type(logits).__name__}")
    if logits.dim() != 3 or not logits.shape[0] == logits.shape[1] == logits.shape[2]:
        hint = ""
        if logits.dim() == 2 and math.isqrt(logits.shape[0]) ** 2 == logits.shape[0]:
            p = math.isqrt(logits.shape[0])
            hint = f" Reshape the logits of all {logits.shape[0]} pairs with .view({p}, {p}, -1)."
        elif logits.dim() == 2:
            hint = " The Fourier measures need the logits of all p*p pairs, not only a split."
        elif logits.dim() == 3 and logits.shape[-1] == logits.shape[0] + 1:
            hint = " Drop the '=' column: logits[..., :-1]."
        raise ShapeError(f"`{name}` has shape {tuple(logits.shape)} but expected (p, p, p): logits for every "
                         f"(a, b) pair over the p answers.{hint}")
    return check_prime(f"{name}.shape[0]", logits.shape[0])


@torch.no_grad()
def all_logits(model: nn.Module, p: int) -> torch.Tensor:
    """Answer logits of ``model`` for every pair: ``[p, p, p]`` indexed ``(a, b, c)``."""
    p = check_prime("p", p)
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    tokens = torch.stack([a, b, torch.full_like(a, p)], 1)
    return answer_logits(model, tokens, fast=True).view(p, p, p)


@torch.no_grad()
def neuron_activations(model: nn.Module, p: int) -> torch.Tensor:
    """Post-ReLU MLP activations at the answer position for every pair: ``[p, p, d_mlp]``.

    Uses ``blocks.0.mlp.hook_post`` of a transformer or ``hook_post`` of an :class:`EmbedMLP`.
    """
    p = check_prime("p", p)
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    tokens = torch.stack([a, b, torch.full_like(a, p)], 1)
    name = "hook_post" if isinstance(model, EmbedMLP) else "blocks.0.mlp.hook_post"
    store: dict[str, torch.Tensor] = {}
    model.run_with_hooks(tokens, fwd_hooks=[(name, lambda act, hook: store.__setitem__("acts", act.detach()))])
    acts = store["acts"]
    if acts.dim() == 3:
        acts = acts[:, -1]
    return acts.reshape(p, p, -1)


def embedding(model: nn.Module) -> torch.Tensor:
    """The token embedding of the numbers ``0 .. p-1``: ``W_E[:p]`` (``W_Ea`` for an :class:`EmbedMLP`)."""
    if isinstance(model, EmbedMLP):
        return model.W_Ea.detach()
    return model.W_E.detach()[:-1]


def key_frequencies_from_embedding(W_E: torch.Tensor, ratio: float = 0.25) -> list[int]:
    """Frequencies whose embedding Fourier norm exceeds ``ratio`` times the largest (TransformerLens rule).

    Args:
        W_E: ``[p, d_model]`` embedding of the numbers (no ``=`` row).
        ratio: Share of the largest norm a key frequency must exceed.

    Returns:
        Sorted frequencies ``k`` in ``1 .. (p-1)/2``.
    """
    check_tensor("W_E", W_E, ("p", None), floating=True)
    norms = frequency_norms(fourier_transform(W_E, 0))
    return [k + 1 for k in torch.nonzero(norms > ratio * norms.max()).flatten().tolist()]


def neuron_frequency_fractions(acts: torch.Tensor) -> torch.Tensor:
    """Share of each neuron's variance over (a, b) explained by each frequency.

    For frequency ``k`` the terms are the 2-D Fourier components built from ``{const, cos k, sin k}``
    in ``a`` and in ``b`` (the const x const term is the mean, removed first).

    Args:
        acts: ``[p, p, n_neurons]`` activations over all pairs.

    Returns:
        ``[n_neurons, (p-1)/2]``; column ``k - 1`` is frequency ``k``. Rows sum to at most 1.
    """
    check_tensor("acts", acts, ("p", "p", "neurons"), floating=True)
    p = check_prime("acts.shape[0]", acts.shape[0])
    centred = acts - acts.mean((0, 1), keepdim=True)
    coef = fourier_transform_2d(centred).pow(2)  # [p, p, neurons]
    total = coef.sum((0, 1)).clamp_min(1e-30)  # [neurons]
    fracs = []
    for k in range(1, (p - 1) // 2 + 1):
        idx = torch.tensor([0, 2 * k - 1, 2 * k], device=acts.device)
        fracs.append(coef[idx][:, idx].sum((0, 1)) / total)
    return torch.stack(fracs, 1)


def key_frequencies_from_neurons(acts: torch.Tensor, threshold: float = 0.85, min_neurons: int = 1) -> list[int]:
    """Frequencies that explain more than ``threshold`` of the variance of at least ``min_neurons`` neurons.

    Args:
        acts: ``[p, p, n_neurons]`` activations over all pairs.
        threshold: Share of a neuron's variance one frequency must explain (Nanda et al.: 0.85).
        min_neurons: Size of the smallest cluster that counts.
    """
    fracs = neuron_frequency_fractions(acts)
    best, which = fracs.max(1)
    which = which[best > threshold] + 1
    counts = torch.bincount(which, minlength=fracs.shape[1] + 1)
    return [k for k in range(1, fracs.shape[1] + 1) if counts[k] >= min_neurons]


def cos_sum_terms(p: int, freqs: Sequence[int], device: torch.device | str | None = None) -> torch.Tensor:
    """``cos(w_k (a + b - c))`` for each frequency: ``[len(freqs), p, p, p]`` indexed ``(k, a, b, c)``."""
    p = check_prime("p", p)
    x = torch.arange(p, device=device, dtype=torch.float32)
    s = x[:, None, None] + x[None, :, None] - x[None, None, :]  # [p, p, p]
    w = 2 * math.pi * torch.tensor([float(k) for k in freqs], device=device) / p
    return torch.cos(w[:, None, None, None] * s)


def fit_cos_sum(logits: torch.Tensor, freqs: Sequence[int]) -> tuple[torch.Tensor, float]:
    """Least-squares fit ``logits ~ const + sum_k alpha_k cos(w_k (a + b - c))``.

    Returns:
        ``(alpha, explained)``: coefficients ``[len(freqs)]`` and the share of the logits' variance
        (around their mean) that the fit explains.
    """
    p = check_logits(logits)
    terms = cos_sum_terms(p, freqs, logits.device).to(logits.dtype).reshape(len(freqs), -1)  # [n, p^3]
    y = logits.reshape(-1)
    y = y - y.mean()
    terms = terms - terms.mean(1, keepdim=True)
    alpha = torch.linalg.lstsq(terms.T, y[:, None]).solution[:, 0]
    resid = y - terms.T @ alpha
    return alpha, float(1 - resid.pow(2).sum() / y.pow(2).sum())


def sum_directions(p: int, freqs: Sequence[int], device: torch.device | str | None = None,
                   dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Unit vectors over the ``(a, b)`` grid along ``cos(w_k (a + b))`` and ``sin(w_k (a + b))``.

    In the 2-D Fourier basis they are ``(cos_k x cos_k - sin_k x sin_k) / sqrt 2`` and
    ``(sin_k x cos_k + cos_k x sin_k) / sqrt 2`` (the directions of the released code's ``trig_loss``).

    Returns:
        ``[2 * len(freqs), p, p]``, orthonormal.
    """
    basis, _ = fourier_basis(p, device, dtype)
    out = []
    for k in freqs:
        if not 1 <= int(k) <= (p - 1) // 2:
            raise ValueError(f"`freqs` holds {k} but frequencies of Z_{p} are 1 .. {(p - 1) // 2}")
        c, s = basis[2 * k - 1], basis[2 * k]
        out += [(torch.outer(c, c) - torch.outer(s, s)) / math.sqrt(2), (torch.outer(s, c) + torch.outer(c, s)) / math.sqrt(2)]
    return torch.stack(out) if out else torch.zeros(0, p, p, device=device, dtype=dtype)


def _sum_component(logits: torch.Tensor, freqs: Sequence[int]) -> torch.Tensor:
    p = check_logits(logits)
    dirs = sum_directions(p, freqs, logits.device, logits.dtype)  # [n, p, p]
    coef = torch.einsum("nab,abc->nc", dirs, logits)
    return torch.einsum("nab,nc->abc", dirs, coef)


def restricted_logits(logits: torch.Tensor, freqs: Sequence[int]) -> torch.Tensor:
    """Keep only the ``cos/sin(w_k (a + b))`` components of ``freqs``, plus each answer's mean over (a, b).

    Re-adding the per-answer mean is the bias correction of the released code.

    Args:
        logits: ``[p, p, p]`` (a, b, c) for all pairs.
        freqs: Key frequencies.
    """
    return logits.mean((0, 1), keepdim=True) + _sum_component(logits, freqs)


def excluded_logits(logits: torch.Tensor, freqs: Sequence[int]) -> torch.Tensor:
    """Remove the ``cos/sin(w_k (a + b))`` components of ``freqs`` from ``logits`` ``[p, p, p]``."""
    return logits - _sum_component(logits, freqs)


def grid_loss(logits: torch.Tensor, data: ModularData, split: str = "test") -> float:
    """Float64 cross-entropy of grid logits ``[p, p, p]`` on ``split`` (``"train"``, ``"test"`` or ``"all"``)."""
    idx = _split(logits, data, split)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1])[idx].double(), data.labels.to(logits.device)[idx]).item()


def grid_accuracy(logits: torch.Tensor, data: ModularData, split: str = "test") -> float:
    """Accuracy of grid logits ``[p, p, p]`` on ``split`` (``"train"``, ``"test"`` or ``"all"``)."""
    idx = _split(logits, data, split)
    pred = logits.reshape(-1, logits.shape[-1])[idx].argmax(-1)
    return (pred == data.labels.to(logits.device)[idx]).double().mean().item()


def _split(logits: torch.Tensor, data: ModularData, split: str) -> torch.Tensor:
    p = check_logits(logits)
    if p != data.p:
        raise ShapeError(f"`logits` are for p={p} but `data` is for p={data.p}")
    check_choice("split", split, ("train", "test", "all"))
    if split == "all":
        return torch.arange(p * p, device=logits.device)
    return (data.train_idx if split == "train" else data.test_idx).to(logits.device)


def gini(x: torch.Tensor) -> float:
    """Gini coefficient of the non-negative values ``x`` (0: all equal, near 1: one carries all).

    Examples:
        >>> gini(torch.ones(10))
        0.0
        >>> round(gini(torch.tensor([0., 0., 0., 1.])), 2)
        0.75
    """
    check_tensor("x", x, floating=True)
    x = x.flatten().double()
    if (x < 0).any():
        raise ValueError("`x` must be non-negative (e.g. Fourier norms)")
    n = x.numel()
    if n == 0 or x.sum() == 0:
        return 0.0
    x = x.sort().values
    i = torch.arange(1, n + 1, dtype=torch.float64)
    return float((2 * (i * x).sum() / (n * x.sum()) - (n + 1) / n))


def restricted_logits_with_basis(logits: torch.Tensor, freqs: Sequence[int], basis: torch.Tensor) -> torch.Tensor:
    """:func:`restricted_logits` with the signature of lesson 10's exercise (``basis`` is not needed)."""
    return restricted_logits(logits, freqs)


def excluded_logits_with_basis(logits: torch.Tensor, freqs: Sequence[int], basis: torch.Tensor) -> torch.Tensor:
    """:func:`excluded_logits` with the signature of lesson 10's exercise (``basis`` is not needed)."""
    return excluded_logits(logits, freqs)
