"""Figures for the vision lessons. Every helper returns ``(figure, data)``."""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

__all__ = ["show_images", "show_feature_maps", "plot_bars", "plot_curve", "mosaic_figure", "coloured"]


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
    ncols = max(1, min(ncols, len(shown)))
    return mosaic_figure(shown, ncols, titles, scale, suptitle), shown


def coloured(maps: torch.Tensor, cmap: str, vmin: torch.Tensor, vmax: torch.Tensor) -> torch.Tensor:
    """``[n, H, W]`` maps as ``[n, H, W, 3]`` RGB through the matplotlib colormap ``cmap``.

    Each map ``i`` is scaled from ``[vmin[i], vmax[i]]`` to the colormap's range, as ``imshow`` would.
    """
    lo, hi = vmin.reshape(-1, 1, 1), vmax.reshape(-1, 1, 1)
    scaled = ((maps - lo) / (hi - lo).clamp_min(1e-12)).clamp(0, 1)
    return torch.from_numpy(plt.get_cmap(cmap)(scaled.numpy())[..., :3]).float()


def mosaic_figure(tiles: torch.Tensor, ncols: int, titles: Sequence[str] | None = None, scale: float = 1.3,
                  suptitle: str | None = None, fontsize: int = 8, row_labels: Sequence[str] | None = None):
    """``[n, H, W, 3]`` tiles in a grid drawn as one image in one axes, titles above the tiles.

    One axes per tile is what a grid of pictures usually costs: laying out and drawing 48 axes
    takes seconds, one mosaic a few hundredths.

    Returns:
        The figure.
    """
    n, h, w = tiles.shape[:3]
    nrows = (n + ncols - 1) // ncols
    per_inch = w / scale                                            # tile pixels per inch of figure
    gap, band = max(1, round(0.06 * w)), (math.ceil(0.24 * per_inch) if titles is not None else 0)
    row, col = band + h + gap, w + gap
    left = round(0.9 * w) if row_labels else 0
    canvas = torch.ones(nrows * row - gap, left + ncols * col - gap, 3)
    for i in range(n):
        r, c = divmod(i, ncols)
        canvas[r * row + band: r * row + band + h, left + c * col: left + c * col + w] = tiles[i]
    top = 0.3 if suptitle else 0.0
    width = scale * ncols + (0.9 * scale if row_labels else 0.0)
    height = width * canvas.shape[0] / canvas.shape[1] + top
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - top / height))
    ax.imshow(canvas.numpy(), interpolation="nearest" if h <= 16 else "antialiased")
    ax.axis("off")
    for i in range(n if titles is not None else 0):
        r, c = divmod(i, ncols)
        ax.text(left + c * col + w / 2, r * row + band - 0.5 - 0.03 * per_inch, titles[i], ha="center", va="bottom",
                fontsize=fontsize)
    for r, label in enumerate(row_labels or []):
        ax.text(left - gap, r * row + band + h / 2, label, ha="right", va="center", fontsize=fontsize)
    if suptitle:
        fig.suptitle(suptitle, fontsize=fontsize + 1, y=1.0 - 0.05 / height, va="top")
    return fig


def show_feature_maps(maps: torch.Tensor, title: str = "", ncols: int = 8):
    """Show the channels of one activation ``[channels, H, W]`` as heatmaps.

    Returns:
        ``(fig, maps)`` with the maps on the CPU.
    """
    maps = maps.detach().cpu()
    flat = maps.float().flatten(1)
    tiles = coloured(maps.float(), "magma", flat.min(1).values, flat.max(1).values)
    fig = mosaic_figure(tiles, max(1, min(ncols, len(maps))), [str(i) for i in range(len(maps))], 1.2,
                        title or None, fontsize=7)
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
