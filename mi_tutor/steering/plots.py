"""Figures of lesson 11; each returns ``(fig, data)`` so a test can check what was drawn."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import torch

__all__ = ["plot_reading_accuracy", "plot_steering_sweep", "plot_tracing_maps", "plot_edit_scores", "plot_iti"]


def plot_reading_accuracy(accuracy: Mapping[str, Sequence[float]], title: str = "reading accuracy by layer"):
    """One line per method (``{"mean": [...], "pca": [...], "random": [...]}``), layer 0 = embeddings."""
    fig, ax = plt.subplots(figsize=(5, 3))
    data = {}
    for name, acc in accuracy.items():
        acc = [float(a) for a in acc]
        ax.plot(range(len(acc)), acc, marker="o", label=name)
        data[name] = acc
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set(xlabel="residual stream before block (last = output)", ylabel="held-out accuracy", ylim=(0.4, 1.02),
           title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def plot_steering_sweep(coefficients: Sequence[float], latent: Mapping[str, Sequence[float]],
                        loss_increase: Mapping[str, Sequence[float]], title: str = "activation addition"):
    """Latent probability and off-target loss increase against the coefficient, one line per layer (or label)."""
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    coefficients = [float(c) for c in coefficients]
    data = {"coefficients": coefficients, "latent": {}, "loss_increase": {}}
    for name, ys in latent.items():
        axes[0].plot(coefficients, [float(y) for y in ys], marker="o", label=name)
        data["latent"][name] = [float(y) for y in ys]
    for name, ys in loss_increase.items():
        axes[1].plot(coefficients, [float(y) for y in ys], marker="o", label=name)
        data["loss_increase"][name] = [float(y) for y in ys]
    axes[0].set(xlabel="coefficient c", ylabel="P(positive) / P(positive or negative)", title=title)
    axes[1].set(xlabel="coefficient c", ylabel="fact loss increase (nats)", title="off-target cost", yscale="symlog")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def plot_tracing_maps(maps: Mapping[str, torch.Tensor], position_labels: Sequence[str], title: str = "causal tracing"):
    """Heatmaps ``[n_layers, pos]`` (one per kind: residual, MLP, attention) of the share of the clean probability
    recovered by restoring each state."""
    fig, axes = plt.subplots(1, len(maps), figsize=(3.6 * len(maps), 3.0), squeeze=False)
    data = {}
    for ax, (name, m) in zip(axes[0], maps.items()):
        m = torch.as_tensor(m).detach().cpu().float()
        im = ax.imshow(m.T, cmap="Purples", vmin=0, vmax=1, aspect="auto")
        ax.set(xlabel="layer", title=f"restore {name}", xticks=range(m.shape[0]))
        ax.set_yticks(range(len(position_labels)), position_labels)
        fig.colorbar(im, ax=ax, fraction=0.046)
        data[name] = m.tolist()
    fig.suptitle(title)
    fig.tight_layout()
    return fig, data


def plot_edit_scores(scores: Mapping[str, Mapping[str, float]], title: str = "rank-one edits"):
    """Grouped bars: for each edit site (``"layer 0, subject"``...) its efficacy, paraphrase, specificity."""
    metrics = ["efficacy", "paraphrase", "specificity"]
    fig, ax = plt.subplots(figsize=(1.8 + 1.6 * len(scores), 3.2))
    width = 0.8 / len(metrics)
    data = {}
    for j, metric in enumerate(metrics):
        ys = [float(s[metric]) for s in scores.values()]
        ax.bar([i + (j - 1) * width for i in range(len(scores))], ys, width, label=metric)
        data[metric] = ys
    ax.set_xticks(range(len(scores)), list(scores), fontsize=8)
    ax.set(ylim=(0, 1.05), ylabel="share of prompts", title=title)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    data["sites"] = list(scores)
    return fig, data


def plot_iti(alphas: Sequence[float], curves: Mapping[str, Sequence[float]], title: str = "inference-time intervention"):
    """Probability of the true object in rumour contexts against alpha, top-K heads versus random heads."""
    fig, ax = plt.subplots(figsize=(5, 3))
    data = {"alphas": [float(a) for a in alphas]}
    for name, ys in curves.items():
        ax.plot(data["alphas"], [float(y) for y in ys], marker="o", label=name)
        data[name] = [float(y) for y in ys]
    ax.set(xlabel="alpha", ylabel="P(true object | rumour)", title=title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data
