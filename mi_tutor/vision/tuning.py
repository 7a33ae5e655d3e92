"""Orientation and curvature tuning of conv units, and the curve-family test.

A unit's response to a synthetic stimulus is its **spatial maximum** over the
feature map. :func:`curve_tuning` sweeps arcs over orientation and curvature
(curvature ``0`` = the straight line of the same orientation);
:func:`find_curve_family` keeps the units that fire far more on their preferred
arc than on the line of that orientation, and reports their preferred
orientations.

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> t = curve_tuning(PlainNet(), "layer2", n_orientations=8)
    >>> t.responses.shape
    torch.Size([32, 8, 4])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from ..hooks import get_module, run_with_cache
from .curves import render_curve_stimuli

__all__ = ["CurveTuning", "curve_tuning", "CurveFamily", "find_curve_family"]


@dataclass
class CurveTuning:
    """Responses of every unit of a layer to arcs.

    Attributes:
        responses: ``[units, orientations, curvatures]`` spatial-max activations.
        orientations: ``[orientations]`` radians.
        curvatures: ``[curvatures]``; index 0 is ``0`` (the straight line).
    """

    responses: torch.Tensor
    orientations: torch.Tensor
    curvatures: torch.Tensor


@torch.no_grad()
def curve_tuning(model: nn.Module, layer: str, n_orientations: int = 24,
                 curvatures: tuple[float, ...] = (0.0, 1.8, 2.6, 3.6), size: int = 32,
                 colour: str = "white") -> CurveTuning:
    """Sweep synthetic arcs over orientation and curvature and record ``layer``.

    Args:
        model: A CNN taking ``[batch, 3, size, size]`` images.
        layer: Module name whose output ``[batch, units, h, w]`` is recorded.
        n_orientations: Orientations evenly spaced over the circle.
        curvatures: Curvatures to draw; the first should be ``0`` (lines).
        size: Image side.
        colour: Stroke colour.

    Returns:
        A :class:`CurveTuning` (on the CPU).
    """
    get_module(model, layer)  # raises, listing the valid names, for a bad name
    device = next(model.parameters()).device
    orient = torch.arange(n_orientations) * 2 * math.pi / n_orientations
    curv = torch.tensor(curvatures, dtype=torch.float32)
    o, c = torch.meshgrid(orient, curv, indexing="ij")
    images = render_curve_stimuli(o.flatten(), c.flatten(), size=size, colour=colour).to(device)
    _, cache = run_with_cache(model, images, [layer])
    acts = cache[layer].amax(dim=(-2, -1)).cpu()  # [n_o * n_c, units]
    return CurveTuning(acts.T.reshape(-1, n_orientations, len(curvatures)), orient, curv)


@dataclass
class CurveFamily:
    """Units that behave like curve detectors.

    Attributes:
        units: Unit indices, sorted by preferred orientation.
        preferred: ``[len(units)]`` preferred orientations in radians.
        line_ratio: ``[len(units)]`` peak arc response / response to the line of
            the preferred orientation.
        n_distinct: Distinct preferred orientations in 45-degree bins.
        max_gap: Largest gap (radians) between neighbouring preferred orientations
            around the circle: small means the family covers the circle.
    """

    units: list[int]
    preferred: torch.Tensor
    line_ratio: torch.Tensor
    n_distinct: int
    max_gap: float


def find_curve_family(tuning: CurveTuning, min_line_ratio: float = 2.0,
                      min_selectivity: float = 1.5) -> CurveFamily:
    """Pick the curve detectors out of a :class:`CurveTuning`.

    A unit qualifies when its peak arc response is at least ``min_line_ratio``
    times its response to the straight line of the preferred orientation, and
    at least ``min_selectivity`` times its mean arc response over orientations.

    Examples:
        >>> t = CurveTuning(torch.rand(3, 8, 3) + 1, torch.arange(8) * 0.785, torch.tensor([0., 2., 3.]))
        >>> isinstance(find_curve_family(t).units, list)
        True
    """
    r = tuning.responses
    arcs = r[:, :, 1:].amax(-1)  # [units, orientations], best over curvatures
    peak, pref_idx = arcs.max(-1)
    line = r[torch.arange(len(r)), pref_idx, 0]
    ratio = peak / line.clamp_min(1e-3 * peak.clamp_min(1e-6))
    selectivity = peak / arcs.mean(-1).clamp_min(1e-6)
    keep = (peak > 1e-4) & (ratio >= min_line_ratio) & (selectivity >= min_selectivity)
    units = torch.nonzero(keep).flatten()
    pref = tuning.orientations[pref_idx[units]]
    order = torch.argsort(pref)
    units, pref = units[order], pref[order]
    n_distinct = len(set(int(b) for b in torch.floor(((pref + math.pi / 8) % (2 * math.pi)) / (math.pi / 4))))
    if len(pref):
        gaps = torch.diff(torch.cat([pref, pref[:1] + 2 * math.pi]))
        max_gap = float(gaps.max())
    else:
        max_gap = 2 * math.pi
    return CurveFamily(units.tolist(), pref, ratio[units], n_distinct, max_gap)
