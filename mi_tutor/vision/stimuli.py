"""Synthetic stimuli for tuning curves: arcs over orientation x curvature, lines, angles.

The one stimulus module of the package: every tuning measurement
(:mod:`mi_tutor.vision.tuning`) sweeps :func:`curve_grid`, drawn with :func:`arc_distance`
and :func:`stroke_alpha`. Images match the input format of the course's CNNs:
``[n, 3, size, size]`` floats in ``[0, 1]``. Geometry: the image spans ``[-1, 1]`` (lengths are in
half-widths), ``x`` points right, ``y`` points **up**, angles run
counter-clockwise, and an arc's **orientation** is the direction its convex
side faces (orientation ``0`` bulges to the right, ``pi/2`` to the top).
**Curvature** is ``1 / radius``; curvature ``0`` draws the straight line
tangent to the arc at its midpoint, i.e. the line "of the same orientation".

Cosmetic properties (stroke width, colour, background) live in a
:class:`StimulusStyle`, so a lesson can show that they barely matter.

Examples:
    >>> grid = curve_grid(8, [0.0, 2.0, 4.0])
    >>> grid.images.shape
    torch.Size([24, 3, 32, 32])
    >>> render_curves(torch.tensor([0.0]), torch.tensor([3.0])).shape
    torch.Size([1, 3, 32, 32])
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import torch

from ..validation import check_range
from .world import COLOURS

__all__ = [
    "StimulusStyle",
    "StimulusGrid",
    "pixel_grid",
    "arc_distance",
    "stroke_alpha",
    "render_curves",
    "render_lines",
    "render_angles",
    "curve_grid",
    "cosmetic_variants",
]

Colour = str | tuple[float, float, float]


@dataclass
class StimulusStyle:
    """How a stimulus looks, apart from its orientation and curvature.

    Attributes:
        size: Image side in pixels.
        length: Length of the stroke (arc length) in half-widths.
        width: Stroke half-width in half-widths (``0.07`` is about 1 pixel at 32 px).
        colour: Stroke colour: a name of ``mi_tutor.vision.world.COLOURS`` or an RGB triple.
        background: Background grey level, or an RGB triple.
        center: ``(x, y)`` of the stroke's midpoint (the angle's vertex).
    """

    size: int = 32
    length: float = 0.9
    width: float = 0.07
    colour: Colour = "white"
    background: float | tuple[float, float, float] = 0.4
    center: tuple[float, float] = (0.0, 0.0)


@dataclass
class StimulusGrid:
    """Arcs for every (curvature, orientation) pair, curvature-major.

    Attributes:
        orientations: ``[n_orient]`` radians.
        curvatures: ``[n_curv]``.
        images: ``[n_curv * n_orient, 3, size, size]``; image ``c * n_orient + o``
            has curvature ``c`` and orientation ``o``.
        style: The style they were drawn with.
    """

    orientations: torch.Tensor
    curvatures: torch.Tensor
    images: torch.Tensor
    style: StimulusStyle = field(default_factory=StimulusStyle)

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_curv, n_orient)``: reshape per-image responses ``[n]`` with it."""
        return (len(self.curvatures), len(self.orientations))


def _rgb(colour: Colour | float, name: str) -> torch.Tensor:
    if isinstance(colour, str):
        if colour not in COLOURS:
            raise KeyError(f"`{name}`={colour!r} is not a known colour; known: {', '.join(COLOURS)}")
        return torch.tensor(COLOURS[colour])
    if isinstance(colour, (int, float)):
        return torch.full((3,), float(colour))
    rgb = torch.as_tensor(colour, dtype=torch.float32).flatten()
    if rgb.numel() != 3:
        raise ValueError(f"`{name}` should be a grey level or an RGB triple, got {colour!r}")
    return rgb


def pixel_grid(size: int, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pixel-centre coordinates ``(x, y)``, each ``[size, size]``, x right and y up, in ``[-1, 1]``.

    Examples:
        >>> x, y = pixel_grid(4)
        >>> x[0].tolist(), y[:, 0].tolist()
        ([-0.75, -0.25, 0.25, 0.75], [0.75, 0.25, -0.25, -0.75])
    """
    coords = (torch.arange(size, dtype=torch.float32, device=device) + 0.5) / size * 2 - 1
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")
    return cols, -rows


def _as_angles(name: str, value: torch.Tensor | float | Sequence[float]) -> torch.Tensor:
    t = torch.as_tensor(value, dtype=torch.float32)
    if t.dim() > 1:
        raise ValueError(f"`{name}` should be a number or a 1-d tensor of radians, got shape {tuple(t.shape)}")
    if t.numel() == 0:
        raise ValueError(f"`{name}` is empty: give at least one angle (radians)")
    return t.flatten()


def _one_per_angle(name: str, value: torch.Tensor | Sequence[float] | float, theta: torch.Tensor) -> torch.Tensor:
    """``value`` as one number per orientation ``[n]`` (a single number is broadcast)."""
    t = torch.as_tensor(value, dtype=torch.float32).flatten()
    if t.numel() == 1:
        t = t.expand_as(theta)
    if t.shape != theta.shape:
        raise ValueError(f"`{name}` has {t.numel()} values but `orientations` has {theta.numel()}: "
                         "give one per orientation, or a single number")
    return t


def _per_stroke(name: str, value: torch.Tensor | float, device: torch.device) -> torch.Tensor:
    """A number or an ``[n]`` tensor as ``[n or 1, 1, 1]`` (one value per stroke, broadcast over pixels)."""
    t = torch.as_tensor(value, dtype=torch.float32, device=device)
    if t.dim() > 1 and t.numel() != t.shape[0]:
        raise ValueError(f"`{name}` should be a number or one value per stroke ([n]), got shape {tuple(t.shape)}")
    return t.reshape(-1, 1, 1)


def arc_distance(x: torch.Tensor, y: torch.Tensor, orientations: torch.Tensor, curvatures: torch.Tensor,
                 length: torch.Tensor | float,
                 center: tuple[torch.Tensor | float, torch.Tensor | float] = (0.0, 0.0)) -> torch.Tensor:
    """Distance from every pixel to each arc (a straight segment where curvature is 0).

    The arc's midpoint is ``center``; its convex side faces ``orientation``; the
    circle's centre therefore sits at ``center - radius * (cos, sin)(orientation)``
    and the arc runs ``length / 2`` along the circle on each side of the midpoint.
    A straight segment (curvature 0) runs along the tangent ``(-sin, cos)`` of
    its orientation, i.e. its **normal** is the orientation.

    Args:
        x: ``[H, W]`` pixel x coordinates (see :func:`pixel_grid`).
        y: ``[H, W]`` pixel y coordinates.
        orientations: ``[n]`` radians.
        curvatures: ``[n]`` non-negative, ``1 / radius``.
        length: Arc length: one number, or ``[n]`` (one per arc).
        center: Midpoint ``(x, y)``: two numbers, or two ``[n]`` tensors.

    Returns:
        ``[n, H, W]`` distances.

    Examples:
        >>> x, y = pixel_grid(8)
        >>> arc_distance(x, y, torch.zeros(1), torch.zeros(1), 1.0).shape
        torch.Size([1, 8, 8])
        >>> arc_distance(x, y, torch.zeros(2), torch.tensor([0.0, 3.0]), torch.tensor([0.5, 1.0]),
        ...              (torch.tensor([0.0, 0.2]), torch.zeros(2))).shape
        torch.Size([2, 8, 8])
    """
    dev = x.device
    theta = _per_stroke("orientations", orientations, dev)
    kappa = _per_stroke("curvatures", curvatures, dev)
    half = _per_stroke("length", length, dev) / 2
    dx = x - _per_stroke("center[0]", center[0], dev)
    dy = y - _per_stroke("center[1]", center[1], dev)
    # Straight segment: runs along the tangent (-sin, cos) through the midpoint.
    tx, ty = -torch.sin(theta), torch.cos(theta)
    s = torch.clamp(dx * tx + dy * ty, -half, half)
    straight = torch.sqrt((dx - s * tx) ** 2 + (dy - s * ty) ** 2)
    radius = 1.0 / kappa.clamp_min(1e-4)
    half_span = (half / radius).clamp(max=math.pi)
    cx, cy = dx + radius * torch.cos(theta), dy + radius * torch.sin(theta)  # pixel relative to circle centre
    rho = torch.sqrt(cx**2 + cy**2)
    phi = torch.remainder(torch.atan2(cy, cx) - theta + math.pi, 2 * math.pi) - math.pi
    ends = [torch.sqrt((cx - radius * torch.cos(theta + sgn * half_span)) ** 2
                       + (cy - radius * torch.sin(theta + sgn * half_span)) ** 2) for sgn in (-1.0, 1.0)]
    curved = torch.where(phi.abs() <= half_span, (rho - radius).abs(), torch.minimum(*ends))
    return torch.where(kappa < 1e-4, straight, curved)


def stroke_alpha(distance: torch.Tensor, width: torch.Tensor | float, size: int) -> torch.Tensor:
    """Anti-aliased coverage in ``[0, 1]`` of a stroke of half-width ``width`` (same shape as ``distance``).

    ``width`` is a number or a tensor that broadcasts against ``distance``
    (``[n, 1, 1]``: one half-width per image). A signed distance (negative
    inside) with ``width=0`` gives the coverage of a filled shape.
    """
    pixel = 2.0 / size
    return (0.5 - (distance - width) / pixel).clamp(0, 1)


def _compose(alpha: torch.Tensor, style: StimulusStyle) -> torch.Tensor:
    fill = _rgb(style.colour, "colour").to(alpha.device)[None, :, None, None]
    back = _rgb(style.background, "background").to(alpha.device)[None, :, None, None]
    alpha = alpha[:, None]
    return (back * (1 - alpha) + fill * alpha).contiguous()


def _check_style(style: StimulusStyle) -> None:
    if style.size < 4:
        raise ValueError(f"`style.size` must be at least 4 pixels, got {style.size}")
    check_range("style.length", style.length, 0.0, 4.0)
    check_range("style.width", style.width, 0.0, 1.0)


def render_curves(orientations: torch.Tensor | Sequence[float], curvatures: torch.Tensor | Sequence[float] | float,
                  style: StimulusStyle | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Draw one arc per (orientation, curvature) pair.

    Args:
        orientations: ``[n]`` radians, the direction the convex side faces.
        curvatures: ``[n]`` or a single number (broadcast), ``1 / radius`` in
            half-widths; ``0`` draws the tangent line.
        style: Size, stroke length, width, colour, background, midpoint.
        device: Where to create the images (default: CPU).

    Returns:
        ``[n, 3, size, size]`` images in ``[0, 1]``.

    Examples:
        >>> imgs = render_curves(torch.tensor([0.0, math.pi]), 4.0)
        >>> imgs.shape, bool(imgs.max() <= 1)
        (torch.Size([2, 3, 32, 32]), True)
    """
    style = style or StimulusStyle()
    _check_style(style)
    theta = _as_angles("orientations", orientations)
    kappa = _one_per_angle("curvatures", curvatures, theta)
    if bool((kappa < 0).any()):
        raise ValueError(f"`curvatures` must be >= 0 (1 / radius), got a minimum of {kappa.min().item():g}")
    x, y = pixel_grid(style.size, device)
    dist = arc_distance(x, y, theta, kappa, style.length, style.center)
    return _compose(stroke_alpha(dist, style.width, style.size), style)


def render_lines(orientations: torch.Tensor | Sequence[float], style: StimulusStyle | None = None,
                 device: torch.device | str | None = None) -> torch.Tensor:
    """Straight lines whose **normal** is ``orientations`` (the tangent of an arc of that orientation).

    Examples:
        >>> render_lines(torch.tensor([0.3])).shape
        torch.Size([1, 3, 32, 32])
    """
    theta = _as_angles("orientations", orientations)
    return render_curves(theta, torch.zeros_like(theta), style, device)


def render_angles(orientations: torch.Tensor | Sequence[float], openings: torch.Tensor | Sequence[float] | float,
                  style: StimulusStyle | None = None, device: torch.device | str | None = None) -> torch.Tensor:
    """Two straight arms meeting at a vertex that points towards ``orientations``.

    An angle is the polygonal cousin of an arc: the vertex sits at
    ``style.center`` and each arm (``style.length / 2`` long) leaves it
    backwards, so an opening of ``pi`` is the straight line of that
    orientation and smaller openings give sharper corners.

    Args:
        orientations: ``[n]`` radians (where the corner points).
        openings: ``[n]`` or one number in ``(0, pi]``, the angle between the arms.
        style: See :class:`StimulusStyle`.
        device: Where to create the images.

    Returns:
        ``[n, 3, size, size]`` images.

    Examples:
        >>> render_angles(torch.tensor([0.0, 1.0]), math.pi / 2).shape
        torch.Size([2, 3, 32, 32])
    """
    style = style or StimulusStyle()
    _check_style(style)
    theta = _as_angles("orientations", orientations)
    alpha_open = _one_per_angle("openings", openings, theta)
    check_range("openings", alpha_open, 1e-3, math.pi + 1e-6)
    x, y = pixel_grid(style.size, device)
    dx, dy = x - style.center[0], y - style.center[1]
    arm = style.length / 2
    dists = []
    for sgn in (-1.0, 1.0):  # each arm leaves the vertex at theta + pi -/+ opening / 2
        direction = (theta + math.pi + sgn * alpha_open / 2)[:, None, None].to(x.device)
        ux, uy = torch.cos(direction), torch.sin(direction)
        s = (dx * ux + dy * uy).clamp(0, arm)
        dists.append(torch.sqrt((dx - s * ux) ** 2 + (dy - s * uy) ** 2))
    dist = torch.minimum(*dists)
    return _compose(stroke_alpha(dist, style.width, style.size), style)


def curve_grid(n_orientations: int = 16, curvatures: Sequence[float] | torch.Tensor = (0.0, 1.0, 2.0, 3.0, 4.0, 5.0),
               style: StimulusStyle | None = None, device: torch.device | str | None = None) -> StimulusGrid:
    """Arcs at ``n_orientations`` evenly spaced orientations times the given curvatures.

    Args:
        n_orientations: Orientations ``2 pi k / n`` for ``k = 0 .. n-1``.
        curvatures: ``[n_curv]`` curvatures; include ``0`` to get the lines too.
        style: See :class:`StimulusStyle`.
        device: Where to create the images.

    Returns:
        A :class:`StimulusGrid`; ``images`` is curvature-major.

    Examples:
        >>> g = curve_grid(4, [0.0, 3.0])
        >>> g.images.shape, g.shape
        (torch.Size([8, 3, 32, 32]), (2, 4))
    """
    if n_orientations < 1:
        raise ValueError(f"`n_orientations` must be a positive number of orientations, got {n_orientations}")
    orientations = torch.arange(n_orientations, dtype=torch.float32) * (2 * math.pi / n_orientations)
    curv = torch.as_tensor(curvatures, dtype=torch.float32).flatten()
    theta = orientations.repeat(len(curv))
    kappa = curv.repeat_interleave(n_orientations)
    style = style or StimulusStyle()
    return StimulusGrid(orientations, curv, render_curves(theta, kappa, style, device), style)


def cosmetic_variants(base: StimulusStyle | None = None) -> dict[str, StimulusStyle]:
    """A few styles that change only what should not matter to a curve detector.

    Returns:
        ``{name: style}``: the base, a thin and a thick stroke, red and black
        strokes, a dark and a bright background.

    Examples:
        >>> sorted(cosmetic_variants())[:3]
        ['base', 'black stroke', 'bright background']
    """
    base = base or StimulusStyle()
    return {
        "base": base,
        "thin": replace(base, width=base.width * 0.7),
        "thick": replace(base, width=base.width * 1.6),
        "red stroke": replace(base, colour="red"),
        "black stroke": replace(base, colour="black"),
        "dark background": replace(base, background=0.15),
        "bright background": replace(base, background=0.7, colour="blue"),
    }
