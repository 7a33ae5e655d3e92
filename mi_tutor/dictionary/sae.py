"""A sparse autoencoder (SAE): a ReLU encoder and a decoder with unit-norm rows.

``f = ReLU((x - b_dec) W_enc + b_enc)`` is a sparse code of ``x`` over a
dictionary of ``d_sae`` directions (the decoder rows ``W_dec[i]``), and
``x_hat = f W_dec + b_dec`` rebuilds ``x`` from it. The loss is

    ``L = mean_batch ||x - x_hat||^2 + l1_coeff * mean_batch sum_i f_i ||W_dec[i]||``

(squared error summed over ``d_in``, averaged over the batch; the L1 penalty
weighted by decoder norms, so shrinking codes while growing the decoder cannot
cheat it). The decoder rows are kept at unit norm after every step anyway.
Coefficients from other conventions (a sum over the batch, an MSE averaged
over ``d_in``) do not transfer.

Examples:
    >>> sae = SparseAutoencoder(SAEConfig(d_in=4, d_sae=16))
    >>> x_hat, f = sae(torch.randn(8, 4))
    >>> x_hat.shape, f.shape
    (torch.Size([8, 4]), torch.Size([8, 16]))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import torch
from torch import nn

from ..validation import check_range, check_tensor

__all__ = ["SAEConfig", "SAELoss", "SparseAutoencoder", "sae_encode", "sae_decode", "sae_loss",
           "normalize_rows", "remove_parallel_component"]


def sae_encode(x: torch.Tensor, W_enc: torch.Tensor, b_enc: torch.Tensor, b_dec: torch.Tensor) -> torch.Tensor:
    """Latent activations ``f = ReLU((x - b_dec) W_enc + b_enc)``.

    Args:
        x: ``[batch, d_in]`` inputs.
        W_enc: ``[d_in, d_sae]`` encoder.
        b_enc: ``[d_sae]`` encoder bias.
        b_dec: ``[d_in]`` decoder bias (subtracted first, so the code sees centred inputs).

    Returns:
        ``[batch, d_sae]`` non-negative activations.

    Examples:
        >>> sae_encode(torch.ones(1, 2), torch.eye(2), torch.tensor([0.0, -2.0]), torch.zeros(2))
        tensor([[1., 0.]])
    """
    dims = check_tensor("x", x, ("batch", "d_in"), floating=True)
    dims = check_tensor("W_enc", W_enc, ("d_in", "d_sae"), dims=dims)
    check_tensor("b_enc", b_enc, ("d_sae",), dims=dims)
    check_tensor("b_dec", b_dec, ("d_in",), dims=dims)
    return torch.relu((x - b_dec) @ W_enc + b_enc)


def sae_decode(f: torch.Tensor, W_dec: torch.Tensor, b_dec: torch.Tensor) -> torch.Tensor:
    """Reconstruction ``x_hat = f W_dec + b_dec``.

    Args:
        f: ``[batch, d_sae]`` latent activations.
        W_dec: ``[d_sae, d_in]`` decoder; row ``i`` is latent ``i``'s direction.
        b_dec: ``[d_in]`` decoder bias.

    Returns:
        ``[batch, d_in]``.

    Examples:
        >>> sae_decode(torch.tensor([[2.0, 0.0]]), torch.eye(2), torch.ones(2))
        tensor([[3., 1.]])
    """
    dims = check_tensor("f", f, ("batch", "d_sae"), floating=True)
    dims = check_tensor("W_dec", W_dec, ("d_sae", "d_in"), dims=dims)
    check_tensor("b_dec", b_dec, ("d_in",), dims=dims)
    return f @ W_dec + b_dec


class SAELoss(NamedTuple):
    """The loss and its two parts, each a scalar tensor."""

    total: torch.Tensor
    mse: torch.Tensor
    l1: torch.Tensor


def sae_loss(x: torch.Tensor, x_hat: torch.Tensor, f: torch.Tensor, W_dec: torch.Tensor,
             l1_coeff: float) -> SAELoss:
    """Reconstruction plus decoder-norm-weighted L1 penalty.

    ``mse = mean_b sum_d (x - x_hat)^2``, ``l1 = mean_b sum_i f_i ||W_dec[i]||``,
    ``total = mse + l1_coeff * l1``.

    Args:
        x: ``[batch, d_in]`` inputs.
        x_hat: ``[batch, d_in]`` reconstructions.
        f: ``[batch, d_sae]`` latent activations.
        W_dec: ``[d_sae, d_in]`` decoder.
        l1_coeff: Sparsity coefficient, ``>= 0``.

    Returns:
        :class:`SAELoss` ``(total, mse, l1)``.

    Examples:
        >>> x = torch.zeros(2, 3); f = torch.ones(2, 4)
        >>> sae_loss(x, x + 1, f, 2 * torch.eye(4, 3), l1_coeff=0.5).total   # 3 + 0.5 * 6
        tensor(6.)
    """
    dims = check_tensor("x", x, ("batch", "d_in"), floating=True)
    dims = check_tensor("x_hat", x_hat, ("batch", "d_in"), dims=dims)
    dims = check_tensor("f", f, ("batch", "d_sae"), dims=dims)
    check_tensor("W_dec", W_dec, ("d_sae", "d_in"), dims=dims)
    check_range("l1_coeff", l1_coeff, 0.0, float("inf"))
    mse = ((x - x_hat) ** 2).sum(-1).mean()
    l1 = (f * W_dec.norm(dim=-1)).sum(-1).mean()
    return SAELoss(mse + l1_coeff * l1, mse, l1)


def normalize_rows(W: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``W`` with every row scaled to unit norm: ``[n, d] -> [n, d]``.

    Examples:
        >>> normalize_rows(torch.tensor([[3.0, 4.0]]))
        tensor([[0.6000, 0.8000]])
    """
    check_tensor("W", W, ("n", "d"), floating=True)
    return W / W.norm(dim=-1, keepdim=True).clamp_min(eps)


def remove_parallel_component(grad: torch.Tensor, W: torch.Tensor) -> torch.Tensor:
    """The part of ``grad`` orthogonal to each unit-norm row of ``W``.

    A step along the row itself would only change its norm, which the
    renormalisation undoes; removing that component keeps Adam's statistics
    about directions only.

    Args:
        grad: ``[n, d]`` gradient of the loss with respect to ``W``.
        W: ``[n, d]`` weights with unit-norm rows.

    Returns:
        ``[n, d]`` with ``(result * W).sum(-1) == 0`` for every row.

    Examples:
        >>> remove_parallel_component(torch.tensor([[1.0, 1.0]]), torch.tensor([[1.0, 0.0]]))
        tensor([[0., 1.]])
    """
    dims = check_tensor("grad", grad, ("n", "d"), floating=True)
    check_tensor("W", W, ("n", "d"), dims=dims)
    return grad - (grad * W).sum(-1, keepdim=True) * W


@dataclass
class SAEConfig:
    """Size and sparsity of an SAE.

    Attributes:
        d_in: Width of the activations it encodes.
        d_sae: Number of latents (dictionary size); ``d_sae > d_in`` is overcomplete.
        l1_coeff: Weight of the L1 penalty (in this module's convention).
        seed: Seeds the initialisation.
    """

    d_in: int = 8
    d_sae: int = 32
    l1_coeff: float = 0.1
    seed: int = 0


class SparseAutoencoder(nn.Module):
    """An SAE with tied-at-init weights (``W_enc = W_dec^T``) and unit-norm decoder rows.

    Parameters: ``W_enc [d_in, d_sae]``, ``b_enc [d_sae]``, ``W_dec [d_sae, d_in]``,
    ``b_dec [d_in]``. The latent activations pass through ``hook_latents``.

    Examples:
        >>> sae = SparseAutoencoder(SAEConfig(d_in=3, d_sae=6))
        >>> sae.W_dec.detach().norm(dim=-1)
        tensor([1.0000, 1.0000, 1.0000, 1.0000, 1.0000, 1.0000])
    """

    def __init__(self, cfg: SAEConfig | None = None):
        super().__init__()
        self.cfg = cfg = cfg or SAEConfig()
        if cfg.d_in < 1 or cfg.d_sae < 1:
            raise ValueError(f"SAEConfig sizes must be positive, got d_in={cfg.d_in}, d_sae={cfg.d_sae}")
        check_range("l1_coeff", cfg.l1_coeff, 0.0, float("inf"))
        g = torch.Generator().manual_seed(cfg.seed)
        W_dec = normalize_rows(torch.randn(cfg.d_sae, cfg.d_in, generator=g))
        self.W_dec = nn.Parameter(W_dec)
        self.W_enc = nn.Parameter(W_dec.T.clone())
        self.b_enc = nn.Parameter(torch.zeros(cfg.d_sae))
        self.b_dec = nn.Parameter(torch.zeros(cfg.d_in))
        self.hook_latents = nn.Identity()

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """``[batch, d_in] -> [batch, d_sae]`` latent activations."""
        return self.hook_latents(sae_encode(x, self.W_enc, self.b_enc, self.b_dec))

    def decode(self, f: torch.Tensor) -> torch.Tensor:
        """``[batch, d_sae] -> [batch, d_in]`` reconstruction."""
        return sae_decode(f, self.W_dec, self.b_dec)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return ``(x_hat [batch, d_in], f [batch, d_sae])``."""
        f = self.encode(x)
        return self.decode(f), f

    def loss(self, x: torch.Tensor, l1_coeff: float | None = None) -> SAELoss:
        """:func:`sae_loss` on the batch ``x`` (``l1_coeff`` defaults to the config's)."""
        x_hat, f = self(x)
        coeff = self.cfg.l1_coeff if l1_coeff is None else l1_coeff
        return sae_loss(x, x_hat, f, self.W_dec, coeff)

    @torch.no_grad()
    def normalize_decoder_(self) -> None:
        """Rescale every decoder row to unit norm, in place."""
        self.W_dec.copy_(normalize_rows(self.W_dec))

    @torch.no_grad()
    def remove_parallel_grad_(self) -> None:
        """Project the decoder's gradient onto the tangent of the unit sphere, in place."""
        if self.W_dec.grad is not None:
            self.W_dec.grad.copy_(remove_parallel_component(self.W_dec.grad, normalize_rows(self.W_dec)))

    def extra_repr(self) -> str:
        return f"d_in={self.cfg.d_in}, d_sae={self.cfg.d_sae}, l1_coeff={self.cfg.l1_coeff}"
