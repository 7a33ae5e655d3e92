"""Figures of lesson 4. Every helper returns ``(fig, data)``: the numbers behind the figure.

Examples:
    >>> th = torch.linspace(0, 6.0, 8)
    >>> fig, data = plot_radial_tuning(torch.rand(3, 8), th)
    >>> data.shape
    torch.Size([3, 8])
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from ..validation import check_tensor
from ..vision.plots import coloured, mosaic_figure, show_images
from .rotation import Handoff

__all__ = [
    "plot_stimuli",
    "plot_tuning_heatmaps",
    "plot_radial_tuning",
    "plot_handoff",
    "plot_kernels",
    "plot_handbuilt_vs_learned",
    "plot_concept_scores",
    "plot_part_maps",
    "plot_pose_units",
]


def _cpu(x: torch.Tensor) -> torch.Tensor:
    return x.detach().float().cpu()


def _tuning_axes(ax, data: torch.Tensor, orientations: torch.Tensor, curvatures: torch.Tensor, fontsize: int) -> None:
    """Draw one ``[n_curv, n_orient]`` map: orientation in degrees across, one row per curvature."""
    deg = torch.rad2deg(_cpu(orientations))
    step = float(deg[1] - deg[0]) if len(deg) > 1 else 1.0
    extent = [float(deg[0]) - step / 2, float(deg[-1]) + step / 2, -0.5, len(curvatures) - 0.5]
    ax.imshow(data.numpy(), origin="lower", aspect="auto", cmap="magma", extent=extent)
    ax.set_yticks(range(len(curvatures)))
    ax.set_yticklabels([f"{float(c):g}" for c in curvatures], fontsize=fontsize - 1)
    ax.set_xlabel("orientation (°)", fontsize=fontsize)
    ax.set_ylabel("curvature", fontsize=fontsize)


def plot_stimuli(images: torch.Tensor, titles: Sequence[str] | None = None, ncols: int = 8
                 ) -> tuple[Figure, torch.Tensor]:
    """Show ``[n, 3, H, W]`` stimuli in a grid; returns ``(fig, images as [n, H, W, 3])``."""
    check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    return show_images(images, titles, ncols)


def plot_tuning_heatmaps(tuning: torch.Tensor, orientations: torch.Tensor, curvatures: torch.Tensor,
                         titles: Sequence[str] | None = None, ncols: int = 4) -> tuple[Figure, torch.Tensor]:
    """Orientation (x) by curvature (y) heatmaps, one per unit.

    Args:
        tuning: ``[n_units, n_curv, n_orient]``.
        orientations: ``[n_orient]`` radians.
        curvatures: ``[n_curv]``.
        titles: One per unit.
        ncols: Panels per row.

    Returns:
        ``(fig, tuning)`` on the CPU.
    """
    dims = check_tensor("orientations", orientations, ("n_orient",), floating=True)
    dims = check_tensor("curvatures", curvatures, ("n_curv",), dims=dims, floating=True)
    check_tensor("tuning", tuning, ("n_units", "n_curv", "n_orient"), dims=dims, floating=True)
    data = _cpu(tuning)
    n = data.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.0 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.axis("off")
            continue
        _tuning_axes(ax, data[i], orientations, curvatures, 7)
        ax.set_title(titles[i] if titles else f"unit {i}", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    return fig, data


def plot_radial_tuning(radial: torch.Tensor, orientations: torch.Tensor, labels: Sequence[str] | None = None,
                       title: str = "radial tuning curves") -> tuple[Figure, torch.Tensor]:
    """Polar plot of each unit's response against orientation, normalised to its maximum.

    Args:
        radial: ``[n_units, n_orient]`` (e.g. from :func:`~.tuning.radial_tuning`).
        orientations: ``[n_orient]`` radians.
        labels: Legend entries.
        title: Figure title.

    Returns:
        ``(fig, normalised curves [n_units, n_orient])``.
    """
    dims = check_tensor("orientations", orientations, ("n_orient",), floating=True)
    check_tensor("radial", radial, ("n_units", "n_orient"), dims=dims, floating=True)
    r = _cpu(radial).clamp_min(0)
    r = r / r.amax(-1, keepdim=True).clamp_min(1e-12)
    th = _cpu(orientations)
    fig = plt.figure(figsize=(4.2, 4.2))
    ax = fig.add_subplot(projection="polar")
    colours = plt.cm.hsv(torch.linspace(0, 0.9, len(r)).numpy())
    for i in range(len(r)):
        ax.plot(torch.cat([th, th[:1]]).numpy(), torch.cat([r[i], r[i, :1]]).numpy(), color=colours[i],
                label=labels[i] if labels else None)
    ax.set_yticklabels([])
    ax.set_title(title, fontsize=9)
    if labels:
        ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig, r


def plot_handoff(result: Handoff, labels: Sequence[str] | None = None) -> tuple[Figure, torch.Tensor]:
    """Responses of a family while an example rotates; the winner hands over as the angle grows.

    Returns:
        ``(fig, responses [n_angles, n_units])``.
    """
    r = _cpu(result.responses)
    deg = torch.rad2deg(_cpu(result.angles))
    fig, ax = plt.subplots(figsize=(7, 3))
    colours = plt.cm.hsv(torch.linspace(0, 0.9, r.shape[1]).numpy())
    for u in range(r.shape[1]):
        ax.plot(deg.numpy(), r[:, u].numpy(), color=colours[u], label=labels[u] if labels else f"unit {u}")
    ax.set_xlabel("rotation of the example (°)")
    ax.set_ylabel("response")
    ax.set_title(f"hand-off: mean peak error {math.degrees(result.mean_abs_error):.0f}°, "
                 f"winner within {math.degrees(result.tolerance):.0f}° at {result.handoff_accuracy:.0%} of angles", fontsize=9)
    ax.legend(fontsize=6, ncol=2, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    return fig, r


def plot_kernels(kernels: torch.Tensor, row_labels: Sequence[str] | None = None,
                 col_labels: Sequence[str] | None = None, title: str = "") -> tuple[Figure, torch.Tensor]:
    """Grid of kernels ``[rows, cols, k, k]``: red positive, blue negative, one colour scale per row.

    Returns:
        ``(fig, kernels)`` on the CPU.
    """
    check_tensor("kernels", kernels, ("rows", "cols", "kh", "kw"), floating=True)
    data = _cpu(kernels)
    rows, cols, kh, kw = data.shape
    vmax = data.flatten(1).abs().max(1).values                     # one symmetric colour scale per row
    vmax = torch.where(vmax > 0, vmax, torch.ones_like(vmax))
    tiles = coloured(data.reshape(rows * cols, kh, kw), "RdBu_r", (-vmax).repeat_interleave(cols),
                     vmax.repeat_interleave(cols))
    titles = [col_labels[j] if (col_labels and i == 0) else "" for i in range(rows) for j in range(cols)]
    fig = mosaic_figure(tiles, cols, titles if col_labels else None, 1.0, title or None, fontsize=7,
                        row_labels=row_labels)
    return fig, data


def plot_handbuilt_vs_learned(learned: torch.Tensor, built: torch.Tensor, orientations: torch.Tensor,
                              curvatures: torch.Tensor, names: tuple[str, str] = ("learned", "hand-built")
                              ) -> tuple[Figure, dict[str, torch.Tensor]]:
    """Tuning maps of a learned and a hand-built detector side by side, with their radial curves.

    Args:
        learned: ``[n_curv, n_orient]`` tuning map of the learned unit.
        built: ``[n_curv, n_orient]`` of the hand-built one.
        orientations: ``[n_orient]`` radians (x axis).
        curvatures: ``[n_curv]`` (y axis).
        names: Panel titles.

    Returns:
        ``(fig, {"learned": radial, "built": radial, "correlation": scalar})``, the
        radial curves normalised to a maximum of 1.
    """
    from .handbuilt import tuning_correlation

    dims = check_tensor("orientations", orientations, ("n_orient",), floating=True)
    dims = check_tensor("curvatures", curvatures, ("n_curv",), dims=dims, floating=True)
    check_tensor("learned", learned, ("n_curv", "n_orient"), dims=dims, floating=True)
    check_tensor("built", built, ("n_curv", "n_orient"), dims=dims, floating=True)
    maps = [_cpu(learned), _cpu(built)]
    radial = [m.amax(0) / m.amax().clamp_min(1e-12) for m in maps]
    corr = tuning_correlation(radial[0], radial[1])
    fig = plt.figure(figsize=(9, 3))
    for i, m in enumerate(maps):
        ax = fig.add_subplot(1, 3, i + 1)
        _tuning_axes(ax, m, orientations, curvatures, 8)
        ax.set_title(names[i], fontsize=9)
    ax = fig.add_subplot(1, 3, 3, projection="polar")
    th = _cpu(orientations)
    for r, name, c in zip(radial, names, ("tab:orange", "tab:blue")):
        ax.plot(torch.cat([th, th[:1]]).numpy(), torch.cat([r, r[:1]]).numpy(), label=name, color=c)
    ax.set_yticklabels([])
    ax.set_title(f"radial tuning, r = {corr.item():.2f}", fontsize=9)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    fig.tight_layout()
    return fig, {"learned": radial[0], "built": radial[1], "correlation": corr}


def plot_concept_scores(scores: torch.Tensor, concepts: Sequence[str], channels: Sequence[int] | None = None,
                        title: str = "concept scores (std above the unit's mean)") -> tuple[Figure, torch.Tensor]:
    """Heatmap of :func:`~.polysemantic.concept_scores` for some units.

    Args:
        scores: ``[n_units, n_concepts]``.
        concepts: Column names.
        channels: Row labels.
        title: Figure title.

    Returns:
        ``(fig, scores)`` on the CPU.
    """
    check_tensor("scores", scores, ("n_units", len(concepts)), floating=True)
    data = _cpu(scores)
    fig, ax = plt.subplots(figsize=(0.35 * len(concepts) + 1.5, 0.3 * len(data) + 1.4))
    vmax = float(data.nan_to_num(0).abs().max()) or 1.0
    ax.imshow(data.nan_to_num(0).numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(concepts)))
    ax.set_xticklabels(concepts, rotation=90, fontsize=7)
    ax.set_yticks(range(len(data)))
    ax.set_yticklabels([f"ch {c}" for c in (channels if channels is not None else range(len(data)))], fontsize=7)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig, data


def plot_part_maps(maps: torch.Tensor, parts: Sequence[str], title: str = "") -> tuple[Figure, torch.Tensor]:
    """Weights from each part unit into an object unit as a spatial map (row 0 = above the unit).

    Args:
        maps: ``[n_parts, k, k]``.
        parts: One label per part.
        title: Figure title.

    Returns:
        ``(fig, maps)`` on the CPU; red positive, blue negative, one colour scale for all parts.
    """
    check_tensor("maps", maps, (len(parts), "k", "k"), floating=True)
    data = _cpu(maps)
    vmax = float(data.abs().max()) or 1.0
    fig, axes = plt.subplots(1, len(parts), figsize=(2.2 * len(parts) + 0.8, 2.4), squeeze=False)
    for ax, m, name in zip(axes[0], data, parts):
        im = ax.imshow(m.numpy(), cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        k = m.shape[-1]
        ax.set_xticks([0, k - 1], ["left", "right"], fontsize=7)
        ax.set_yticks([0, k - 1], ["above", "below"], fontsize=7)
        for (r, c), v in zip([(r, c) for r in range(k) for c in range(k)], m.flatten().tolist()):
            ax.text(c, r, f"{v:+.2f}", ha="center", va="center", fontsize=6)
        ax.set_title(name, fontsize=9)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig, data


def plot_pose_units(left: torch.Tensor, right: torch.Tensor, labels: Sequence[str],
                    weights: torch.Tensor | None = None, title: str = "") -> tuple[Figure, dict[str, torch.Tensor]]:
    """Mean response of some units to left- and right-facing objects, side by side.

    Args:
        left: ``[n_units]`` mean response on left-facing scenes.
        right: ``[n_units]`` on right-facing scenes.
        labels: One label per unit.
        weights: Optional ``[n_units - 1]`` weights from the first units into the last one, written under it.
        title: Figure title.

    Returns:
        ``(fig, {"left": ..., "right": ...})`` on the CPU.
    """
    dims = check_tensor("left", left, (len(labels),), floating=True)
    check_tensor("right", right, (len(labels),), dims=dims, floating=True)
    lf, rt = _cpu(left), _cpu(right)
    fig, ax = plt.subplots(figsize=(1.6 * len(labels) + 1.5, 2.8))
    x = torch.arange(len(labels)).float()
    ax.bar((x - 0.2).numpy(), lf.numpy(), 0.4, label="facing left", color="tab:orange")
    ax.bar((x + 0.2).numpy(), rt.numpy(), 0.4, label="facing right", color="tab:blue")
    ticks = list(labels)
    if weights is not None:
        w = _cpu(weights).flatten()
        ticks = [f"{t}\nweight into last {v:+.2f}" if i < len(w) else t for i, (t, v) in
                 enumerate(zip(ticks, w.tolist() + [0.0] * (len(ticks) - len(w))))]
    ax.set_xticks(x.numpy(), ticks, fontsize=7)
    ax.set_ylabel("mean spatial-max activation", fontsize=8)
    ax.legend(fontsize=7)
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig, {"left": lf, "right": rt}
