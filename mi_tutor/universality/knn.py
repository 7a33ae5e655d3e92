"""Mutual nearest-neighbour alignment (Huh, Cheung, Wang & Isola, ICML 2024).

The metric of the Platonic Representation Hypothesis paper
(``minyoungg/platonic-rep: metrics.py::mutual_knn``): L2-normalise each
example's features, find every example's ``k`` nearest neighbours by inner
product (itself excluded) in each representation, and average the fraction of
neighbours the two representations share. Two unrelated representations share
about ``k / (n - 1)`` of them by chance. The score depends on ``n`` and ``k``:
compare at fixed ``n`` and ``k``.

Examples:
    >>> X = torch.randn(100, 8)
    >>> mutual_knn_alignment(X, 3 * X, k=5)
    1.0
"""

from __future__ import annotations

import torch

from ..validation import check_feature_pair

__all__ = ["knn_indices", "mutual_knn_alignment", "mutual_knn_chance", "clamp_outliers"]


def knn_indices(X: torch.Tensor, k: int = 10, normalize: bool = True, chunk: int = 4096) -> torch.Tensor:
    """Indices ``[n, k]`` of each example's ``k`` nearest neighbours by inner product, itself excluded.

    Args:
        X: ``[n_examples, d]``.
        k: Neighbours per example (``1 <= k < n``).
        normalize: L2-normalise the rows first (Huh et al. do).
        chunk: Rows of the similarity matrix built at a time.
    """
    n = X.shape[0]
    if not isinstance(k, int) or not 1 <= k < n:
        raise ValueError(f"`k` is {k!r}; wanted an int with 1 <= k < n_examples = {n}")
    if normalize:
        X = torch.nn.functional.normalize(X, dim=1)
    out = []
    for start in range(0, n, chunk):
        sim = X[start:start + chunk] @ X.T
        idx = torch.arange(start, min(start + chunk, n), device=X.device)
        sim[idx - start, idx] = -torch.inf
        out.append(sim.topk(k, dim=1).indices)
    return torch.cat(out)


def clamp_outliers(X: torch.Tensor, q: float = 0.95) -> torch.Tensor:
    """Clamp ``X`` at its ``q`` quantile of absolute values (``remove_outliers`` in platonic-rep)."""
    flat = X.abs().flatten()
    if flat.numel() > 16_000_000:
        flat = flat[torch.randperm(flat.numel(), device=X.device)[:16_000_000]]
    t = torch.quantile(flat.float(), q).to(X.dtype)
    return X.clamp(-t, t)


def mutual_knn_alignment(X: torch.Tensor, Y: torch.Tensor, k: int = 10) -> float:
    """Mean fraction of shared ``k``-nearest neighbours of the same examples in ``X`` and ``Y``.

    Args:
        X: ``[n_examples, d_x]`` representation A (e.g. image features).
        Y: ``[n_examples, d_y]`` representation B of the same examples (e.g. caption features).
        k: Neighbours (Huh et al.: 10).

    Returns:
        A score in ``[0, 1]``: 1 when the neighbourhoods agree, ``~k / (n - 1)`` by chance.
    """
    X, Y = check_feature_pair(X, Y)
    a, b = knn_indices(X, k), knn_indices(Y, k)
    n = X.shape[0]
    mask_a = torch.zeros(n, n, dtype=torch.bool, device=X.device)
    mask_a.scatter_(1, a, True)
    shared = mask_a.gather(1, b).sum(1)
    return float(shared.double().mean() / k)


def mutual_knn_chance(n: int, k: int = 10) -> tuple[float, float]:
    """Mean and standard error of the score for independent representations.

    Each example's overlap is hypergeometric (``k`` draws from ``n - 1`` with
    ``k`` successes); the standard error treats the ``n`` examples as independent.
    """
    m = n - 1
    mean = k / m
    var = k * (k / m) * ((m - k) / m) * ((m - k) / (m - 1)) / k ** 2
    return mean, (var / n) ** 0.5
