"""The phase diagram of superposition: 2 features in 1 dimension.

One feature has importance 1, the *extra* feature a relative importance
``r``; both share the density ``p`` (feature probability). Depending on
``(p, r)`` the trained ``W`` (shape ``[2, 1]``) lands in one of three phases:

- ``NOT_LEARNED`` (0): the extra feature is dropped, ``W ~ [1, 0]``;
- ``DEDICATED`` (1): the extra feature takes the dimension, ``W ~ [0, 1]``;
- ``ANTIPODAL`` (2): both share it with opposite signs, ``W ~ [1, -1]``.

Every grid point is trained ``n_repeats`` times, all as instances of one
batched model, and the lowest-loss repeat is kept (the paper drops the worst
of ten for the same reason: some runs get stuck).

Examples:
    >>> classify_phase(torch.tensor([[[1.0], [0.0]], [[0.0], [1.0]], [[1.0], [-1.0]]]))
    tensor([0, 1, 2])
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..validation import ShapeError, check_range
from .data import log_spaced
from .geometry import check_feature_weights
from .model import ToyModel, ToyModelConfig
from .train import ToyTrainConfig, train_toy_model

__all__ = [
    "NOT_LEARNED",
    "DEDICATED",
    "ANTIPODAL",
    "OTHER",
    "PHASE_NAMES",
    "PhaseDiagramConfig",
    "PhaseDiagram",
    "classify_phase",
    "phase_grid_model",
    "phase_diagram_from_model",
    "run_phase_diagram",
]

NOT_LEARNED, DEDICATED, ANTIPODAL, OTHER = 0, 1, 2, -1
PHASE_NAMES = {NOT_LEARNED: "not learned", DEDICATED: "dedicated dimension", ANTIPODAL: "antipodal pair",
               OTHER: "other"}


def classify_phase(W: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Name the phase of 2-features-in-1-dimension weights.

    Args:
        W: ``[..., 2, 1]``; row 0 is the important feature, row 1 the extra one.
        threshold: A feature counts as learned when ``|W_j| >= threshold``.

    Returns:
        ``[...]`` long tensor: ``NOT_LEARNED`` (extra feature dropped),
        ``DEDICATED`` (only the extra feature kept), ``ANTIPODAL`` (both kept
        with opposite signs) or ``OTHER`` (neither, or both with the same sign).

    Examples:
        >>> classify_phase(torch.tensor([[0.9], [-1.1]]))
        tensor(2)
    """
    check_feature_weights(W, n_features=2)
    if W.shape[-1] != 1:
        raise ShapeError(f"`W` has shape {tuple(W.shape)} but expected (..., 2, 1): 2 features in 1 dimension.")
    check_range("threshold", threshold, 1e-12, float("inf"))
    w0, w1 = W[..., 0, 0], W[..., 1, 0]
    first, extra = w0.abs() >= threshold, w1.abs() >= threshold
    phase = torch.full(w0.shape, OTHER, dtype=torch.long, device=W.device)
    phase[first & ~extra] = NOT_LEARNED
    phase[~first & extra] = DEDICATED
    phase[first & extra & (w0 * w1 < 0)] = ANTIPODAL
    return phase


@dataclass
class PhaseDiagramConfig:
    """The grid of a phase diagram.

    Attributes:
        n_importance: Rows: relative importances of the extra feature, log-spaced.
        n_density: Columns: feature probabilities, log-spaced from dense to sparse.
        importance_range: ``(low, high)`` relative importance.
        density_range: ``(dense, sparse)`` feature probability.
        n_repeats: Models trained per grid point; the lowest loss is kept.
    """

    n_importance: int = 9
    n_density: int = 9
    importance_range: tuple[float, float] = (0.1, 10.0)
    density_range: tuple[float, float] = (1.0, 0.01)
    n_repeats: int = 4


@dataclass
class PhaseDiagram:
    """A computed phase diagram.

    Attributes:
        importances: ``[n_importance]`` relative importance of the extra feature (rows).
        densities: ``[n_density]`` feature probabilities (columns).
        phases: ``[n_importance, n_density]`` phase codes (see :func:`classify_phase`).
        W: ``[n_importance, n_density, 2, 1]`` weights of the kept repeat.
        loss: ``[n_importance, n_density]`` loss of the kept repeat.
    """

    importances: torch.Tensor
    densities: torch.Tensor
    phases: torch.Tensor
    W: torch.Tensor
    loss: torch.Tensor

    def counts(self) -> dict[str, int]:
        """Number of grid points in each phase, by name."""
        return {name: int((self.phases == code).sum()) for code, name in PHASE_NAMES.items()}


def phase_grid_model(cfg: PhaseDiagramConfig | None = None, device: torch.device | str | None = None) -> ToyModel:
    """An untrained batched model with one instance per (importance, density, repeat).

    Instance ``k`` sits at ``(k // (n_density * n_repeats), (k // n_repeats) % n_density, k % n_repeats)``.
    """
    cfg = cfg or PhaseDiagramConfig()
    imps = log_spaced(*cfg.importance_range, cfg.n_importance)
    dens = log_spaced(*cfg.density_range, cfg.n_density)
    check_range("density_range", dens, 0.0, 1.0)
    grid_i, grid_d, _ = torch.meshgrid(imps, dens, torch.arange(cfg.n_repeats, dtype=imps.dtype), indexing="ij")
    n = grid_i.numel()
    importance = torch.stack([torch.ones(n), grid_i.flatten()], -1)          # [n, 2]
    prob = grid_d.flatten()[:, None].expand(n, 2)                           # [n, 2]
    model = ToyModel(ToyModelConfig(n_features=2, d_hidden=1, n_instances=n), importance, prob)
    return model.to(device) if device is not None else model


def phase_diagram_from_model(model: ToyModel, final_loss: torch.Tensor,
                             cfg: PhaseDiagramConfig | None = None) -> PhaseDiagram:
    """Keep the best repeat of every grid point of a trained :func:`phase_grid_model`."""
    cfg = cfg or PhaseDiagramConfig()
    shape = (cfg.n_importance, cfg.n_density, cfg.n_repeats)
    W = model.W.detach().cpu().reshape(*shape, 2, 1)
    loss = final_loss.detach().cpu().reshape(shape)
    best = loss.argmin(-1)                                                  # [n_imp, n_dens]
    W_best = torch.gather(W, 2, best[..., None, None, None].expand(*best.shape, 1, 2, 1)).squeeze(2)
    return PhaseDiagram(
        importances=log_spaced(*cfg.importance_range, cfg.n_importance),
        densities=log_spaced(*cfg.density_range, cfg.n_density),
        phases=classify_phase(W_best),
        W=W_best,
        loss=loss.gather(2, best[..., None]).squeeze(2),
    )


def run_phase_diagram(
    cfg: PhaseDiagramConfig | None = None,
    train: ToyTrainConfig | None = None,
    device: torch.device | str | None = None,
    progress: bool = True,
) -> PhaseDiagram:
    """Train the whole grid as one batched model and classify every point.

    Examples:
        >>> small = PhaseDiagramConfig(n_importance=2, n_density=2, n_repeats=1)
        >>> run_phase_diagram(small, ToyTrainConfig(steps=5), progress=False).phases.shape
        torch.Size([2, 2])
    """
    cfg = cfg or PhaseDiagramConfig()
    model = phase_grid_model(cfg, device)
    result = train_toy_model(model, train or ToyTrainConfig(steps=2000, lr=1e-2), progress=progress)
    return phase_diagram_from_model(model, result.final_loss, cfg)
