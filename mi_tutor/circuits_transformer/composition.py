"""QK/OV circuits, the full OV circuit with its copying score, and composition scores.

Conventions (row vectors, as in TransformerLens): a residual vector ``x``
``[d_model]`` gives a head's query ``x W_Q``, so the QK circuit is
``W_QK = W_Q W_K^T`` (``score = x_q W_QK x_k^T``) and the OV circuit is
``W_OV = W_V W_O`` (``output = x W_OV``), both ``[d_model, d_model]``.

A later head B *composes* with an earlier head A when B reads what A writes:

* Q-composition: A's output feeds B's queries, ``|W_OV^A W_QK^B|``;
* K-composition: A's output feeds B's keys, ``|W_OV^A (W_QK^B)^T|``;
* V-composition: A's output feeds B's values, ``|W_OV^A W_OV^B|``;

each divided by ``|W_OV^A| |W_QK^B|`` (Frobenius norms), and compared with the
same score of random matrices of the same shapes.

Examples:
    >>> A = torch.eye(4)
    >>> round(composition_score(A, A).item(), 3)  # |I| / (|I| |I|) = 1 / 2
    0.5
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from ..transformer.factored import FactoredMatrix
from ..validation import check_choice, check_tensor

if TYPE_CHECKING:
    from ..transformer.model import HookedTransformer

__all__ = [
    "composition_score",
    "composition_scores",
    "random_composition_baseline",
    "full_ov_circuit",
    "full_qk_circuit",
    "copying_score",
    "COMPOSITION_KINDS",
]

#: The three ways heads compose.
COMPOSITION_KINDS = ("q", "k", "v")


def _dense(name: str, m: torch.Tensor | FactoredMatrix) -> torch.Tensor:
    if isinstance(m, FactoredMatrix):
        return m.AB
    check_tensor(name, m, ("...", "rows", "cols"), floating=True)
    return m


def composition_score(W_A: torch.Tensor | FactoredMatrix, W_B: torch.Tensor | FactoredMatrix) -> torch.Tensor:
    """``|W_A W_B|_F / (|W_A|_F |W_B|_F)``, in ``[0, 1]``.

    Args:
        W_A: The earlier matrix ``[..., m, r]`` (e.g. an OV circuit).
        W_B: The later matrix ``[..., r, n]`` (a QK circuit, its transpose or an OV circuit).

    Returns:
        Scores ``[...]`` (leading axes broadcast).
    """
    A, B = _dense("W_A", W_A), _dense("W_B", W_B)
    check_tensor("W_B", B, ("...", A.shape[-1], None))
    num = torch.linalg.matrix_norm(A @ B)
    return num / (torch.linalg.matrix_norm(A) * torch.linalg.matrix_norm(B))


def composition_scores(model: "HookedTransformer", kind: str, layer_a: int = 0, layer_b: int = 1) -> torch.Tensor:
    """Composition scores between every head of ``layer_a`` and every head of ``layer_b``.

    Args:
        model: A :class:`~mi_tutor.transformer.HookedTransformer`.
        kind: ``"q"``, ``"k"`` or ``"v"``.
        layer_a: The earlier layer (writer).
        layer_b: The later layer (reader).

    Returns:
        ``[n_heads (layer_a), n_heads (layer_b)]`` on the CPU.
    """
    check_choice("kind", kind, COMPOSITION_KINDS)
    if not 0 <= layer_a < layer_b < model.cfg.n_layers:
        raise ValueError(f"need 0 <= layer_a < layer_b < n_layers={model.cfg.n_layers}, got {layer_a}, {layer_b}")
    with torch.no_grad():
        ov_a = model.OV[layer_a].AB[:, None]  # [head_a, 1, d_model, d_model]
        reader = {"q": model.QK[layer_b].AB, "k": model.QK[layer_b].AB.transpose(-2, -1), "v": model.OV[layer_b].AB}[kind]
        return composition_score(ov_a, reader[None]).cpu()  # [head_a, head_b]


def random_composition_baseline(d_model: int, d_head: int, n_samples: int = 200, seed: int = 0) -> torch.Tensor:
    """Mean composition score of random rank-``d_head`` matrices ``[d_model, d_model]``.

    Each matrix is a product of Gaussian factors ``[d_model, d_head] @ [d_head, d_model]``,
    like a freshly initialised head's QK or OV circuit.

    Returns:
        A scalar tensor.
    """
    g = torch.Generator().manual_seed(seed)
    def sample() -> torch.Tensor:
        return torch.randn(n_samples, d_model, d_head, generator=g) @ torch.randn(n_samples, d_head, d_model, generator=g)
    return composition_score(sample(), sample()).mean()


def full_ov_circuit(model: "HookedTransformer", layer: int, head: int) -> FactoredMatrix:
    """``W_E W_OV W_U`` ``[d_vocab, d_vocab]``: the logits a head adds for the token it attends to.

    Row ``i`` is the direct effect on every output logit of attending to token ``i``.
    """
    return model.W_E @ model.OV[layer, head] @ model.W_U


def full_qk_circuit(model: "HookedTransformer", layer: int, head: int) -> FactoredMatrix:
    """``W_E W_QK W_E^T`` ``[d_vocab, d_vocab]``: query token (row) against key token (column) attention scores."""
    return model.W_E @ model.QK[layer, head] @ model.W_E.T


def copying_score(matrix: torch.Tensor | FactoredMatrix) -> torch.Tensor:
    """``sum(eigenvalues) / sum(|eigenvalues|)`` of a square matrix: 1 for pure copying, -1 for anti-copying.

    Args:
        matrix: A square matrix ``[n, n]`` (e.g. a full OV circuit), or a
            :class:`FactoredMatrix`.

    Returns:
        A real scalar tensor in ``[-1, 1]``.
    """
    if isinstance(matrix, FactoredMatrix):
        eig = matrix.eigenvalues
    else:
        check_tensor("matrix", matrix, ("n", "n"), floating=True)
        eig = torch.linalg.eigvals(matrix)
    return eig.sum().real / eig.abs().sum()
