"""Reading vectors (representation engineering, Zou et al. 2023): a direction that separates two concepts.

Collect the residual stream at one position for paired stimuli (the same text
with the concept flipped), then take either the **mean difference** of the two
groups or the first **principal component of the paired differences**
(RepE's LAT with ``n_difference=1``); a **random** direction is the baseline.
A direction *reads* the concept when the projection of a state on it, with a
threshold halfway between the two groups' mean projections, tells them apart.

Examples:
    >>> pos = 0.1 * torch.randn(20, 8) + torch.tensor([2.0] + [0.0] * 7)
    >>> neg = pos - torch.tensor([4.0] + [0.0] * 7)
    >>> v = mean_difference_vector(pos, neg)
    >>> reading_accuracy(torch.cat([pos, neg]), torch.tensor([1] * 20 + [0] * 20), v)
    1.0
"""

from __future__ import annotations

import torch

from ..validation import ShapeError, check_tensor

__all__ = ["residual_states", "mean_difference_vector", "pca_reading_vector", "random_reading_vector",
           "project", "reading_accuracy", "reading_accuracy_by_layer", "cosine"]


@torch.no_grad()
def residual_states(model, tokens: torch.Tensor, position: int = -1) -> torch.Tensor:
    """Residual stream at ``position`` before every block and after the last: ``[n_layers + 1, batch, d_model]``.

    Entry ``L < n_layers`` is ``blocks.L.hook_resid_pre``; entry ``n_layers`` is the last block's ``hook_resid_post``.
    """
    check_tensor("tokens", tokens, ("batch", "pos"))
    n = model.cfg.n_layers
    names = [f"blocks.{l}.hook_resid_pre" for l in range(n)] + [f"blocks.{n - 1}.hook_resid_post"]
    _, cache = model.run_with_cache(tokens, names_filter=names)
    return torch.stack([cache[name][:, position] for name in names])


def _pair(pos: torch.Tensor, neg: torch.Tensor) -> None:
    dims = check_tensor("pos_acts", pos, ("batch", "d_model"), floating=True)
    check_tensor("neg_acts", neg, ("batch", "d_model"), dims=dims, floating=True)


def mean_difference_vector(pos_acts: torch.Tensor, neg_acts: torch.Tensor) -> torch.Tensor:
    """Unit vector along ``mean(pos_acts) - mean(neg_acts)`` (``[n_pos, d_model]``, ``[n_neg, d_model]``; the
    groups need not be paired) -> ``[d_model]``."""
    dims = check_tensor("pos_acts", pos_acts, ("n_pos", "d_model"), floating=True)
    check_tensor("neg_acts", neg_acts, (None, dims["d_model"]), floating=True)
    v = pos_acts.mean(0) - neg_acts.mean(0)
    return v / v.norm().clamp_min(1e-12)


def pca_reading_vector(pos_acts: torch.Tensor, neg_acts: torch.Tensor) -> torch.Tensor:
    """First principal component of the paired differences, as a unit vector ``[d_model]``.

    RepE (``n_difference=1``) presents each pair in random order, so the differences point both ways;
    here every second difference ``pos_acts[i] - neg_acts[i]`` is negated, the differences are recentred,
    and the top right singular vector is signed so the positive members project higher (PCA has no sign).
    Without the flips, recentring would remove the very mean difference that carries the concept.

    Examples:
        >>> pos = torch.tensor([[3.0, 0.0], [1.0, 0.1]]); neg = torch.tensor([[0.0, 0.0], [0.0, 0.0]])
        >>> pca_reading_vector(pos, neg)[0] > 0
        tensor(True)
    """
    _pair(pos_acts, neg_acts)
    diffs = pos_acts - neg_acts  # [batch, d_model]
    signs = torch.ones(diffs.shape[0], 1, dtype=diffs.dtype, device=diffs.device)
    signs[1::2] = -1  # RepE presents each pair in random order: differences point both ways
    flipped = diffs * signs
    centred = flipped - flipped.mean(0)
    _, _, vh = torch.linalg.svd(centred.double(), full_matrices=False)
    v = vh[0].to(pos_acts.dtype)
    if (diffs @ v).mean() < 0:
        v = -v
    return v


def random_reading_vector(d_model: int, seed: int = 0) -> torch.Tensor:
    """A random unit vector ``[d_model]`` (the baseline every reading vector must beat)."""
    g = torch.Generator().manual_seed(seed)
    v = torch.randn(d_model, generator=g)
    return v / v.norm()


def project(acts: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """Projection ``[batch]`` of ``acts [batch, d_model]`` on ``direction [d_model]``."""
    dims = check_tensor("acts", acts, ("batch", "d_model"), floating=True)
    check_tensor("direction", direction, (dims["d_model"],), floating=True)
    return acts @ direction.to(acts)


def reading_accuracy(acts: torch.Tensor, labels: torch.Tensor, direction: torch.Tensor) -> float:
    """Accuracy of ``projection > threshold`` (midpoint of the two classes' mean projections) at telling
    ``labels`` (1/0) apart; the side of class 1 is taken from the class means, so a flipped direction reads as well.
    """
    scores = project(acts, direction)
    labels = labels.to(scores.device).bool()
    if labels.all() or not labels.any():
        raise ValueError("`labels` must hold both classes (1 and 0)")
    mu1, mu0 = scores[labels].mean(), scores[~labels].mean()
    pred = (scores > (mu1 + mu0) / 2) if mu1 >= mu0 else (scores < (mu1 + mu0) / 2)
    return float((pred == labels).float().mean())


def cosine(a: torch.Tensor, b: torch.Tensor) -> float:
    """Cosine similarity of two vectors."""
    return float(torch.nn.functional.cosine_similarity(a.flatten().double(), b.flatten().double(), dim=0))


@torch.no_grad()
def reading_accuracy_by_layer(model, pos_tokens: torch.Tensor, neg_tokens: torch.Tensor, method: str = "mean",
                              position: int = -1, train_frac: float = 0.5, seed: int = 0) -> torch.Tensor:
    """Reading accuracy ``[n_layers + 1]`` of a direction fitted on part of the pairs, scored on the rest.

    Args:
        model: The transformer.
        pos_tokens, neg_tokens: Paired prompts ``[batch, pos]`` (same shape).
        method: ``"mean"``, ``"pca"`` or ``"random"``.
        position: Where to read the residual stream.
        train_frac: Share of the pairs that fit the direction.
        seed: Seed of the split (and of the random direction).
    """
    if pos_tokens.shape != neg_tokens.shape:
        raise ShapeError(f"`pos_tokens` {tuple(pos_tokens.shape)} and `neg_tokens` {tuple(neg_tokens.shape)} "
                         "must be paired: the same shape")
    fit = {"mean": mean_difference_vector, "pca": pca_reading_vector,
           "random": lambda p, n: random_reading_vector(p.shape[1], seed).to(p)}
    if method not in fit:
        raise ValueError(f"`method` is {method!r}: use one of {sorted(fit)}")
    pos_states, neg_states = residual_states(model, pos_tokens, position), residual_states(model, neg_tokens, position)
    n = pos_tokens.shape[0]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    k = max(1, min(n - 1, int(round(train_frac * n))))
    tr, te = perm[:k], perm[k:]
    out = []
    for layer in range(model.cfg.n_layers + 1):
        v = fit[method](pos_states[layer, tr], neg_states[layer, tr])
        acts = torch.cat([pos_states[layer, te], neg_states[layer, te]])
        labels = torch.cat([torch.ones(len(te)), torch.zeros(len(te))])
        out.append(reading_accuracy(acts, labels, v))
    return torch.tensor(out)
