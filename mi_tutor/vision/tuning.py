"""Tuning analysis: how a unit responds over orientation and curvature, and curve families.

The one tuning module of the package (lessons 3 and 4, the zoo's findings).
A unit is one channel of a conv layer. Its **response** to an image is the
channel's activation at the centre of the map, the neuron whose receptive
field the (centred) stimulus falls on: ``position="center"``, the default
everywhere. ``position="max"`` (maximum over positions) is for stimuli that
are not centred, such as long lines. From responses to a :func:`~mi_tutor.vision.stimuli.curve_grid`
we get a **tuning map** ``[unit, curvature, orientation]``, its **radial tuning
curve** (the maximum over curvature at each orientation), the unit's
**preferred orientation** and how much more it likes its curve than the
straight line of the same orientation. :func:`find_curve_family` searches a
layer for units whose preferred orientations tile the circle; :func:`strict_curve_detectors`
is the stricter rule fixed before looking (issue 23), the one every census of the course applies
(:mod:`mi_tutor.circuits_vision.rotation` measures the hand-off between family members).

Angles are radians, counter-clockwise with ``y`` up (see :mod:`mi_tutor.vision.stimuli`).

Examples:
    >>> radial = torch.tensor([[0.0, 1.0, 0.0, 0.0]])
    >>> orientations = torch.tensor([0.0, 1.5708, 3.1416, 4.7124])
    >>> round(preferred_orientation(radial, orientations).item(), 3)
    1.571
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import nn

from ..device import model_device
from ..hooks import run_with_cache
from ..validation import check_choice, check_tensor
from ..vision.stimuli import StimulusGrid, StimulusStyle, curve_grid, render_curves

__all__ = [
    "unit_responses",
    "tuning_grid",
    "tuning_map",
    "radial_tuning",
    "preferred_orientation",
    "orientation_selectivity",
    "angle_difference",
    "max_circular_gap",
    "orientation_coverage",
    "curve_line_selectivity",
    "CurveFamily",
    "find_curve_family",
    "STRICT_RULE",
    "strict_curve_detectors",
]

TWO_PI = 2 * math.pi


@torch.no_grad()
def unit_responses(model: nn.Module, layer: str, images: torch.Tensor, channels: Sequence[int] | None = None,
                   position: str = "center", batch_size: int = 512) -> torch.Tensor:
    """Responses of channels of ``layer`` to each image.

    Args:
        model: A CNN taking ``[n, 3, H, W]``.
        layer: Module name whose output is ``[n, C, h, w]`` (e.g. ``"layer2"``).
        images: ``[n, 3, H, W]``; moved to the model's device in batches.
        channels: Which channels (default: all).
        position: ``"center"`` (the map's centre, ``[h // 2, w // 2]``),
            ``"max"`` (maximum over positions) or ``"mean"``.
        batch_size: Images per forward pass.

    Returns:
        ``[n, n_units]`` on the images' device.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU())
        >>> unit_responses(net, "1", torch.rand(5, 3, 8, 8), [0, 2]).shape
        torch.Size([5, 2])
    """
    check_tensor("images", images, ("n", 3, "height", "width"), floating=True)
    check_choice("position", position, ["center", "max", "mean"])
    device = model_device(model)
    outs = []
    for i in range(0, len(images), batch_size):
        _, cache = run_with_cache(model, images[i:i + batch_size].to(device), [layer])
        act = cache[layer]
        if act.dim() != 4:
            raise ValueError(f"Layer {layer!r} outputs shape {tuple(act.shape)}; a conv layer [n, C, h, w] is needed")
        if channels is not None:
            act = act[:, list(channels)]
        if position == "center":
            outs.append(act[:, :, act.shape[2] // 2, act.shape[3] // 2])
        elif position == "max":
            outs.append(act.amax(dim=(2, 3)))
        else:
            outs.append(act.mean(dim=(2, 3)))
    return torch.cat(outs).to(images.device)


def tuning_grid(model: nn.Module, layer: str, channels: Sequence[int], orientations: torch.Tensor,
                curvatures: torch.Tensor, style: StimulusStyle | None = None) -> torch.Tensor:
    """Centre response of each of ``channels`` to one arc per (curvature, orientation).

    Lesson 4's Exercise 4.1, and the grid :func:`~mi_tutor.circuits_vision.findings.probe_tuning`
    reads once per style (its ``grid_fn``). The arcs are drawn by
    :func:`~mi_tutor.vision.stimuli.render_curves` on the model's device, curvature-major, and
    run through the model in one batch (up to 512 arcs); each channel is read at its map's
    centre ``[h // 2, w // 2]``. :func:`tuning_map` is the same on evenly spaced orientations.

    Args:
        model: A CNN taking ``[n, 3, H, W]``.
        layer: Module name of a conv-shaped output.
        channels: Channels of ``layer``, in the order of the result's rows.
        orientations: ``[n_orient]`` radians.
        curvatures: ``[n_curv]``; ``0`` gives the lines.
        style: Cosmetic style of the arcs (``None``: the default :class:`~mi_tutor.vision.stimuli.StimulusStyle`).

    Returns:
        ``[n_channels, n_curv, n_orient]`` on the model's device.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 4, 5, padding=2), nn.ReLU())
        >>> tuning_grid(net, "1", [3, 0], torch.rand(8), torch.tensor([0.0, 3.0])).shape
        torch.Size([2, 2, 8])
    """
    check_tensor("orientations", orientations, ("n_orient",), floating=True)
    check_tensor("curvatures", curvatures, ("n_curv",), floating=True)
    channels = [int(c) for c in channels]
    if not channels:
        raise ValueError("`channels` is empty; give at least one channel")
    theta = orientations.repeat(len(curvatures))
    kappa = curvatures.repeat_interleave(len(orientations))
    images = render_curves(theta, kappa, style, device=model_device(model))
    resp = unit_responses(model, layer, images, channels, "center")       # [n_curv * n_orient, n_channels]
    return resp.T.reshape(len(channels), len(curvatures), len(orientations))


def tuning_map(model: nn.Module, layer: str, channels: Sequence[int] | None = None, n_orientations: int = 24,
               curvatures: Sequence[float] = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0), style: StimulusStyle | None = None,
               position: str = "center", grid: StimulusGrid | None = None) -> tuple[torch.Tensor, StimulusGrid]:
    """Response of each unit to arcs over curvature x orientation.

    Args:
        model: A CNN taking ``[n, 3, H, W]``.
        layer: Module name of a conv-shaped output.
        channels: Which channels (default: all).
        n_orientations: Orientations evenly spaced over the circle.
        curvatures: Curvatures (rows of the map); ``0`` gives the lines.
        style: Cosmetic style of the arcs.
        position: As in :func:`unit_responses`.
        grid: A ready :class:`~mi_tutor.vision.stimuli.StimulusGrid` (overrides the three above).

    Returns:
        ``(tuning, grid)`` with ``tuning`` of shape ``[n_units, n_curv, n_orient]``.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 2, 5, padding=2), nn.ReLU())
        >>> tuning_map(net, "1", n_orientations=8, curvatures=[0.0, 3.0])[0].shape
        torch.Size([2, 2, 8])
    """
    grid = grid or curve_grid(n_orientations, curvatures, style, device=model_device(model))
    resp = unit_responses(model, layer, grid.images, channels, position)  # [n_curv * n_orient, units]
    return resp.T.reshape(resp.shape[1], *grid.shape), grid


def radial_tuning(tuning: torch.Tensor) -> torch.Tensor:
    """Radial tuning curve: the maximum over curvature at each orientation.

    Args:
        tuning: ``[..., n_curv, n_orient]``.

    Returns:
        ``[..., n_orient]``.

    Examples:
        >>> radial_tuning(torch.tensor([[1.0, 5.0], [3.0, 2.0]])).tolist()
        [3.0, 5.0]
    """
    check_tensor("tuning", tuning, ("...", "n_curv", "n_orient"), floating=True)
    return tuning.amax(dim=-2)


def _check_radial(radial: torch.Tensor, orientations: torch.Tensor) -> None:
    dims = check_tensor("orientations", orientations, ("n_orient",), floating=True)
    check_tensor("radial", radial, ("...", "n_orient"), dims=dims, floating=True)


def preferred_orientation(radial: torch.Tensor, orientations: torch.Tensor) -> torch.Tensor:
    """Preferred orientation: the direction of the response-weighted sum of unit vectors.

    Negative responses are clipped to 0 first (a unit's "preference" is where it fires).

    Args:
        radial: ``[..., n_orient]`` responses.
        orientations: ``[n_orient]`` radians.

    Returns:
        ``[...]`` angles in ``[0, 2 pi)``.
    """
    _check_radial(radial, orientations)
    r = radial.clamp_min(0)
    th = orientations.to(radial.device, radial.dtype)
    angle = torch.atan2((r * torch.sin(th)).sum(-1), (r * torch.cos(th)).sum(-1))
    return torch.remainder(angle, TWO_PI)


def orientation_selectivity(radial: torch.Tensor, orientations: torch.Tensor) -> torch.Tensor:
    """Length of the mean resultant vector, ``|sum r e^{i theta}| / sum r`` in ``[0, 1]``.

    1 means the unit fires at a single orientation, 0 that it does not care
    (or that it has two opposite lobes of equal size, an "echo").

    Returns:
        ``[...]``; 0 for a unit that never fires.
    """
    _check_radial(radial, orientations)
    r = radial.clamp_min(0)
    th = orientations.to(radial.device, radial.dtype)
    length = torch.sqrt((r * torch.sin(th)).sum(-1) ** 2 + (r * torch.cos(th)).sum(-1) ** 2)
    return length / r.sum(-1).clamp_min(1e-12)


def angle_difference(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Signed difference ``a - b`` wrapped into ``[-pi, pi)``.

    Examples:
        >>> round(angle_difference(torch.tensor(0.1), torch.tensor(6.2)).item(), 3)
        0.183
    """
    return torch.remainder(torch.as_tensor(a) - torch.as_tensor(b) + math.pi, TWO_PI) - math.pi


def max_circular_gap(angles: torch.Tensor) -> float:
    """Largest gap (radians) between neighbouring angles around the circle (``2 pi`` for one angle).

    Examples:
        >>> round(max_circular_gap(torch.tensor([0.0, 1.0, 3.0])), 3)
        3.283
    """
    check_tensor("angles", angles, ("n",), floating=True)
    if angles.numel() == 0:
        return TWO_PI
    a = torch.sort(torch.remainder(angles.detach().double().cpu(), TWO_PI)).values
    gaps = torch.cat([a[1:] - a[:-1], (a[:1] + TWO_PI) - a[-1:]])
    return float(gaps.max())


def orientation_coverage(angles: torch.Tensor, n_bins: int = 8) -> float:
    """Fraction of ``n_bins`` equal sectors of the circle that hold at least one angle.

    Sector ``k`` is centred on ``2 pi k / n_bins``.

    Examples:
        >>> orientation_coverage(torch.tensor([0.0, 3.2]), 4)
        0.5
    """
    check_tensor("angles", angles, ("n",), floating=True)
    width = TWO_PI / n_bins
    bins = torch.floor(torch.remainder(angles.detach().cpu() + width / 2, TWO_PI) / width).long() % n_bins
    return len(set(bins.tolist())) / n_bins


def curve_line_selectivity(curve_response: torch.Tensor, line_response: torch.Tensor) -> torch.Tensor:
    """``(c - l) / (c + l)`` of the rectified responses to a curve and to its tangent line.

    ``1``: fires on the curve only; ``0``: no preference; ``1/3``: twice as
    much on the curve as on the line. Where neither fires the result is 0.

    Args:
        curve_response: ``[...]``.
        line_response: ``[...]`` (same shape).

    Examples:
        >>> curve_line_selectivity(torch.tensor([3.0, 1.0]), torch.tensor([1.0, 1.0])).tolist()
        [0.5, 0.0]
    """
    dims = check_tensor("curve_response", curve_response, None, floating=True)
    check_tensor("line_response", line_response, tuple(curve_response.shape), dims=dims, floating=True)
    c, l = curve_response.clamp_min(0), line_response.clamp_min(0)
    return (c - l) / (c + l).clamp_min(1e-12)


@dataclass
class CurveFamily:
    """A family of curve detectors found in one layer.

    Attributes:
        channels: Member channels, sorted by preferred orientation.
        orientations: ``[n]`` preferred orientations (radians).
        curve_response: ``[n]`` each member's peak response over curved stimuli.
        line_response: ``[n]`` its response to the line of its preferred orientation.
        selectivity: ``[n]`` :func:`curve_line_selectivity` of the two.
        orientation_selectivity: ``[n]`` see :func:`orientation_selectivity`.
        max_gap: Largest gap between neighbouring preferred orientations (radians).
        coverage: :func:`orientation_coverage` with 8 sectors.
    """

    channels: list[int]
    orientations: torch.Tensor
    curve_response: torch.Tensor
    line_response: torch.Tensor
    selectivity: torch.Tensor
    orientation_selectivity: torch.Tensor
    max_gap: float
    coverage: float

    def __len__(self) -> int:
        return len(self.channels)

    def summary(self) -> str:
        """One line per member: channel, preferred orientation (degrees), curve vs line responses."""
        rows = [f"{'channel':>7} {'orient.':>7} {'curve':>7} {'line':>7} {'select.':>7}"]
        for i, ch in enumerate(self.channels):
            rows.append(f"{ch:>7} {math.degrees(self.orientations[i]):>6.0f}° {self.curve_response[i]:>7.2f} "
                        f"{self.line_response[i]:>7.2f} {self.selectivity[i]:>7.2f}")
        rows.append(f"largest gap {math.degrees(self.max_gap):.0f}°, coverage {self.coverage:.0%} of 8 sectors")
        return "\n".join(rows)


def _tuning_inputs(tuning: torch.Tensor, orientations: torch.Tensor, curvatures: torch.Tensor,
                   channels: Sequence[int] | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[int]]:
    """Check a tuning map and its axes; returns ``(tuning, orientations)`` as CPU floats, the index of the
    zero curvature and the channel list (what the family rules, lenient and strict, start from)."""
    dims = check_tensor("orientations", orientations, ("n_orient",), floating=True)
    dims = check_tensor("curvatures", curvatures, ("n_curv",), dims=dims, floating=True)
    check_tensor("tuning", tuning, ("n_units", "n_curv", "n_orient"), dims=dims, floating=True)
    zero = (curvatures == 0).nonzero().flatten()
    if len(zero) != 1:
        raise ValueError(f"`curvatures` must contain exactly one 0 (the straight lines); got {curvatures.tolist()}")
    channels = list(range(tuning.shape[0])) if channels is None else list(channels)
    if len(channels) != tuning.shape[0]:
        raise ValueError(f"`channels` has {len(channels)} entries but `tuning` has {tuning.shape[0]} units")
    t = tuning.detach().float().cpu()
    th = orientations.detach().float().cpu()
    return t, th, zero, channels


def find_curve_family(tuning: torch.Tensor, orientations: torch.Tensor, curvatures: torch.Tensor,
                      channels: Sequence[int] | None = None, *, min_selectivity: float = 1 / 3,
                      min_orientation_selectivity: float = 0.3, min_response: float = 0.0,
                      min_separation: float = math.radians(20),
                      preferred_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                      selectivity_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
                      gap_fn: Callable[[torch.Tensor], float] | None = None) -> CurveFamily:
    """Search units for a family of curve detectors whose preferred orientations tile the circle.

    A unit qualifies when (1) its strongest response to a *curved* stimulus
    exceeds ``min_response``, (2) it fires at least ``(1 + s) / (1 - s)``
    times more on its preferred curve than on the straight line of the same
    orientation (``s = min_selectivity``; the default asks for 2x), and (3) its
    radial tuning curve has one clear lobe (``orientation_selectivity`` at
    least ``min_orientation_selectivity``). Qualifying units are then taken
    greedily, most selective first, skipping any whose preferred orientation
    is within ``min_separation`` of a unit already taken, so the family has
    distinct orientations.

    Args:
        tuning: ``[n_units, n_curv, n_orient]`` from :func:`tuning_map`.
        orientations: ``[n_orient]`` radians.
        curvatures: ``[n_curv]``; exactly one must be ``0`` (the lines).
        channels: Channel index of each unit (default ``0 .. n_units - 1``).
        min_selectivity: Minimum curve-vs-line selectivity (see above).
        min_orientation_selectivity: Minimum orientation selectivity of the radial curve.
        min_response: Minimum peak response to a curved stimulus.
        min_separation: Minimum angle between members' preferred orientations.
        preferred_fn: ``preferred_fn(radial [n_units, n_orient], orientations) -> [n_units]``
            (default :func:`preferred_orientation`); lesson 4 passes the student's own.
        selectivity_fn: ``selectivity_fn(curve_response, line_response)`` elementwise
            (default :func:`curve_line_selectivity`); lesson 4 passes the student's own.
        gap_fn: ``gap_fn(angles [n]) -> float`` for ``max_gap`` (default
            :func:`max_circular_gap`); lesson 4 passes the student's own.

    Returns:
        A :class:`CurveFamily` (possibly empty), members sorted by orientation.
    """
    t, th, zero, channels = _tuning_inputs(tuning, orientations, curvatures, channels)
    curved = t[:, (curvatures.cpu() != 0)]                      # [units, n_curved, n_orient]
    radial = curved.amax(dim=1)                                 # [units, n_orient]
    above_floor = radial - radial.amin(-1, keepdim=True)        # the tuning, without the untuned floor
    pref = (preferred_fn or preferred_orientation)(above_floor, th)
    osi = orientation_selectivity(above_floor, th)
    best = radial.argmax(-1)                                    # orientation index of the peak
    curve_r = radial.gather(1, best[:, None]).squeeze(1)
    line_r = t[:, int(zero)].gather(1, best[:, None]).squeeze(1)
    sel = (selectivity_fn or curve_line_selectivity)(curve_r, line_r)
    ok = (curve_r > min_response) & (sel >= min_selectivity) & (osi >= min_orientation_selectivity)
    taken: list[int] = []
    for u in sorted(ok.nonzero().flatten().tolist(), key=lambda u: -float(sel[u] * curve_r[u].clamp_min(0))):
        if all(abs(float(angle_difference(pref[u], pref[v]))) >= min_separation for v in taken):
            taken.append(u)
    taken.sort(key=lambda u: float(pref[u]))
    idx = torch.tensor(taken, dtype=torch.long)
    return CurveFamily(
        channels=[channels[u] for u in taken], orientations=pref[idx], curve_response=curve_r[idx],
        line_response=line_r[idx], selectivity=sel[idx], orientation_selectivity=osi[idx],
        max_gap=float((gap_fn or max_circular_gap)(pref[idx])) if taken else TWO_PI, coverage=orientation_coverage(pref[idx]) if taken else 0.0)


#: The strict detector rule of :func:`strict_curve_detectors`, fixed before looking at any net:
#: best arc >= ``over_line`` x the line of the same orientation and >= ``over_worst`` x the unit's
#: worst orientation; one lobe at most ``max_lobe_deg`` wide at half height (above the floor).
STRICT_RULE: dict[str, float] = {"over_line": 2.0, "over_worst": 2.0, "max_lobe_deg": 135.0}


def strict_curve_detectors(tuning: torch.Tensor, orientations: torch.Tensor, curvatures: torch.Tensor,
                           channels: Sequence[int] | None = None, *, over_line: float = STRICT_RULE["over_line"],
                           over_worst: float = STRICT_RULE["over_worst"],
                           max_lobe_deg: float = STRICT_RULE["max_lobe_deg"]) -> CurveFamily:
    """The units that pass the strict curve-detector rule, each at its peak orientation.

    With ``radial[o]`` the best response over the *curved* rows at orientation ``o``, a unit
    passes when its peak ``best = max_o radial[o]`` is positive and

    1. ``best >= over_line * max(line, 0)``, ``line`` the straight line (curvature 0) at the peak's orientation;
    2. ``best >= over_worst * max(worst, 0)``, ``worst = min_o radial[o]``;
    3. the orientations where ``radial`` is at least half-way from ``worst`` to ``best`` form
       **one** run around the circle (one lobe), at most ``max_lobe_deg`` wide (number of grid
       orientations in the run times the grid step).

    Its preferred orientation is the peak's grid orientation (not a vector mean, which two lobes
    or a skewed lobe pull away from the peak).

    Args:
        tuning: ``[n_units, n_curv, n_orient]`` responses; orientations evenly spaced over the circle.
        orientations: ``[n_orient]`` radians.
        curvatures: ``[n_curv]``; exactly one must be 0 (the lines).
        channels: Channel index of each unit (default ``0 .. n_units - 1``).
        over_line: Minimum ratio of the best arc to the line of its orientation.
        over_worst: Minimum ratio of the best arc to the worst orientation's best arc.
        max_lobe_deg: Widest lobe allowed at half height, degrees.

    Returns:
        A :class:`CurveFamily` of the passing units sorted by orientation (``selectivity`` is
        :func:`curve_line_selectivity` of best arc and line, ``orientation_selectivity`` the lobe
        width in radians), possibly empty.

    Examples:
        >>> th = torch.arange(8) * (2 * math.pi / 8)
        >>> lobe = torch.tensor([4.0, 2.5, 0.5, 0.2, 0.2, 0.2, 0.5, 2.5])   # one lobe at 0
        >>> two = torch.tensor([4.0, 0.5, 0.2, 0.5, 4.0, 0.5, 0.2, 0.5])    # two lobes: fails
        >>> line = torch.full((8,), 1.0)
        >>> tuning = torch.stack([torch.stack([line, lobe]), torch.stack([line, two])])   # [2 units, 2 curv, 8]
        >>> fam = strict_curve_detectors(tuning, th, torch.tensor([0.0, 4.0]))
        >>> fam.channels, round(math.degrees(fam.max_gap))
        ([0], 360)
    """
    t, th, zero, channels = _tuning_inputs(tuning, orientations, curvatures, channels)
    n_orient = len(th)
    radial = t[:, curvatures.cpu() != 0].amax(dim=1)                 # [units, n_orient]
    best_o = radial.argmax(-1)
    best = radial.gather(1, best_o[:, None])[:, 0]
    worst = radial.amin(-1)
    line = t[:, int(zero)].gather(1, best_o[:, None])[:, 0]
    above = radial >= (worst + 0.5 * (best - worst))[:, None]        # [units, n_orient]
    runs = (above & ~above.roll(1, dims=-1)).sum(-1)                 # starts of runs around the circle
    width = above.sum(-1).float() * (TWO_PI / n_orient)
    ok = ((best > 0) & (best >= over_line * line.clamp_min(0)) & (best >= over_worst * worst.clamp_min(0))
          & ((runs == 1) | above.all(-1)) & (width <= math.radians(max_lobe_deg) + 1e-6))
    taken = sorted(ok.nonzero().flatten().tolist(), key=lambda u: float(th[best_o[u]]))
    idx = torch.tensor(taken, dtype=torch.long)
    pref = th[best_o[idx]]
    return CurveFamily(
        channels=[channels[u] for u in taken], orientations=pref, curve_response=best[idx], line_response=line[idx],
        selectivity=curve_line_selectivity(best[idx], line[idx]), orientation_selectivity=width[idx],
        max_gap=max_circular_gap(pref) if taken else TWO_PI, coverage=orientation_coverage(pref) if taken else 0.0)
