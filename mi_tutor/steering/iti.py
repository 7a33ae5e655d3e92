"""Inference-time intervention (Li et al. 2023): probe every attention head, shift the best ones.

For each head, a logistic-regression probe on the head's output ``z``
(``blocks.L.attn.hook_z``, ``[d_head]``) at the last position predicts a binary
label (true versus false statements). The **top-K** heads by validation
accuracy are shifted at inference by ``alpha x sigma x u``: ``u`` the unit
mass-mean direction of the head (mean of class 1 minus mean of class 0),
``sigma`` the standard deviation of the head's activations along ``u``. The
control shifts K **random** heads the same way.

Examples:
    >>> acts = torch.randn(40, 2, 3, 4)  # [batch, layer, head, d_head]
    >>> labels = torch.arange(40) % 2
    >>> acts[labels == 1, 1, 2, 0] += 5.0
    >>> acc = probe_accuracies(acts, labels)
    >>> top_heads(acc, 1)
    [(1, 2)]
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..validation import check_position_list, check_tensor

__all__ = ["head_activations", "probe_accuracies", "top_heads", "random_heads", "mass_mean_directions",
           "mass_mean_accuracy", "ITIShift", "iti_shift", "iti_hooks", "iti_logits"]


@torch.no_grad()
def head_activations(model, tokens: torch.Tensor, position: int = -1) -> torch.Tensor:
    """``hook_z`` of every head at ``position``: ``[batch, n_layers, n_heads, d_head]``."""
    check_tensor("tokens", tokens, ("batch", "pos"))
    names = [f"blocks.{l}.attn.hook_z" for l in range(model.cfg.n_layers)]
    _, cache = model.run_with_cache(tokens, names_filter=names)
    return torch.stack([cache[n][:, position] for n in names], dim=1)


def _fit_probe(x: torch.Tensor, y: torch.Tensor, steps: int = 200, l2: float = 1e-2) -> tuple[torch.Tensor, torch.Tensor]:
    """Logistic regression on standardised features by L-BFGS: returns (weight, bias) in the standardised space."""
    w = torch.zeros(x.shape[1], dtype=x.dtype, requires_grad=True)
    b = torch.zeros((), dtype=x.dtype, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=steps, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(x @ w + b, y) + l2 * w.pow(2).sum()
        loss.backward()
        return loss
    opt.step(closure)
    return w.detach(), b.detach()


def probe_accuracies(acts: torch.Tensor, labels: torch.Tensor, val_frac: float = 0.3, seed: int = 0) -> torch.Tensor:
    """Validation accuracy ``[n_layers, n_heads]`` of a logistic probe per head.

    Args:
        acts: ``[batch, n_layers, n_heads, d_head]`` (from :func:`head_activations`).
        labels: ``[batch]`` 0/1.
        val_frac: Share of the examples held out for validation.
        seed: Seed of the split.
    """
    check_tensor("acts", acts, ("batch", "n_layers", "n_heads", "d_head"), floating=True)
    check_tensor("labels", labels, (acts.shape[0],))
    n = acts.shape[0]
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    k = max(1, int(round(val_frac * n)))
    val, tr = perm[:k], perm[k:]
    y = labels.double().cpu()
    x_all = acts.detach().double().cpu()
    out = torch.zeros(acts.shape[1], acts.shape[2])
    for layer in range(acts.shape[1]):
        for head in range(acts.shape[2]):
            x = x_all[:, layer, head]
            mu, sd = x[tr].mean(0), x[tr].std(0).clamp_min(1e-6)
            x = (x - mu) / sd
            w, b = _fit_probe(x[tr], y[tr])
            out[layer, head] = ((x[val] @ w + b > 0).double() == y[val]).double().mean()
    return out


def top_heads(accuracies: torch.Tensor, k: int) -> list[tuple[int, int]]:
    """The ``k`` heads ``(layer, head)`` with the highest accuracy (ties: lower layer, then head, first)."""
    check_tensor("accuracies", accuracies, ("n_layers", "n_heads"))
    if not isinstance(k, int) or not 1 <= k <= accuracies.numel():
        raise ValueError(f"`k` is {k!r}: use an int in 1 .. {accuracies.numel()} (the number of heads)")
    flat = accuracies.flatten()
    order = sorted(range(len(flat)), key=lambda i: (-float(flat[i]), i))[:k]
    n_heads = accuracies.shape[1]
    return [(i // n_heads, i % n_heads) for i in order]


def random_heads(n_layers: int, n_heads: int, k: int, seed: int = 0, exclude=()) -> list[tuple[int, int]]:
    """``k`` heads drawn at random without replacement (optionally not from ``exclude``)."""
    pool = [(l, h) for l in range(n_layers) for h in range(n_heads) if (l, h) not in set(exclude)]
    if not 1 <= k <= len(pool):
        raise ValueError(f"`k` is {k!r}: only {len(pool)} heads to draw from")
    perm = torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:k]
    return [pool[i] for i in perm.tolist()]


def mass_mean_directions(acts: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit mass-mean direction ``[n_layers, n_heads, d_head]`` (class 1 minus class 0) and the standard deviation
    ``[n_layers, n_heads]`` of every head's activations along it."""
    check_tensor("acts", acts, ("batch", "n_layers", "n_heads", "d_head"), floating=True)
    labels = labels.to(acts.device).bool()
    d = acts[labels].mean(0) - acts[~labels].mean(0)
    u = d / d.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    sigma = torch.einsum("blhd,lhd->blh", acts, u).std(0)
    return u, sigma


def mass_mean_accuracy(acts: torch.Tensor, labels: torch.Tensor, test_acts: torch.Tensor, test_labels: torch.Tensor
                       ) -> torch.Tensor:
    """How well each head's mass-mean direction, fitted on ``acts``, tells the classes of ``test_acts`` apart.

    Every head's examples are projected on its :func:`mass_mean_directions` direction and called class 1 above
    the midpoint of the two fitted class means, so no parameter is fitted on the test examples (for example
    subjects the direction never saw).

    Args:
        acts: ``[batch, n_layers, n_heads, d_head]`` head outputs the directions are fitted on.
        labels: ``[batch]`` 0/1.
        test_acts: ``[test, n_layers, n_heads, d_head]`` head outputs to score.
        test_labels: ``[test]`` 0/1.

    Returns:
        ``[n_layers, n_heads]`` accuracy on the test examples.

    Examples:
        >>> acts, labels = torch.randn(40, 1, 2, 3), torch.arange(40) % 2
        >>> acts[labels == 1, 0, 1] += 4.0
        >>> test, test_labels = torch.randn(20, 1, 2, 3), torch.arange(20) % 2
        >>> test[test_labels == 1, 0, 1] += 4.0
        >>> mass_mean_accuracy(acts, labels, test, test_labels)[0, 1].item() >= 0.9
        True
    """
    check_tensor("test_acts", test_acts, ("test", "n_layers", "n_heads", "d_head"), floating=True)
    if test_acts.shape[1:] != acts.shape[1:]:
        raise ValueError(f"`test_acts` has heads of shape {tuple(test_acts.shape[1:])} but `acts` "
                         f"{tuple(acts.shape[1:])}")
    u, _ = mass_mean_directions(acts, labels)
    labels = labels.to(acts.device).bool()
    fit = torch.einsum("blhd,lhd->blh", acts, u)
    middle = (fit[labels].mean(0) + fit[~labels].mean(0)) / 2
    said = torch.einsum("blhd,lhd->blh", test_acts, u.to(test_acts)) > middle.to(test_acts)
    return (said == test_labels.to(test_acts.device).bool()[:, None, None]).float().mean(0)


@dataclass
class ITIShift:
    """The shift of :func:`iti_shift`: ``heads`` and the ``[d_head]`` vector added to each."""

    heads: list[tuple[int, int]]
    vectors: dict[tuple[int, int], torch.Tensor]


def iti_shift(heads: list[tuple[int, int]], directions: torch.Tensor, sigmas: torch.Tensor, alpha: float) -> ITIShift:
    """``alpha * sigma[l, h] * directions[l, h]`` for every chosen head."""
    check_tensor("directions", directions, ("n_layers", "n_heads", "d_head"), floating=True)
    for l, h in heads:
        if not (0 <= l < directions.shape[0] and 0 <= h < directions.shape[1]):
            raise ValueError(f"`heads` holds {(l, h)} but the model has {directions.shape[0]} layers of "
                             f"{directions.shape[1]} heads")
    return ITIShift(heads=list(heads), vectors={(l, h): alpha * sigmas[l, h] * directions[l, h] for l, h in heads})


def iti_hooks(shift: ITIShift, positions=None) -> list:
    """Hooks on ``blocks.L.attn.hook_z`` adding the shift of each chosen head at ``positions`` (None: all)."""
    by_layer: dict[int, list[int]] = {}
    for l, h in shift.heads:
        by_layer.setdefault(l, []).append(h)

    def make(layer):
        def hook(z, hook):
            z = z.clone()
            where = check_position_list("positions", positions, z.shape[1])
            for h in by_layer[layer]:
                z[:, where, h] = z[:, where, h] + shift.vectors[(layer, h)].to(z)
            return z
        return hook
    return [(f"blocks.{l}.attn.hook_z", make(l)) for l in by_layer]


def iti_logits(model, tokens: torch.Tensor, shift: ITIShift, positions=None) -> torch.Tensor:
    """Logits ``[batch, pos, d_vocab]`` with the ITI shift applied."""
    return model.run_with_hooks(tokens, fwd_hooks=iti_hooks(shift, positions))
