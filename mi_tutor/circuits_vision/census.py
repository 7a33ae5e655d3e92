"""The curve-detector census: the strict rule on a zoo net, scaled by the net's own world.

One function, :func:`curve_census`, applies the strict detector rule fixed before looking
(:func:`~mi_tutor.vision.tuning.strict_curve_detectors`) to every unit of one stage, and scales
each member's best arc response by the unit's **99th percentile on the world's scenes**, two
ways: over all positions of its map over the scenes (``arc_ratio``), and over the scenes'
spatial maxima (``arc_ratio_top``, the unit's near-top dataset response). A ratio near 1
means the arc drives the unit about as hard as the world does, a ratio of 0.1 that the
"detector" answers to its arc a tenth as strongly as to what it meets in its own world.
:func:`mi_tutor.zoo.untrained_twin` builds the control: the same architecture, untrained, from a
fixed seed. A **full family** is at least
``min_members`` members whose peak orientations leave no gap above ``max_gap_deg``.

Examples:
    >>> from mi_tutor.vision.objects import render_objects
    >>> from mi_tutor.zoo import untrained_twin
    >>> net = untrained_twin("vgg", seed=0)
    >>> c = curve_census(net, "layer2", render_objects(8, seed=0).images, n_orientations=8,
    ...                  curvatures=(0.0, 4.0), styles=PROBE_STYLES[:1])
    >>> c.scene_p99.shape, c.full
    (torch.Size([16]), False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..device import model_device
from ..hooks import collect
from ..validation import check_choice, check_tensor
from ..vision.stimuli import StimulusStyle
from ..vision.tuning import CurveFamily, strict_curve_detectors
from .findings import CURVATURES, PROBE_STYLES, probe_tuning

__all__ = ["FULL_FAMILY", "CurveCensus", "activation_percentile", "scene_percentile", "curve_census"]

#: A full family: at least 16 strict members, no gap above 45 degrees between their peak orientations.
FULL_FAMILY: dict[str, float] = {"min_members": 16, "max_gap_deg": 45.0}


@dataclass
class CurveCensus:
    """The strict curve detectors of one stage, with their arc responses scaled by the world.

    Attributes:
        layer: The stage.
        n_units: Units in the stage.
        family: The strict detectors (:func:`~mi_tutor.vision.tuning.strict_curve_detectors`).
        scene_p99: ``[n_units]`` each unit's 99th percentile over positions and scenes.
        scene_top: ``[n_units]`` each unit's 99th percentile over the scenes of its spatial maximum.
        arc_ratio: ``[len(family)]`` each member's best arc response / its ``scene_p99``.
        arc_ratio_top: ``[len(family)]`` each member's best arc response / its ``scene_top``.
        full: At least ``FULL_FAMILY["min_members"]`` members and no gap above ``FULL_FAMILY["max_gap_deg"]``.
    """

    layer: str
    n_units: int
    family: CurveFamily
    scene_p99: torch.Tensor
    scene_top: torch.Tensor
    arc_ratio: torch.Tensor
    arc_ratio_top: torch.Tensor
    full: bool

    def row(self) -> dict:
        """Plain numbers: members, largest gap (degrees), median and max of both arc ratios, full."""
        def stat(r: torch.Tensor, f) -> float | None:
            return round(float(f(r)), 3) if len(r) else None
        return {"members": len(self.family), "units": self.n_units,
                "max_gap_deg": round(math.degrees(self.family.max_gap)),
                "arc_ratio_median": stat(self.arc_ratio, torch.median), "arc_ratio_max": stat(self.arc_ratio, torch.max),
                "arc_ratio_top_median": stat(self.arc_ratio_top, torch.median),
                "arc_ratio_top_max": stat(self.arc_ratio_top, torch.max), "full": self.full}


def activation_percentile(acts: torch.Tensor, q: float = 0.99, pool: str = "positions") -> torch.Tensor:
    """Each unit's ``q``-quantile of activations ``[n, C, h, w]``, ``[C]``.

    Args:
        acts: ``[n, C, h, w]`` activations of a conv layer on scenes.
        q: Quantile in ``(0, 1)`` (the sorted value at index ``int(q * count)``).
        pool: ``"positions"``: over every position of every image; ``"max"``: over the images'
            spatial maxima.

    Examples:
        >>> acts = torch.arange(200.0).reshape(2, 1, 10, 10)
        >>> activation_percentile(acts).tolist(), activation_percentile(acts, 0.5, pool="max").tolist()
        ([198.0], [199.0])
    """
    check_tensor("acts", acts, ("n", "C", "h", "w"), floating=True)
    check_choice("pool", pool, ("positions", "max"))
    if not 0 < q < 1:
        raise ValueError(f"`q` must lie in (0, 1), got {q}")
    a = acts.detach().float().cpu()
    a = a.amax(dim=(2, 3)).T if pool == "max" else a.transpose(0, 1).flatten(1)     # [C, values]
    return a.sort(dim=1).values[:, min(a.shape[1] - 1, int(q * a.shape[1]))]


@torch.no_grad()
def scene_percentile(model: nn.Module, layer: str, images: torch.Tensor, q: float = 0.99,
                     batch_size: int = 128, pool: str = "positions") -> torch.Tensor:
    """:func:`activation_percentile` of ``layer`` on ``images`` ``[n, 3, H, W]``, ``[C]`` on the CPU.

    Args:
        model: A CNN.
        layer: Module name.
        images: Scenes of the model's world.
        q: Quantile in ``(0, 1)``.
        batch_size: Images per forward pass.
        pool: ``"positions"`` or ``"max"`` (see :func:`activation_percentile`).
    """
    check_tensor("images", images, ("n", 3, "H", "W"), floating=True)
    check_choice("pool", pool, ("positions", "max"))
    dev = model_device(model)
    acts = torch.cat([collect(model, images[i:i + batch_size].to(dev), layer)[layer].cpu()
                      for i in range(0, len(images), batch_size)])
    return activation_percentile(acts, q, pool)


def curve_census(model: nn.Module, layer: str, scenes: torch.Tensor, n_orientations: int = 24,
                 curvatures: Sequence[float] = CURVATURES, styles: Sequence[StimulusStyle] | None = None,
                 **rule) -> CurveCensus:
    """Apply the strict rule to every unit of ``layer`` and scale its arcs by the world's scenes.

    The tuning is :func:`~.findings.probe_tuning`'s (arcs centred on the centre unit's
    receptive field, averaged over the cosmetic ``styles``).

    Args:
        model: A zoo CNN.
        layer: A stage name.
        scenes: ``[n, 3, 64, 64]`` scenes of the world the net was trained on.
        n_orientations: Orientations over the circle.
        curvatures: Must include 0 (the lines).
        styles: Cosmetic styles (default :data:`~.findings.PROBE_STYLES`).
        **rule: Passed on to :func:`~mi_tutor.vision.tuning.strict_curve_detectors`.

    Returns:
        A :class:`CurveCensus`.
    """
    tuning, orientations, curv = probe_tuning(model, layer, n_orientations, curvatures, styles)
    family = strict_curve_detectors(tuning.cpu(), orientations, curv, **rule)
    p99 = scene_percentile(model, layer, scenes)
    top = scene_percentile(model, layer, scenes, pool="max")
    idx = family.channels

    def ratio(scale: torch.Tensor) -> torch.Tensor:
        return family.curve_response / scale[idx].clamp_min(1e-6) if idx else torch.zeros(0)

    full = len(family) >= FULL_FAMILY["min_members"] and math.degrees(family.max_gap) <= FULL_FAMILY["max_gap_deg"]
    return CurveCensus(layer, tuning.shape[0], family, p99, top, ratio(p99), ratio(top), bool(full))
