"""The family census: curve detectors and first-layer edge detectors in every zoo net.

Olah et al. ("Zoom In", 2020) report Gabor-like first layers and curve
detectors in many architectures. :func:`family_census` runs the curve-family
search (:func:`mi_tutor.vision.tuning.find_curve_family` on
:func:`~mi_tutor.vision.tuning.curve_tuning`) on every layer of every net it is
given, plus an edge census of the first layer (units tuned to the orientation
of a straight line), and returns one row per (net, layer).

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> rows = family_census({"untrained": PlainNet()}, layers=["layer1"], n_orientations=8)
    >>> rows[0].net, rows[0].layer, rows[0].units
    ('untrained', 'layer1', 16)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..vision.tuning import curve_tuning, find_curve_family
from .features import default_layers

__all__ = ["CensusRow", "edge_units", "family_census", "census_table", "plot_census"]


@dataclass
class CensusRow:
    """One (net, layer) of the census.

    Attributes:
        net: Net name.
        layer: Layer name.
        units: Channels in the layer.
        curve_units: Units of the curve family.
        curve_bins: Distinct 45-degree bins of their preferred orientations (of 8).
        curve_max_gap: Largest gap (degrees) between preferred orientations; 360 when empty.
        edge_units: Units tuned to the orientation of a straight line (first layer only; -1 elsewhere).
        edge_bins: Distinct 22.5-degree bins (of 8, over 180 degrees) of their preferred line orientations.
    """

    net: str
    layer: str
    units: int
    curve_units: int
    curve_bins: int
    curve_max_gap: float
    edge_units: int = -1
    edge_bins: int = -1


def edge_units(line_responses: torch.Tensor, orientations: torch.Tensor,
               min_selectivity: float = 1.5) -> tuple[list[int], torch.Tensor]:
    """Units whose response to a straight line depends on its orientation.

    Args:
        line_responses: ``[units, orientations]`` responses to lines.
        orientations: ``[orientations]`` radians over the full circle.
        min_selectivity: Peak response over the mean over orientations.

    Returns:
        ``(units, preferred orientation mod pi of each)``.
    """
    peak, idx = line_responses.max(1)
    sel = peak / line_responses.mean(1).clamp_min(1e-6)
    keep = torch.nonzero((peak > 1e-4) & (sel >= min_selectivity)).flatten()
    return keep.tolist(), orientations[idx[keep]] % math.pi


def family_census(nets: Mapping[str, nn.Module], layers: list[str] | None = None, image_size: int = 32,
                  n_orientations: int = 24, min_line_ratio: float = 2.0) -> list[CensusRow]:
    """Curve-family search on every layer and edge census of the first layer of every net.

    Args:
        nets: ``{name: model}``.
        layers: Layers to search; each net's :func:`~mi_tutor.universality.features.default_layers` when ``None``.
        image_size: Side of the synthetic stimuli (the nets' input size).
        n_orientations: Orientations of the stimuli over the circle.
        min_line_ratio: Passed to ``find_curve_family``.

    Returns:
        One :class:`CensusRow` per (net, layer), nets in the given order.
    """
    rows = []
    for name, model in nets.items():
        model.eval()
        names = default_layers(model) if layers is None else layers
        for depth, layer in enumerate(names):
            tuning = curve_tuning(model, layer, n_orientations=n_orientations, size=image_size)
            fam = find_curve_family(tuning, min_line_ratio=min_line_ratio)
            row = CensusRow(name, layer, int(tuning.responses.shape[0]), len(fam.units), fam.n_distinct,
                            round(math.degrees(fam.max_gap), 1))
            if depth == 0:
                units, pref = edge_units(tuning.responses[:, :, 0], tuning.orientations)
                row.edge_units = len(units)
                row.edge_bins = len({int(b) for b in torch.floor(pref / (math.pi / 8)).tolist()})
            rows.append(row)
    return rows


def census_table(rows: list[CensusRow]) -> list[dict]:
    """The census as a list of dicts (one per row), e.g. for ``pandas.DataFrame``."""
    return [asdict(r) for r in rows]


def plot_census(rows: list[CensusRow], title: str = "Family census"):
    """Draw the census as a table figure; returns ``(figure, table rows)``."""
    import matplotlib.pyplot as plt

    table = census_table(rows)
    cols = ["net", "layer", "units", "curve_units", "curve_bins", "curve_max_gap", "edge_units", "edge_bins"]
    cells = [["" if (c.startswith("edge") and r[c] < 0) else r[c] for c in cols] for r in table]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(cells) + 0.8))
    ax.axis("off")
    t = ax.table(cellText=cells, colLabels=cols, loc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    ax.set_title(title)
    return fig, table
