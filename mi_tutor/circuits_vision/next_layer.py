"""How the next stage uses a stage's units: circles from curves, objects from parts, one pose from two.

Three Circuits patterns read from the weights into the next stage
(:func:`~mi_tutor.circuits_vision.stages.stage_entry`, batch norm folded in),
each with the selection rule that picks its units from cached activations:

* :func:`circle_alignment` - cosine between a next-stage unit's weights from a
  curve family and a circle's template (curve units wanted where their convex
  side points);
* :func:`composition_rows` and :func:`find_composition_units` - an object unit
  that wants one part below and another above (the car detector: wheels below,
  windows above);
* :func:`pose_index` and :func:`find_pose_units` - a left-facing and a
  right-facing unit merged by a pose-invariant unit (the dog-head pattern).

These are the only selection rules of the package: lesson 4 calls them on the
activations it has cached (one forward pass serves every measurement), and
:mod:`~mi_tutor.circuits_vision.findings` calls them on the scenes it renders
to measure the zoo.

Examples:
    >>> w = torch.zeros(2, 1, 3, 3); w[0, 0, 1, 2] = 1.0   # unit 0 wants a 0-degree curve to its right
    >>> circle_alignment(w, torch.tensor([0.0])).round(decimals=3).tolist()
    [0.5, 0.0]
    >>> composition_rows(torch.arange(18.0).reshape(1, 2, 3, 3), 0, [1, 0]).tolist()
    [[10.0, 16.0], [1.0, 7.0]]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..validation import check_choice, check_range, check_tensor

__all__ = [
    "circle_template",
    "circle_alignment",
    "composition_rows",
    "part_scores",
    "part_contrast",
    "SELECTIVITIES",
    "PART_CHOICES",
    "object_selectivity",
    "CompositionUnits",
    "find_composition_units",
    "pose_index",
    "PoseUnits",
    "find_pose_units",
]


def _offsets(k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(dx, dy)`` of a ``k x k`` kernel's taps, x right and y up (row 0 is the top)."""
    r = torch.arange(k, dtype=torch.float32) - (k - 1) / 2
    dy, dx = torch.meshgrid(-r, r, indexing="ij")
    return dx, dy


def circle_template(orientations: torch.Tensor, k: int = 3, radius: float | None = None,
                    width: float = 0.5) -> torch.Tensor:
    """``[n, k, k]`` weights a circle unit at the kernel centre wants from curve units of ``orientations``.

    A circle's point in direction ``phi`` from its centre bulges towards
    ``phi``; so a curve unit of orientation ``theta`` should be wanted at the
    taps in direction ``theta`` (weight ``cos(direction - theta)``, 0 at the centre).
    With ``radius`` (in taps) the template keeps the ring of taps at that
    distance from the centre (Gaussian falloff of ``width`` taps): a circle of
    one size in a kernel larger than 3 x 3.

    Examples:
        >>> t = circle_template(torch.tensor([0.0]))
        >>> t[0, 1].tolist()  # middle row: left tap negative, right tap positive
        [-1.0, 0.0, 1.0]
    """
    dx, dy = _offsets(k)
    direction = torch.atan2(dy, dx)
    t = torch.cos(direction[None] - orientations[:, None, None])
    if radius is not None:
        t = t * torch.exp(-(torch.hypot(dx, dy) - radius) ** 2 / (2 * width ** 2))
    return torch.where((dx == 0) & (dy == 0), torch.zeros(()), t)


def circle_alignment(weights: torch.Tensor, orientations: torch.Tensor, radius: float | None = None) -> torch.Tensor:
    """Cosine between each next-stage unit's weights from curve units and the circle template.

    Args:
        weights: ``[C_next, n, k, k]`` weights from the ``n`` family members into every next-stage unit.
        orientations: ``[n]`` the members' preferred orientations (radians).
        radius: Ring of the template in taps (:func:`circle_template`); ``None``: every tap.

    Returns:
        ``[C_next]`` in ``[-1, 1]`` (0 for a unit with no weight from the family).
    """
    dims = check_tensor("orientations", orientations, ("n",), floating=True)
    check_tensor("weights", weights, ("C_next", "n", "k", "k"), dims=dims, floating=True)
    t = circle_template(orientations.detach().float().cpu(), weights.shape[-1], radius).flatten().to(weights)
    w = weights.detach().flatten(1)
    return (w @ t) / (w.norm(dim=1) * t.norm()).clamp_min(1e-12)


def composition_rows(weight: torch.Tensor, object_unit: int, part_units: Sequence[int]) -> torch.Tensor:
    """Mean weight of the top and the bottom kernel row from each part unit into the object unit.

    Kernel row 0 reads the input above the unit (``y`` up), the last row below it.

    Args:
        weight: ``[C_next, C, k, k]`` weights into the next stage.
        object_unit: The next-stage unit.
        part_units: Units of the lower stage, one per part.

    Returns:
        ``[n_parts, 2]``: ``(top, bottom)`` for each part, in the order of ``part_units``.
    """
    check_tensor("weight", weight, ("C_next", "C", "k", "k"), floating=True)
    kernels = weight.detach()[int(object_unit), list(part_units)]          # [n_parts, k, k]
    return torch.stack([kernels[:, 0].mean(-1), kernels[:, -1].mean(-1)], 1)


def part_scores(acts: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """How much more each unit fires where a part's mask touches the map than elsewhere, in sd.

    Args:
        acts: ``[n, C, h, w]`` activations.
        mask: ``[n, H, W]`` bool mask of the part at image resolution.

    Returns:
        ``[C]`` ``(mean on - mean off) / std`` (a map position is "on" when the mask touches it).
    """
    dims = check_tensor("acts", acts, ("n", "C", "h", "w"), floating=True)
    check_tensor("mask", mask, ("n", "H", "W"), dims=dims)
    on = F.adaptive_avg_pool2d(mask[:, None].float(), acts.shape[-2:])[:, 0].flatten() > 0
    a = acts.detach().permute(1, 0, 2, 3).flatten(1)
    return (a[:, on].mean(1) - a[:, ~on].mean(1)) / a.std(1).clamp_min(1e-8)


def part_contrast(acts: torch.Tensor, mask_a: torch.Tensor, mask_b: torch.Tensor) -> torch.Tensor:
    """How much more each unit fires where part ``a`` alone touches the map than where part ``b`` alone does, in sd.

    Args:
        acts: ``[n, C, h, w]`` activations.
        mask_a: ``[n, H, W]`` bool mask of part ``a`` at image resolution.
        mask_b: ``[n, H, W]`` bool mask of part ``b``.

    Returns:
        ``[C]`` ``(mean on a only - mean on b only) / std``; zeros when either region is empty.

    Examples:
        >>> acts = torch.tensor([[[[1.0, 0.0]]], [[[1.0, 0.0]]]])          # [2, 1, 1, 2]: fires on the left
        >>> left = torch.tensor([[[True, False]]]).expand(2, 1, 2)
        >>> round(float(part_contrast(acts, left, ~left)[0]), 3)
        1.732
    """
    dims = check_tensor("acts", acts, ("n", "C", "h", "w"), floating=True)
    check_tensor("mask_a", mask_a, ("n", "H", "W"), dims=dims)
    check_tensor("mask_b", mask_b, ("n", "H", "W"), dims=dims)
    hw = acts.shape[-2:]
    on_a = F.adaptive_avg_pool2d(mask_a[:, None].float(), hw)[:, 0].flatten() > 0
    on_b = F.adaptive_avg_pool2d(mask_b[:, None].float(), hw)[:, 0].flatten() > 0
    a = acts.detach().permute(1, 0, 2, 3).flatten(1)
    only_a, only_b = on_a & ~on_b, on_b & ~on_a
    if not bool(only_a.any()) or not bool(only_b.any()):
        return torch.zeros(a.shape[0])
    return (a[:, only_a].mean(1) - a[:, only_b].mean(1)) / a.std(1).clamp_min(1e-8)


#: How :func:`object_selectivity` compares the object's scenes with the rest.
SELECTIVITIES: tuple[str, ...] = ("mean", "min")
#: How :func:`find_composition_units` picks its part units.
PART_CHOICES: tuple[str, ...] = ("mask", "contrast")


def object_selectivity(acts: torch.Tensor, is_object: torch.Tensor, how: str = "mean",
                       labels: torch.Tensor | None = None) -> torch.Tensor:
    """``[C]`` z-scored difference of the spatial-max activation on scenes of the object and the rest.

    Args:
        acts: ``[n, C, h, w]``.
        is_object: ``[n]`` bool.
        how: ``"mean"``: against the mean over all other scenes; ``"min"``: against the other kind
            it fires on most (a unit for the object and not for a look-alike; needs ``labels``).
        labels: ``[n]`` the scenes' kind labels (for ``how="min"``).

    Examples:
        >>> acts = torch.tensor([3.0, 1.0, 0.0, 2.0]).reshape(4, 1, 1, 1)
        >>> round(float(object_selectivity(acts, torch.tensor([True, False, False, False]))[0]), 3)
        1.549
    """
    check_tensor("acts", acts, ("n", "C", "h", "w"), floating=True)
    check_choice("how", how, SELECTIVITIES)
    m = acts.detach().amax(dim=(2, 3))
    if how == "mean":
        return (m[is_object].mean(0) - m[~is_object].mean(0)) / m.std(0).clamp_min(1e-8)
    if labels is None:
        raise ValueError("`labels` is needed for how='min' (the kind of every scene)")
    others = torch.stack([m[labels == i].mean(0) for i in labels[~is_object].unique()])
    return (m[is_object].mean(0) - others.amax(0)) / m.std(0).clamp_min(1e-8)


@dataclass
class CompositionUnits:
    """The units of a composition circuit.

    Attributes:
        object_unit: Next-stage unit most selective for the object.
        object_score: Its :func:`object_selectivity`.
        parts: ``(below, above)`` part names.
        part_units: Lower-stage unit chosen for each part (``parts_by`` of :func:`find_composition_units`).
        part_scores: Their scores.
    """

    object_unit: int
    object_score: float
    parts: tuple[str, str]
    part_units: tuple[int, int]
    part_scores: tuple[float, float]


def find_composition_units(acts: torch.Tensor, next_acts: torch.Tensor, batch, obj: str = "car",
                           below: str = "wheel", above: str = "window", *, parts_by: str = "mask",
                           selectivity: str = "mean", object_unit: int | None = None) -> CompositionUnits:
    """Pick the object unit and the two part units of a composition circuit.

    The object unit is the next-stage unit whose spatial-max activation best separates scenes
    of ``obj`` from the rest (:func:`object_selectivity`); the part units are units of the
    lower stage chosen with the part masks over the scenes of ``obj``.

    Args:
        acts: ``[n, C, h, w]`` the lower stage on ``batch.images``.
        next_acts: ``[n, C_next, h', w']`` the next stage's units (post-ReLU) on the same images.
        batch: The :class:`~mi_tutor.vision.objects.ObjectBatch` (labels and part masks).
        obj: Object kind.
        below: Part expected below.
        above: Part expected above.
        parts_by: ``"mask"``: each part unit is the unit most active on its part's mask against
            everything else (:func:`part_scores`; it may be a unit for the whole object);
            ``"contrast"``: the unit most active on its part's mask against the other part's
            mask (:func:`part_contrast`).
        selectivity: ``how`` of :func:`object_selectivity` (``"mean"`` or ``"min"``).
        object_unit: Take this next-stage unit instead of the most selective one.
    """
    check_choice("obj", obj, batch.config.kinds)
    for name, part in (("below", below), ("above", above)):
        check_choice(name, part, batch.part_masks)
    check_choice("parts_by", parts_by, PART_CHOICES)
    is_obj = batch.labels == batch.config.kinds.index(obj)
    if not bool(is_obj.any()) or bool(is_obj.all()):
        raise ValueError(f"`batch` needs scenes of {obj!r} and of other kinds; got {int(is_obj.sum())} of "
                         f"{len(is_obj)}: render more scenes, or scenes of more kinds")
    score = object_selectivity(next_acts, is_obj, selectivity, batch.labels)
    if object_unit is not None:
        check_range("object_unit", object_unit, 0, score.shape[0] - 1)
    o = int(score.argmax()) if object_unit is None else int(object_unit)
    a, masks = acts[is_obj], [batch.part_masks[p][is_obj] for p in (below, above)]
    pref = part_contrast(a, masks[0], masks[1]) if parts_by == "contrast" else None
    units, scores = [], []
    for i in range(2):
        s = part_scores(a, masks[i]) if pref is None else (pref if i == 0 else -pref)
        units.append(int(s.argmax()))
        scores.append(float(s.max()))
    return CompositionUnits(o, float(score[o]), (below, above), tuple(units), tuple(scores))


def pose_index(acts: torch.Tensor, facing: torch.Tensor) -> torch.Tensor:
    """``(L - R) / (L + R)`` of each unit's mean response to left-facing (``L``) and right-facing (``R``) objects.

    Args:
        acts: ``[n, C]`` responses (e.g. the spatial maximum of each unit on each scene).
        facing: ``[n]`` ``-1`` for left-facing, ``+1`` for right-facing.

    Returns:
        ``[C]`` in ``[-1, 1]`` for non-negative responses: positive prefers left; 0 where neither fires.

    Examples:
        >>> pose_index(torch.tensor([[3.0, 1.0], [1.0, 1.0]]), torch.tensor([-1, 1])).tolist()
        [0.5, 0.0]
    """
    dims = check_tensor("acts", acts, ("n", "C"), floating=True)
    check_tensor("facing", facing, ("n",), dims=dims)
    left, right = acts[facing < 0].mean(0), acts[facing > 0].mean(0)
    return (left - right) / (left + right).clamp_min(1e-8)


@dataclass
class PoseUnits:
    """A left unit, a right unit and the pose-invariant unit of the next stage.

    Attributes:
        left_unit: Lower-stage unit preferring left-facing objects most (weighted by how strongly it fires).
        right_unit: The one preferring right-facing objects most.
        index: ``[C]`` :func:`pose_index` of every lower-stage unit.
        invariant_unit: Next-stage unit most selective for the kind among those with ``|pose index| < max_invariance``.
        invariant_index: Its pose index.
        invariant_score: Its selectivity for the kind (z-scored, the kind's scenes vs the rest).
    """

    left_unit: int
    right_unit: int
    index: torch.Tensor
    invariant_unit: int
    invariant_index: float
    invariant_score: float


def find_pose_units(acts: torch.Tensor, facing: torch.Tensor, next_acts: torch.Tensor, next_rest: torch.Tensor,
                    max_invariance: float = 0.15, index_fn=pose_index) -> PoseUnits:
    """Pick the pose circuit's units: a left unit, a right unit and the pose-invariant unit of the next stage.

    The left unit prefers left-facing objects most, weighted by how strongly it fires (the
    square root of its mean response relative to the strongest unit's); the invariant unit is
    the next-stage unit most selective for the kind among those with ``|pose index| < max_invariance``.

    Args:
        acts: ``[n, C]`` spatial-max responses of the lower stage on scenes of the kind.
        facing: ``[n]`` ``-1`` left, ``+1`` right.
        next_acts: ``[n, C_next]`` spatial-max responses of the next stage on the same scenes.
        next_rest: ``[m, C_next]`` the next stage on scenes of the other kinds.
        max_invariance: Largest ``|pose index|`` of an invariant unit.
        index_fn: The pose index (a student's own :func:`pose_index`).
    """
    check_tensor("acts", acts, ("n", "C"), floating=True)
    idx = index_fn(acts, facing)
    strength = acts.mean(0) / acts.mean(0).max().clamp_min(1e-8)
    pref = idx * strength.clamp(0, 1) ** 0.5             # strong units, not ones that barely fire
    left, right = int(pref.argmax()), int(pref.argmin())
    nidx = index_fn(next_acts, facing)
    both = torch.cat([next_acts, next_rest])
    score = (next_acts.mean(0) - next_rest.mean(0)) / both.std(0).clamp_min(1e-8)
    score = torch.where(nidx.abs() < max_invariance, score, torch.full_like(score, -float("inf")))
    inv = int(score.argmax())
    return PoseUnits(left, right, idx, inv, float(nidx[inv]), float(score[inv]))
