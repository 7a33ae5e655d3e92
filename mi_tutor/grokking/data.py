"""Modular-addition data: every pair ``(a, b)`` of ``Z_p``, a seeded train/test split, ``a b =`` tokens.

Examples:
    >>> data = modular_addition(7, train_frac=0.5, seed=0)
    >>> data.tokens.shape, data.labels.shape, len(data.train_idx) + len(data.test_idx)
    (torch.Size([49, 3]), torch.Size([49]), 49)
    >>> data.tokens[10].tolist(), data.labels[10].item()   # a = 1, b = 3, "=" is token 7
    ([1, 3, 7], 4)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["ModularData", "check_prime", "check_train_frac", "is_prime", "modular_addition"]


def is_prime(n: int) -> bool:
    """Whether ``n`` is a prime number.

    Examples:
        >>> [n for n in range(20) if is_prime(n)]
        [2, 3, 5, 7, 11, 13, 17, 19]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        return False
    return all(n % d for d in range(2, int(n**0.5) + 1))


def check_prime(name: str, p: object) -> int:
    """Raise ``ValueError`` naming the argument unless ``p`` is a prime int; return it."""
    if isinstance(p, torch.Tensor) and p.numel() == 1 and not p.is_floating_point():
        p = int(p.item())
    if not is_prime(p):  # type: ignore[arg-type]
        raise ValueError(
            f"`{name}`={p!r} is not a prime number: the Fourier analysis of Z_p (and the task of "
            "Nanda et al.) needs a prime modulus such as 53, 97 or 113."
        )
    return int(p)  # type: ignore[arg-type]


def check_train_frac(train_frac: object) -> float:
    """Raise ``ValueError`` unless ``0 < train_frac < 1``; return it as a float."""
    if isinstance(train_frac, bool) or not isinstance(train_frac, (int, float)) or not 0 < train_frac < 1:
        raise ValueError(
            f"`train_frac`={train_frac!r} must lie strictly between 0 and 1 (the share of the p^2 pairs "
            "used for training; Nanda et al. use 0.3)."
        )
    return float(train_frac)


@dataclass
class ModularData:
    """All ``p^2`` inputs of ``(a + b) mod p`` and their split.

    Attributes:
        p: The prime modulus; token ``p`` is ``"="``.
        tokens: ``[p*p, 3]`` rows ``(a, b, p)`` with row index ``a * p + b``.
        labels: ``[p*p]`` the answers ``(a + b) % p``.
        train_idx: ``[n_train]`` row indices of the training pairs.
        test_idx: ``[p*p - n_train]`` the rest.
        train_frac: Share of the pairs in ``train_idx``.
        seed: Seed of the split.
    """

    p: int
    tokens: torch.Tensor
    labels: torch.Tensor
    train_idx: torch.Tensor
    test_idx: torch.Tensor
    train_frac: float
    seed: int

    @property
    def train_mask(self) -> torch.Tensor:
        """``[p, p]`` boolean, True where ``(a, b)`` is a training pair."""
        mask = torch.zeros(self.p * self.p, dtype=torch.bool)
        mask[self.train_idx] = True
        return mask.view(self.p, self.p)

    def to(self, device: torch.device | str) -> "ModularData":
        """The same data on ``device``."""
        return ModularData(self.p, self.tokens.to(device), self.labels.to(device), self.train_idx.to(device),
                           self.test_idx.to(device), self.train_frac, self.seed)


def modular_addition(p: int = 113, train_frac: float = 0.3, seed: int = 0) -> ModularData:
    """Every pair ``(a, b)`` with ``0 <= a, b < p``, labelled ``(a + b) mod p``, split at random.

    Args:
        p: A prime modulus.
        train_frac: Share of the ``p^2`` pairs for training, strictly between 0 and 1
            (``int(train_frac * p^2)`` pairs, as in Nanda et al.).
        seed: Seed of the random split.

    Returns:
        A :class:`ModularData`; ``tokens`` ``[p^2, 3]`` in the ``a b =`` format.

    Raises:
        ValueError: if ``p`` is not prime or ``train_frac`` is outside (0, 1).

    Examples:
        >>> d = modular_addition(113, 0.3)
        >>> len(d.train_idx)
        3830
    """
    p = check_prime("p", p)
    train_frac = check_train_frac(train_frac)
    a = torch.arange(p).repeat_interleave(p)
    b = torch.arange(p).repeat(p)
    tokens = torch.stack([a, b, torch.full_like(a, p)], dim=1)  # [p*p, 3]
    labels = (a + b) % p
    perm = torch.randperm(p * p, generator=torch.Generator().manual_seed(seed))
    n_train = int(train_frac * p * p)
    return ModularData(p, tokens, labels, perm[:n_train].sort().values, perm[n_train:].sort().values,
                       train_frac, seed)
