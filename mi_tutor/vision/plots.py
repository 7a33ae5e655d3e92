"""Figures for the vision lessons. Every helper returns ``(figure, data)``."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

__all__ = ["show_images", "show_feature_maps", "plot_bars", "plot_curve"]


def show_images(images: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 8, scale: float = 1.3,
                suptitle: str | None = None):
    """Show ``[n, 3, H, W]`` images in a grid.

    Args:
        images: ``[n, 3, H, W]`` images in ``[0, 1]`` (values outside are clipped).
        titles: Optional title per image.
        ncols: Images per row.
        scale: Inches per image.
        suptitle: Optional title of the whole figure.

    Returns:
        ``(fig, images)`` with the images as shown (``[n, H, W, 3]``, CPU).

    Examples:
        >>> fig, shown = show_images(torch.rand(3, 3, 8, 8), ["a", "b", "c"], ncols=2, suptitle="three")
        >>> tuple(shown.shape)
        (3, 8, 8, 3)
    """
    shown = images.detach().float().cpu().permute(0, 2, 3, 1).clamp(0, 1)
    n = len(shown)
    ncols = max(1, min(ncols, n))
    nrows = (n + ncols - 1) // ncols
    height = (scale + 0.15) * nrows + (0.3 if suptitle else 0.0)
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols, height), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(shown[i].numpy())
            if titles is not None:
                ax.set_title(titles[i], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=9)
    fig.tight_layout()
    return fig, shown


def show_feature_maps(maps: torch.Tensor, title: str = "", ncols: int = 8):
    """Show the channels of one activation ``[channels, H, W]`` as heatmaps.

    Returns:
        ``(fig, maps)`` with the maps on the CPU.
    """
    maps = maps.detach().cpu()
    n = len(maps)
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.2 * ncols, 1.3 * nrows + 0.3), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(maps[i].numpy(), cmap="magma")
            ax.set_title(str(i), fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig, maps


def plot_bars(values: torch.Tensor, xlabel: str, ylabel: str, title: str = "", highlight: int | None = None):
    """A bar chart of ``values`` ``[n]``, one bar per index.

    Returns:
        ``(fig, values)`` on the CPU.
    """
    values = values.detach().cpu()
    fig, ax = plt.subplots()
    colours = ["tab:blue"] * len(values)
    if highlight is not None:
        colours[highlight] = "tab:red"
    ax.bar(range(len(values)), values.numpy(), color=colours)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    fig.tight_layout()
    return fig, values


def plot_curve(x: Sequence[float], y: torch.Tensor, xlabel: str, ylabel: str, title: str = ""):
    """A line plot of ``y`` against ``x``.

    Returns:
        ``(fig, (x, y))``.
    """
    y = y.detach().cpu()
    fig, ax = plt.subplots()
    ax.plot(list(x), y.numpy(), marker="o")
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.axvline(1.0, color="grey", lw=0.8, ls="--")
    fig.tight_layout()
    return fig, (list(x), y)
