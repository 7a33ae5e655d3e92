"""Unit matching across two nets (Li, Yosinski, Clune, Lipson & Hopcroft, ICLR 2016).

Correlate every unit of net A with every unit of net B on the same inputs, then
pair them: **one-to-one** with the Hungarian algorithm
(``scipy.optimize.linear_sum_assignment``) or **semi-matching** (each unit of A
takes its best partner in B, partners may repeat). The matched correlations say
how many units have a counterpart in the other net.

Examples:
    >>> g = torch.Generator().manual_seed(0)
    >>> A = torch.randn(500, 6, generator=g)
    >>> perm = torch.tensor([3, 0, 5, 1, 4, 2])
    >>> m = match_units(A, A[:, perm])
    >>> m.cols[perm].tolist() == list(range(6))
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ._checks import check_pair

__all__ = ["unit_correlation", "Matching", "match_units", "semi_match"]


def unit_correlation(A: torch.Tensor, B: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every unit of ``A`` with every unit of ``B``.

    Args:
        A: ``[n_examples, units_a]`` activations of net A.
        B: ``[n_examples, units_b]`` activations of net B on the same examples.

    Returns:
        ``[units_a, units_b]``; a unit that never varies (dead) correlates 0 with everything.

    Examples:
        >>> x = torch.arange(5.)[:, None]
        >>> unit_correlation(x, -x)
        tensor([[-1.]])
    """
    A, B = check_pair(A, B, names=("A", "B"))
    A, B = A - A.mean(0), B - B.mean(0)
    na, nb = torch.linalg.vector_norm(A, dim=0), torch.linalg.vector_norm(B, dim=0)
    eps = torch.finfo(A.dtype).tiny
    corr = (A.T @ B) / (na[:, None] * nb[None, :]).clamp_min(eps)
    dead = (na[:, None] <= eps) | (nb[None, :] <= eps)
    return corr.masked_fill(dead, 0.0).clamp(-1, 1)


@dataclass
class Matching:
    """A pairing of units of net A with units of net B.

    Attributes:
        rows: ``[k]`` units of A (sorted).
        cols: ``[k]`` their partners in B.
        correlations: ``[k]`` correlation of each pair.
    """

    rows: torch.Tensor
    cols: torch.Tensor
    correlations: torch.Tensor

    @property
    def mean(self) -> float:
        """Mean matched correlation."""
        return float(self.correlations.mean())


def match_units(A: torch.Tensor, B: torch.Tensor, corr: torch.Tensor | None = None) -> Matching:
    """One-to-one matching maximising the summed correlation (Hungarian).

    Args:
        A: ``[n_examples, units_a]``.
        B: ``[n_examples, units_b]``.
        corr: A precomputed ``[units_a, units_b]`` correlation (skips the computation).

    Returns:
        ``min(units_a, units_b)`` pairs.
    """
    corr = unit_correlation(A, B) if corr is None else corr
    from scipy.optimize import linear_sum_assignment  # here: importing scipy.optimize costs ~0.5 s of CPU

    r, c = linear_sum_assignment(-corr.detach().cpu().double().numpy())
    rows = torch.as_tensor(r, device=corr.device)
    cols = torch.as_tensor(c, device=corr.device)
    return Matching(rows, cols, corr[rows, cols])


def semi_match(A: torch.Tensor, B: torch.Tensor, corr: torch.Tensor | None = None) -> Matching:
    """Each unit of ``A`` with its most correlated unit of ``B`` (partners may repeat)."""
    corr = unit_correlation(A, B) if corr is None else corr
    best, cols = corr.max(1)
    return Matching(torch.arange(corr.shape[0], device=corr.device), cols, best)
