"""Visualizations next to the data: dataset-example crops and the curve family's reading.

Two tools to test a feature visualization against something other than the
eye:

* :func:`example_crops` cuts, from scenes, the window a unit of a conv layer
  looks at when it fires most, aligned so that the crop's *centre* unit is the
  one that fired: a crop and a visualization rendered on a canvas of the same
  size are read by the same unit at the same map position;
* :func:`decode_orientation` asks a curve family (lesson 4) which orientation
  it sees at the centre of an image: the population vector of the members'
  preferred orientations, each weighted by its response relative to its best
  arc. Leaving the visualized unit out (``exclude``) makes the reading
  independent of the unit the image was optimised for;
* :func:`arc_energy` reads the image itself, with no network: how strongly it
  holds an arc of each orientation at a given place (the normalised correlation of
  its grey levels with arc templates, best over curvatures and small shifts).

Examples:
    >>> acts = torch.zeros(2, 3, 8, 8); acts[1, 2, 5, 3] = 1.0
    >>> crops, scene, pos = example_crops(acts, torch.rand(2, 3, 32, 32), unit=2, k=1, size=16, stride=4)
    >>> crops.shape, scene.tolist(), pos.tolist()
    (torch.Size([1, 3, 16, 16]), [1], [[5, 3]])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import nn

from ..device import model_device
from ..hooks import run_with_cache
from ..validation import check_range, check_tensor
from ..vision.stimuli import StimulusStyle, render_curves

__all__ = ["example_crops", "decode_orientation", "circular_mean", "arc_energy"]


def example_crops(acts: torch.Tensor, images: torch.Tensor, unit: int, k: int = 5, size: int = 32,
                  stride: int = 4) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The ``k`` scenes where ``unit`` fires most, cropped around the position where it fires.

    Each scene counts once, at its strongest position among those whose
    ``size``-pixel window fits in the image. The window is aligned so that,
    fed to the same network, the unit at the crop's map centre
    ``[size // (2 * stride)] * 2`` is the one that fired.

    Args:
        acts: ``[n, channels, h, w]`` activations of a layer whose map has
            ``stride`` pixels per position.
        images: ``[n, 3, H, W]`` the scenes (``H = h * stride``).
        unit: Channel.
        k: Number of scenes (at most ``n``).
        size: Crop side in pixels, a multiple of ``2 * stride`` and at most ``H``.
        stride: Pixels per map position.

    Returns:
        ``(crops [k, 3, size, size], scene [k], position [k, 2])``, ``position`` the
        ``(row, column)`` on the map; most active first.
    """
    dims = check_tensor("acts", acts, ("n", "channels", "h", "w"), floating=True)
    check_tensor("images", images, ("n", 3, dims["h"] * stride, dims["w"] * stride), dims=dims)
    check_range("unit", unit, 0, dims["channels"] - 1)
    check_range("k", k, 1, dims["n"])
    half = size // (2 * stride)
    if size % (2 * stride) or not 0 < half <= min(dims["h"], dims["w"]) // 2:
        raise ValueError(f"`size`={size} must be a positive multiple of 2 * stride = {2 * stride} and at most "
                         f"the image side {dims['h'] * stride}")
    h, w = dims["h"], dims["w"]
    valid = acts[:, unit, half:h - half + 1, half:w - half + 1]          # windows that fit
    flat = valid.flatten(1)
    best, where = flat.max(1)
    scene = best.topk(k).indices
    rows = where[scene] // valid.shape[-1] + half
    cols = where[scene] % valid.shape[-1] + half
    crops = torch.stack([images[s, :, stride * (r - half):stride * (r - half) + size,
                                stride * (c - half):stride * (c - half) + size]
                         for s, r, c in zip(scene.tolist(), rows.tolist(), cols.tolist())])
    return crops, scene, torch.stack([rows, cols], 1)


def circular_mean(angles: torch.Tensor, weights: torch.Tensor | None = None, dim: int = -1) -> torch.Tensor:
    """The direction of ``sum weights * exp(i angles)`` along ``dim`` (radians in ``(-pi, pi]``).

    Examples:
        >>> round(circular_mean(torch.tensor([0.1, 6.2])).item(), 3)
        0.008
    """
    weights = torch.ones_like(angles) if weights is None else weights
    return torch.atan2((weights * angles.sin()).sum(dim), (weights * angles.cos()).sum(dim))


@torch.no_grad()
def decode_orientation(model: nn.Module, layer: str, channels: Sequence[int], orientations: torch.Tensor,
                       peak: torch.Tensor, images: torch.Tensor,
                       exclude: Sequence[int] | int | None = None) -> torch.Tensor:
    """The orientation a curve family reads at the centre of each image.

    The population vector ``sum_m r_m exp(i theta_m)`` over the members ``m``
    (``r_m`` the member's centre activation divided by its ``peak`` response to
    its best arc, clipped at 0; ``theta_m`` its preferred orientation).

    Args:
        model: The network.
        layer: The family's layer.
        channels: ``[m]`` member channels (``CurveFamily.channels``).
        orientations: ``[m]`` their preferred orientations (radians).
        peak: ``[m]`` their responses to their best arc (``CurveFamily.curve_response``).
        images: ``[n, 3, H, W]``.
        exclude: A channel to leave out of every reading, or one per image
            (the unit each image visualizes), or ``None``.

    Returns:
        ``[n]`` orientations in radians.
    """
    dims = check_tensor("orientations", orientations, ("m",), floating=True)
    check_tensor("peak", peak, ("m",), dims=dims, floating=True)
    check_tensor("images", images, ("n", 3, "H", "W"), floating=True)
    channels = list(channels)
    if len(channels) != dims["m"]:
        raise ValueError(f"`channels` has {len(channels)} members but `orientations` has {dims['m']}")
    n = len(images)
    if exclude is None or isinstance(exclude, int):
        exclude = [exclude] * n
    if len(exclude) != n:
        raise ValueError(f"`exclude` has {len(exclude)} entries but there are {n} images")
    device = model_device(model)
    _, cache = run_with_cache(model, images.to(device), [layer])
    acts = cache[layer].cpu()
    h, w = acts.shape[-2:]
    r = (acts[:, channels, h // 2, w // 2] / peak.cpu().clamp_min(1e-6)).clamp_min(0)     # [n, m]
    keep = torch.tensor([[c != e for c in channels] for e in exclude], dtype=r.dtype)
    return circular_mean(orientations.cpu().expand(n, -1), r * keep)


@torch.no_grad()
def arc_energy(images: torch.Tensor, orientations: torch.Tensor, curvatures: Sequence[float],
               style: StimulusStyle, max_shift: int = 2) -> torch.Tensor:
    """How strongly each image holds an arc of each orientation where ``style`` centres its arcs.

    The grey levels of each image and each arc template (``render_curves`` in ``style``, white
    on black) are centred on their means; the energy is the absolute normalised correlation
    (bright or dark strokes alike), the best over ``curvatures`` and over shifts of the
    template by up to ``max_shift`` pixels each way (render loops jitter their images).

    Args:
        images: ``[n, 3, H, W]``, with ``H = W = style.size``.
        orientations: ``[n_orient]`` radians.
        curvatures: Curvatures to try (non-zero: arcs).
        style: Where and how long the template arcs are (its colours are ignored).
        max_shift: Largest template shift, pixels.

    Returns:
        ``[n, n_orient]`` energies in ``[0, 1]`` on the CPU.

    Examples:
        >>> from mi_tutor.vision.stimuli import StimulusStyle, render_curves
        >>> st = StimulusStyle(size=32, length=0.6, width=0.05)
        >>> th = torch.arange(8) * (2 * math.pi / 8)
        >>> e = arc_energy(render_curves(th[2:3], 6.0, st), th, [6.0], st)
        >>> int(e.argmax())
        2
    """
    check_tensor("images", images, ("n", 3, style.size, style.size), floating=True)
    check_tensor("orientations", orientations, ("n_orient",), floating=True)
    if not len(curvatures):
        raise ValueError("`curvatures` is empty; give at least one curvature")
    plain = replace(style, colour="white", background=0.0)
    grey = images.detach().float().cpu().mean(1)
    grey = grey - grey.mean(dim=(1, 2), keepdim=True)
    grey = grey / grey.flatten(1).norm(dim=1).clamp_min(1e-8)[:, None, None]
    best = torch.zeros(len(images), len(orientations))
    for kappa in curvatures:
        t = render_curves(orientations.cpu(), float(kappa), plain).mean(1)          # [n_orient, H, W]
        t = t - t.mean(dim=(1, 2), keepdim=True)
        t = t / t.flatten(1).norm(dim=1).clamp_min(1e-8)[:, None, None]
        for dy in range(-max_shift, max_shift + 1):
            for dx in range(-max_shift, max_shift + 1):
                e = torch.einsum("nhw,ohw->no", grey, t.roll((dy, dx), (1, 2))).abs()
                best = torch.maximum(best, e)
    return best
