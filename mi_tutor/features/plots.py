"""Figures of lesson 2. Every helper returns ``(fig, data)``: tests check the data.

Examples:
    >>> fig, data = plot_probe_accuracy({"input": 0.2, "layer1": 0.5})
    >>> data["accuracy"]
    [0.2, 0.5]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from typing import Any

import matplotlib.pyplot as plt
import torch

from .atlas import Atlas
from .dissection import IOU_THRESHOLD, Dissection

__all__ = ["plot_part_masks", "plot_probe_accuracy", "plot_dissection_counts", "plot_concept_types",
           "plot_direction_comparison", "plot_atlas"]


def plot_part_masks(images: torch.Tensor, part_masks: Mapping[str, torch.Tensor], indices: Sequence[int],
                    titles: Sequence[str] | None = None) -> tuple[plt.Figure, Any]:
    """Scenes (top row) above their part masks (bottom row), one colour per part, from the world's masks.

    Args:
        images: ``[n, 3, H, W]`` scenes.
        part_masks: Part name -> ``[n, H, W]`` bool masks of the same scenes.
        indices: Which scenes to show.
        titles: Optional title per shown scene.

    Returns:
        ``(fig, {"label_map": [k, H, W] long part index (-1 = no part), "parts": [names per scene]})``;
        where parts overlap, the later part in ``part_masks`` wins.
    """
    names = list(part_masks)
    idx = torch.as_tensor(list(indices), dtype=torch.long)
    label_map = torch.full((len(idx), *images.shape[-2:]), -1, dtype=torch.long)
    for p, name in enumerate(names):
        label_map[part_masks[name][idx].cpu()] = p
    palette = plt.get_cmap("tab20")(torch.arange(len(names)).numpy() % 20)[:, :3]
    fig, axes = plt.subplots(2, len(idx), figsize=(1.6 * len(idx), 3.6), squeeze=False)
    present = []
    for j, i in enumerate(idx.tolist()):
        axes[0, j].imshow(images[i].detach().cpu().permute(1, 2, 0).clamp(0, 1).numpy())
        canvas = torch.ones(*images.shape[-2:], 3)
        parts_here = [names[p] for p in label_map[j].unique().tolist() if p >= 0]
        for p in label_map[j].unique().tolist():
            if p >= 0:
                canvas[label_map[j] == p] = torch.tensor(palette[p], dtype=torch.float32)
        axes[1, j].imshow(canvas.numpy())
        axes[1, j].set_title(", ".join(parts_here), fontsize=6)
        if titles is not None:
            axes[0, j].set_title(titles[j], fontsize=8)
        present.append(parts_here)
        for ax in axes[:, j]:
            ax.axis("off")
    fig.suptitle("scenes and their part masks (one colour per part)", fontsize=9)
    fig.tight_layout()
    return fig, {"label_map": label_map, "parts": present}


def plot_probe_accuracy(accuracy: Mapping[str, float] | Mapping[str, Mapping[str, float]],
                        chance: float | None = None) -> tuple[plt.Figure, Any]:
    """Line plot of probe accuracy against depth (one line per probe kind when nested).

    Returns:
        ``(fig, data)`` with ``data["layers"]`` and ``data["accuracy"]`` (a
        list, or a dict of lists per probe kind).
    """
    fig, ax = plt.subplots(figsize=(5, 3))
    nested = isinstance(next(iter(accuracy.values())), Mapping)
    series = accuracy if nested else {"probe": accuracy}
    layers = list(next(iter(series.values())))
    data = {"layers": layers, "accuracy": {}}
    for kind, values in series.items():
        ys = [values[name] for name in layers]
        data["accuracy"][kind] = ys
        ax.plot(layers, ys, marker="o", label=kind)
    if chance is not None:
        ax.axhline(chance, color="grey", ls="--", lw=1, label="chance")
    ax.set_ylabel("held-out accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize=8)
    fig.tight_layout()
    if not nested:
        data["accuracy"] = data["accuracy"]["probe"]
    return fig, data


def plot_dissection_counts(result: Dissection, threshold: float = IOU_THRESHOLD,
                           title: str = "") -> tuple[plt.Figure, Any]:
    """Bar chart of detector units per concept (IoU above ``threshold``).

    Returns:
        ``(fig, counts)`` with ``counts`` concept -> number of units.
    """
    counts = result.counts(threshold)
    fig, ax = plt.subplots(figsize=(6, 2.8))
    ax.bar(list(counts), list(counts.values()), color="tab:blue")
    ax.set_ylabel(f"units with IoU > {threshold}")
    ax.set_title(title or "network dissection", fontsize=9)
    ax.tick_params(axis="x", rotation=45, labelsize=8)
    fig.tight_layout()
    return fig, counts


def plot_concept_types(per_layer: Mapping[str, Mapping[str, int]], units: Mapping[str, int] | None = None
                       ) -> tuple[plt.Figure, Any]:
    """Stacked bars: per layer, the detector units of each concept type (part, object, colour, ...).

    Args:
        per_layer: Layer -> concept type -> number of detectors (e.g. :func:`type_counts`).
        units: Optional layer -> number of units, written above each bar.

    Returns:
        ``(fig, {"layers": [...], "types": [...], "counts": {type: [count per layer]}})``.
    """
    layers = list(per_layer)
    types = list(dict.fromkeys(t for counts in per_layer.values() for t in counts))
    data = {"layers": layers, "types": types, "counts": {t: [per_layer[k].get(t, 0) for k in layers] for t in types}}
    fig, ax = plt.subplots(figsize=(5.5, 3))
    bottom = [0] * len(layers)
    for t in types:
        ax.bar(layers, data["counts"][t], bottom=bottom, label=t)
        bottom = [b + c for b, c in zip(bottom, data["counts"][t])]
    if units is not None:
        for x, name in enumerate(layers):
            ax.text(x, bottom[x] + 0.5, f"of {units[name]}", ha="center", fontsize=7)
    ax.set_ylabel(f"detectors (IoU > {IOU_THRESHOLD})")
    ax.set_title("what each layer's units dissect as", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig, data


def plot_direction_comparison(direction_iou: float, neurons: Sequence[int], neuron_iou: Sequence[float],
                              concept: str) -> tuple[plt.Figure, Any]:
    """Bars: the IoU of a direction next to the IoUs of the neurons it mixes.

    Returns:
        ``(fig, {"direction": iou, "neurons": {unit: iou}})``.
    """
    fig, ax = plt.subplots(figsize=(5, 2.8))
    names = ["direction"] + [f"unit {u}" for u in neurons]
    values = [direction_iou] + list(neuron_iou)
    ax.bar(names, values, color=["tab:orange"] + ["tab:blue"] * len(neurons))
    ax.axhline(IOU_THRESHOLD, color="grey", ls="--", lw=1)
    ax.set_ylabel(f"IoU with '{concept}'")
    fig.tight_layout()
    return fig, {"direction": direction_iou, "neurons": dict(zip(neurons, neuron_iou))}


def plot_atlas(atlas: Atlas, images: torch.Tensor | None = None,
               label_names: Sequence[str] | None = None) -> tuple[plt.Figure, Any]:
    """Scatter of the 2-D layout (coloured by label) and, if ``images`` are given,
    the grid of each cell's representative image.

    Returns:
        ``(fig, {"coords": ..., "counts": ..., "example": ...})``.
    """
    ncols = 2 if images is not None else 1
    fig, axes = plt.subplots(1, ncols, figsize=(4.2 * ncols, 4), squeeze=False)
    ax = axes[0, 0]
    c = atlas.labels.numpy() if atlas.labels is not None else None
    sc = ax.scatter(atlas.coords[:, 0].numpy(), atlas.coords[:, 1].numpy(), c=c, s=4, cmap="tab10")
    ax.set_title("activations, PCA layout", fontsize=9)
    if c is not None and label_names is not None:
        handles = sc.legend_elements()[0]
        ax.legend(handles, label_names[:len(handles)], fontsize=6, loc="best")
    if images is not None:
        n = atlas.counts.shape[0]
        h, w = images.shape[-2:]
        canvas = torch.ones(3, n * h, n * w)
        for r in range(n):
            for col in range(n):
                idx = int(atlas.example[n - 1 - r, col])  # row 0 at the top = largest y
                if idx >= 0:
                    canvas[:, r * h:(r + 1) * h, col * w:(col + 1) * w] = images[idx]
        axes[0, 1].imshow(canvas.permute(1, 2, 0).numpy())
        axes[0, 1].set_title("one example per cell", fontsize=9)
        axes[0, 1].axis("off")
    fig.tight_layout()
    return fig, {"coords": atlas.coords, "counts": atlas.counts, "example": atlas.example}
