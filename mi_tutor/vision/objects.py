"""The object world: procedural scenes of objects built from parts, with masks and ground truth.

Every scene is a ``size x size`` RGB image (default 64 x 64) of one or more
objects drawn as thin anti-aliased strokes (and a few filled dots) on a
textured background, with straight and dotted distractors and, in some scenes,
a region rendered out of focus. Objects are built from **parts**; some parts
are curved (wheels, heads, eyes, rims, arcs), others straight (windows, walls,
roofs, rails, rungs), and several objects have a look-alike that differs only
in curvature (``car`` with round wheels / ``cart`` with square ones, ``clock``
/ ``sign``), so telling objects apart needs curves. The ``car`` has its round
parts (wheels) below and its window parts above; the ``head`` (an animal head
with ears, an eye and a snout) appears facing left or right under one label.

Alongside the images come, for every pixel, boolean masks of every part,
object kind, colour, background texture and of the blurred region, the object
labels, and the ground truth of every object (kind, position, scale, rotation,
facing, colour) for captions or probes. Pose is ground truth only, never a
label.

The objects' blueprints (strokes in each object's frame, the parts and their shapes) are data,
in :mod:`mi_tutor.vision.blueprints`; :func:`render_objects` draws a batch in stages, each a small
function: the layout of the objects, the background, the distractors, the objects, the
out-of-focus region.

Geometry follows :mod:`mi_tutor.vision.stimuli`: the image spans
``[-1, 1]``, ``x`` right, ``y`` **up**, angles counter-clockwise.

Rendering is vectorised over the batch (one group of tensors per object kind
and slot); :func:`render_objects` with ``n=512`` takes a fraction of a second
on one CPU thread (``bench/objects_world.py`` records it).

Examples:
    >>> batch = render_objects(4, seed=0)
    >>> batch.images.shape, batch.labels.shape
    (torch.Size([4, 3, 64, 64]), torch.Size([4]))
    >>> batch.part_masks["wheel"].shape
    torch.Size([4, 64, 64])
    >>> batch.scene(0)[0].kind in OBJECT_KINDS
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from ..validation import check_choice, check_range
from .blueprints import (ALL_KINDS, BLUEPRINTS, CURVED_PARTS, EXTRA_BLUEPRINTS, EXTRA_KINDS, FACING_KINDS, MAX_ROTATION,
                         OBJECT_KINDS, PART_SHAPES, PARTS, REACH, STRAIGHT_PARTS)
from .world import COLOURS

__all__ = [
    "OBJECT_KINDS",
    "EXTRA_KINDS",
    "ALL_KINDS",
    "PARTS",
    "PART_SHAPES",
    "CURVED_PARTS",
    "STRAIGHT_PARTS",
    "FACING_KINDS",
    "TEXTURES",
    "TASKS",
    "ObjectWorldConfig",
    "WRECK_WORLD",
    "SceneObject",
    "ObjectBatch",
    "render_objects",
    "render_parts",
    "blur_images",
    "object_names",
]

TEXTURES: tuple[str, ...] = ("plain", "noise", "stripes", "checker")
TASKS: tuple[str, ...] = ("object", "count")


@dataclass
class ObjectWorldConfig:
    """Knobs of the object world; the defaults are what the ``*_objects_*`` zoo nets saw.

    Attributes:
        size: Image side in pixels (at least 32).
        kinds: Object kinds that may appear; the object label is the index in this tuple.
        task: ``"object"`` (one object per scene, label = its kind) or
            ``"count"`` (1 to ``max_objects`` smaller objects in distinct
            quadrants, label = count - 1).
        max_objects: Most objects in a ``"count"`` scene (at most 4).
        scale: Range of an object's half-size, in half-widths of the image (``"object"`` task).
        count_scale: The same for the ``"count"`` task.
        stroke: Range of the stroke half-width, in half-widths (0.032 is 1 px at 64 px).
        colours: Stroke colour names (keys of ``mi_tutor.vision.world.COLOURS``).
        textures: Background textures to choose from (see ``TEXTURES``).
        texture_contrast: Range of the background texture's amplitude.
        max_distractors: Most straight-stroke and dot distractors per scene (each kind).
        p_blur: Probability that a scene has an out-of-focus region (a half-plane).
        blur_sigma: Standard deviation (pixels) of the Gaussian blur of that region.
    """

    size: int = 64
    kinds: tuple[str, ...] = OBJECT_KINDS
    task: str = "object"
    max_objects: int = 4
    scale: tuple[float, float] = (0.3, 0.5)
    count_scale: tuple[float, float] = (0.18, 0.26)
    stroke: tuple[float, float] = (0.025, 0.045)
    colours: tuple[str, ...] = tuple(COLOURS)
    textures: tuple[str, ...] = TEXTURES
    texture_contrast: tuple[float, float] = (0.03, 0.12)
    max_distractors: int = 3
    p_blur: float = 0.4
    blur_sigma: float = 1.6


#: The arrangement world: objects 1.8x larger (half-size 0.55-0.85 of the half-image, so the car's wheels
#: sit about one 8-px tap of ``layer4`` below its centre and its windows one tap above) and a tenth kind,
#: ``wreck``, the car upside down: the same parts, which only their arrangement tells from the car
#: (the zoo's ``vgg_wreck_s1`` learns it; lesson 4).
WRECK_WORLD = ObjectWorldConfig(scale=(0.55, 0.85), kinds=OBJECT_KINDS + ("wreck",))


@dataclass
class SceneObject:
    """Ground truth of one object in a scene (for captions and probes).

    Attributes:
        kind: Object kind, e.g. ``"car"``.
        x: Centre x in ``[-1, 1]`` (right is positive).
        y: Centre y in ``[-1, 1]`` (up is positive).
        scale: Half-size in half-widths.
        rotation: Counter-clockwise rotation in radians.
        facing: ``"left"`` or ``"right"`` for kinds in ``FACING_KINDS``, else ``None``.
        colour: Colour name.
        parts: The kind's parts.
        blurred: Whether the object's centre lies in the out-of-focus region.
    """

    kind: str
    x: float
    y: float
    scale: float
    rotation: float
    facing: str | None
    colour: str
    parts: tuple[str, ...]
    blurred: bool


@dataclass
class ObjectBatch:
    """A batch of object-world scenes.

    Attributes:
        images: ``[n, 3, H, W]`` floats in ``[0, 1]``.
        labels: ``[n]`` task labels (object index into ``config.kinds``, or count - 1).
        kinds: ``[n, K]`` kind index of the object in each slot, ``-1`` for an empty slot
            (``K = 1`` for the ``"object"`` task, ``max_objects`` for ``"count"``).
        xy: ``[n, K, 2]`` object centres.
        scale: ``[n, K]`` half-sizes.
        rotation: ``[n, K]`` rotations (radians).
        facing: ``[n, K]`` ``+1`` facing right, ``-1`` facing left, ``0`` for kinds without a pose.
        colour: ``[n, K]`` colour index into ``config.colours``.
        count: ``[n]`` number of objects.
        texture: ``[n]`` background texture index into ``config.textures``.
        blurred: ``[n]`` whether the scene has an out-of-focus region.
        part_masks: part name -> ``[n, H, W]`` bool (pixels drawn by that part).
        object_masks: kind -> ``[n, H, W]`` bool (pixels of objects of that kind).
        colour_masks: colour name -> ``[n, H, W]`` bool (object and distractor pixels of that colour).
        texture_masks: texture -> ``[n, H, W]`` bool (background pixels of that texture).
        blur_mask: ``[n, H, W]`` bool, the out-of-focus region.
        distractor_mask: ``[n, H, W]`` bool, pixels of distractors.
        instance: ``[n, H, W]`` long, the slot of the object drawn at each pixel, ``-1`` elsewhere.
        config: The config that drew the batch.
        seed: The seed that drew it.
    """

    images: torch.Tensor
    labels: torch.Tensor
    kinds: torch.Tensor
    xy: torch.Tensor
    scale: torch.Tensor
    rotation: torch.Tensor
    facing: torch.Tensor
    colour: torch.Tensor
    count: torch.Tensor
    texture: torch.Tensor
    blurred: torch.Tensor
    part_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    object_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    colour_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    texture_masks: dict[str, torch.Tensor] = field(default_factory=dict)
    blur_mask: torch.Tensor | None = None
    distractor_mask: torch.Tensor | None = None
    instance: torch.Tensor | None = None
    config: ObjectWorldConfig = field(default_factory=ObjectWorldConfig)
    seed: int = 0

    def __len__(self) -> int:
        return len(self.images)

    def masks(self) -> dict[str, torch.Tensor]:
        """Every concept mask in one dict (``"part:wheel"``, ``"object:car"``, ``"colour:red"``,
        ``"texture:stripes"``, ``"blur"``, ``"distractor"``), for dissection."""
        out = {f"part:{k}": v for k, v in self.part_masks.items()}
        out.update({f"object:{k}": v for k, v in self.object_masks.items()})
        out.update({f"colour:{k}": v for k, v in self.colour_masks.items()})
        out.update({f"texture:{k}": v for k, v in self.texture_masks.items()})
        out["blur"] = self.blur_mask
        out["distractor"] = self.distractor_mask
        return out

    def scene(self, i: int) -> list[SceneObject]:
        """Ground truth of scene ``i``: its objects, in slot order."""
        if not 0 <= i < len(self):
            raise IndexError(f"`i`={i} is out of range for a batch of {len(self)} scenes")
        cfg, out = self.config, []
        for k in range(self.kinds.shape[1]):
            kind_idx = int(self.kinds[i, k])
            if kind_idx < 0:
                continue
            kind = cfg.kinds[kind_idx]
            x, y = (float(v) for v in self.xy[i, k])
            size = self.blur_mask.shape[-1]
            col = min(max(int((x + 1) / 2 * size), 0), size - 1)
            row = min(max(int((1 - y) / 2 * size), 0), size - 1)
            f = int(self.facing[i, k])
            out.append(SceneObject(
                kind=kind, x=x, y=y, scale=float(self.scale[i, k]), rotation=float(self.rotation[i, k]),
                facing={1: "right", -1: "left"}.get(f), colour=cfg.colours[int(self.colour[i, k])],
                parts=tuple(dict.fromkeys(p[1] for p in BLUEPRINTS[kind])),
                blurred=bool(self.blur_mask[i, row, col])))
        return out


def object_names(config: ObjectWorldConfig | None = None) -> list[str]:
    """Names of the labels of ``config``'s task (object kinds, or ``"1 object"``, ``"2 objects"``...).

    Examples:
        >>> object_names()[:3]
        ['car', 'cart', 'head']
    """
    cfg = config or ObjectWorldConfig()
    if cfg.task == "count":
        return [f"{k} object{'s' if k > 1 else ''}" for k in range(1, cfg.max_objects + 1)]
    return list(cfg.kinds)


def _check_config(cfg: ObjectWorldConfig) -> None:
    if not isinstance(cfg.size, int) or cfg.size < 32:
        raise ValueError(f"`config.size` must be an int of at least 32 pixels, got {cfg.size!r}")
    if not cfg.kinds:
        raise ValueError("`config.kinds` is empty; give at least one of " + ", ".join(OBJECT_KINDS))
    for kind in cfg.kinds:
        check_choice("config.kinds", kind, ALL_KINDS)
    for colour in cfg.colours:
        check_choice("config.colours", colour, COLOURS)
    for tex in cfg.textures:
        check_choice("config.textures", tex, TEXTURES)
    if not cfg.colours or not cfg.textures:
        raise ValueError("`config.colours` and `config.textures` must not be empty")
    check_choice("config.task", cfg.task, TASKS)
    if not 1 <= cfg.max_objects <= 4:
        raise ValueError(f"`config.max_objects` must be 1 to 4 (one object per quadrant), got {cfg.max_objects}")
    for name in ("scale", "count_scale", "stroke", "texture_contrast"):
        lo, hi = getattr(cfg, name)
        if not 0 <= lo <= hi:
            raise ValueError(f"`config.{name}` must be a range (low, high) with 0 <= low <= high, got {(lo, hi)}")
    check_range("config.p_blur", cfg.p_blur, 0.0, 1.0)
    if cfg.max_distractors < 0:
        raise ValueError(f"`config.max_distractors` must be >= 0, got {cfg.max_distractors}")


def _grid(size: int) -> tuple[torch.Tensor, torch.Tensor]:
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    rows, cols = torch.meshgrid(coords, coords, indexing="ij")
    return cols, -rows


def _windows(center: torch.Tensor, half: float, size: int):
    """Square pixel windows around ``center`` [m, 2] holding a disk of radius ``half`` (image units).

    Returns ``(x [m, 1, w], y [m, w, 1], rows [m, w], cols [m, w])``: pixel-centre
    coordinates and indices of each window (clamped inside the image).
    """
    w = min(size, 2 * int(math.ceil(half * size / 2)) + 4)
    ar = torch.arange(w)
    c0 = (torch.round((center[:, 0] + 1) / 2 * size) - w // 2).long().clamp(0, size - w)
    r0 = (torch.round((1 - center[:, 1]) / 2 * size) - w // 2).long().clamp(0, size - w)
    cols, rows = c0[:, None] + ar, r0[:, None] + ar
    x = ((cols.float() + 0.5) / size * 2 - 1)[:, None, :]
    y = (1 - (rows.float() + 0.5) / size * 2)[:, :, None]
    return x, y, rows, cols


def _or(mask: torch.Tensor, where: torch.Tensor, on: torch.Tensor) -> None:
    """``mask.flatten()[where] |= on`` for a contiguous bool mask."""
    flat = mask.view(-1)
    flat[where] = flat[where] | on


def _put(target: torch.Tensor, where: torch.Tensor, on: torch.Tensor, value: torch.Tensor) -> None:
    """Write ``value`` into ``target.flatten()[where]`` where ``on``."""
    flat = target.view(-1)
    flat[where] = torch.where(on, value, flat[where])


def _uniform(g: torch.Generator, n: int, lo: float, hi: float, *shape: int) -> torch.Tensor:
    return lo + (hi - lo) * torch.rand(n, *shape, generator=g)


def _seg_dist(u, v, x0, y0, x1, y1):
    dx, dy = x1 - x0, y1 - y0
    t = (((u - x0) * dx + (v - y0) * dy) / max(dx * dx + dy * dy, 1e-9)).clamp(0, 1)
    return torch.hypot(u - x0 - t * dx, v - y0 - t * dy)


def _primitive(prim: tuple, u: torch.Tensor, v: torch.Tensor) -> tuple[torch.Tensor, bool]:
    """Distance (object units) from each pixel to the primitive, and whether it is filled."""
    kind, _, *p = prim
    if kind == "seg":
        return _seg_dist(u, v, *p), False
    if kind == "box":
        cx, cy, hx, hy = p
        qx, qy = (u - cx).abs() - hx, (v - cy).abs() - hy
        outside = torch.hypot(qx.clamp_min(0), qy.clamp_min(0))
        return (outside + torch.maximum(qx, qy).clamp_max(0)).abs(), False
    if kind == "ring":
        cx, cy, r = p
        return (torch.hypot(u - cx, v - cy) - r).abs(), False
    if kind == "disk":
        cx, cy, r = p
        return torch.hypot(u - cx, v - cy) - r, True
    if kind == "arc":
        cx, cy, r, a0, a1 = p
        du, dv = u - cx, v - cy
        mid, half = (a0 + a1) / 2, (a1 - a0) / 2
        phi = torch.remainder(torch.atan2(dv, du) - mid + math.pi, 2 * math.pi) - math.pi
        on = (torch.hypot(du, dv) - r).abs()
        ends = [torch.hypot(du - r * math.cos(a), dv - r * math.sin(a)) for a in (a0, a1)]
        return torch.where(phi.abs() <= half, on, torch.minimum(*ends)), False
    raise ValueError(f"unknown primitive type {kind!r}")


def _coverage(dist: torch.Tensor, half_width: torch.Tensor | None, pixel: float) -> torch.Tensor:
    """Anti-aliased coverage from an image-unit distance (strokes) or signed distance (fills)."""
    d = dist if half_width is None else dist - half_width
    return (0.5 - d / pixel).clamp(0, 1)


def render_parts(kind: str, u: torch.Tensor, v: torch.Tensor, scale: torch.Tensor, stroke: torch.Tensor,
                 pixel: float) -> dict[str, torch.Tensor]:
    """Coverage of each part of one object kind over pixels given in object coordinates.

    Args:
        kind: One of ``OBJECT_KINDS``.
        u: ``[m, H, W]`` pixel x in the object's frame (object units).
        v: ``[m, H, W]`` pixel y in the object's frame.
        scale: ``[m]`` object half-size in image units (object unit -> image unit).
        stroke: ``[m]`` stroke half-width in image units.
        pixel: Pixel size in image units (``2 / size``).

    Returns:
        Part name -> ``[m, H, W]`` coverage in ``[0, 1]``.

    Examples:
        >>> u = v = torch.zeros(1, 4, 4)
        >>> sorted(render_parts("clock", u, v, torch.ones(1), torch.full((1,), 0.05), 0.5))
        ['hand', 'hub', 'rim']
    """
    check_choice("kind", kind, ALL_KINDS)
    s, w = scale[:, None, None], stroke[:, None, None]
    parts: dict[str, torch.Tensor] = {}
    for prim in BLUEPRINTS[kind]:
        dist, filled = _primitive(prim, u, v)
        alpha = _coverage(dist * s, None if filled else w, pixel)
        parts[prim[1]] = torch.maximum(parts[prim[1]], alpha) if prim[1] in parts else alpha
    return parts


def _texture(kinds: torch.Tensor, x: torch.Tensor, y: torch.Tensor, g: torch.Generator, size: int,
             names: tuple[str, ...]) -> torch.Tensor:
    """``[n, H, W]`` zero-mean texture of amplitude about 1 for each scene's texture kind."""
    n = len(kinds)
    out = torch.zeros(n, size, size)
    freq = _uniform(g, n, 4.0, 9.0)[:, None, None]
    angle = _uniform(g, n, 0.0, math.pi)[:, None, None]
    noise = torch.rand(n, size, size, generator=g) * 2 - 1
    for t, name in enumerate(names):
        sel = kinds == t
        if not bool(sel.any()) or name == "plain":
            continue
        if name == "noise":
            tex = noise[sel]
        elif name == "stripes":
            tex = torch.sin(math.pi * freq[sel] * (x * torch.cos(angle[sel]) + y * torch.sin(angle[sel])))
        else:  # checker
            f = freq[sel] / 2
            tex = torch.sign(torch.sin(math.pi * f * x) * torch.sin(math.pi * f * y))
        out[sel] = tex
    return out


def _blur_matrix(size: int, sigma: float) -> torch.Tensor:
    """``[size, size]`` matrix ``B`` such that ``img @ B`` blurs rows with a Gaussian (edges replicated)."""
    radius = max(1, int(math.ceil(2.5 * sigma)))
    t = torch.arange(-radius, radius + 1, dtype=torch.float32)
    k = torch.exp(-0.5 * (t / sigma) ** 2)
    k = k / k.sum()
    B = torch.zeros(size, size)
    cols = torch.arange(size)
    for off, w in zip(t.long().tolist(), k.tolist()):
        src = (cols + off).clamp(0, size - 1)  # output column c reads input column c + off
        B.index_put_((src, cols), torch.full((size,), w), accumulate=True)
    return B


def blur_images(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of ``[..., H, W]`` images with standard deviation ``sigma`` pixels (edges replicated).

    The blur of the world's out-of-focus regions.

    Examples:
        >>> x = torch.zeros(1, 9, 9); x[0, 4, 4] = 1.0
        >>> y = blur_images(x, 1.0)
        >>> round(float(y.sum()), 4), bool(y[0, 4, 4] < 1)
        (1.0, True)
    """
    B = _blur_matrix(images.shape[-1], sigma).to(images)
    return B.T @ (images @ B)


@dataclass
class _Layout:
    """What is in each scene: ``K`` slots of objects and their ground truth (see :class:`ObjectBatch`)."""

    count: torch.Tensor
    kinds: torch.Tensor
    scale: torch.Tensor
    xy: torch.Tensor
    rotation: torch.Tensor
    facing: torch.Tensor
    colour: torch.Tensor
    stroke: torch.Tensor

    @property
    def slots(self) -> int:
        return self.kinds.shape[1]


def _layout(cfg: ObjectWorldConfig, n: int, g: torch.Generator) -> _Layout:
    """Draw the objects of ``n`` scenes: kinds, positions, sizes, rotations, poses, colours, stroke widths."""
    if cfg.task == "object":
        count = torch.ones(n, dtype=torch.long)
        kinds = torch.randint(len(cfg.kinds), (n, 1), generator=g)
        scale = _uniform(g, n, *cfg.scale, 1)
        lim = (0.92 - scale).clamp_min(0)
        xy = (torch.rand(n, 1, 2, generator=g) * 2 - 1) * lim[..., None]
    else:
        K = cfg.max_objects
        count = torch.randint(1, K + 1, (n,), generator=g)
        quadrants = torch.rand(n, 4, generator=g).argsort(-1)[:, :K]  # distinct quadrants
        present = torch.arange(K)[None] < count[:, None]
        kinds = torch.where(present, torch.randint(len(cfg.kinds), (n, K), generator=g), -1)
        scale = _uniform(g, n, *cfg.count_scale, K)
        qx = torch.where(quadrants % 2 == 0, -0.5, 0.5)
        qy = torch.where(quadrants < 2, 0.5, -0.5)
        jitter = (torch.rand(n, K, 2, generator=g) * 2 - 1) * (0.45 - scale).clamp_min(0)[..., None]
        xy = torch.stack([qx, qy], -1) + jitter
    K = kinds.shape[1]
    rot_max = torch.tensor([MAX_ROTATION[k] for k in cfg.kinds])
    rotation = (torch.rand(n, K, generator=g) * 2 - 1) * rot_max[kinds.clamp_min(0)]
    can_face = torch.tensor([k in FACING_KINDS for k in cfg.kinds])
    flip = torch.where(torch.rand(n, K, generator=g) < 0.5, -1, 1)
    facing = torch.where(can_face[kinds.clamp_min(0)] & (kinds >= 0), flip, 0)
    colour = torch.randint(len(cfg.colours), (n, K), generator=g)
    stroke = _uniform(g, n, *cfg.stroke)
    return _Layout(count, kinds, scale, xy, rotation, facing, colour, stroke)


class _Canvas:
    """``n`` scenes being painted (channels last), with the colour drawn at each pixel (``-1``: background)."""

    def __init__(self, back: torch.Tensor, palette: torch.Tensor):
        n, size, _ = back.shape
        self.size, self.palette = size, palette
        self.pixels = back[..., None].expand(n, size, size, 3).clone()
        self.colour_map = torch.full((n, size, size), -1, dtype=torch.long)

    def paint(self, idx: torch.Tensor, alpha: torch.Tensor, rows: torch.Tensor, cols: torch.Tensor,
              colour: torch.Tensor) -> torch.Tensor:
        """Composite coverage ``alpha`` ``[m, w, w]`` of windows ``rows``/``cols`` in palette colours ``colour``
        ``[m]`` onto scenes ``idx``; record the colour where ``alpha > 0.5``; return the windows' flat pixel
        indices ``[m, w, w]``."""
        size, flat = self.size, self.pixels.view(-1, 3)
        where = (idx[:, None, None] * size + rows[:, :, None]) * size + cols[:, None, :]
        a = alpha[..., None]
        flat[where] = flat[where] * (1 - a) + self.palette[colour][:, None, None, :] * a
        _put(self.colour_map, where, alpha > 0.5, colour[:, None, None])
        return where


def _background(cfg: ObjectWorldConfig, n: int, g: torch.Generator, X: torch.Tensor,
                Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(texture [n], grey [n, H, W])``: a grey level plus a texture, contrasting with the stroke colours."""
    texture = torch.randint(len(cfg.textures), (n,), generator=g)
    contrast = _uniform(g, n, *cfg.texture_contrast)[:, None, None]
    level = _uniform(g, n, 0.25, 0.6)
    back = (level[:, None, None] + contrast * _texture(texture, X, Y, g, cfg.size, cfg.textures)).clamp(0, 1)
    return texture, back


def _draw_distractors(canvas: _Canvas, cfg: ObjectWorldConfig, g: torch.Generator,
                      stroke: torch.Tensor) -> torch.Tensor:
    """Paint short straight strokes and small dots; return their ``[n, H, W]`` mask."""
    n, size, pixel = len(stroke), cfg.size, 2.0 / cfg.size
    distractor = torch.zeros(n, size, size, dtype=torch.bool)
    D = cfg.max_distractors
    if D == 0:
        return distractor
    n_seg = torch.randint(D + 1, (n,), generator=g)
    n_dot = torch.randint(D + 1, (n,), generator=g)
    for d in range(D):
        for kind_, counts in (("seg", n_seg), ("dot", n_dot)):
            idx = (counts > d).nonzero().flatten()
            if len(idx) == 0:
                continue
            m = len(idx)
            c = torch.rand(m, 2, generator=g) * 1.8 - 0.9
            x, y, rows, cols = _windows(c, 0.38 if kind_ == "seg" else 0.12, size)
            du, dv = x - c[:, 0, None, None], y - c[:, 1, None, None]
            if kind_ == "seg":
                half = _uniform(g, m, 0.1, 0.3)[:, None, None]
                ang = _uniform(g, m, 0.0, math.pi)[:, None, None]
                along = (du * torch.cos(ang) + dv * torch.sin(ang)).abs()
                across = -du * torch.sin(ang) + dv * torch.cos(ang)
                dist = torch.hypot((along - half).clamp_min(0), across)
                alpha = _coverage(dist, stroke[idx, None, None], pixel)
            else:
                r = _uniform(g, m, 0.03, 0.07)[:, None, None]
                alpha = _coverage(torch.hypot(du, dv) - r, None, pixel)
            col = torch.randint(len(cfg.colours), (m,), generator=g)
            where = canvas.paint(idx, alpha, rows, cols, col)
            _or(distractor, where, alpha > 0.5)
    return distractor


def _draw_objects(canvas: _Canvas, cfg: ObjectWorldConfig, lay: _Layout
                  ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]:
    """Paint the objects, slot by slot and kind by kind; return ``(part_masks, object_masks, instance)``."""
    n, size, pixel = len(lay.kinds), cfg.size, 2.0 / cfg.size
    part_masks = {p: torch.zeros(n, size, size, dtype=torch.bool) for p in PARTS}
    object_masks = {k: torch.zeros(n, size, size, dtype=torch.bool) for k in cfg.kinds}
    instance = torch.full((n, size, size), -1, dtype=torch.long)
    for k in range(lay.slots):
        for ki, kind in enumerate(cfg.kinds):
            idx = (lay.kinds[:, k] == ki).nonzero().flatten()
            if len(idx) == 0:
                continue
            s, xy, rot, facing = lay.scale[idx, k], lay.xy[idx, k], lay.rotation[idx, k], lay.facing[idx, k]
            x, y, rows, cols = _windows(xy, REACH[kind] * float(s.max()) + cfg.stroke[1] + pixel, size)
            cos, sin = torch.cos(rot)[:, None, None], torch.sin(rot)[:, None, None]
            dx, dy = x - xy[:, 0, None, None], y - xy[:, 1, None, None]
            mirror = torch.where(facing == 0, 1, facing).float()[:, None, None]
            u = (cos * dx + sin * dy) / s[:, None, None] * mirror  # facing left = mirrored
            v = (-sin * dx + cos * dy) / s[:, None, None]
            parts = render_parts(kind, u, v, s, lay.stroke[idx], pixel)
            alpha = torch.stack(list(parts.values())).amax(0)
            where = canvas.paint(idx, alpha, rows, cols, lay.colour[idx, k])
            on = alpha > 0.5
            for p, a in parts.items():
                _or(part_masks[p], where, a > 0.5)
            _or(object_masks[kind], where, on)
            _put(instance, where, on, torch.tensor(k))
    return part_masks, object_masks, instance


def _blur_region(images: torch.Tensor, cfg: ObjectWorldConfig, g: torch.Generator, X: torch.Tensor,
                 Y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Blur a random half-plane of some scenes in place; return ``(blurred [n], blur_mask [n, H, W])``."""
    n = len(images)
    blurred = torch.rand(n, generator=g) < cfg.p_blur
    normal = _uniform(g, n, 0.0, 2 * math.pi)[:, None, None]
    offset = _uniform(g, n, -0.4, 0.4)[:, None, None]
    blur_mask = ((X * torch.cos(normal) + Y * torch.sin(normal)) > offset) & blurred[:, None, None]
    bidx = blurred.nonzero().flatten()
    if len(bidx):
        images[bidx] = torch.where(blur_mask[bidx, None], blur_images(images[bidx], cfg.blur_sigma), images[bidx])
    return blurred, blur_mask


def render_objects(n: int, seed: int = 0, config: ObjectWorldConfig | None = None) -> ObjectBatch:
    """Draw ``n`` scenes of the object world.

    The stages, in the order they draw from the seeded generator: the layout of the objects,
    the background, the distractors, the objects, the out-of-focus region; then the masks.

    Args:
        n: Number of scenes (> 0).
        seed: Seeds everything random; the same ``(n, seed, config)`` gives the same batch.
        config: World settings (task, kinds, sizes...).

    Returns:
        An :class:`ObjectBatch` (images, labels, masks, ground truth), on the CPU.

    Raises:
        ValueError: for ``n <= 0`` or a bad config value (the message names it).
        KeyError: for an unknown kind, colour, texture or task name.

    Examples:
        >>> b = render_objects(3, seed=1, config=ObjectWorldConfig(task="count"))
        >>> b.kinds.shape, bool((b.labels == b.count - 1).all())
        (torch.Size([3, 4]), True)
    """
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"`n` must be a positive int (number of scenes), got {n!r}")
    cfg = config or ObjectWorldConfig()
    _check_config(cfg)
    g = torch.Generator().manual_seed(int(seed))
    X, Y = _grid(cfg.size)
    lay = _layout(cfg, n, g)
    texture, back = _background(cfg, n, g, X, Y)
    canvas = _Canvas(back, torch.tensor([COLOURS[c] for c in cfg.colours]))
    distractor = _draw_distractors(canvas, cfg, g, lay.stroke)
    part_masks, object_masks, instance = _draw_objects(canvas, cfg, lay)
    images = canvas.pixels.permute(0, 3, 1, 2).contiguous()
    blurred, blur_mask = _blur_region(images, cfg, g, X, Y)
    background = (instance < 0) & ~distractor
    labels = lay.kinds[:, 0].clone() if cfg.task == "object" else lay.count - 1
    return ObjectBatch(
        images=images.clamp(0, 1), labels=labels, kinds=lay.kinds, xy=lay.xy, scale=lay.scale,
        rotation=lay.rotation, facing=lay.facing, colour=lay.colour, count=lay.count, texture=texture,
        blurred=blurred, part_masks=part_masks, object_masks=object_masks,
        colour_masks={c: canvas.colour_map == i for i, c in enumerate(cfg.colours)},
        texture_masks={t: background & (texture == i)[:, None, None] for i, t in enumerate(cfg.textures)},
        blur_mask=blur_mask, distractor_mask=distractor, instance=instance, config=cfg, seed=int(seed),
    )
