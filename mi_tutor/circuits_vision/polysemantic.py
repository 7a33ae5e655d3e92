"""Polysemantic units: units that respond strongly to two unrelated concepts.

With per-pixel concept masks (a world's parts, kinds, stroke colours and
background textures, or strokes of each orientation) we can ask,
for every unit, how much more it fires on each concept than on average
(:func:`concept_scores`). A unit is **polysemantic** when two concepts that
have nothing to do with each other both score high. "Nothing to do with each
other" is measured, not declared: two concepts are unrelated when their masks
almost never cover the same pixels (:func:`concept_overlap`) and they belong
to different groups (curves and lines are one group, colours another...).

Examples:
    >>> acts = torch.zeros(2, 1, 4, 4); acts[0, 0, 0, 0] = acts[1, 0, 3, 3] = 1
    >>> masks = {"a": torch.zeros(2, 4, 4, dtype=torch.bool), "b": torch.zeros(2, 4, 4, dtype=torch.bool)}
    >>> masks["a"][0, 0, 0] = True; masks["b"][1, 3, 3] = True
    >>> concept_scores(acts, masks).shape
    torch.Size([1, 2])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..validation import check_tensor
from ..vision.world import COLOURS

__all__ = [
    "TEXTURE_NAMES",
    "default_group",
    "resize_masks",
    "concept_scores",
    "concept_overlap",
    "PolysemanticUnit",
    "find_polysemantic",
    "object_concept_masks",
    "kinds_share_part",
]

TEXTURE_NAMES: tuple[str, ...] = ("plain", "stripes", "checker", "dots", "noise")


def default_group(concept: str) -> str:
    """Group of a concept name: ``stroke`` (``curve``, ``curve_45``..., ``line``), ``colour``, ``texture`` or itself.

    Curves and lines share a group: a curve unit that also answers to lines
    is imprecise, not polysemantic.

    Examples:
        >>> default_group("curve_90"), default_group("line"), default_group("red"), default_group("shape")
        ('stroke', 'stroke', 'colour', 'shape')
    """
    if concept in ("curve", "line") or concept.startswith("curve_"):
        return "stroke"
    if concept in COLOURS:
        return "colour"
    if concept in TEXTURE_NAMES:
        return "texture"
    return concept


def resize_masks(masks: Mapping[str, torch.Tensor], size: tuple[int, int]) -> dict[str, torch.Tensor]:
    """Shrink ``[n, H, W]`` bool masks to ``[n, h, w]`` coverage fractions (area average).

    Examples:
        >>> m = {"a": torch.ones(1, 4, 4, dtype=torch.bool)}
        >>> resize_masks(m, (2, 2))["a"].shape
        torch.Size([1, 2, 2])
    """
    out = {}
    for name, m in masks.items():
        check_tensor(f"masks[{name!r}]", m, ("n", "height", "width"))
        out[name] = F.adaptive_avg_pool2d(m[:, None].float(), size)[:, 0]
    return out


def concept_scores(acts: torch.Tensor, masks: Mapping[str, torch.Tensor], min_pixels: int = 1) -> torch.Tensor:
    """How many standard deviations above its mean each unit fires on each concept.

    Masks are resized to the activation map (coverage fractions) and a
    position counts as showing the concept when more than half of it is
    covered. The score of unit ``c`` on concept ``k`` is
    ``(mean of acts[:, c] on concept k - mean of acts[:, c]) / std of acts[:, c]``.

    Args:
        acts: ``[n, C, h, w]`` activations of one layer on ``n`` images.
        masks: ``concept -> [n, H, W]`` bool masks of the same images.
        min_pixels: Concepts covering fewer positions than this get NaN.

    Returns:
        ``[C, n_concepts]`` in the order of ``masks``.
    """
    dims = check_tensor("acts", acts, ("n", "C", "h", "w"), floating=True)
    a = acts.detach().float().cpu()
    mean = a.mean(dim=(0, 2, 3))
    std = a.std(dim=(0, 2, 3)).clamp_min(1e-8)
    scores = []
    for name, frac in resize_masks(masks, tuple(a.shape[2:])).items():
        check_tensor(f"masks[{name!r}]", frac, ("n", None, None), dims=dims)
        on = frac > 0.5                                              # [n, h, w]
        if int(on.sum()) < min_pixels:
            scores.append(torch.full((a.shape[1],), float("nan")))
            continue
        scores.append((a.permute(1, 0, 2, 3)[:, on].mean(-1) - mean) / std)
    return torch.stack(scores, 1)


def concept_overlap(masks: Mapping[str, torch.Tensor]) -> torch.Tensor:
    """Containment of every pair of concept masks: entry ``[a, b]`` is ``|a and b| / |a|``.

    The fraction of concept ``a``'s pixels that also show concept ``b`` (1
    when ``a`` lies inside ``b``; 0 for an empty ``a``).

    Returns:
        ``[n_concepts, n_concepts]`` in the order of ``masks``.

    Examples:
        >>> m = {"a": torch.tensor([[True, False]]), "b": torch.tensor([[True, True]])}
        >>> concept_overlap({k: v[None] for k, v in m.items()}).tolist()
        [[1.0, 1.0], [0.5, 1.0]]
    """
    flat = torch.stack([m.flatten().float() for m in masks.values()])      # [K, N]
    inter = flat @ flat.T
    return inter / flat.sum(1, keepdim=True).clamp_min(1)


@dataclass
class PolysemanticUnit:
    """A unit with two strong, unrelated concepts.

    Attributes:
        channel: The unit.
        concepts: The two concepts, strongest first.
        scores: Their :func:`concept_scores`.
    """

    channel: int
    concepts: tuple[str, str]
    scores: tuple[float, float]


def find_polysemantic(scores: torch.Tensor, concepts: Sequence[str], overlap: torch.Tensor | None = None,
                      threshold: float = 1.0, max_overlap: float = 0.1,
                      group: Callable[[str], str] = default_group,
                      related_fn: Callable[[str, str], bool] | None = None) -> list[PolysemanticUnit]:
    """Units whose two strongest *unrelated* concepts both score at least ``threshold``.

    Two concepts ``a`` and ``b`` are related when they are in the same group,
    when one's pixels overlap the other's (containment above ``max_overlap``
    either way), or when a third concept that the unit also likes contains
    most of both (``curve_0`` and ``red`` are related through ``curve`` if
    the red pixels are red curves and the unit likes curves).

    Args:
        scores: ``[C, n_concepts]`` from :func:`concept_scores`.
        concepts: Names of the columns.
        overlap: ``[n_concepts, n_concepts]`` from :func:`concept_overlap`
            (without it only groups decide).
        threshold: Minimum score (standard deviations) of both concepts.
        max_overlap: See above.
        group: Concept -> group; concepts of one group are related.
        related_fn: ``(a, b) -> bool``, another reason two concepts are related
            (for object kinds: :func:`kinds_share_part`).

    Returns:
        One :class:`PolysemanticUnit` per such unit, most polysemantic first
        (by the weaker of its two scores).
    """
    check_tensor("scores", scores, ("C", len(concepts)), floating=True)
    s = scores.detach().float().cpu().nan_to_num(float("-inf"))
    ov = None if overlap is None else overlap.detach().float().cpu()

    def related(a: int, b: int, liked: list[int]) -> bool:
        if group(concepts[a]) == group(concepts[b]):
            return True
        if related_fn is not None and related_fn(concepts[a], concepts[b]):
            return True
        if ov is None:
            return False
        if ov[a, b] > max_overlap or ov[b, a] > max_overlap:
            return True
        return any(ov[a, c] > 0.5 and ov[b, c] > 0.5 for c in liked if c not in (a, b))

    found = []
    for c in range(s.shape[0]):
        liked = [k for k in s[c].argsort(descending=True).tolist() if s[c, k] >= threshold]
        pair = next(((a, b) for i, a in enumerate(liked) for b in liked[i + 1:] if not related(a, b, liked)), None)
        if pair:
            a, b = pair
            found.append(PolysemanticUnit(c, (concepts[a], concepts[b]), (float(s[c, a]), float(s[c, b]))))
    return sorted(found, key=lambda u: -u.scores[1])


def object_concept_masks(batch, dilate: int = 5) -> dict[str, torch.Tensor]:
    """The object world's kind masks, grown by ``dilate`` pixels, as concepts.

    Objects are thin strokes: at a 16 x 16 map hardly any position is more
    than half covered by one. Growing each mask by a few pixels (max pooling)
    makes "inside the object" a region, as in
    :func:`mi_tutor.circuits_vision.findings.polysemantic_units`.

    Args:
        batch: An :class:`~mi_tutor.vision.objects.ObjectBatch`.
        dilate: Odd side of the max-pooling window (pixels).

    Returns:
        ``kind -> [n, H, W]`` bool masks.
    """
    if dilate < 1 or dilate % 2 == 0:
        raise ValueError(f"`dilate` must be a positive odd number of pixels, got {dilate}")
    return {kind: F.max_pool2d(m[:, None].float(), dilate, 1, dilate // 2)[:, 0] > 0
            for kind, m in batch.object_masks.items()}


def kinds_share_part(a: str, b: str) -> bool:
    """Whether two object kinds share a part (``car`` and ``cart``: windows; ``clock`` and ``sign``: hands).

    Examples:
        >>> kinds_share_part("car", "cart"), kinds_share_part("arch", "fence")
        (True, False)
    """
    from ..vision.objects import BLUEPRINTS

    if a not in BLUEPRINTS or b not in BLUEPRINTS:
        return False
    return bool({p[1] for p in BLUEPRINTS[a]} & {p[1] for p in BLUEPRINTS[b]})
