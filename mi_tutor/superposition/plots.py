"""Figures of the toy models; every helper returns ``(fig, data)``.

``data`` holds the numbers drawn, so tests (and lesson checks) verify a
figure through its data rather than by eye.

Examples:
    >>> W = torch.randn(3, 5, 2)
    >>> fig, data = plot_features_2d(W)
    >>> data["norms"].shape
    torch.Size([3, 5])
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
import torch

from ..validation import ShapeError
from .geometry import check_feature_weights, dimensions_per_feature, feature_dimensionality, gram_matrix
from .phase import PHASE_NAMES, PhaseDiagram

__all__ = ["STICKY_FRACTIONS", "plot_gram", "plot_features_2d", "plot_dimensionality", "plot_phase_diagram",
           "plot_neuron_weights"]

STICKY_FRACTIONS = {"1": 1.0, "3/4": 0.75, "2/3": 2 / 3, "1/2": 0.5, "2/5": 0.4, "3/8": 0.375}


def _titles(n: int, labels: Sequence[str] | None) -> list[str]:
    if labels is not None and len(labels) != n:
        raise ValueError(f"`labels` has {len(labels)} entries but there are {n} instances")
    return list(labels) if labels is not None else [f"instance {k}" for k in range(n)]


def _as_instances(W: torch.Tensor) -> torch.Tensor:
    W = W.detach().float().cpu()
    return W[None] if W.dim() == 2 else W


def plot_gram(W: torch.Tensor, labels: Sequence[str] | None = None) -> tuple[Figure, dict]:
    """Heatmaps of ``W W^T`` (interference between features) for every instance.

    Args:
        W: ``[n_instances, n_features, d_hidden]`` (or one instance without the first axis).
        labels: A title per instance.

    Returns:
        ``(fig, data)`` with ``data = {"gram": [n_instances, n_features, n_features],
            "norms": [n_instances, n_features]}``.
    """
    check_feature_weights(W, n_features=W.shape[-2])
    W = _as_instances(W)
    gram = gram_matrix(W, n_features=W.shape[-2])
    n = W.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(1.6 * n + 1, 2.2), squeeze=False)
    lim = float(gram.abs().max().clamp_min(1e-6))
    for ax, g, title in zip(axes[0], gram, _titles(n, labels)):
        im = ax.imshow(g.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim)
        ax.set_title(title, fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=list(axes[0]), shrink=0.8)
    fig.suptitle("W Wᵀ: diagonal = feature norm², off-diagonal = interference", fontsize=9)
    return fig, {"gram": gram, "norms": W.norm(dim=-1)}


def plot_features_2d(
    W: torch.Tensor, labels: Sequence[str] | None = None, importance: torch.Tensor | None = None,
) -> tuple[Figure, dict]:
    """Draw each feature's direction ``W_j`` as a spoke in the 2-D hidden space.

    Args:
        W: ``[n_instances, n_features, 2]``.
        labels: A title per instance.
        importance: ``[n_features]`` colours the spokes (darker = more important).

    Returns:
        ``(fig, data)`` with ``data = {"W": W, "norms": [n_instances, n_features],
            "dimensionality": [n_instances, n_features]}``.
    """
    W = _as_instances(W)
    check_feature_weights(W, n_features=W.shape[-2])
    if W.shape[-1] != 2:
        raise ShapeError(f"`W` has shape {tuple(W.shape)} but expected (n_instances, n_features, 2): "
                         f"this plot needs a 2-D hidden space.")
    n, n_f = W.shape[0], W.shape[1]
    shade = (importance.detach().float().cpu() if importance is not None else torch.ones(n_f))
    shade = 0.25 + 0.75 * shade / shade.max().clamp_min(1e-9)
    fig, axes = plt.subplots(1, n, figsize=(1.5 * n + 0.5, 1.9), squeeze=False)
    lim = max(1.2, float(W.abs().max()) * 1.1)
    for ax, w, title in zip(axes[0], W, _titles(n, labels)):
        for j in range(n_f):
            ax.plot([0, float(w[j, 0])], [0, float(w[j, 1])], color=plt.cm.viridis(1 - float(shade[j])), lw=1.5)
            ax.scatter([float(w[j, 0])], [float(w[j, 1])], color=plt.cm.viridis(1 - float(shade[j])), s=12)
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(title, fontsize=8)
    return fig, {"W": W, "norms": W.norm(dim=-1), "dimensionality": feature_dimensionality(W, n_features=n_f)}


def plot_dimensionality(
    W: torch.Tensor, feature_probability: torch.Tensor, min_norm: float = 0.1,
) -> tuple[Figure, dict]:
    """Dimensions per feature (line) and each feature's dimensionality (dots) against sparsity.

    The x-axis is ``1 / p`` (how rarely a feature is on), log-scaled; dotted
    lines mark the fractions where the paper sees features stick.

    Args:
        W: ``[n_instances, n_features, d_hidden]``.
        feature_probability: ``[n_instances]`` probability of each instance.
        min_norm: Features shorter than this are left out of the dots (not learned).

    Returns:
        ``(fig, data)`` with ``data = {"inverse_density": [n_instances],
            "dims_per_feature": [n_instances], "feature_dims": [n_instances, n_features]}``.
    """
    W = _as_instances(W)
    check_feature_weights(W)
    p = torch.as_tensor(feature_probability).detach().float().cpu().reshape(-1)
    if p.shape[0] != W.shape[0]:
        raise ShapeError(f"`feature_probability` has {p.shape[0]} values but `W` has {W.shape[0]} instances")
    dpf = dimensions_per_feature(W)
    fdims = feature_dimensionality(W)
    inv = 1 / p
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, frac in STICKY_FRACTIONS.items():
        ax.axhline(frac, color="grey", lw=0.6, ls=":")
        ax.text(float(inv.max()) * 1.05, frac, name, fontsize=7, va="center")
    learned = W.norm(dim=-1) > min_norm
    xs = inv[:, None].expand_as(fdims)[learned]
    jitter = torch.exp(0.03 * torch.randn(xs.shape, generator=torch.Generator().manual_seed(0)))
    ax.scatter((xs * jitter).numpy(), fdims[learned].numpy(), s=4, alpha=0.3, color="tab:blue",
               label="feature dimensionality")
    ax.plot(inv.numpy(), dpf.numpy(), color="black", marker="o", ms=3, label="dimensions per feature  m / ‖W‖²")
    ax.set_xscale("log")
    ax.set_xlabel("1 / feature probability")
    ax.set_ylabel("dimensions per feature")
    ax.set_ylim(0, 1.1)
    ax.legend(fontsize=7, loc="lower left")
    return fig, {"inverse_density": inv, "dims_per_feature": dpf, "feature_dims": fdims}


def plot_phase_diagram(diagram: PhaseDiagram) -> tuple[Figure, dict]:
    """The phase of every (density, relative importance) point as a coloured grid.

    Returns:
        ``(fig, data)`` with ``data = {"phases": [n_importance, n_density],
            "importances": ..., "densities": ..., "counts": {name: n}}``.
    """
    from matplotlib.colors import ListedColormap

    colours = ListedColormap(["lightgrey", "tab:orange", "tab:blue", "tab:green"])  # other, 0, 1, 2
    fig, ax = plt.subplots(figsize=(5, 4))
    ax.imshow((diagram.phases + 1).numpy(), cmap=colours, vmin=0, vmax=3, origin="lower", aspect="auto")
    ax.set_xticks(range(len(diagram.densities)), [f"{float(d):.2g}" for d in diagram.densities], fontsize=7)
    ax.set_yticks(range(len(diagram.importances)), [f"{float(r):.2g}" for r in diagram.importances], fontsize=7)
    ax.set_xlabel("feature probability (density)")
    ax.set_ylabel("relative importance of the extra feature")
    handles = [plt.Rectangle((0, 0), 1, 1, color=colours(code + 1)) for code in (0, 1, 2)]
    ax.legend(handles, [PHASE_NAMES[c] for c in (0, 1, 2)], fontsize=7, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig, {"phases": diagram.phases, "importances": diagram.importances,
                 "densities": diagram.densities, "counts": diagram.counts()}


def plot_neuron_weights(
    W: torch.Tensor, labels: Sequence[str] | None = None, threshold: float = 0.5,
) -> tuple[Figure, dict]:
    """Heatmaps of ``W`` (features x neurons) of privileged-basis models.

    A column with one strong entry is a monosemantic neuron; two or more strong
    entries make it polysemantic.

    Returns:
        ``(fig, data)`` with ``data = {"W": W, "features_per_neuron": [n_instances, d_hidden]}``.
    """
    from .geometry import neuron_feature_counts

    W = _as_instances(W)
    check_feature_weights(W)
    counts = neuron_feature_counts(W, threshold)
    n = W.shape[0]
    fig, axes = plt.subplots(1, n, figsize=(1.4 * n + 1, 2.6), squeeze=False)
    lim = float(W.abs().max().clamp_min(1e-6))
    for ax, w, c, title in zip(axes[0], W, counts, _titles(n, labels)):
        ax.imshow(w.numpy(), cmap="RdBu_r", vmin=-lim, vmax=lim, aspect="auto")
        ax.set_title(f"{title}\npolysemantic: {int((c >= 2).sum())}", fontsize=7)
        ax.set_xlabel("neuron", fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].set_ylabel("feature", fontsize=7)
    fig.tight_layout()
    return fig, {"W": W, "features_per_neuron": counts}
