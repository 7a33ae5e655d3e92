"""How good is a sparse autoencoder? Sparsity, dead latents, fidelity, recovery, monosemanticity.

- ``l0_norm``: mean number of latents active per input (lower = sparser).
- ``dead_latents``: latents that never fired on a batch.
- ``fraction_variance_explained``: ``1 - E||x - x_hat||^2 / E||x - E x||^2``.
- ``loss_recovered``: how much of a model's loss the SAE keeps when spliced in,
  ``(L_zero - L_sae) / (L_zero - L_clean)`` (1 = as good as the clean model,
  0 = as bad as zeroing the layer).
- ``mean_max_cosine_similarity``: for each ground-truth feature the best cosine
  with any learned direction, averaged (1 = every feature recovered).
- ``concept_purity``: for each unit, the largest share of its activation that
  falls on inputs of one concept label; a monosemanticity score on labelled data.

Examples:
    >>> l0_norm(torch.tensor([[0.0, 1.0, 2.0], [0.0, 0.0, 3.0]]))
    tensor(1.5000)
"""

from __future__ import annotations

import torch

from ..validation import check_range, check_tensor

__all__ = ["l0_norm", "dead_latents", "fraction_variance_explained", "loss_recovered",
           "mean_max_cosine_similarity", "max_cosine_similarity", "concept_purity"]


def l0_norm(f: torch.Tensor) -> torch.Tensor:
    """Mean number of non-zero latents per input: ``[batch, d_sae] -> []``.

    Examples:
        >>> l0_norm(torch.eye(3))
        tensor(1.)
    """
    check_tensor("f", f, ("batch", "d_sae"))
    return (f > 0).float().sum(-1).mean()


def dead_latents(f: torch.Tensor) -> torch.Tensor:
    """Which latents never fired on this batch: ``[batch, d_sae] -> [d_sae]`` bool.

    Examples:
        >>> dead_latents(torch.tensor([[0.0, 1.0], [0.0, 0.0]]))
        tensor([ True, False])
    """
    check_tensor("f", f, ("batch", "d_sae"))
    return ~(f > 0).any(0)


def fraction_variance_explained(x: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
    """``1 - sum ||x - x_hat||^2 / sum ||x - mean(x)||^2`` over the batch: ``[]``.

    The mean is taken per dimension over the batch, so a reconstruction that
    only outputs the mean explains 0 and a perfect one explains 1.

    Args:
        x: ``[batch, d]`` inputs.
        x_hat: ``[batch, d]`` reconstructions.

    Examples:
        >>> x = torch.tensor([[0.0], [2.0]])
        >>> fraction_variance_explained(x, torch.ones(2, 1))
        tensor(0.)
    """
    dims = check_tensor("x", x, ("batch", "d"), floating=True)
    check_tensor("x_hat", x_hat, ("batch", "d"), dims=dims)
    residual = ((x - x_hat) ** 2).sum()
    total = ((x - x.mean(0, keepdim=True)) ** 2).sum()
    return 1 - residual / total.clamp_min(1e-12)


def loss_recovered(clean: float | torch.Tensor, spliced: float | torch.Tensor,
                   ablated: float | torch.Tensor) -> torch.Tensor:
    """``(ablated - spliced) / (ablated - clean)``: the fraction of the loss gap the SAE closes.

    Examples:
        >>> loss_recovered(0.1, 0.2, 1.1)
        tensor(0.9000)
    """
    clean, spliced, ablated = (torch.as_tensor(v, dtype=torch.float32) for v in (clean, spliced, ablated))
    return (ablated - spliced) / (ablated - clean)


def max_cosine_similarity(learned: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """For each true feature, the largest cosine with any learned direction: ``[n_true]``.

    Args:
        learned: ``[n_learned, d]`` (e.g. the SAE's decoder rows).
        true: ``[n_true, d]`` ground-truth feature directions.

    Examples:
        >>> max_cosine_similarity(torch.eye(2), torch.tensor([[1.0, 1.0]]))
        tensor([0.7071])
    """
    dims = check_tensor("learned", learned, ("n_learned", "d"), floating=True)
    check_tensor("true", true, ("n_true", "d"), dims=dims)
    a = learned / learned.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    b = true / true.norm(dim=-1, keepdim=True).clamp_min(1e-8)
    return (b @ a.T).amax(-1)


def mean_max_cosine_similarity(learned: torch.Tensor, true: torch.Tensor) -> torch.Tensor:
    """MMCS: the mean over true features of :func:`max_cosine_similarity`: ``[]``.

    Examples:
        >>> mean_max_cosine_similarity(torch.eye(3), torch.eye(3)[:2])
        tensor(1.)
    """
    return max_cosine_similarity(learned, true).mean()


def concept_purity(acts: torch.Tensor, concepts: torch.Tensor, min_active: float = 0.01) -> torch.Tensor:
    """Monosemanticity of each unit on labelled data: activation-weighted concept purity.

    For unit ``u`` the purity is the largest share of its total activation
    that falls on inputs showing one concept,
    ``max_c sum_{n in c} a[n, u] / sum_n a[n, u]`` (negative activations count
    as 0). A unit that fires only on red disks scores 1 (all its activation is
    on "red" inputs, and on "disk" ones); a unit that fires a little on
    everything scores the base rate of the commonest concept (about 1/4 for
    four shape kinds); a unit firing for "red or disk" lands in between.
    Units active on fewer than ``min_active`` of the inputs are left out
    (``nan``): a handful of examples says little.

    Args:
        acts: ``[n_inputs, n_units]`` activations.
        concepts: ``[n_inputs, n_concepts]`` bool, whether each input shows each concept.
        min_active: Smallest fraction of inputs a scored unit must be active on, in ``[0, 1]``.

    Returns:
        ``[n_units]`` purities in ``[0, 1]`` (``nan`` for rarely active units).

    Examples:
        >>> acts = torch.tensor([[3.0, 1.0], [2.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
        >>> concepts = torch.tensor([[1, 0], [1, 0], [0, 1], [0, 1]]).bool()
        >>> concept_purity(acts, concepts)
        tensor([1.0000, 0.5000])
    """
    dims = check_tensor("acts", acts, ("n_inputs", "n_units"), floating=True)
    check_tensor("concepts", concepts, ("n_inputs", "n_concepts"), dims=dims)
    check_range("min_active", min_active, 0.0, 1.0)
    a = acts.clamp_min(0)
    mass = a.T @ concepts.to(a.dtype)                        # [n_units, n_concepts]
    purity = mass.amax(-1) / a.sum(0).clamp_min(1e-12)      # [n_units]
    active = (a > 0).to(a.dtype).mean(0)
    keep = (active >= min_active) & (active > 0)
    return torch.where(keep, purity, torch.full_like(purity, float("nan")))
