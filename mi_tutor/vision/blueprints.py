"""The object world's blueprints: every object kind as strokes in its own frame (data only).

Each kind is a tuple of primitives ``(type, part, *params)`` in the object's frame (about
``[-1, 1]^2``, facing right, ``y`` up); :mod:`mi_tutor.vision.objects` draws them. Derived
tables: the parts and their shapes (curved, straight, dot), the radius each kind reaches, the
kinds with a pose and the largest random rotation of each kind.

Examples:
    >>> OBJECT_KINDS[:3], PART_SHAPES["wheel"], "wreck" in EXTRA_KINDS
    (('car', 'cart', 'head'), 'curved', True)
"""

from __future__ import annotations

import math

__all__ = [
    "BLUEPRINTS",
    "OBJECT_KINDS",
    "PARTS",
    "EXTRA_BLUEPRINTS",
    "EXTRA_KINDS",
    "ALL_KINDS",
    "PART_SHAPES",
    "CURVED_PARTS",
    "STRAIGHT_PARTS",
    "REACH",
    "FACING_KINDS",
    "MAX_ROTATION",
]

# Object blueprints in the object's own frame (about [-1, 1]^2, facing right,
# y up). Each primitive: (type, part, *params) with types
#   seg  x0 y0 x1 y1        a straight stroke
#   box  cx cy hx hy        the outline of an axis-aligned rectangle
#   ring cx cy r            a circle outline
#   arc  cx cy r a0 a1      part of a circle outline, angles a0..a1 (radians)
#   disk cx cy r            a filled disk
_PI = math.pi
BLUEPRINTS: dict[str, tuple[tuple, ...]] = {
    "car": (
        ("box", "body", 0.0, -0.1, 1.0, 0.28),
        ("seg", "body", -0.55, 0.18, -0.4, 0.72), ("seg", "body", -0.4, 0.72, 0.35, 0.72),
        ("seg", "body", 0.35, 0.72, 0.6, 0.18),
        ("box", "window", -0.22, 0.45, 0.15, 0.17), ("box", "window", 0.2, 0.45, 0.15, 0.17),
        ("ring", "wheel", -0.55, -0.42, 0.3), ("ring", "wheel", 0.55, -0.42, 0.3),
        ("disk", "hub", -0.55, -0.42, 0.08), ("disk", "hub", 0.55, -0.42, 0.08),
    ),
    "cart": (
        ("box", "body", 0.0, -0.1, 1.0, 0.28),
        ("seg", "body", -0.55, 0.18, -0.4, 0.72), ("seg", "body", -0.4, 0.72, 0.35, 0.72),
        ("seg", "body", 0.35, 0.72, 0.6, 0.18),
        ("box", "window", -0.22, 0.45, 0.15, 0.17), ("box", "window", 0.2, 0.45, 0.15, 0.17),
        ("box", "block", -0.55, -0.42, 0.27, 0.27), ("box", "block", 0.55, -0.42, 0.27, 0.27),
        ("disk", "hub", -0.55, -0.42, 0.08), ("disk", "hub", 0.55, -0.42, 0.08),
    ),
    "head": (
        ("ring", "head", 0.0, -0.05, 0.62),
        ("seg", "ear", -0.55, 0.3, -0.45, 0.95), ("seg", "ear", -0.45, 0.95, -0.12, 0.55),
        ("seg", "ear", 0.0, 0.58, 0.12, 0.98), ("seg", "ear", 0.12, 0.98, 0.38, 0.45),
        ("ring", "eye", 0.25, 0.12, 0.13), ("disk", "eye", 0.25, 0.12, 0.06),
        ("arc", "snout", 0.62, -0.25, 0.28, -_PI / 2, _PI / 2),
        ("disk", "nose", 0.9, -0.2, 0.08),
    ),
    "clock": (
        ("ring", "rim", 0.0, 0.0, 0.8),
        ("seg", "hand", 0.0, 0.0, 0.0, 0.58), ("seg", "hand", 0.0, 0.0, 0.42, -0.1),
        ("disk", "hub", 0.0, 0.0, 0.09),
    ),
    "sign": (
        ("box", "frame", 0.0, 0.0, 0.72, 0.72),
        ("seg", "hand", 0.0, 0.0, 0.0, 0.58), ("seg", "hand", 0.0, 0.0, 0.42, -0.1),
        ("disk", "hub", 0.0, 0.0, 0.09),
    ),
    "house": (
        ("box", "wall", 0.0, -0.3, 0.7, 0.5),
        ("seg", "roof", -0.85, 0.2, 0.0, 0.85), ("seg", "roof", 0.0, 0.85, 0.85, 0.2),
        ("seg", "roof", -0.85, 0.2, 0.85, 0.2),
        ("box", "window", -0.32, -0.15, 0.15, 0.15), ("box", "door", 0.3, -0.45, 0.14, 0.35),
    ),
    "ladder": (
        ("seg", "rail", -0.42, -0.95, -0.42, 0.95), ("seg", "rail", 0.42, -0.95, 0.42, 0.95),
        ("seg", "rung", -0.42, -0.6, 0.42, -0.6), ("seg", "rung", -0.42, -0.2, 0.42, -0.2),
        ("seg", "rung", -0.42, 0.2, 0.42, 0.2), ("seg", "rung", -0.42, 0.6, 0.42, 0.6),
    ),
    "fence": (
        ("seg", "post", -0.8, -0.75, -0.8, 0.65), ("seg", "post", -0.27, -0.75, -0.27, 0.65),
        ("seg", "post", 0.27, -0.75, 0.27, 0.65), ("seg", "post", 0.8, -0.75, 0.8, 0.65),
        ("seg", "rail", -0.95, -0.35, 0.95, -0.35), ("seg", "rail", -0.95, 0.3, 0.95, 0.3),
    ),
    "arch": (
        ("arc", "arc", 0.0, -0.3, 0.45, 0.0, _PI), ("arc", "arc", 0.0, -0.3, 0.7, 0.0, _PI),
        ("arc", "arc", 0.0, -0.3, 0.95, 0.0, _PI),
    ),
}
OBJECT_KINDS: tuple[str, ...] = tuple(BLUEPRINTS)
PARTS: tuple[str, ...] = tuple(dict.fromkeys(p[1] for bp in BLUEPRINTS.values() for p in bp))
#: Kinds a world may add to the nine defaults (``ObjectWorldConfig(kinds=OBJECT_KINDS + EXTRA_KINDS)``),
#: built from the car's parts: ``wreck`` is the car upside down (wheels above, windows below);
#: ``swap`` is the car with its wheels and windows swapped (same body and roof, the wheels in the
#: cabin, the windows under the body): look-alikes that only the *arrangement* of the parts tells apart.
EXTRA_BLUEPRINTS: dict[str, tuple[tuple, ...]] = {
    "wreck": tuple((t, part, p[0], -p[1], *p[2:]) if t in ("box", "ring", "disk")
                   else (t, part, p[0], -p[1], p[2], -p[3])
                   for t, part, *p in BLUEPRINTS["car"]),
    "swap": (
        ("box", "body", 0.0, -0.1, 1.0, 0.28),
        ("seg", "body", -0.55, 0.18, -0.4, 0.72), ("seg", "body", -0.4, 0.72, 0.35, 0.72),
        ("seg", "body", 0.35, 0.72, 0.6, 0.18),
        ("box", "window", -0.55, -0.42, 0.15, 0.17), ("box", "window", 0.55, -0.42, 0.15, 0.17),
        ("ring", "wheel", -0.3, 0.45, 0.3), ("ring", "wheel", 0.3, 0.45, 0.3),
        ("disk", "hub", -0.3, 0.45, 0.08), ("disk", "hub", 0.3, 0.45, 0.08),
    ),
}
EXTRA_KINDS: tuple[str, ...] = tuple(EXTRA_BLUEPRINTS)
BLUEPRINTS.update(EXTRA_BLUEPRINTS)
#: Every kind a world may hold: the nine defaults, then the extra ones.
ALL_KINDS: tuple[str, ...] = OBJECT_KINDS + EXTRA_KINDS
PART_SHAPES: dict[str, str] = {
    part: ("curved" if {p[0] for bp in BLUEPRINTS.values() for p in bp if p[1] == part} & {"ring", "arc"}
           else "dot" if {p[0] for bp in BLUEPRINTS.values() for p in bp if p[1] == part} == {"disk"}
           else "straight")
    for part in PARTS
}
CURVED_PARTS: tuple[str, ...] = tuple(p for p, s in PART_SHAPES.items() if s == "curved")
STRAIGHT_PARTS: tuple[str, ...] = tuple(p for p, s in PART_SHAPES.items() if s == "straight")


def _reach(prim: tuple) -> float:
    """Farthest distance from the object's origin that a primitive reaches (object units)."""
    kind, _, *p = prim
    if kind == "seg":
        return max(math.hypot(p[0], p[1]), math.hypot(p[2], p[3]))
    if kind == "box":
        return math.hypot(abs(p[0]) + p[2], abs(p[1]) + p[3])
    return math.hypot(p[0], p[1]) + p[2]


#: Radius (object units) of the disk around its origin that holds each kind, whatever its rotation.
REACH: dict[str, float] = {kind: max(_reach(p) for p in bp) for kind, bp in BLUEPRINTS.items()}
#: Kinds whose left-right mirror image is a different *pose* (recorded in ``facing``), not a different label.
FACING_KINDS: tuple[str, ...] = ("car", "cart", "head", "wreck", "swap")
#: Largest random rotation (radians) of each kind: vehicles and buildings stay upright, arches turn freely.
MAX_ROTATION: dict[str, float] = {"car": 0.15, "cart": 0.15, "head": 0.25, "clock": _PI, "sign": 0.3,
                                  "house": 0.15, "ladder": 0.6, "fence": 0.2, "arch": _PI, "wreck": 0.15, "swap": 0.15}
