"""Figures of lesson 3. Every helper returns ``(fig, data)``: tests check the data.

Examples:
    >>> fig, data = plot_spectra({"a": torch.rand(1, 3, 16, 16)})
    >>> sorted(data)
    ['a']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from typing import Any

import matplotlib.pyplot as plt
import torch

from .render import high_frequency_share, radial_spectrum

__all__ = ["plot_visualizations", "plot_spectra", "plot_vis_vs_examples"]


def plot_visualizations(images: Mapping[str, torch.Tensor], scale: float = 1.6, *,
                        share_fn: Callable[[torch.Tensor], torch.Tensor] = high_frequency_share
                        ) -> tuple[plt.Figure, Any]:
    """One row of images per entry (``name -> [n, 3, H, W]``), titled with the
    high-frequency share of each image.

    Args:
        images: Row name -> ``[n, 3, H, W]`` images.
        scale: Inches per image.
        share_fn: ``share_fn(images) -> [n]`` high-frequency shares (default
            :func:`~mi_tutor.featvis.high_frequency_share`; lesson 3 passes the student's).

    Returns:
        ``(fig, {name: [n] high-frequency shares})``.
    """
    nrows = len(images)
    ncols = max(len(v) for v in images.values())
    fig, axes = plt.subplots(nrows, ncols, figsize=(scale * ncols + 1.5, scale * nrows + 0.2), squeeze=False)
    data = {}
    for r, (name, imgs) in enumerate(images.items()):
        share = share_fn(imgs)
        data[name] = share
        for c in range(ncols):
            ax = axes[r, c]
            ax.axis("off")
            if c < len(imgs):
                ax.imshow(imgs[c].permute(1, 2, 0).clamp(0, 1).numpy())
                ax.set_title(f"HF {share[c]:.2f}", fontsize=7)
        axes[r, 0].text(-0.1, 0.5, name, transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=8)
    fig.tight_layout()
    return fig, data


def plot_spectra(images: Mapping[str, torch.Tensor]) -> tuple[plt.Figure, Any]:
    """Radial power spectra (log scale) of image sets.

    Returns:
        ``(fig, {name: (frequencies, power)})``.
    """
    fig, ax = plt.subplots(figsize=(5, 3))
    data = {}
    for name, imgs in images.items():
        f, p = radial_spectrum(imgs)
        data[name] = (f, p)
        ax.semilogy(f.numpy(), p.clamp_min(1e-12).numpy(), marker=".", label=name)
    ax.set_xlabel("frequency (cycles / pixel)")
    ax.set_ylabel("mean power")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig, data


def plot_vis_vs_examples(vis: torch.Tensor, examples: Sequence[torch.Tensor],
                         titles: Sequence[str]) -> tuple[plt.Figure, Any]:
    """Each row: a unit's feature visualization, then its top dataset examples.

    Args:
        vis: ``[units, 3, H, W]`` visualizations.
        examples: Per unit, ``[k, 3, H, W]`` top dataset examples.
        titles: Per unit, a row label (e.g. ``"unit 5: curve_90"``).

    Returns:
        ``(fig, {"titles": titles})``.
    """
    k = max(len(e) for e in examples)
    fig, axes = plt.subplots(len(vis), k + 1, figsize=(1.3 * (k + 1) + 1.2, 1.3 * len(vis)), squeeze=False)
    for r in range(len(vis)):
        for c in range(k + 1):
            ax = axes[r, c]
            ax.axis("off")
            img = vis[r] if c == 0 else (examples[r][c - 1] if c - 1 < len(examples[r]) else None)
            if img is not None:
                ax.imshow(img.permute(1, 2, 0).clamp(0, 1).numpy())
        axes[r, 0].text(-0.1, 0.5, titles[r], transform=axes[r, 0].transAxes, ha="right", va="center", fontsize=7)
    axes[0, 0].set_title("visualization", fontsize=7)
    if k:
        axes[0, 1].set_title("dataset examples", fontsize=7)
    fig.tight_layout()
    return fig, {"titles": list(titles)}
