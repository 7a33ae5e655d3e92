"""Centred kernel alignment (Kornblith et al., ICML 2019): linear, RBF and debiased.

All functions take ``[n_examples, n_features]`` tensors (rows are examples, as in
Kornblith's code), any float dtype, and compute on the inputs' device.

* :func:`linear_cka` uses the feature-space form
  ``||Yc^T Xc||_F^2 / (||Xc^T Xc||_F ||Yc^T Yc||_F)`` on centred features: it
  costs ``O(n d^2)`` and never builds an ``n x n`` matrix.
* :func:`debiased_cka` uses the unbiased HSIC estimator (Song et al. 2012), also
  written in feature space for the linear kernel.
* :func:`rbf_cka` needs the ``n x n`` Gram matrices (the kernel is not linear).
* :func:`gram_linear`, :func:`gram_rbf`, :func:`center_gram` and
  :func:`cka_from_grams` are the Gram-matrix forms of Kornblith's demo, kept for
  teaching and for checking the fast forms.

Examples:
    >>> g = torch.Generator().manual_seed(0)
    >>> X = torch.randn(50, 8, generator=g, dtype=torch.float64)
    >>> round(linear_cka(X, 2.0 * X), 6)
    1.0
    >>> abs(linear_cka(X, X @ torch.linalg.qr(torch.randn(8, 8, dtype=torch.float64))[0]) - 1) < 1e-9
    True
"""

from __future__ import annotations

import torch

from ..validation import check_feature_pair, check_tensor

__all__ = ["linear_cka", "debiased_cka", "rbf_cka", "gram_linear", "gram_rbf", "center_gram",
           "cka_from_grams", "hsic"]


def _centre(x: torch.Tensor) -> torch.Tensor:
    return x - x.mean(0, keepdim=True)


def linear_cka(X: torch.Tensor, Y: torch.Tensor) -> float:
    """Linear CKA in feature-space form (never ``n x n``).

    Args:
        X: ``[n_examples, d_x]`` features of net A.
        Y: ``[n_examples, d_y]`` features of net B on the same examples, same order.

    Returns:
        CKA in ``[0, 1]``; ``1`` when ``Y`` is an orthogonal map of ``X`` times a
        positive scale.

    Examples:
        >>> X = torch.eye(4, 3)
        >>> round(linear_cka(X, X), 4)
        1.0
    """
    X, Y = check_feature_pair(X, Y)
    X, Y = _centre(X), _centre(Y)
    cross = torch.linalg.matrix_norm(Y.T @ X) ** 2
    denom = torch.linalg.matrix_norm(X.T @ X) * torch.linalg.matrix_norm(Y.T @ Y)
    return float(cross / denom) if denom > 0 else 0.0


def _unbiased_hsic_linear(X: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
    """Unbiased HSIC of the linear kernels ``X X^T`` and ``Y Y^T``, in feature space.

    With ``K~``, ``L~`` the Gram matrices with zeroed diagonals (Song et al. 2012):
    ``[tr(K~L~) + 1'K~1 1'L~1 / ((n-1)(n-2)) - 2/(n-2) 1'K~L~1] / (n(n-3))``.
    """
    n = X.shape[0]
    kx, ky = (X * X).sum(1), (Y * Y).sum(1)  # Gram diagonals [n]
    trace = torch.linalg.matrix_norm(X.T @ Y) ** 2 - (kx * ky).sum()
    rx = X @ X.sum(0) - kx  # K~ 1, [n]
    ry = Y @ Y.sum(0) - ky
    sx, sy = rx.sum(), ry.sum()
    return (trace + sx * sy / ((n - 1) * (n - 2)) - 2.0 / (n - 2) * (rx @ ry)) / (n * (n - 3))


def debiased_cka(X: torch.Tensor, Y: torch.Tensor) -> float:
    """Linear CKA from the unbiased HSIC estimator (Kornblith's ``debiased=True``).

    Biased CKA is inflated when ``n`` is small next to the widths; this one is
    not (it can be slightly negative for unrelated features). Feature-space
    form: ``O(n d^2)``, no ``n x n`` matrix.

    Args:
        X: ``[n_examples, d_x]`` with ``n_examples >= 4``.
        Y: ``[n_examples, d_y]``.

    Returns:
        Debiased CKA (a float, at most 1).

    Examples:
        >>> g = torch.Generator().manual_seed(0)
        >>> X, Y = torch.randn(30, 40, generator=g), torch.randn(30, 40, generator=g)
        >>> debiased_cka(X, Y) < linear_cka(X, Y)
        True
    """
    X, Y = check_feature_pair(X, Y, min_examples=4)
    X, Y = _centre(X), _centre(Y)  # HSIC is invariant to centring; it improves precision
    xy = _unbiased_hsic_linear(X, Y)
    xx, yy = _unbiased_hsic_linear(X, X), _unbiased_hsic_linear(Y, Y)
    denom = torch.sqrt(xx * yy) if xx > 0 and yy > 0 else torch.zeros((), dtype=X.dtype)
    return float(xy / denom) if denom > 0 else 0.0


def gram_linear(X: torch.Tensor) -> torch.Tensor:
    """``X X^T``: the ``[n, n]`` linear-kernel Gram matrix of ``X`` ``[n, d]``."""
    check_tensor("X", X, ("n", "d"), floating=True)
    return X @ X.T


def _median(v: torch.Tensor) -> torch.Tensor:
    """Median that averages the two middle values (numpy's), for any size."""
    v = v.flatten()
    m = v.numel()
    lo = torch.kthvalue(v, (m + 1) // 2).values
    hi = torch.kthvalue(v, m // 2 + 1).values
    return (lo + hi) / 2


def gram_rbf(X: torch.Tensor, threshold: float = 1.0) -> torch.Tensor:
    """RBF Gram matrix with bandwidth ``threshold`` x the median distance (Kornblith).

    ``exp(-||x_i - x_j||^2 / (2 threshold^2 median_ij ||x_i - x_j||^2))``; the
    median is taken over all ``n^2`` entries, zeros of the diagonal included.

    Args:
        X: ``[n, d]``.
        threshold: Fraction of the median distance used as the bandwidth (> 0).

    Returns:
        ``[n, n]``.
    """
    check_tensor("X", X, ("n", "d"), floating=True)
    if not threshold > 0:
        raise ValueError(f"`threshold` is {threshold}; it must be > 0 (a fraction of the median distance)")
    dot = X @ X.T
    sq = torch.diagonal(dot)
    sqd = (sq[:, None] + sq[None, :] - 2 * dot).clamp_min(0)
    return torch.exp(-sqd / (2 * threshold ** 2 * _median(sqd)))


def center_gram(gram: torch.Tensor, unbiased: bool = False) -> torch.Tensor:
    """Centre a symmetric ``[n, n]`` Gram matrix (``H K H``), or its unbiased variant.

    Returns a new tensor; the input is not modified.
    """
    check_tensor("gram", gram, ("n", "n"), floating=True)
    g = gram.clone()
    n = g.shape[0]
    if unbiased:
        if n < 4:
            raise ValueError(f"`gram` is {n} x {n}; the unbiased estimator needs n >= 4")
        g.fill_diagonal_(0)
        means = g.sum(0) / (n - 2)
        means = means - means.sum() / (2 * (n - 1))
        g = g - means[:, None] - means[None, :]
        g.fill_diagonal_(0)
    else:
        means = g.mean(0)
        means = means - means.mean() / 2
        g = g - means[:, None] - means[None, :]
    return g


def cka_from_grams(gram_x: torch.Tensor, gram_y: torch.Tensor, debiased: bool = False) -> float:
    """CKA of two ``[n, n]`` Gram matrices (Kornblith's ``cka``)."""
    dims = check_tensor("gram_x", gram_x, ("n", "n"), floating=True)
    check_tensor("gram_y", gram_y, ("n", "n"), dims=dims, floating=True)
    gx, gy = center_gram(gram_x, debiased), center_gram(gram_y, debiased)
    return float((gx * gy).sum() / (torch.linalg.matrix_norm(gx) * torch.linalg.matrix_norm(gy)))


def hsic(gram_x: torch.Tensor, gram_y: torch.Tensor) -> float:
    """Biased HSIC ``tr(K H L H) / (n - 1)^2`` of two ``[n, n]`` Gram matrices."""
    dims = check_tensor("gram_x", gram_x, ("n", "n"), floating=True)
    check_tensor("gram_y", gram_y, ("n", "n"), dims=dims, floating=True)
    n = gram_x.shape[0]
    return float((center_gram(gram_x) * center_gram(gram_y)).sum() / (n - 1) ** 2)


def rbf_cka(X: torch.Tensor, Y: torch.Tensor, threshold: float = 1.0) -> float:
    """CKA with RBF kernels whose bandwidth is ``threshold`` x the median distance.

    Builds two ``n x n`` matrices (unavoidable for a non-linear kernel).

    Args:
        X: ``[n_examples, d_x]``.
        Y: ``[n_examples, d_y]``.
        threshold: Bandwidth as a fraction of the median distance (Kornblith: 0.2-0.8).

    Examples:
        >>> X = torch.randn(20, 3)
        >>> round(rbf_cka(X, 3 * X, threshold=0.5), 5)
        1.0
    """
    X, Y = check_feature_pair(X, Y)
    return cka_from_grams(gram_rbf(X, threshold), gram_rbf(Y, threshold))
