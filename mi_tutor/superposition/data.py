"""Sparse synthetic features for the toy models of superposition.

Each feature is zero with probability ``1 - p`` and otherwise uniform on
``[0, 1]``; ``p`` (the *feature probability*, one minus the sparsity ``S``) may
differ per instance and per feature, so a sweep over sparsity trains as one
batched model.

Examples:
    >>> p = torch.tensor([1.0, 0.05])
    >>> x = generate_batch(4, p, n_features=5, generator=torch.Generator().manual_seed(0))
    >>> x.shape
    torch.Size([4, 2, 5])
"""

from __future__ import annotations

import torch

from ..validation import ShapeError, check_range

__all__ = ["as_instance_tensor", "generate_batch", "importance_decay", "log_spaced"]


def as_instance_tensor(
    name: str,
    value: float | torch.Tensor,
    n_instances: int | None,
    n_features: int,
    *,
    vector: str = "features",
) -> torch.Tensor:
    """Broadcast a per-model setting to shape ``[n_instances, n_features]``.

    ``value`` may be a number, a vector, an ``[n_instances, 1]`` column or the
    full ``[n_instances, n_features]`` matrix. A vector holds one value per
    feature (``vector="features"``, e.g. importances) or one per instance
    (``vector="instances"``, e.g. feature probabilities of a sparsity sweep).

    Args:
        name: The argument's name, quoted in errors.
        value: The setting.
        n_instances: Number of instances (``None``: take it from ``value``, 1 for a number).
        n_features: Number of features.
        vector: What a 1-D ``value`` indexes: ``"features"`` or ``"instances"``.

    Returns:
        A float32 tensor ``[n_instances, n_features]`` on the device of ``value``.

    Raises:
        ShapeError: when the shape fits no layout; the message names ``name``.

    Examples:
        >>> as_instance_tensor("importance", torch.ones(3), 2, 3).shape
        torch.Size([2, 3])
    """
    t = torch.as_tensor(value, dtype=torch.float32)
    if isinstance(value, torch.Tensor):
        t = t.to(value.device)
    if t.dim() == 0:
        return t.expand(n_instances or 1, n_features).clone()
    if t.dim() == 1:
        if vector == "features":
            if t.shape[0] != n_features:
                raise ShapeError(
                    f"`{name}` has shape {tuple(t.shape)} but expected ({n_features},): one value per "
                    f"feature (n_features={n_features}), or ({n_instances or 'n_instances'}, {n_features})."
                )
            return t[None, :].expand(n_instances or 1, n_features).clone()
        if n_instances is not None and t.shape[0] != n_instances:
            raise ShapeError(
                f"`{name}` has shape {tuple(t.shape)} but expected ({n_instances},): one value per "
                f"instance (n_instances={n_instances}), or ({n_instances}, {n_features})."
            )
        return t[:, None].expand(t.shape[0], n_features).clone()
    if t.dim() == 2:
        want_i = n_instances if n_instances is not None else t.shape[0]
        if t.shape[0] == want_i and t.shape[1] in (1, n_features):
            return t.expand(want_i, n_features).clone()
        raise ShapeError(
            f"`{name}` has shape {tuple(t.shape)} but expected ({want_i}, {n_features}) = "
            f"(n_instances, n_features), or ({want_i}, 1)."
        )
    raise ShapeError(
        f"`{name}` has shape {tuple(t.shape)}: {t.dim()} dimensions given; expected a number, "
        f"a vector or (n_instances, n_features)."
    )


def generate_batch(
    n_batch: int,
    feature_probability: float | torch.Tensor,
    n_features: int | None = None,
    *,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Draw a batch of sparse features, one set per instance.

    Each entry is ``U[0, 1]`` with probability ``feature_probability`` and 0
    otherwise, independently.

    Args:
        n_batch: Batch size.
        feature_probability: ``[n_instances, n_features]`` probabilities in
            ``[0, 1]``; an ``[n_instances]`` vector or a number is broadcast.
        n_features: Number of features; needed unless ``feature_probability``
            is a full ``[n_instances, n_features]`` matrix.
        generator: Random generator on the device of ``feature_probability``.

    Returns:
        ``[n_batch, n_instances, n_features]`` float tensor on the device of
        ``feature_probability``.

    Raises:
        ValueError: if a probability lies outside ``[0, 1]``.

    Examples:
        >>> x = generate_batch(1000, torch.tensor([[0.1, 0.1]]))
        >>> x.shape
        torch.Size([1000, 1, 2])
    """
    if isinstance(feature_probability, torch.Tensor) and feature_probability.dim() == 2 and n_features is None:
        n_features = feature_probability.shape[1]
    if n_features is None:
        raise ValueError("`n_features` is needed unless `feature_probability` is [n_instances, n_features]")
    check_range("feature_probability", torch.as_tensor(feature_probability, dtype=torch.float32), 0.0, 1.0)
    p = as_instance_tensor("feature_probability", feature_probability, None, n_features, vector="instances")
    # One uniform draw does both jobs: u < p happens with probability p, and
    # given that, u / p is uniform on [0, 1] (half the random numbers of two draws).
    u = torch.rand((n_batch, *p.shape), generator=generator, device=p.device)
    keep = u < p
    return torch.where(keep, u / p.clamp_min(1e-12), torch.zeros_like(u))


def importance_decay(n_features: int, decay: float, device: torch.device | str | None = None) -> torch.Tensor:
    """Importances ``decay ** i`` for ``i = 0 .. n_features - 1`` (shape ``[n_features]``).

    Examples:
        >>> importance_decay(3, 0.9)
        tensor([1.0000, 0.9000, 0.8100])
    """
    check_range("decay", decay, 0.0, float("inf"))
    return decay ** torch.arange(n_features, dtype=torch.float32, device=device)


def log_spaced(start: float, stop: float, n: int, device: torch.device | str | None = None) -> torch.Tensor:
    """``n`` values from ``start`` to ``stop`` evenly spaced in log space (shape ``[n]``).

    Examples:
        >>> log_spaced(1.0, 0.01, 3)
        tensor([1.0000, 0.1000, 0.0100])
    """
    if start <= 0 or stop <= 0:
        raise ValueError(f"`start` and `stop` must be positive, got {start} and {stop}")
    return torch.logspace(torch.log10(torch.tensor(start)).item(), torch.log10(torch.tensor(stop)).item(),
                          n, device=device)
