"""The Fourier basis of Z_p and the transforms used to read a grokked network.

Basis rows (orthonormal): the constant ``1/sqrt(p)``, then for each frequency ``k = 1 .. (p-1)/2``
the normalised ``cos(2 pi k x / p)`` and ``sin(2 pi k x / p)``. Row ``2k - 1`` is ``cos k`` and row
``2k`` is ``sin k``. Frequencies ``k`` and ``p - k`` are the same frequency.

Examples:
    >>> basis, names = fourier_basis(5)
    >>> names
    ['const', 'cos 1', 'sin 1', 'cos 2', 'sin 2']
    >>> torch.allclose(basis @ basis.T, torch.eye(5), atol=1e-6)
    True
"""

from __future__ import annotations

import math

import torch

from ..validation import ShapeError, check_tensor
from .data import check_prime

__all__ = ["fourier_basis", "fourier_transform", "fourier_transform_2d", "frequency_norms", "n_frequencies"]


def n_frequencies(p: int) -> int:
    """Number of distinct non-zero frequencies of Z_p, ``(p - 1) // 2``."""
    return (check_prime("p", p) - 1) // 2


def fourier_basis(p: int, device: torch.device | str | None = None,
                  dtype: torch.dtype = torch.float32) -> tuple[torch.Tensor, list[str]]:
    """The orthonormal Fourier basis of functions on Z_p.

    Args:
        p: An odd prime.
        device, dtype: Of the returned basis.

    Returns:
        ``(basis, names)``: ``basis`` ``[p, p]`` with one basis vector per row, and the row names
        ``"const"``, ``"cos 1"``, ``"sin 1"``, ...

    Raises:
        ValueError: if ``p`` is not prime (or is 2, which has no cos/sin pairs).

    Examples:
        >>> fourier_basis(7)[0].shape
        torch.Size([7, 7])
    """
    p = check_prime("p", p)
    if p == 2:
        raise ValueError("`p`=2 has no cos/sin frequency pairs: use an odd prime")
    x = torch.arange(p, dtype=torch.float64)
    rows, names = [torch.ones(p, dtype=torch.float64)], ["const"]
    for k in range(1, (p - 1) // 2 + 1):
        rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
        names += [f"cos {k}", f"sin {k}"]
    basis = torch.stack(rows)
    basis = basis / basis.norm(dim=1, keepdim=True)
    return basis.to(device=device, dtype=dtype), names


def _basis_for(x: torch.Tensor, p: int) -> torch.Tensor:
    dtype = x.dtype if x.is_floating_point() else torch.float32
    return fourier_basis(p, device=x.device, dtype=dtype)[0]


def fourier_transform(x: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Coefficients of ``x`` in the Fourier basis along ``dim`` (whose size must be a prime p).

    Args:
        x: Any tensor, e.g. an embedding ``W_E[:p]`` ``[p, d_model]``.
        dim: The axis indexed by ``0 .. p-1``.

    Returns:
        Same shape as ``x``; along ``dim`` entry ``j`` is the coefficient of basis row ``j``.

    Examples:
        >>> basis, _ = fourier_basis(5)
        >>> torch.allclose(fourier_transform(basis[3] * 2.0), torch.tensor([0., 0., 0., 2., 0.]), atol=1e-6)
        True
    """
    check_tensor("x", x, floating=True)
    p = x.shape[dim]
    check_prime(f"x.shape[{dim}]", p)
    return torch.movedim(torch.tensordot(_basis_for(x, p), torch.movedim(x, dim, 0), dims=1), 0, dim)


def fourier_transform_2d(x: torch.Tensor) -> torch.Tensor:
    """2-D Fourier coefficients over the first two axes (a, b) of ``x`` ``[p, p, ...]``.

    Entry ``[i, j, ...]`` is the coefficient of ``basis[i](a) * basis[j](b)``.

    Examples:
        >>> b, _ = fourier_basis(5)
        >>> f = fourier_transform_2d(torch.outer(b[1], b[4]))
        >>> f[1, 4].item() > 0.999 and f.abs().sum().item() < 1.001
        True
    """
    check_tensor("x", x, floating=True)
    if x.dim() < 2 or x.shape[0] != x.shape[1]:
        raise ShapeError(f"`x` has shape {tuple(x.shape)} but expected (p, p, ...): the first two axes are a and b")
    p = x.shape[0]
    check_prime("x.shape[0]", p)
    basis = _basis_for(x, p)
    return torch.einsum("ia,jb,ab...->ij...", basis, basis, x)


def frequency_norms(coefficients: torch.Tensor, dim: int = 0) -> torch.Tensor:
    """Norm carried by each frequency ``k = 1 .. (p-1)/2``: ``sqrt(|cos k|^2 + |sin k|^2)``.

    Args:
        coefficients: Fourier coefficients with the basis axis ``dim`` of size p (e.g.
            ``fourier_transform(W_E[:p])`` ``[p, d_model]``); all other axes are summed over.

    Returns:
        ``[(p-1)/2]``; entry ``k - 1`` belongs to frequency ``k`` (the constant term is left out).

    Examples:
        >>> c = torch.zeros(5, 3); c[3, 0] = 3.0; c[4, 1] = 4.0   # cos 2 and sin 2
        >>> frequency_norms(c)
        tensor([0., 5.])
    """
    check_tensor("coefficients", coefficients, floating=True)
    p = coefficients.shape[dim]
    check_prime(f"coefficients.shape[{dim}]", p)
    sq = torch.movedim(coefficients, dim, 0).pow(2).reshape(p, -1).sum(1)  # [p]
    return (sq[1::2] + sq[2::2]).sqrt()
