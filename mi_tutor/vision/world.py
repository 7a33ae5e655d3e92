"""A procedural image world: coloured shapes on textured backgrounds, with masks.

Every image holds one shape of a known kind, colour, position, size and
orientation, drawn with anti-aliased edges from signed distance functions on a
pixel grid. Alongside the images come labels (for training and probes) and
per-pixel concept masks (for network dissection). Rendering is vectorised over
the batch: 4,000 images of 32x32 take well under a second on a CPU.

Examples:
    >>> batch = render_shapes(8, seed=0)
    >>> batch.images.shape, batch.labels.shape
    (torch.Size([8, 3, 32, 32]), torch.Size([8]))
    >>> sorted(batch.masks)[:3]
    ['background', 'bar', 'black']
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

__all__ = ["SHAPE_KINDS", "COLOURS", "WorldConfig", "WorldBatch", "render_shapes", "shape_sdf"]

SHAPE_KINDS: tuple[str, ...] = ("disk", "square", "triangle", "bar")
COLOURS: dict[str, tuple[float, float, float]] = {
    "red": (0.90, 0.15, 0.15),
    "green": (0.15, 0.75, 0.20),
    "blue": (0.15, 0.30, 0.90),
    "yellow": (0.95, 0.85, 0.10),
    "white": (0.95, 0.95, 0.95),
    "black": (0.05, 0.05, 0.05),
}


@dataclass
class WorldConfig:
    """Knobs of the shape world. The defaults are what the zoo's shape models saw.

    Attributes:
        size: Image side in pixels.
        kinds: Shape kinds to draw; the label is the index in this tuple.
        colours: Colour names (keys of ``COLOURS``) to draw shapes in.
        radius: Range of the shape's radius, as a fraction of the half-width.
        max_offset: How far the centre may move from the middle (same unit).
        bar_width: Half-width of a bar, same unit.
        noise: Standard deviation of the background texture.
    """

    size: int = 32
    kinds: tuple[str, ...] = SHAPE_KINDS
    colours: tuple[str, ...] = tuple(COLOURS)
    radius: tuple[float, float] = (0.35, 0.6)
    max_offset: float = 0.3
    bar_width: float = 0.09
    noise: float = 0.08


@dataclass
class WorldBatch:
    """A batch of rendered images and everything known about them.

    Attributes:
        images: ``[batch, 3, size, size]`` floats in ``[0, 1]``.
        labels: ``[batch]`` shape-kind index (into ``config.kinds``).
        colour: ``[batch]`` colour index (into ``config.colours``).
        angle: ``[batch]`` orientation in radians.
        masks: concept name -> ``[batch, size, size]`` bool mask; one per shape
            kind, one per colour and ``"background"``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    colour: torch.Tensor
    angle: torch.Tensor
    masks: dict[str, torch.Tensor] = field(default_factory=dict)
    config: WorldConfig = field(default_factory=WorldConfig)


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    y, x = torch.meshgrid(coords, coords, indexing="ij")
    return x, y  # [size, size] each, in [-1, 1]


def shape_sdf(kind: str, u: torch.Tensor, v: torch.Tensor, radius: torch.Tensor,
              bar_width: float = 0.09) -> torch.Tensor:
    """Signed distance (negative inside) of a shape centred at 0 in its own frame.

    Args:
        kind: One of ``SHAPE_KINDS``.
        u: ``[batch, H, W]`` coordinate along the shape's orientation.
        v: ``[batch, H, W]`` coordinate across it.
        radius: ``[batch, 1, 1]`` circumradius.
        bar_width: Half-width of a bar.
    """
    if kind == "disk":
        return torch.sqrt(u**2 + v**2) - radius
    if kind == "square":
        return torch.maximum(u.abs(), v.abs()) - radius * 0.75
    if kind == "triangle":
        sides = [n * 2 * math.pi / 3 + math.pi / 2 for n in range(3)]
        return torch.stack([u * math.cos(a) + v * math.sin(a) for a in sides]).amax(0) - radius / 2
    if kind == "bar":
        return torch.maximum(u.abs() - radius, v.abs() - bar_width)
    raise KeyError(f"Unknown shape kind {kind!r}; known kinds: {SHAPE_KINDS}")


def render_shapes(n: int, seed: int = 0, config: WorldConfig | None = None) -> WorldBatch:
    """Render ``n`` images of single shapes with labels and concept masks.

    Args:
        n: Number of images.
        seed: Seed of this batch; the same seed gives the same images.
        config: World settings; ``WorldConfig()`` when omitted.

    Returns:
        A :class:`WorldBatch` on the CPU.
    """
    cfg = config or WorldConfig()
    if n < 1:
        raise ValueError(f"`n` must be a positive number of images, got {n}")
    g = torch.Generator().manual_seed(seed)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, 1, 1, generator=g)

    labels = torch.randint(len(cfg.kinds), (n,), generator=g)
    colour = torch.randint(len(cfg.colours), (n,), generator=g)
    angle = uniform(0, 2 * math.pi)
    radius = uniform(*cfg.radius)
    cx, cy = uniform(-cfg.max_offset, cfg.max_offset), uniform(-cfg.max_offset, cfg.max_offset)
    x, y = _grid(cfg.size)
    dx, dy = x - cx, y - cy
    u = dx * torch.cos(angle) + dy * torch.sin(angle)
    v = -dx * torch.sin(angle) + dy * torch.cos(angle)

    sdf = torch.empty(n, cfg.size, cfg.size)
    for k, kind in enumerate(cfg.kinds):
        idx = labels == k
        if idx.any():
            sdf[idx] = shape_sdf(kind, u[idx], v[idx], radius[idx], cfg.bar_width)
    pixel = 2.0 / cfg.size
    alpha = (0.5 - sdf / pixel).clamp(0, 1).unsqueeze(1)  # [n, 1, H, W] anti-aliased coverage

    # Background: a grey level plus smooth-ish noise, so colour alone is not the shape.
    grey = 0.3 + 0.4 * torch.rand(n, 1, 1, 1, generator=g)
    noise = cfg.noise * torch.randn(n, 1, cfg.size // 4, cfg.size // 4, generator=g)
    noise = torch.nn.functional.interpolate(noise, size=(cfg.size, cfg.size), mode="bilinear")
    background = (grey + noise).clamp(0, 1).expand(n, 3, cfg.size, cfg.size)
    palette = torch.tensor([COLOURS[c] for c in cfg.colours])  # [n_colours, 3]
    fill = palette[colour][:, :, None, None]
    images = background * (1 - alpha) + fill * alpha

    inside = sdf < 0
    masks = {kind: inside & (labels == k)[:, None, None] for k, kind in enumerate(cfg.kinds)}
    masks.update({c: inside & (colour == i)[:, None, None] for i, c in enumerate(cfg.colours)})
    masks["background"] = ~inside
    return WorldBatch(images.contiguous(), labels, colour, angle.flatten(), masks, cfg)
