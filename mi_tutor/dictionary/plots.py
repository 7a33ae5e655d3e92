"""Figures for sparse autoencoders; every helper returns ``(fig, data)``.

Examples:
    >>> fig, data = plot_sparsity_sweep([0.01, 0.1], [5.0, 2.0], [0.99, 0.9])
    >>> data["l0"].tolist()
    [5.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure
import torch

__all__ = ["plot_training", "plot_sparsity_sweep", "plot_feature_recovery", "plot_purity", "plot_latent_concepts"]


def plot_training(history: dict[str, list[float]]) -> tuple[Figure, dict]:
    """Loss, L0 and dead fraction over training (from :class:`SAETrainResult.history`).

    Returns:
        ``(fig, data)`` with the history's lists as tensors.
    """
    data = {k: torch.tensor(v, dtype=torch.float32) for k, v in history.items()}
    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6))
    for ax, key, title in zip(axes, ("loss", "l0", "dead_fraction"), ("loss", "L0", "dead fraction")):
        ax.plot(data["step"].numpy(), data[key].numpy())
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("step", fontsize=8)
    axes[0].set_yscale("log")
    fig.tight_layout()
    return fig, data


def plot_sparsity_sweep(
    l1_coeffs: Sequence[float], l0: Sequence[float], fve: Sequence[float],
) -> tuple[Figure, dict]:
    """L0 and variance explained against the L1 coefficient (the sparsity-fidelity trade-off).

    Returns:
        ``(fig, data)`` with ``data = {"l1_coeff", "l0", "fve"}`` tensors ``[n]``.
    """
    data = {"l1_coeff": torch.tensor(l1_coeffs, dtype=torch.float32),
            "l0": torch.tensor(l0, dtype=torch.float32), "fve": torch.tensor(fve, dtype=torch.float32)}
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.plot(data["l1_coeff"].numpy(), data["l0"].numpy(), marker="o", color="tab:blue")
    ax.set_xscale("log")
    ax.set_xlabel("L1 coefficient")
    ax.set_ylabel("L0 (active latents)", color="tab:blue")
    twin = ax.twinx()
    twin.plot(data["l1_coeff"].numpy(), data["fve"].numpy(), marker="s", color="tab:red")
    twin.set_ylabel("variance explained", color="tab:red")
    fig.tight_layout()
    return fig, data


def plot_feature_recovery(learned: torch.Tensor, true: torch.Tensor) -> tuple[Figure, dict]:
    """Cosine similarity between every true feature (rows) and every learned direction (columns).

    Columns are ordered by which true feature they match best, so a recovered
    dictionary shows a bright diagonal.

    Returns:
        ``(fig, data)`` with ``data = {"cosines": [n_true, n_learned], "max_cosine": [n_true]}``.
    """
    a = learned.detach().float().cpu()
    b = true.detach().float().cpu()
    cos = (b / b.norm(dim=-1, keepdim=True).clamp_min(1e-8)) @ (a / a.norm(dim=-1, keepdim=True).clamp_min(1e-8)).T
    order = torch.argsort(cos.argmax(0) * 2.0 - cos.amax(0))
    fig, ax = plt.subplots(figsize=(6, 2.8))
    im = ax.imshow(cos[:, order].numpy(), cmap="RdBu_r", vmin=-1, vmax=1, aspect="auto")
    ax.set_xlabel("SAE latent (decoder row), sorted")
    ax.set_ylabel("true feature")
    fig.colorbar(im, ax=ax, shrink=0.8)
    fig.tight_layout()
    return fig, {"cosines": cos, "max_cosine": cos.amax(-1)}


def plot_purity(neuron_purity: torch.Tensor, latent_purity: torch.Tensor) -> tuple[Figure, dict]:
    """Histograms of concept purity for neurons and SAE latents (``nan`` entries dropped).

    Returns:
        ``(fig, data)`` with ``data = {"neurons", "latents"}`` (finite purities)
            and their means ``"neuron_mean"``, ``"latent_mean"``.
    """
    n = neuron_purity.detach().float().cpu()
    s = latent_purity.detach().float().cpu()
    n, s = n[~n.isnan()], s[~s.isnan()]
    fig, ax = plt.subplots(figsize=(5, 3))
    bins = torch.linspace(0, 1, 21).tolist()
    ax.hist(n.tolist(), bins=bins, alpha=0.6, density=True, label=f"neurons (mean {n.mean():.2f})")
    ax.hist(s.tolist(), bins=bins, alpha=0.6, density=True, label=f"SAE latents (mean {s.mean():.2f})")
    ax.set_xlabel("concept purity")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, {"neurons": n, "latents": s, "neuron_mean": n.mean(), "latent_mean": s.mean()}


def plot_latent_concepts(
    acts: torch.Tensor, concepts: torch.Tensor, names: Sequence[str], n_units: int = 12,
) -> tuple[Figure, dict]:
    """Share of each unit's activation on each concept, for the most active units.

    Returns:
        ``(fig, data)`` with ``data = {"units": [n_units], "share": [n_units, n_concepts]}``.
    """
    a = acts.detach().float().cpu().clamp_min(0)
    units = a.sum(0).argsort(descending=True)[:n_units]
    share = (a[:, units].T @ concepts.float()) / a[:, units].sum(0)[:, None].clamp_min(1e-12)
    fig, ax = plt.subplots(figsize=(6, 0.25 * len(units) + 1.2))
    ax.imshow(share.numpy(), cmap="Greens", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(len(names)), list(names), rotation=45, fontsize=7)
    ax.set_yticks(range(len(units)), [str(int(u)) for u in units], fontsize=7)
    ax.set_ylabel("unit")
    fig.tight_layout()
    return fig, {"units": units, "share": share}
