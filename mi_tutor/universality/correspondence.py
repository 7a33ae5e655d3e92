"""Layer-correspondence maps: every layer of net A against every layer of net B.

Kornblith et al.'s test of a similarity index: across two seeds of one
architecture, the layer of B most similar to layer ``i`` of A should be layer
``i`` (same depth). :func:`correspondence_map` builds the table,
:func:`identify_layers` reads its argmax, :func:`plot_correspondence` draws it
and returns its data.

Examples:
    >>> g = torch.Generator().manual_seed(0)
    >>> fa = {f"l{i}": torch.randn(64, 5, generator=g) for i in range(3)}
    >>> cmap = correspondence_map(fa, fa)
    >>> identify_layers(cmap)
    [0, 1, 2]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from .cka import linear_cka

__all__ = ["CorrespondenceMap", "correspondence_map", "identify_layers", "identification_accuracy",
           "plot_correspondence"]

Similarity = Callable[[torch.Tensor, torch.Tensor], float]


@dataclass
class CorrespondenceMap:
    """Similarity of every layer of A (rows) with every layer of B (columns).

    Attributes:
        values: ``[len(layers_a), len(layers_b)]``.
        layers_a: Row names.
        layers_b: Column names.
    """

    values: torch.Tensor
    layers_a: list[str]
    layers_b: list[str]


def correspondence_map(features_a: Mapping[str, torch.Tensor], features_b: Mapping[str, torch.Tensor],
                       similarity: Similarity = linear_cka) -> CorrespondenceMap:
    """Similarity of each layer of A with each layer of B, on the same examples.

    Args:
        features_a: ``{layer: [n_examples, d]}`` of net A (in depth order).
        features_b: ``{layer: [n_examples, d]}`` of net B, same examples, same order.
        similarity: ``(X, Y) -> float``; linear CKA by default.

    Returns:
        A :class:`CorrespondenceMap` (float64 values).
    """
    if not features_a or not features_b:
        raise ValueError(f"`features_a` has {len(features_a)} layers and `features_b` {len(features_b)}; "
                         "both need at least one")
    la, lb = list(features_a), list(features_b)
    values = torch.tensor([[similarity(features_a[a], features_b[b]) for b in lb] for a in la],
                          dtype=torch.float64)
    return CorrespondenceMap(values, la, lb)


def identify_layers(cmap: CorrespondenceMap) -> list[int]:
    """For each layer of A, the index of the most similar layer of B."""
    return cmap.values.argmax(1).tolist()


def identification_accuracy(cmaps: list[CorrespondenceMap]) -> float:
    """Fraction of (map, layer) cases where the best match sits at the same depth.

    Every map must be square (same architecture: layer ``i`` of A <-> layer ``i`` of B).
    """
    hits, total = 0, 0
    for m in cmaps:
        if m.values.shape[0] != m.values.shape[1]:
            raise ValueError(f"a map has shape {tuple(m.values.shape)}; layer identification needs square maps")
        best = identify_layers(m)
        hits += sum(int(b == i) for i, b in enumerate(best))
        total += len(best)
    if total == 0:
        raise ValueError("`cmaps` is empty")
    return hits / total


def plot_correspondence(cmap: CorrespondenceMap, title: str = "", ax=None, label: str = "linear CKA"):
    """Heatmap of a :class:`CorrespondenceMap`; returns ``(figure, values)``.

    The best match of each row is marked with a dot.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(1.2 + 0.6 * len(cmap.layers_b), 1.0 + 0.6 * len(cmap.layers_a)))
    else:
        fig = ax.figure
    im = ax.imshow(cmap.values.numpy(), vmin=0, vmax=1, cmap="viridis", origin="upper")
    for i, j in enumerate(identify_layers(cmap)):
        ax.plot(j, i, "o", color="white", markersize=4)
    ax.set_xticks(range(len(cmap.layers_b)), cmap.layers_b, rotation=45, ha="right")
    ax.set_yticks(range(len(cmap.layers_a)), cmap.layers_a)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label=label, shrink=0.8)
    return fig, cmap.values
