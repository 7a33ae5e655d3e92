"""Measuring the Circuits findings in the object-world zoo CNNs (``*_objects_*``).

Each function measures one finding on a trained :class:`~mi_tutor.vision.architectures.ZooCNN`,
from stimuli, world scenes and the weights; none of them trains anything. The rules that pick
the units are those of the lesson's tools (:mod:`.next_layer`, :mod:`.polysemantic`,
:func:`~mi_tutor.vision.tuning.find_curve_family`), the weights those of :func:`.stages.stage_entry`;
what is added here is the scenes, the probes and the null distributions:

* :func:`layer_curve_family` - a curve family in one stage (>= 16 orientations,
  2x curve over line, gaps between preferred orientations);
* :func:`circle_units` - units of the next stage whose weights from the
  family's curve units follow a circle (positive where each curve unit's convex
  side points, compared with shuffled orientations);
* :func:`composition` - an object unit whose weights want one part below and
  another above (the Circuits car detector: wheels below, windows above);
* :func:`pose_circuit` - a unit of the next stage that fires on heads facing
  either way, fed positively by a left-facing and a right-facing unit;
* :func:`polysemantic_units` - units that fire on two unrelated object kinds,
  found with the object masks;
* :func:`high_low_units` - units that fire where a sharp texture meets a blurred one;
* :func:`measure_findings` - all of them, stage by stage, as the zoo entries record them.

Examples:
    >>> from mi_tutor.vision.architectures import build_zoo_net
    >>> net = build_zoo_net("plainnet").eval()
    >>> len(polysemantic_units(net, "layer3", n=32, threshold=10.0))
    0
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch import nn

from ..device import model_device
from ..hooks import collect
from ..validation import check_choice, check_tensor
from ..vision.objects import FACING_KINDS, ObjectBatch, ObjectWorldConfig, blur_images, render_objects
from ..vision.stimuli import StimulusStyle
from ..vision.tuning import CurveFamily, find_curve_family, orientation_selectivity, tuning_grid
from .next_layer import circle_alignment, circle_template, find_composition_units, find_pose_units, part_contrast
from .polysemantic import PolysemanticUnit, concept_scores, find_polysemantic, kinds_share_part, object_concept_masks
from .stages import READS, check_stage, receptive_field_centre, stage_entry, stage_names

__all__ = [
    "STIMULUS_STYLE",
    "CURVATURES",
    "PROBE_STYLES",
    "probe_tuning",
    "layer_curve_family",
    "CircleUnits",
    "circle_units",
    "Composition",
    "composition",
    "PoseCircuit",
    "pose_circuit",
    "polysemantic_units",
    "HighLow",
    "high_low_units",
    "measure_findings",
]

#: Arcs for the 64 x 64 zoo nets: 19 px long, 1.6 or 2.6 px wide (like the world's strokes).
STIMULUS_STYLE = StimulusStyle(size=64, length=0.6, width=0.025)
#: Cosmetic variants the tuning is averaged over (stroke colour x background grey x width), so that a
#: unit's tuning is not the accident of one colour; chosen once, used for every net.
PROBE_STYLES: tuple[StimulusStyle, ...] = tuple(
    replace(STIMULUS_STYLE, colour=c, background=b, width=w)
    for c in ("white", "yellow", "red", "blue") for b in (0.3, 0.55) for w in (0.025, 0.04))
#: Curvatures (1 / radius in half-widths): radii of 21, 13, 8, 5, 3.6 and 2.7 pixels, plus the straight line.
CURVATURES: tuple[float, ...] = (0.0, 1.5, 2.5, 4.0, 6.0, 9.0, 12.0)


#: ``grid_fn(model, layer, channels, orientations, curvatures, style) -> [n_channels, n_curv, n_orient]``:
#: the per-style tuning grid of :func:`probe_tuning` (lesson 4's Exercise 4.1; reference :func:`tuning_grid`).
GridFn = Callable[[nn.Module, str, list[int], torch.Tensor, torch.Tensor, StimulusStyle], torch.Tensor]


def _n_channels(model: nn.Module, layer: str, size: int) -> int:
    """Channels of stage ``layer`` (one blank image through the model)."""
    return collect(model, torch.zeros(1, 3, size, size, device=model_device(model)), layer)[layer].shape[1]


def probe_tuning(model: nn.Module, layer: str, n_orientations: int = 16, curvatures: Sequence[float] = CURVATURES,
                 styles: Sequence[StimulusStyle] | None = None, grid_fn: GridFn = tuning_grid
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tuning map of every unit of ``layer``, averaged over cosmetic ``styles`` (default :data:`PROBE_STYLES`).

    Each style's arcs are drawn with their midpoint on the centre unit's
    receptive-field centre (:func:`receptive_field_centre`) and measured by
    one call of ``grid_fn`` with every channel of ``layer``, the orientations
    ``2 pi k / n_orientations`` and the curvatures.

    Args:
        model: A zoo CNN.
        layer: A stage name (``"layer2"``...).
        n_orientations: Orientations evenly spaced over the circle.
        curvatures: Curvatures (rows of the maps); ``0`` gives the lines.
        styles: Cosmetic styles to average over.
        grid_fn: ``grid_fn(model, layer, channels, orientations, curvatures, style)`` ->
            ``[n_channels, n_curv, n_orient]``, the centre responses to one style's arcs
            (lesson 4 passes the student's ``tuning_grid``; default :func:`tuning_grid`).

    Returns:
        ``(tuning [n_units, n_curv, n_orient], orientations [n_orient], curvatures [n_curv])``,
        the tuning on ``grid_fn``'s device (the model's), the angles and curvatures on the CPU.

    Raises:
        ShapeError: if ``grid_fn`` returns another shape.

    Examples:
        >>> from mi_tutor.vision.models import ConvNet, ConvNetConfig
        >>> net = ConvNet(ConvNetConfig(channels=(4, 6), kernel_size=3)).eval()
        >>> tuning, orientations, curvatures = probe_tuning(net, "layer2", 8, (0.0, 4.0), PROBE_STYLES[:2])
        >>> tuning.shape, orientations.shape, curvatures.tolist()
        (torch.Size([6, 2, 8]), torch.Size([8]), [0.0, 4.0])
        >>> def upside_down(model, layer, channels, orientations, curvatures, style):   # a wrong grid_fn
        ...     return tuning_grid(model, layer, channels, orientations + math.pi, curvatures, style)
        >>> torch.equal(probe_tuning(net, "layer2", 8, (0.0, 4.0), PROBE_STYLES[:2], upside_down)[0], tuning)
        False
    """
    check_stage(model, layer)
    if n_orientations < 1:
        raise ValueError(f"`n_orientations` must be positive, got {n_orientations}")
    styles = list(styles or PROBE_STYLES)
    if not styles:
        raise ValueError("`styles` is empty; give at least one StimulusStyle")
    orientations = torch.arange(n_orientations, dtype=torch.float32) * (2 * math.pi / n_orientations)
    curv = torch.as_tensor(tuple(curvatures), dtype=torch.float32).flatten()
    centre = receptive_field_centre(model, layer, styles[0].size)
    channels = list(range(_n_channels(model, layer, styles[0].size)))
    maps = []
    for st in styles:
        t = grid_fn(model, layer, list(channels), orientations.clone(), curv.clone(), replace(st, center=centre))
        check_tensor("grid_fn(...)", t, (len(channels), len(curv), n_orientations), floating=True)
        maps.append(t)
    return torch.stack(maps).mean(0), orientations, curv


def layer_curve_family(model: nn.Module, layer: str, n_orientations: int = 16,
                       curvatures: Sequence[float] = CURVATURES, styles: Sequence[StimulusStyle] | None = None,
                       min_separation: float = 0.0, grid_fn: GridFn = tuning_grid, **criteria) -> CurveFamily:
    """The curve family of stage ``layer``: :func:`~mi_tutor.circuits_vision.find_curve_family`
    on its tuning map over ``n_orientations`` x ``curvatures`` arcs.

    Responses are read at the map's centre, averaged over cosmetic styles
    (:func:`probe_tuning`). Every unit that passes the criteria counts
    (``min_separation=0``): the issue's claim is about units, each at least
    2x more on its curve than on its line.

    Args:
        model: A zoo CNN.
        layer: A stage name (``"layer2"``...).
        n_orientations: Orientations over the circle (at least 16 for the issue's claim).
        curvatures: Must include 0 (the lines).
        styles: Cosmetic styles to average over (default :data:`PROBE_STYLES`).
        min_separation: Passed on (radians); ``find_curve_family``'s own default keeps one unit per 20 degrees.
        grid_fn: The tuning grid of one style, as in :func:`probe_tuning`.
        **criteria: Passed on to ``find_curve_family`` (``min_selectivity``...).

    Returns:
        The :class:`CurveFamily`; ``len(family)`` members, ``family.max_gap`` in radians.
    """
    tuning, orientations, curvatures_t = probe_tuning(model, layer, n_orientations, curvatures, styles, grid_fn)
    return find_curve_family(tuning, orientations, curvatures_t, min_separation=min_separation, **criteria)


@dataclass
class CircleUnits:
    """Next-stage units built from a curve family like a circle.

    Attributes:
        channels: Next-stage units, best first, whose alignment beats every shuffle.
        alignment: ``[C_next]`` cosine between each unit's weights from the family and :func:`circle_template`.
        shuffled: ``[n_shuffles, C_next]`` the same with the family's orientations permuted.
        percentile: ``[C_next]`` fraction of shuffles each unit's alignment beats.
        positive_fraction: ``[C_next]`` fraction of the unit's positive weight from family units
            that lies on taps where the template is positive.
    """

    channels: list[int]
    alignment: torch.Tensor
    shuffled: torch.Tensor
    percentile: torch.Tensor
    positive_fraction: torch.Tensor


def circle_units(model: nn.Module, layer: str, family: CurveFamily, n_shuffles: int = 200,
                 min_alignment: float = 0.3, seed: int = 0, read: str = "conv",
                 radius: float | None = None) -> CircleUnits:
    """Find units of the stage after ``layer`` whose weights from ``family`` follow a circle.

    Args:
        model: A zoo CNN.
        layer: The family's stage.
        family: From :func:`layer_curve_family` on ``layer``.
        n_shuffles: Permutations of the members' orientations for the null distribution.
        min_alignment: Minimum cosine with the circle template.
        seed: Seeds the shuffles.
        read: ``read`` of :func:`~.stages.stage_entry`: ``"conv"``, the first conv of the next
            stage; ``"stage"``, the expanded weights into the next stage's output.
        radius: Ring of the template in taps (:func:`~.next_layer.circle_template`); ``None``: every tap.

    Returns:
        A :class:`CircleUnits`.
    """
    if len(family) < 2:
        raise ValueError(f"`family` needs at least 2 members to define a circle, got {len(family)}")
    w = stage_entry(model, layer, read)[0][:, family.channels]          # [C, n, k, k]
    k = w.shape[-1]

    def align(orients: torch.Tensor) -> torch.Tensor:
        return circle_alignment(w, orients, radius)

    theta = family.orientations.float()
    a = align(theta)
    g = torch.Generator().manual_seed(seed)
    shuffled = torch.stack([align(theta[torch.randperm(len(theta), generator=g)]) for _ in range(n_shuffles)])
    pct = (shuffled < a[None]).float().mean(0)
    t = circle_template(theta, k, radius)[None]
    pos = w.clamp_min(0)
    frac = (pos * (t > 0)).flatten(1).sum(1) / pos.flatten(1).sum(1).clamp_min(1e-12)
    chosen = [int(c) for c in a.argsort(descending=True) if a[c] >= min_alignment and pct[c] == 1.0]
    return CircleUnits(chosen, a, shuffled, pct, frac)


@dataclass
class Composition:
    """An object unit of the next stage and its weights from two part units.

    Attributes:
        object_unit: Next-stage unit most selective for the object kind.
        object_score: Its selectivity (z-scored max activation, object scenes vs the rest).
        parts: ``(below, above)`` part names.
        part_units: Best unit of ``layer`` for each part (see ``parts_by`` of :func:`composition`).
        part_scores: Their scores.
        kernels: ``[2, k, k]`` weights (BN folded) from each part unit into the object unit.
        top: ``[2]`` mean weight of the kernel's top row.
        bottom: ``[2]`` mean weight of its bottom row.
        read: ``"conv"`` (first conv of the next stage) or ``"stage"`` (the whole stage expanded).
        preference: ``[C_layer]`` every unit's preference for the ``below`` part over the
            ``above`` part (z-scored activation on one part's mask minus on the other's, object scenes).
        vertical: ``[C_layer]`` every unit's ``top - bottom`` row weight into the object unit.
        vertical_corr: Pearson correlation of ``preference`` and ``vertical`` over the units of
            ``layer``: negative when units that prefer the ``below`` part are wanted below and units
            that prefer the ``above`` part above (the population form of the circuit).
        vertical_p: Fraction of ``n_shuffles`` permutations of ``preference`` whose correlation is
            at least as negative.
    """

    object_unit: int
    object_score: float
    parts: tuple[str, str]
    part_units: tuple[int, int]
    part_scores: tuple[float, float]
    kernels: torch.Tensor
    top: torch.Tensor
    bottom: torch.Tensor
    read: str = "conv"
    preference: torch.Tensor | None = None
    vertical: torch.Tensor | None = None
    vertical_corr: float = float("nan")
    vertical_p: float = float("nan")

    @property
    def holds(self) -> bool:
        """Below-part: positive at the bottom, negative at the top; above-part: the reverse."""
        return bool(self.bottom[0] > 0 > self.top[0] and self.top[1] > 0 > self.bottom[1])


def composition(model: nn.Module, layer: str, obj: str = "car", below: str = "wheel", above: str = "window",
                n: int = 1024, seed: int = 12345, config: ObjectWorldConfig | None = None,
                batch: ObjectBatch | None = None, read: str = "conv", parts_by: str = "mask",
                object_unit: int | None = None, selectivity: str = "mean", n_shuffles: int = 500) -> Composition:
    """Read the composition circuit ``obj`` = ``below`` part under ``above`` part from the weights.

    The units are picked by :func:`~.next_layer.find_composition_units` (the object unit of the
    stage after ``layer`` whose spatial-max activation best separates scenes of ``obj`` from the
    rest; the part units of ``layer`` with the part masks over scenes of ``obj``); the circuit is
    the two kernels between them, and its population form the correlation, over every unit of
    ``layer``, of preferring ``below`` to ``above`` with being wanted below rather than above.

    Args:
        model: A zoo CNN trained on the object task.
        layer: Stage of the part units.
        obj: Object kind.
        below: Part expected below.
        above: Part expected above.
        n: Scenes to measure on.
        seed: Seed of those scenes.
        config: World config (default: the object task).
        batch: Ready scenes of the object task (then ``n``, ``seed``, ``config`` are ignored).
        read: ``read`` of :func:`~.stages.stage_entry`: ``"conv"``, the weights of the first conv
            of the next stage into its units (3 x 3); ``"stage"``, the expanded weights through
            the whole next stage into its output units.
        parts_by: ``parts_by`` of :func:`~.next_layer.find_composition_units`: ``"mask"``, each part
            unit is the unit most active on its part's mask against everything else (it may be a
            unit for the whole object); ``"contrast"``, against the other part's mask.
        object_unit: Read this next-stage unit instead of the most selective one.
        selectivity: How the object unit is chosen (:func:`~.next_layer.object_selectivity`):
            ``"mean"``, its mean spatial-max activation on ``obj`` scenes against the mean on all
            other scenes; ``"min"``, against the kind it fires on most after ``obj`` (a unit for
            ``obj`` and not for a look-alike).
        n_shuffles: Permutations for ``vertical_p``.

    Examples:
        >>> from mi_tutor.vision.architectures import build_zoo_net
        >>> c = composition(build_zoo_net("vgg").eval(), "layer3", n=64, read="stage", n_shuffles=10)
        >>> c.kernels.shape, c.preference.shape
        (torch.Size([2, 5, 5]), torch.Size([48]))
    """
    check_choice("read", read, READS)
    batch = batch if batch is not None else render_objects(n, seed=seed, config=config or ObjectWorldConfig())
    weight, units = stage_entry(model, layer, read)
    acts = collect(model, batch.images, layer)[layer]
    found = find_composition_units(acts, units(batch.images), batch, obj, below, above, parts_by=parts_by,
                                   selectivity=selectivity, object_unit=object_unit)
    o, chosen = found.object_unit, list(found.part_units)
    is_obj = batch.labels == batch.config.kinds.index(obj)
    pref = part_contrast(acts[is_obj], batch.part_masks[below][is_obj], batch.part_masks[above][is_obj])
    kernels = weight[o, chosen]
    vertical = weight[o, :, 0].mean(-1) - weight[o, :, -1].mean(-1)
    corr, p = _correlation_test(pref, vertical, n_shuffles, seed)
    return Composition(o, found.object_score, found.parts, found.part_units, found.part_scores, kernels,
                       kernels[:, 0].mean(-1), kernels[:, -1].mean(-1), read, pref, vertical, corr, p)


def _correlation_test(x: torch.Tensor, y: torch.Tensor, n_shuffles: int, seed: int) -> tuple[float, float]:
    """Pearson ``r`` of ``x`` and ``y`` and the fraction of permutations of ``x`` with ``r`` at most as large."""
    def r(a: torch.Tensor) -> torch.Tensor:
        a, b = a - a.mean(), y - y.mean()
        return (a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-12)

    obs = r(x)
    g = torch.Generator().manual_seed(seed)
    null = torch.stack([r(x[torch.randperm(len(x), generator=g)]) for _ in range(max(n_shuffles, 1))])
    return float(obs), float((null <= obs).float().mean())


@dataclass
class PoseCircuit:
    """Left- and right-facing units of one stage merged by a pose-invariant unit of the next.

    Attributes:
        left_unit: Unit of ``layer`` with the strongest left-over-right preference on heads.
        right_unit: Unit with the strongest right-over-left preference.
        left_index: ``[C]`` pose index ``(L - R) / (L + R)`` of every unit of ``layer`` (mean spatial max).
        invariant_unit: Next-stage unit most selective for heads among those with ``|pose index| < 0.15``.
        invariant_index: Its pose index.
        invariant_score: Its head selectivity (z-scored, heads vs other kinds).
        weights: ``[2]`` summed weights (BN folded) from the left and the right unit into it.
        weight_rank: ``[2]`` rank (0 = largest) of those sums among all its input units.
    """

    left_unit: int
    right_unit: int
    left_index: torch.Tensor
    invariant_unit: int
    invariant_index: float
    invariant_score: float
    weights: torch.Tensor
    weight_rank: tuple[int, int]

    @property
    def holds(self) -> bool:
        """Both pose units feed the invariant unit positively."""
        return bool((self.weights > 0).all())


def pose_circuit(model: nn.Module, layer: str, kind: str = "head", n: int = 1024, seed: int = 54321,
                 max_invariance: float = 0.15) -> PoseCircuit:
    """Find a left unit, a right unit in ``layer`` and the pose-invariant unit they feed.

    The units are picked by :func:`~.next_layer.find_pose_units` on ``n // 2`` scenes of
    ``kind`` and ``n // 2`` of the other kinds; the weights are those of the first conv of the
    next stage (:func:`~.stages.stage_entry`), summed over the taps.

    Args:
        model: A zoo CNN trained on the object task.
        layer: Stage of the pose units.
        kind: A kind with a pose (``"head"``, ``"car"``, ``"cart"``).
        n: Scenes (half of them ``kind``).
        seed: Seed of the scenes.
        max_invariance: Largest ``|pose index|`` of an invariant unit.
    """
    check_choice("kind", kind, FACING_KINDS)
    only = render_objects(n // 2, seed=seed, config=ObjectWorldConfig(kinds=(kind,)))
    rest = render_objects(n // 2, seed=seed + 1, config=ObjectWorldConfig(
        kinds=tuple(k for k in ObjectWorldConfig().kinds if k != kind)))
    weight, units = stage_entry(model, layer)
    acts = collect(model, only.images, layer, pool="max")[layer]
    found = find_pose_units(acts, only.facing[:, 0], units(only.images).amax(dim=(2, 3)),
                            units(rest.images).amax(dim=(2, 3)), max_invariance)
    left, right, inv = found.left_unit, found.right_unit, found.invariant_unit
    sums = weight[inv].sum((-1, -2))
    order = sums.argsort(descending=True).tolist()
    return PoseCircuit(left, right, found.index, inv, found.invariant_index, found.invariant_score,
                       sums[[left, right]], (order.index(left), order.index(right)))


def polysemantic_units(model: nn.Module, layer: str, n: int = 1024, seed: int = 777, threshold: float = 1.0,
                       dilate: int = 5, batch: ObjectBatch | None = None) -> list[PolysemanticUnit]:
    """Units of ``layer`` that fire on two unrelated object kinds, found with the object masks.

    Each unit's score on kind ``k`` is how many standard deviations above its
    mean it fires inside the masks of ``k`` objects grown by ``dilate`` px
    (:func:`~.polysemantic.concept_scores` on :func:`~.polysemantic.object_concept_masks`).
    Two kinds are unrelated when they share no part (:func:`~.polysemantic.kinds_share_part`:
    ``car`` and ``cart`` share wheels' hubs and windows; ``clock`` and ``sign`` share hands).

    Returns:
        :func:`~.polysemantic.find_polysemantic`'s units whose two best unrelated kinds both
        score at least ``threshold``, most polysemantic first.
    """
    batch = batch if batch is not None else render_objects(n, seed=seed)
    acts = collect(model, batch.images, layer)[layer]
    masks = object_concept_masks(batch, dilate)
    return find_polysemantic(concept_scores(acts, masks), list(masks), threshold=threshold,
                             related_fn=kinds_share_part)


@dataclass
class HighLow:
    """Responses of a stage's units to sharp/blurred texture boundaries.

    Attributes:
        orientations: ``[n_orient]`` directions the sharp side faces (radians).
        boundary: ``[C, n_orient]`` response at the map centre to a boundary through the centre.
        sharp: ``[C]`` response to the all-sharp texture.
        blurred: ``[C]`` response to the all-blurred texture.
        ratio: ``[C]`` best boundary response / max(sharp, blurred).
        selectivity: ``[C]`` orientation selectivity of the boundary responses.
        channels: Units with ``ratio >= 2`` and ``selectivity >= 0.3``, best first.
    """

    orientations: torch.Tensor
    boundary: torch.Tensor
    sharp: torch.Tensor
    blurred: torch.Tensor
    ratio: torch.Tensor
    selectivity: torch.Tensor
    channels: list[int] = field(default_factory=list)


def high_low_units(model: nn.Module, layer: str, n_orientations: int = 8, n_textures: int = 16,
                   sigma: float = 1.6, contrast: float = 0.25, seed: int = 0) -> HighLow:
    """Probe ``layer`` with noise textures whose one half-plane is out of focus (Gaussian ``sigma`` px).

    A high-low frequency detector fires where high spatial frequencies on one
    side meet low frequencies on the other, in one direction, and much less on
    a texture that is sharp or blurred everywhere.
    """
    check_stage(model, layer)
    size = 64
    g = torch.Generator().manual_seed(seed)
    tex = (0.5 + contrast * (torch.rand(n_textures, 1, size, size, generator=g) * 2 - 1)).expand(-1, 3, -1, -1)
    soft = blur_images(tex, sigma)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    y, x = torch.meshgrid(-coords, coords, indexing="ij")
    theta = torch.arange(n_orientations, dtype=torch.float32) * (2 * math.pi / n_orientations)
    imgs = [tex, soft]
    for t in theta:  # sharp where the direction t points, blurred behind
        sharp_side = (x * torch.cos(t) + y * torch.sin(t)) > 0
        imgs.append(torch.where(sharp_side, tex, soft))
    acts = collect(model, torch.cat(imgs), layer)[layer]
    centre = acts[:, :, acts.shape[2] // 2, acts.shape[3] // 2].reshape(len(imgs), n_textures, -1).mean(1)
    sharp, blurred, boundary = centre[0], centre[1], centre[2:].T
    ratio = boundary.amax(1) / torch.maximum(sharp, blurred).clamp_min(1e-3)
    sel = orientation_selectivity(boundary.clamp_min(0) - boundary.amin(1, keepdim=True).clamp_min(0), theta)
    chosen = [int(c) for c in ratio.argsort(descending=True) if ratio[c] >= 2 and sel[c] >= 0.3
              and boundary[c].max() > 0]
    return HighLow(theta, boundary, sharp, blurred, ratio, sel, chosen)


def measure_findings(model: nn.Module, n: int = 512, seed: int = 2024) -> dict[str, dict]:
    """Every finding, stage by stage, as plain numbers (the docs table and the zoo entries' ``info``).

    For each stage ``layerK``: the curve family (members, largest gap in
    degrees); for each stage with a next one: circle units built from that
    family, the car composition (wheel below / window above), the head pose
    circuit; polysemantic units (pairs of unrelated kinds) and high-low
    frequency units (ratio >= 2).

    Args:
        model: A zoo CNN trained on the object task.
        n: Scenes for the mask-based measurements.
        seed: Their seed.

    Returns:
        ``{layer: {finding: value}}`` with floats rounded for display.
    """
    batch = render_objects(n, seed=seed)
    stages = stage_names(model)
    out: dict[str, dict] = {}
    for i, layer in enumerate(stages):
        fam = layer_curve_family(model, layer)
        row: dict = {"curve_units": len(fam), "curve_gap_deg": round(math.degrees(fam.max_gap))}
        if i + 1 < len(stages):
            if len(fam) >= 2:
                cu = circle_units(model, layer, fam)
                row["circle_units"] = len(cu.channels)
                row["circle_best_alignment"] = round(float(cu.alignment.max()), 3)
            comp = composition(model, layer, batch=batch)
            row["composition"] = comp.holds
            row["composition_rows"] = {"wheel": [round(float(comp.bottom[0]), 4), round(float(comp.top[0]), 4)],
                                       "window": [round(float(comp.bottom[1]), 4), round(float(comp.top[1]), 4)]}
            pose = pose_circuit(model, layer, n=n)
            row["pose_left_right_index"] = [round(float(pose.left_index[pose.left_unit]), 3),
                                            round(float(pose.left_index[pose.right_unit]), 3)]
            row["pose_invariant_index"] = round(pose.invariant_index, 3)
            row["pose_weights"] = [round(float(w), 4) for w in pose.weights]
            row["pose_circuit"] = pose.holds
        row["polysemantic_units"] = len(polysemantic_units(model, layer, batch=batch, threshold=1.5))
        row["high_low_units"] = len(high_low_units(model, layer).channels)
        out[layer] = row
    return out
