"""Canonical correlation analysis, SVCCA (Raghu et al. 2017) and PWCCA (Morcos et al. 2018).

**Shape convention.** Everything in :mod:`mi_tutor.universality` takes
``[n_examples, n_features]`` (rows are examples). Raghu et al.'s ``cca_core``
takes ``neurons x datapoints``, the transpose: their ``acts1`` is our ``X.T``.
So ``svcca(X, Y)`` here equals ``get_cca_similarity(X.T, Y.T)`` after their SVD
step; pass activations exactly as you pass them to :func:`~mi_tutor.universality.linear_cka`.

CCA is invariant to every invertible linear map of either side, which is why it
cannot tell layers apart once the width reaches the number of examples
(Kornblith et al.): then every pair of layers scores 1.

Examples:
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(200, 5, generator=g, dtype=torch.float64)
    >>> A = torch.randn(5, 5, generator=g, dtype=torch.float64)
    >>> round(cca(X, X @ A), 6)   # any invertible map: still 1
    1.0
"""

from __future__ import annotations

import torch

from ..validation import check_feature_pair

__all__ = ["cca_coefficients", "cca", "svcca", "pwcca"]


def _basis(x: torch.Tensor, rtol: float = 1e-10) -> torch.Tensor:
    """Orthonormal basis ``[n, r]`` of the column space of ``x`` (rank-revealing SVD)."""
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    tol = s.max().clamp_min(torch.finfo(x.dtype).tiny) * max(rtol, torch.finfo(x.dtype).eps * max(x.shape))
    return u[:, s > tol]


def cca_coefficients(X: torch.Tensor, Y: torch.Tensor, center: bool = True) -> torch.Tensor:
    """Canonical correlations ``rho_1 >= rho_2 >= ...`` of ``X`` and ``Y``.

    Args:
        X: ``[n_examples, d_x]``.
        Y: ``[n_examples, d_y]``.
        center: Subtract each feature's mean first (Kornblith's demo ``cca`` does not).

    Returns:
        ``[min(rank X, rank Y)]`` correlations in ``[0, 1]``.
    """
    X, Y = check_feature_pair(X, Y)
    if center:
        X, Y = X - X.mean(0), Y - Y.mean(0)
    qx, qy = _basis(X), _basis(Y)
    return torch.linalg.svdvals(qx.T @ qy).clamp(0, 1)


def cca(X: torch.Tensor, Y: torch.Tensor, center: bool = True) -> float:
    """Mean squared canonical correlation ``R^2_CCA = ||Qx^T Qy||_F^2 / min(d_x, d_y)``.

    ``center=False`` reproduces Kornblith et al.'s demo value.
    """
    X, Y = check_feature_pair(X, Y)
    rho = cca_coefficients(X, Y, center)
    return float((rho ** 2).sum() / min(X.shape[1], Y.shape[1]))


def _svd_reduce(x: torch.Tensor, keep: float | int) -> torch.Tensor:
    x = x - x.mean(0)
    u, s, _ = torch.linalg.svd(x, full_matrices=False)
    if isinstance(keep, int):
        k = min(keep, len(s))
    else:
        frac = torch.cumsum(s ** 2, 0) / (s ** 2).sum()
        k = int((frac < keep).sum()) + 1
    return u[:, :k] * s[:k]


def svcca(X: torch.Tensor, Y: torch.Tensor, keep: float | int = 0.99) -> float:
    """SVCCA: keep the top singular directions of each side, then mean CCA coefficient.

    Args:
        X: ``[n_examples, d_x]`` (Raghu et al.'s ``acts1.T``).
        Y: ``[n_examples, d_y]``.
        keep: A float: keep the directions explaining this fraction of the variance
            (the paper's 0.99); an int: keep that many (the tutorial's 20).

    Returns:
        Mean canonical correlation of the reduced representations.

    Examples:
        >>> X = torch.randn(100, 10, dtype=torch.float64)
        >>> round(svcca(X, X), 6)
        1.0
    """
    X, Y = check_feature_pair(X, Y)
    if isinstance(keep, bool) or not ((isinstance(keep, int) and keep >= 1) or (isinstance(keep, float) and 0 < keep <= 1)):
        raise ValueError(f"`keep` is {keep!r}; wanted a variance fraction in (0, 1] or a number of directions >= 1")
    return float(cca_coefficients(_svd_reduce(X, keep), _svd_reduce(Y, keep)).mean())


def pwcca(X: torch.Tensor, Y: torch.Tensor) -> float:
    """Projection-weighted CCA (Morcos et al. 2018), weights from ``X``'s side.

    Each canonical correlation ``rho_i`` is weighted by how much of ``X``'s
    neurons its canonical variate ``h_i`` accounts for: ``alpha_i = sum_j |<h_i, x_j>|``.
    """
    X, Y = check_feature_pair(X, Y)
    X, Y = X - X.mean(0), Y - Y.mean(0)
    qx, qy = _basis(X), _basis(Y)
    u, rho, _ = torch.linalg.svd(qx.T @ qy, full_matrices=False)
    h = qx @ u  # canonical variates of X, [n, k]
    alpha = (h.T @ X).abs().sum(1)
    return float((alpha * rho.clamp(0, 1)).sum() / alpha.sum())
