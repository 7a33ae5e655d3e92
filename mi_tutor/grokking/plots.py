"""Figures of lesson 10; each returns ``(fig, data)`` so a test can check what was drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch

__all__ = ["plot_accuracy_curves", "plot_frequency_norms", "plot_neuron_clusters", "plot_progress_measures",
           "plot_weight_norm"]

_PHASE_COLOURS = {"memorisation": "tab:red", "circuit formation": "tab:orange", "clean-up": "tab:green"}


def _shade(ax, phases: Mapping[str, tuple[int, int]] | None) -> None:
    for name, (a, b) in (phases or {}).items():
        ax.axvspan(max(a, 1), max(b, 1), color=_PHASE_COLOURS.get(name, "grey"), alpha=0.12, label=name)


def plot_accuracy_curves(curves: Mapping[str, Sequence[float]], title: str = "", loss: bool = True,
                         phases: Mapping[str, tuple[int, int]] | None = None):
    """Train and test accuracy (and loss) against the step, on a log step axis.

    Args:
        curves: With ``steps``, ``train_acc``, ``test_acc`` (and ``train_loss``, ``test_loss`` if ``loss``).
    """
    steps = [max(s, 1) for s in curves["steps"]]
    ncols = 2 if loss else 1
    fig, axes = plt.subplots(1, ncols, figsize=(5.2 * ncols, 3.2), squeeze=False)
    ax = axes[0, 0]
    ax.plot(steps, curves["train_acc"], label="train")
    ax.plot(steps, curves["test_acc"], label="test")
    _shade(ax, phases)
    ax.set(xscale="log", xlabel="step", ylabel="accuracy", title=title or "accuracy")
    ax.legend(fontsize=8)
    data = {"steps": list(curves["steps"]), "train_acc": list(curves["train_acc"]), "test_acc": list(curves["test_acc"])}
    if loss:
        ax = axes[0, 1]
        ax.plot(steps, curves["train_loss"], label="train")
        ax.plot(steps, curves["test_loss"], label="test")
        ax.set(xscale="log", yscale="log", xlabel="step", ylabel="loss", title="cross-entropy")
        ax.legend(fontsize=8)
        data.update(train_loss=list(curves["train_loss"]), test_loss=list(curves["test_loss"]))
    fig.tight_layout()
    return fig, data


def plot_frequency_norms(norms: torch.Tensor, keys: Sequence[int] = (), title: str = "embedding"):
    """Bar chart of the Fourier norm of each frequency ``k = 1 .. (p-1)/2``, key frequencies highlighted."""
    norms = norms.detach().cpu().float()
    k = torch.arange(1, len(norms) + 1)
    fig, ax = plt.subplots(figsize=(8, 2.8))
    colours = ["tab:red" if int(i) in set(keys) else "tab:blue" for i in k]
    ax.bar(k.tolist(), norms.tolist(), color=colours)
    ax.set(xlabel="frequency k", ylabel="norm", title=f"{title}: Fourier norm per frequency (red: key)")
    fig.tight_layout()
    return fig, {"freqs": k.tolist(), "norms": norms.tolist(), "keys": list(keys)}


def plot_neuron_clusters(fractions: torch.Tensor, threshold: float = 0.85):
    """Neurons sorted by their best frequency: a heatmap of the share of variance each frequency explains.

    Args:
        fractions: ``[n_neurons, (p-1)/2]`` from ``neuron_frequency_fractions``.
    """
    fr = fractions.detach().cpu().float()
    best, which = fr.max(1)
    order = torch.argsort(which * 10 + (1 - best))
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw={"width_ratios": [3, 2]})
    im = axes[0].imshow(fr[order].T, aspect="auto", cmap="viridis", vmin=0, vmax=1, origin="lower",
                        extent=(0, fr.shape[0], 0.5, fr.shape[1] + 0.5))
    axes[0].set(xlabel="neuron (sorted by best frequency)", ylabel="frequency k", title="share of variance")
    fig.colorbar(im, ax=axes[0])
    single = best > threshold
    counts = torch.bincount(which[single] + 1, minlength=fr.shape[1] + 1)[1:]
    axes[1].bar(range(1, fr.shape[1] + 1), counts.tolist())
    axes[1].set(xlabel="frequency k", ylabel="neurons",
                title=f"neurons with > {threshold:.0%} from one frequency: {int(single.sum())}/{fr.shape[0]}")
    fig.tight_layout()
    return fig, {"best_freq": (which + 1).tolist(), "best_share": best.tolist(), "counts": counts.tolist(),
                 "share_single": float(single.float().mean())}


def plot_progress_measures(steps: Sequence[int], measures: Mapping[str, Sequence[float]],
                           phases: Mapping[str, tuple[int, int]] | None = None, title: str = "progress measures"):
    """Losses over the checkpoints (log loss axis) with the phases shaded."""
    fig, ax = plt.subplots(figsize=(7.5, 3.4))
    _shade(ax, phases)
    for name, values in measures.items():
        ax.plot(list(steps), [max(float(v), 1e-9) for v in values], marker=".", label=name)
    ax.set(yscale="log", xlabel="step", ylabel="loss", title=title)
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return fig, {"steps": list(steps), **{k: [float(v) for v in vs] for k, vs in measures.items()},
                 "phases": dict(phases or {})}


def plot_weight_norm(curves: Mapping[str, Mapping[str, Sequence[float]]],
                     phases: Mapping[str, tuple[int, int]] | None = None):
    """Sum of squared weights against the step for one or more runs (``{label: curves}``)."""
    fig, ax = plt.subplots(figsize=(6, 3))
    _shade(ax, phases)
    data = {}
    for label, c in curves.items():
        ax.plot(c["steps"], c["weight_norm"], label=label)
        data[label] = {"steps": list(c["steps"]), "weight_norm": list(c["weight_norm"])}
    ax.set(xlabel="step", ylabel="sum of squared weights", title="weight norm")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data
