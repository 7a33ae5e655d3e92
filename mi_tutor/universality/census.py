"""The family census: curve detectors and first-layer edge detectors in every zoo net.

Olah et al. ("Zoom In", 2020) report Gabor-like first layers and curve
detectors in many architectures. :func:`family_census` runs the vision
toolkit's curve-family search (:func:`mi_tutor.vision.tuning.find_curve_family`
on :func:`~mi_tutor.vision.tuning.tuning_map`) on every layer of every net it is
given, plus an edge census of the first layer (units tuned to the orientation
of a straight line), and returns one row per (net, layer). Responses are read
at the centre of each map, as ``tuning_map``'s default does, from one forward
pass per net.

Examples:
    >>> from mi_tutor.vision.architectures import PlainNet
    >>> rows = family_census({"untrained": PlainNet()}, layers=["layer1"], n_orientations=8)
    >>> rows[0].net, rows[0].layer, rows[0].units
    ('untrained', 'layer1', 16)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from ..device import model_device
from ..hooks import default_layers, run_with_cache

__all__ = ["CensusRow", "edge_units", "family_census", "census_table", "plot_census"]


@dataclass
class CensusRow:
    """One (net, layer) of the census.

    Attributes:
        net: Net name.
        layer: Layer name.
        units: Channels in the layer.
        curve_units: Members of the curve family (distinct orientations, as ``find_curve_family`` picks them).
        curve_coverage: Fraction of the 8 45-degree sectors their preferred orientations cover.
        curve_max_gap: Largest gap (degrees) between preferred orientations; 360 when empty.
        edge_units: Units tuned to the orientation of a straight line (first layer only; -1 elsewhere).
        edge_bins: Distinct 22.5-degree bins (of 8, over 180 degrees) of their preferred line orientations.
    """

    net: str
    layer: str
    units: int
    curve_units: int
    curve_coverage: float
    curve_max_gap: float
    edge_units: int = -1
    edge_bins: int = -1


def edge_units(line_responses: torch.Tensor, orientations: torch.Tensor,
               min_selectivity: float = 0.3) -> tuple[list[int], torch.Tensor]:
    """Units whose response to a straight line depends on the line's orientation.

    A line at ``theta`` and at ``theta + pi`` is the same line, so selectivity is
    the vector strength of the above-floor responses on the doubled angle:
    ``|sum r e^{2 i theta}| / sum r`` (1 for a single orientation, 0 when flat).

    Args:
        line_responses: ``[units, orientations]`` responses to lines.
        orientations: ``[orientations]`` radians over the full circle.
        min_selectivity: Minimum vector strength.

    Returns:
        ``(units, preferred orientation in [0, pi) of each)``.

    Examples:
        >>> th = torch.arange(8) * math.pi / 4
        >>> units, pref = edge_units(torch.stack([torch.cos(th) ** 2, torch.ones(8)]), th)
        >>> units
        [0]
    """
    r = (line_responses - line_responses.amin(1, keepdim=True)).float()
    z = (r * torch.exp(2j * orientations.float())[None]).sum(1)
    strength = z.abs() / r.sum(1).clamp_min(1e-12)
    keep = torch.nonzero((line_responses.amax(1) > 1e-4) & (strength >= min_selectivity)).flatten()
    pref = (torch.angle(z[keep]) / 2) % math.pi
    return keep.tolist(), pref


def family_census(nets: Mapping[str, nn.Module], layers: Sequence[str] | None = None, image_size: int = 32,
                  n_orientations: int = 24, curvatures: Sequence[float] = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0),
                  ) -> list[CensusRow]:
    """Curve-family search on every layer and edge census of the first layer of every net.

    Args:
        nets: ``{name: model}``.
        layers: Layers to search; each net's :func:`~mi_tutor.hooks.default_layers` when ``None``.
        image_size: Side of the synthetic stimuli (the nets' input size).
        n_orientations: Orientations of the stimuli over the circle.
        curvatures: Curvatures of the stimuli (must include 0, the lines).

    Returns:
        One :class:`CensusRow` per (net, layer), nets in the given order.
    """
    from ..vision.stimuli import StimulusStyle, curve_grid
    from ..vision.tuning import find_curve_family

    rows = []
    for name, model in nets.items():
        model.eval()
        device = model_device(model)
        grid = curve_grid(n_orientations, curvatures, StimulusStyle(size=image_size), device=device)
        names = default_layers(model) if layers is None else list(layers)
        zero = int((grid.curvatures == 0).nonzero().flatten()[0])
        with torch.no_grad():
            _, cache = run_with_cache(model, grid.images, names)  # one forward pass for every layer
        for depth, layer in enumerate(names):
            act = cache[layer]                                    # [n_curv * n_orient, units, h, w]
            centre = act[:, :, act.shape[2] // 2, act.shape[3] // 2].float().cpu()   # the toolkit's "center" response
            tuning = centre.T.reshape(centre.shape[1], *grid.shape)                 # [units, n_curv, n_orient]
            fam = find_curve_family(tuning, grid.orientations.cpu(), grid.curvatures.cpu())
            row = CensusRow(name, layer, int(tuning.shape[0]), len(fam.channels), round(float(fam.coverage), 3),
                            round(math.degrees(fam.max_gap), 1))
            if depth == 0:
                units, pref = edge_units(tuning[:, zero, :], grid.orientations.cpu())
                row.edge_units = len(units)
                row.edge_bins = len({int(b) for b in torch.floor(pref / (math.pi / 8)).clamp(max=7).tolist()})
            rows.append(row)
    return rows

def census_table(rows: list[CensusRow]) -> list[dict]:
    """The census as a list of dicts (one per row), e.g. for ``pandas.DataFrame``."""
    return [asdict(r) for r in rows]


def plot_census(rows: list[CensusRow], title: str = "Family census"):
    """Draw the census as a table figure; returns ``(figure, table rows)``."""
    import matplotlib.pyplot as plt

    table = census_table(rows)
    cols = ["net", "layer", "units", "curve_units", "curve_coverage", "curve_max_gap", "edge_units", "edge_bins"]
    cells = [["" if (c.startswith("edge") and r[c] < 0) else r[c] for c in cols] for r in table]
    fig, ax = plt.subplots(figsize=(9, 0.3 * len(cells) + 0.8))
    ax.axis("off")
    t = ax.table(cellText=cells, colLabels=cols, loc="center")
    t.auto_set_font_size(False)
    t.set_fontsize(7)
    ax.set_title(title)
    return fig, table
