"""The curve world: thin arcs and lines on textured backgrounds, with concept masks.

Each image holds (usually) one thin **arc** of a known orientation and curvature,
often a straight **line** distractor at a random orientation, sometimes a small
filled **shape**, all drawn over a **textured background** (plain, stripes,
checker, dots, noise). The training label is the orientation bin of the arc
(the direction its convex side faces), or ``n_orientations`` ("line") when the
image has no arc. Telling arcs from lines and reading their orientation is
impossible without edge and curve detectors, so the zoo's networks grow them.

Angles use the mathematical convention: ``x`` to the right, ``y`` **up**,
counter-clockwise. An arc of orientation ``0`` bulges to the right, one of
orientation ``pi/2`` bulges to the top of the image.

Every image comes with per-pixel concept masks for network dissection: element
kinds (``curve``, ``line``, ``shape``), colours of the strokes, background
textures, and ``curve_<deg>`` for the arc of each orientation bin.

Examples:
    >>> batch = render_world(16, seed=0)
    >>> batch.images.shape, batch.labels.shape
    (torch.Size([16, 3, 32, 32]), torch.Size([16]))
    >>> "curve" in batch.masks and "stripes" in batch.masks
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .stimuli import arc_distance, pixel_grid, stroke_alpha
from .world import COLOURS, shape_sdf

__all__ = [
    "TEXTURES",
    "CurveWorldConfig",
    "CurveBatch",
    "render_world",
    "orientation_bin",
]

TEXTURES: tuple[str, ...] = ("plain", "stripes", "checker", "dots", "noise")
STROKE_COLOURS: tuple[str, ...] = ("red", "green", "blue", "yellow", "white", "black")


@dataclass
class CurveWorldConfig:
    """Knobs of the curve world. The defaults are what the zoo's curve models saw.

    Lengths are in units of the image half-width (the image spans ``[-1, 1]``).

    Attributes:
        size: Image side in pixels.
        n_orientations: Number of orientation bins of the label (bins are
            centred on multiples of ``2 pi / n_orientations``).
        p_no_curve: Probability that an image has no arc (label "line").
        p_line: Probability of a straight-line distractor in an image with an arc
            (images without an arc always have a line).
        p_shape: Probability of a small filled shape distractor.
        radius: Range of the arc radius (curvature is ``1 / radius``).
        arc_length: Range of the arc's (and line's) length.
        thickness: Range of the stroke half-width.
        max_offset: How far an element's midpoint may sit from the centre.
        textures: Background textures to draw from.
        texture_contrast: Range of the texture amplitude.
        colours: Stroke colours (keys of ``COLOURS``).
    """

    size: int = 32
    n_orientations: int = 8
    p_no_curve: float = 0.2
    p_line: float = 0.5
    p_shape: float = 0.2
    radius: tuple[float, float] = (0.25, 0.6)
    arc_length: tuple[float, float] = (0.7, 1.1)
    thickness: tuple[float, float] = (0.05, 0.09)
    max_offset: float = 0.35
    textures: tuple[str, ...] = TEXTURES
    texture_contrast: tuple[float, float] = (0.04, 0.15)
    colours: tuple[str, ...] = STROKE_COLOURS


@dataclass
class CurveBatch:
    """A batch of curve-world images and everything known about them.

    Attributes:
        images: ``[batch, 3, size, size]`` floats in ``[0, 1]``.
        labels: ``[batch]`` orientation bin of the arc, or ``n_orientations``
            when the image has no arc.
        has_curve: ``[batch]`` bool.
        orientation: ``[batch]`` arc orientation in radians ``[0, 2 pi)``
            (meaningless where ``has_curve`` is false).
        curvature: ``[batch]`` ``1 / radius`` of the arc.
        has_line: ``[batch]`` bool, a straight line is drawn.
        line_angle: ``[batch]`` the line's normal direction in radians.
        colour: ``[batch]`` index into ``config.colours`` of the arc's colour.
        texture: ``[batch]`` index into ``config.textures`` of the background.
        masks: concept name -> ``[batch, size, size]`` bool mask.
        config: The settings that drew the batch.
    """

    images: torch.Tensor
    labels: torch.Tensor
    has_curve: torch.Tensor
    orientation: torch.Tensor
    curvature: torch.Tensor
    has_line: torch.Tensor
    line_angle: torch.Tensor
    colour: torch.Tensor
    texture: torch.Tensor
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    config: CurveWorldConfig = field(default_factory=CurveWorldConfig)

    @property
    def label_names(self) -> list[str]:
        """Names of the label classes: ``curve_0``, ``curve_45``, ..., ``line``."""
        return label_names(self.config)


def label_names(config: CurveWorldConfig | None = None) -> list[str]:
    """Class names of the curve-world task (orientation bins in degrees, then ``line``)."""
    cfg = config or CurveWorldConfig()
    step = 360 / cfg.n_orientations
    return [f"curve_{round(k * step)}" for k in range(cfg.n_orientations)] + ["line"]


def orientation_bin(angle: torch.Tensor, n_orientations: int = 8) -> torch.Tensor:
    """Orientation bin (``0 .. n-1``) of angles in radians; bin ``k`` is centred on ``2 pi k / n``.

    Examples:
        >>> orientation_bin(torch.tensor([0.0, math.pi / 2, 6.2]), 8).tolist()
        [0, 2, 0]
    """
    width = 2 * math.pi / n_orientations
    return (torch.floor(torch.remainder(angle + width / 2, 2 * math.pi) / width).long()) % n_orientations


def _texture(kind: str, x: torch.Tensor, y: torch.Tensor, n: int, size: int, g: torch.Generator) -> torch.Tensor:
    """``[n, H, W]`` texture pattern in ``[-1, 1]``."""
    rand = lambda lo, hi: lo + (hi - lo) * torch.rand(n, 1, 1, generator=g)  # noqa: E731
    if kind == "plain":
        return torch.zeros(n, size, size)
    if kind == "stripes":
        angle, freq = rand(0, math.pi), rand(9, 16)
        return torch.sin(freq * (x * torch.cos(angle) + y * torch.sin(angle)) + rand(0, 6.3))
    if kind == "checker":
        freq = rand(8, 14)
        return torch.sign(torch.sin(freq * x + rand(0, 6.3)) * torch.sin(freq * y + rand(0, 6.3)))
    if kind == "dots":
        freq = rand(9, 14)
        return ((torch.cos(freq * x + rand(0, 6.3)) * torch.cos(freq * y + rand(0, 6.3))) > 0.7).float() * 2 - 1
    if kind == "noise":
        noise = torch.randn(n, 1, size // 4, size // 4, generator=g)
        return F.interpolate(noise, size=(size, size), mode="bilinear").squeeze(1).clamp(-2, 2) / 2
    raise KeyError(f"Unknown texture {kind!r}; known textures: {TEXTURES}")


def render_world(n: int, seed: int = 0, config: CurveWorldConfig | None = None) -> CurveBatch:
    """Render ``n`` curve-world images with labels and concept masks.

    Args:
        n: Number of images.
        seed: Seed of this batch; the same seed gives the same images.
        config: World settings; ``CurveWorldConfig()`` when omitted.

    Returns:
        A :class:`CurveBatch` on the CPU. Rendering 1,000 images takes a few
        tenths of a second.

    Examples:
        >>> b = render_world(4, seed=1)
        >>> b.labels.max().item() <= b.config.n_orientations
        True
    """
    cfg = config or CurveWorldConfig()
    if n < 1:
        raise ValueError(f"`n` must be a positive number of images, got {n}")
    g = torch.Generator().manual_seed(seed)
    size = cfg.size
    x, y = pixel_grid(size)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, 1, 1, generator=g)

    has_curve = torch.rand(n, generator=g) >= cfg.p_no_curve
    has_line = ~has_curve | (torch.rand(n, generator=g) < cfg.p_line)
    has_shape = torch.rand(n, generator=g) < cfg.p_shape
    texture = torch.randint(len(cfg.textures), (n,), generator=g)
    colour = torch.randint(len(cfg.colours), (n,), generator=g)
    line_colour = torch.randint(len(cfg.colours), (n,), generator=g)
    shape_colour = torch.randint(len(cfg.colours), (n,), generator=g)

    # Background: grey level, slight tint, and a texture.
    grey = uniform(0.3, 0.7)[:, None] + 0.05 * torch.randn(n, 3, 1, 1, generator=g)
    pattern = torch.zeros(n, size, size)
    for t, kind in enumerate(cfg.textures):
        idx = texture == t
        if idx.any():
            pattern[idx] = _texture(kind, x, y, int(idx.sum()), size, g)
    image = (grey + uniform(*cfg.texture_contrast)[:, None] * pattern[:, None]).clamp(0, 1)
    palette = torch.tensor([COLOURS[c] for c in cfg.colours])  # [n_colours, 3]

    # A small filled shape (drawn first: strokes go over it).
    kinds = ("disk", "square", "triangle")
    shape_kind = torch.randint(len(kinds), (n,), generator=g)
    s_angle, s_rad = uniform(0, 2 * math.pi), uniform(0.15, 0.25)
    sx, sy = uniform(-0.6, 0.6), uniform(-0.6, 0.6)
    u = (x - sx) * torch.cos(s_angle) + (y - sy) * torch.sin(s_angle)
    v = -(x - sx) * torch.sin(s_angle) + (y - sy) * torch.cos(s_angle)
    sdf = torch.full((n, size, size), 10.0)
    for k, kind in enumerate(kinds):
        idx = has_shape & (shape_kind == k)
        if idx.any():
            sdf[idx] = shape_sdf(kind, u[idx], v[idx], s_rad[idx])
    shape_alpha = stroke_alpha(sdf, 0.0, size) * has_shape[:, None, None]
    image = image * (1 - shape_alpha[:, None]) + palette[shape_colour][:, :, None, None] * shape_alpha[:, None]

    # The straight line distractor.
    line_angle = uniform(0, 2 * math.pi)
    lx, ly = uniform(-cfg.max_offset, cfg.max_offset), uniform(-cfg.max_offset, cfg.max_offset)
    l_dist = arc_distance(x, y, line_angle, torch.zeros(n), uniform(*cfg.arc_length), (lx, ly))
    line_alpha = stroke_alpha(l_dist, uniform(*cfg.thickness), size) * has_line[:, None, None]
    image = image * (1 - line_alpha[:, None]) + palette[line_colour][:, :, None, None] * line_alpha[:, None]

    # The arc that sets the label.
    orientation = uniform(0, 2 * math.pi)
    curvature = 1.0 / uniform(*cfg.radius)
    mx, my = uniform(-cfg.max_offset, cfg.max_offset), uniform(-cfg.max_offset, cfg.max_offset)
    a_dist = arc_distance(x, y, orientation, curvature, uniform(*cfg.arc_length), (mx, my))
    arc_alpha = stroke_alpha(a_dist, uniform(*cfg.thickness), size) * has_curve[:, None, None]
    image = image * (1 - arc_alpha[:, None]) + palette[colour][:, :, None, None] * arc_alpha[:, None]

    orientation, curvature = orientation.flatten(), curvature.flatten()
    labels = torch.where(has_curve, orientation_bin(orientation, cfg.n_orientations),
                         torch.full_like(colour, cfg.n_orientations))

    # Concept masks: what is visible at each pixel.
    curve_m = arc_alpha > 0.5
    line_m = (line_alpha > 0.5) & ~curve_m
    shape_m = (shape_alpha > 0.5) & ~curve_m & ~line_m
    stroke = curve_m | line_m | shape_m
    masks: dict[str, torch.Tensor] = {"curve": curve_m, "line": line_m, "shape": shape_m}
    for k, name in enumerate(label_names(cfg)[:-1]):
        masks[name] = curve_m & (labels == k)[:, None, None]
    for i, name in enumerate(cfg.colours):
        masks[name] = (curve_m & (colour == i)[:, None, None]) | (line_m & (line_colour == i)[:, None, None]) \
            | (shape_m & (shape_colour == i)[:, None, None])
    for t, name in enumerate(cfg.textures):
        masks[name] = ~stroke & (texture == t)[:, None, None]
    return CurveBatch(image.clamp(0, 1).contiguous(), labels, has_curve, orientation, curvature,
                      has_line, line_angle.flatten(), colour, texture, masks, cfg)
