"""Geometry of a toy model's features: norms, interference, dimensionality.

Every function takes ``W`` of shape ``[..., n_features, d_hidden]`` (any
leading axes, usually instances), where row ``W[..., j, :]`` is feature ``j``'s
direction in the hidden space.

- ``feature_norms``: ``||W_j||`` (about 1 when the feature is represented).
- ``interference``: ``sum_{k != j} (W_j_hat . W_k)^2``, how much the other
  features leak into feature ``j``'s direction (0 when it has a dimension of its own).
- ``feature_dimensionality``: ``D_j = ||W_j||^2 / sum_k (W_j_hat . W_k)^2``,
  the fraction of a hidden dimension feature ``j`` owns (1 alone, 1/2 in an
  antipodal pair, 2/5 on a pentagon, 0 when not learned).
- ``dimensions_per_feature``: ``m / ||W||_F^2``, the inverse of how many
  features the model stores per hidden dimension.

Examples:
    >>> W = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]])   # a pair and a lone feature
    >>> feature_dimensionality(W)
    tensor([0.5000, 0.5000, 1.0000])
"""

from __future__ import annotations

import torch

from ..validation import ShapeError, check_range, check_tensor

__all__ = [
    "check_feature_weights",
    "feature_norms",
    "gram_matrix",
    "interference",
    "feature_dimensionality",
    "dimensions_per_feature",
    "neuron_feature_counts",
    "polysemantic_neurons",
]


def check_feature_weights(W: object, n_features: int | None = None, name: str = "W") -> dict[str, int]:
    """Check that ``W`` is ``[..., n_features, d_hidden]`` and not transposed.

    A toy model of superposition stores at least as many features as it has
    hidden dimensions, so a ``W`` with fewer rows than columns is almost
    certainly ``[..., d_hidden, n_features]`` by mistake; pass ``n_features``
    to accept an unusual shape (for example the 3-features-in-6-dimensions model).

    Raises:
        ShapeError: naming ``W``, the shape seen and the shape wanted.

    Examples:
        >>> check_feature_weights(torch.zeros(10, 5, 2))
        {'n_features': 5, 'd_hidden': 2}
    """
    dims = check_tensor(name, W, ("...", "n_features", "d_hidden"), floating=True)
    assert isinstance(W, torch.Tensor)
    rows, cols = W.shape[-2], W.shape[-1]
    if n_features is not None:
        if rows != n_features:
            swapped = " Its last axis has n_features entries: pass `W.mT` (features first)." if cols == n_features else ""
            raise ShapeError(
                f"`{name}` has shape {tuple(W.shape)} but expected (..., n_features={n_features}, d_hidden): "
                f"axis -2 is {rows}.{swapped}"
            )
    elif rows < cols:
        raise ShapeError(
            f"`{name}` has shape {tuple(W.shape)}, read as {rows} features in {cols} hidden dimensions, "
            f"but expected (..., n_features, d_hidden) with n_features >= d_hidden. Did you pass W transposed "
            f"([..., d_hidden, n_features])? Use `W.mT`, or pass n_features={rows} if the shape is meant."
        )
    return dims


def feature_norms(W: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    """``||W_j||`` for every feature: ``[..., n_features, d_hidden]`` -> ``[..., n_features]``.

    Examples:
        >>> feature_norms(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
        tensor([5., 0.])
    """
    check_feature_weights(W, n_features)
    return W.norm(dim=-1)


def gram_matrix(W: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    """``W W^T``: ``[..., n_features, d_hidden]`` -> ``[..., n_features, n_features]``.

    Entry ``(j, k)`` is ``W_j . W_k``; it is what the model adds to output
    ``j`` when only feature ``k`` is on (before the bias and ReLU), so an
    identity-like matrix means no interference.

    Examples:
        >>> gram_matrix(torch.eye(2))
        tensor([[1., 0.],
                [0., 1.]])
    """
    check_feature_weights(W, n_features)
    return W @ W.mT


def _unit_rows(W: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    return W / W.norm(dim=-1, keepdim=True).clamp_min(eps)


def interference(W: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    """``sum_{k != j} (W_j_hat . W_k)^2`` per feature: ``[..., n_features]``.

    Examples:
        >>> interference(torch.tensor([[1.0, 0.0], [0.6, 0.8]]))
        tensor([0.3600, 0.3600])
    """
    check_feature_weights(W, n_features)
    overlaps = (_unit_rows(W) @ W.mT) ** 2                          # [..., f, f]
    return overlaps.sum(-1) - torch.diagonal(overlaps, dim1=-2, dim2=-1)


def feature_dimensionality(W: torch.Tensor, n_features: int | None = None, eps: float = 1e-6) -> torch.Tensor:
    """Feature dimensionality ``D_j = ||W_j||^2 / sum_k (W_j_hat . W_k)^2``.

    The sum runs over every feature ``k``, ``j`` included. A feature that owns
    a dimension gets 1, each member of an antipodal pair 1/2, of a triangle
    2/3, of a pentagon 2/5; an unlearned feature (``W_j = 0``) gets 0.

    Args:
        W: ``[..., n_features, d_hidden]`` feature directions.
        n_features: Confirms the features axis (see :func:`check_feature_weights`).
        eps: Norms below ``eps`` count as zero.

    Returns:
        ``[..., n_features]`` dimensionalities in ``[0, 1]``.

    Examples:
        >>> angles = torch.arange(5) * 2 * torch.pi / 5
        >>> pentagon = torch.stack([angles.cos(), angles.sin()], -1)
        >>> feature_dimensionality(pentagon).round(decimals=3)
        tensor([0.4000, 0.4000, 0.4000, 0.4000, 0.4000])
    """
    check_feature_weights(W, n_features)
    norms_sq = (W ** 2).sum(-1)                                     # [..., f]
    overlaps = ((_unit_rows(W, eps) @ W.mT) ** 2).sum(-1)          # [..., f]
    return torch.where(norms_sq > eps**2, norms_sq / overlaps.clamp_min(eps**2), torch.zeros_like(norms_sq))


def dimensions_per_feature(W: torch.Tensor, n_features: int | None = None) -> torch.Tensor:
    """``d_hidden / ||W||_F^2`` per instance: ``[..., n_features, d_hidden]`` -> ``[...]``.

    About ``d_hidden / (number of features learned)`` when the learned
    features have unit norm; the paper calls it ``D*``.

    Examples:
        >>> dimensions_per_feature(torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]]))
        tensor(0.5000)
    """
    check_feature_weights(W, n_features)
    return W.shape[-1] / (W ** 2).sum(dim=(-2, -1))


def neuron_feature_counts(W: torch.Tensor, threshold: float = 0.5, n_features: int | None = None) -> torch.Tensor:
    """How many features each hidden neuron carries in a privileged-basis model.

    Feature ``j`` counts for neuron ``h`` when ``W[..., j, h] >= threshold``:
    the feature drives the neuron strongly (a negative weight only silences it
    behind the hidden ReLU).

    Args:
        W: ``[..., n_features, d_hidden]`` weights of a hidden-ReLU toy model.
        threshold: Smallest weight that counts, in ``(0, inf)``.
        n_features: Confirms the features axis.

    Returns:
        ``[..., d_hidden]`` integer counts (0: dead, 1: monosemantic, >= 2: polysemantic).

    Examples:
        >>> neuron_feature_counts(torch.tensor([[1.0, 0.0], [0.9, 0.0], [0.0, 1.0]]))
        tensor([2, 1])
    """
    check_feature_weights(W, n_features)
    check_range("threshold", threshold, 1e-12, float("inf"))
    return (W >= threshold).sum(dim=-2)


def polysemantic_neurons(W: torch.Tensor, threshold: float = 0.5, n_features: int | None = None) -> torch.Tensor:
    """Number of neurons carrying two or more features: ``[..., n_features, d_hidden]`` -> ``[...]``.

    Examples:
        >>> polysemantic_neurons(torch.tensor([[1.0, 0.0], [0.9, 0.0], [0.0, 1.0]]))
        tensor(1)
    """
    return (neuron_feature_counts(W, threshold, n_features) >= 2).sum(-1)
