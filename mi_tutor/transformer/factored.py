"""Low-rank matrices kept as a product ``A @ B`` (QK and OV circuits).

A head's QK circuit ``W_Q W_K^T`` and OV circuit ``W_V W_O`` are
``d_model x d_model`` matrices of rank at most ``d_head``. Keeping the two
factors makes norms, singular values and eigenvalues cheap, and composing
circuits (``W_E @ OV @ W_U``) never builds a big matrix until asked.

Examples:
    >>> A, B = torch.randn(6, 2), torch.randn(2, 5)
    >>> M = FactoredMatrix(A, B)
    >>> torch.allclose(M.AB, A @ B) and M.shape == (6, 5) and M.rank == 2
    True
"""

from __future__ import annotations

import torch

from ..validation import ShapeError

__all__ = ["FactoredMatrix"]


class FactoredMatrix:
    """The matrix ``A @ B`` with ``A [..., m, r]`` and ``B [..., r, n]``; leading axes broadcast.

    Attributes:
        A: Left factor ``[..., m, r]``.
        B: Right factor ``[..., r, n]``.
    """

    def __init__(self, A: torch.Tensor, B: torch.Tensor):
        if not isinstance(A, torch.Tensor) or not isinstance(B, torch.Tensor) or A.dim() < 2 or B.dim() < 2:
            raise ShapeError("FactoredMatrix needs two tensors of at least 2 dimensions, A [..., m, r] and B [..., r, n]")
        if A.shape[-1] != B.shape[-2]:
            raise ShapeError(
                f"FactoredMatrix: `A` has shape {tuple(A.shape)} and `B` has shape {tuple(B.shape)}: "
                f"A's last axis ({A.shape[-1]}) must equal B's second-to-last axis ({B.shape[-2]})."
            )
        batch = torch.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        self.A = A.expand(*batch, *A.shape[-2:])
        self.B = B.expand(*batch, *B.shape[-2:])

    @property
    def shape(self) -> tuple[int, ...]:
        """``(..., m, n)``."""
        return (*self.A.shape[:-1], self.B.shape[-1])

    @property
    def rank(self) -> int:
        """The inner dimension ``r`` (an upper bound of the true rank)."""
        return self.A.shape[-1]

    @property
    def AB(self) -> torch.Tensor:
        """The full matrix ``[..., m, n]``."""
        return self.A @ self.B

    @property
    def BA(self) -> torch.Tensor:
        """``B @ A`` ``[..., r, r]`` (square only when ``m == n``); same non-zero eigenvalues as ``AB``."""
        if self.A.shape[-2] != self.B.shape[-1]:
            raise ShapeError(f"BA needs a square matrix but this one has shape {self.shape}")
        return self.B @ self.A

    @property
    def T(self) -> "FactoredMatrix":
        """The transpose ``B^T A^T``."""
        return FactoredMatrix(self.B.transpose(-2, -1), self.A.transpose(-2, -1))

    def __matmul__(self, other: "torch.Tensor | FactoredMatrix") -> "FactoredMatrix":
        if isinstance(other, FactoredMatrix):
            return FactoredMatrix(self.A, (self.B @ other.A) @ other.B) if self.rank <= other.rank \
                else FactoredMatrix(self.A @ (self.B @ other.A), other.B)
        return FactoredMatrix(self.A, self.B @ other)

    def __rmatmul__(self, other: torch.Tensor) -> "FactoredMatrix":
        return FactoredMatrix(other @ self.A, self.B)

    def __getitem__(self, index) -> "FactoredMatrix":
        """Index the leading (batch) axes only, e.g. ``model.OV[1, 4]`` for layer 1, head 4."""
        index = index if isinstance(index, tuple) else (index,)
        if len(index) > self.A.dim() - 2:
            raise IndexError(f"FactoredMatrix of shape {self.shape} has only {self.A.dim() - 2} leading axes to index")
        return FactoredMatrix(self.A[index], self.B[index])

    def svd(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Thin SVD ``U [..., m, r], S [..., r], Vh [..., r, n]`` with ``AB = U diag(S) Vh``, computed from the factors."""
        Ua, Sa, Vha = torch.linalg.svd(self.A, full_matrices=False)  # A = Ua Sa Vha
        Ub, Sb, Vhb = torch.linalg.svd(self.B, full_matrices=False)  # B = Ub Sb Vhb
        core = (Sa[..., :, None] * (Vha @ Ub)) * Sb[..., None, :]  # [..., r', r'']
        Uc, S, Vhc = torch.linalg.svd(core, full_matrices=False)
        return Ua @ Uc, S, Vhc @ Vhb

    @property
    def S(self) -> torch.Tensor:
        """Singular values ``[..., min(r, m, n)]``, largest first."""
        return self.svd()[1]

    def norm(self) -> torch.Tensor:
        """Frobenius norm ``[...]`` of ``AB``, without forming it."""
        return self.S.pow(2).sum(-1).sqrt()

    @property
    def eigenvalues(self) -> torch.Tensor:
        """The (complex) eigenvalues ``[..., r]`` of a square ``AB``: those of ``BA``."""
        return torch.linalg.eigvals(self.BA)

    def __repr__(self) -> str:
        return f"FactoredMatrix(shape={self.shape}, rank={self.rank})"
