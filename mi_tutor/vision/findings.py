"""Measuring the Circuits findings in the object-world zoo CNNs (``*_objects_*``).

Each function measures one finding of issue 9 on a trained :class:`~.architectures.ZooCNN`,
from stimuli, world scenes and the weights; none of them trains anything:

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
* :func:`high_low_units` - units that fire where a sharp texture meets a blurred one.

A stage ``layerK`` is read through the **first conv of the next stage**
(:func:`stage_entry`): its weights, with batch norm folded in, are the weights
"between" the two stages, and its post-ReLU output is the next-stage unit.

Examples:
    >>> from mi_tutor.vision.architectures import build_zoo_net
    >>> net = build_zoo_net("plainnet").eval()
    >>> w, act = stage_entry(net, "layer3")
    >>> w.shape, act(torch.zeros(1, 3, 64, 64)).shape
    (torch.Size([64, 48, 3, 3]), torch.Size([1, 64, 8, 8]))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import torch
import torch.nn.functional as F
from torch import nn

from ..circuits_vision import CurveFamily, StimulusStyle, find_curve_family, orientation_selectivity, tuning_map
from ..validation import check_choice, check_range
from .objects import ObjectBatch, ObjectWorldConfig, render_objects

__all__ = [
    "STIMULUS_STYLE",
    "CURVATURES",
    "PROBE_STYLES",
    "receptive_field_centre",
    "probe_tuning",
    "layer_curve_family",
    "stage_entry",
    "expanded_weights",
    "layer_activations",
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


def _stages(model: nn.Module) -> list[str]:
    return [name for name, _ in model.named_children() if name.startswith("layer")]


def _check_stage(model: nn.Module, layer: str, need_next: bool = False) -> str | None:
    stages = _stages(model)
    check_choice("layer", layer, stages[:-1] if need_next else stages)
    i = stages.index(layer)
    return stages[i + 1] if need_next else None


def layer_activations(model: nn.Module, names: Sequence[str], images: torch.Tensor,
                      batch_size: int = 256) -> dict[str, torch.Tensor]:
    """Outputs of the modules ``names`` on ``images`` ``[n, 3, H, W]`` (no grad), concatenated over batches.

    Examples:
        >>> net = nn.Sequential(nn.Conv2d(3, 2, 3), nn.ReLU())
        >>> layer_activations(net, ["1"], torch.zeros(3, 3, 8, 8))["1"].shape
        torch.Size([3, 2, 6, 6])
    """
    modules = dict(model.named_modules())
    for name in names:
        check_choice("names", name, [m for m in modules if m])
    device = next(model.parameters()).device
    out: dict[str, list[torch.Tensor]] = {name: [] for name in names}
    store: dict[str, torch.Tensor] = {}
    handles = [modules[name].register_forward_hook(lambda m, i, o, n=name: store.__setitem__(n, o.detach()))
               for name in names]
    try:
        with torch.no_grad():
            for i in range(0, len(images), batch_size):
                model(images[i:i + batch_size].to(device))
                for name in names:
                    out[name].append(store[name].cpu())
    finally:
        for h in handles:
            h.remove()
    return {name: torch.cat(v) for name, v in out.items()}


def receptive_field_centre(model: nn.Module, layer: str, size: int = 64, n: int = 4,
                           seed: int = 0) -> tuple[float, float]:
    """Where in the image (``x`` right, ``y`` up, in ``[-1, 1]``) the centre unit of ``layer`` looks.

    The centroid of ``|d activation / d pixel|`` of the units at the map's
    centre ``[h // 2, w // 2]``, averaged over ``n`` noise images. Pooling and
    strided convs put that centre a pixel or two off the image's centre; a
    tuning probe drawn there hits the unit where it looks.
    """
    _check_stage(model, layer)
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, 3, size, size, generator=g).to(device).requires_grad_(True)
    store = {}
    handle = dict(model.named_modules())[layer].register_forward_hook(lambda m, i, o: store.__setitem__("a", o))
    try:
        model(x)
    finally:
        handle.remove()
    a = store["a"]
    a[:, :, a.shape[2] // 2, a.shape[3] // 2].sum().backward()
    w = x.grad.detach().abs().sum((0, 1)).cpu()
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    total = w.sum().clamp_min(1e-12)
    return float((w.sum(0) * coords).sum() / total), float((w.sum(1) * -coords).sum() / total)


def probe_tuning(model: nn.Module, layer: str, n_orientations: int = 16, curvatures: Sequence[float] = CURVATURES,
                 styles: Sequence[StimulusStyle] | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Tuning map of ``layer`` averaged over cosmetic ``styles`` (default :data:`PROBE_STYLES`).

    Each style's arcs are drawn with their midpoint on the centre unit's
    receptive-field centre (:func:`receptive_field_centre`).

    Returns:
        ``(tuning [n_units, n_curv, n_orient], orientations [n_orient], curvatures [n_curv])``.
    """
    _check_stage(model, layer)
    if n_orientations < 1:
        raise ValueError(f"`n_orientations` must be positive, got {n_orientations}")
    styles = list(styles or PROBE_STYLES)
    if not styles:
        raise ValueError("`styles` is empty; give at least one StimulusStyle")
    centre = receptive_field_centre(model, layer, styles[0].size)
    maps = []
    for st in styles:
        t, grid = tuning_map(model, layer, n_orientations=n_orientations, curvatures=tuple(curvatures),
                             style=replace(st, center=centre))
        maps.append(t)
    return torch.stack(maps).mean(0), grid.orientations, grid.curvatures


def layer_curve_family(model: nn.Module, layer: str, n_orientations: int = 16,
                       curvatures: Sequence[float] = CURVATURES, styles: Sequence[StimulusStyle] | None = None,
                       min_separation: float = 0.0, **criteria) -> CurveFamily:
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
        **criteria: Passed on to ``find_curve_family`` (``min_selectivity``...).

    Returns:
        The :class:`CurveFamily`; ``len(family)`` members, ``family.max_gap`` in radians.
    """
    tuning, orientations, curvatures_t = probe_tuning(model, layer, n_orientations, curvatures, styles)
    return find_curve_family(tuning, orientations, curvatures_t, min_separation=min_separation, **criteria)


def stage_entry(model: nn.Module, layer: str) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor]]:
    """Weights from stage ``layer`` into the next stage, and the next-stage units they feed.

    The first ``nn.Conv2d`` of the stage after ``layer`` reads ``layer``'s
    output (after max pooling in plain and VGG nets). Its weight, scaled by
    the batch norm that follows it (``gamma / sqrt(var + eps)``), is returned
    with the function mapping images to that conv's post-ReLU output.

    Returns:
        ``(weight [C_next, C_layer, k, k], units(images) -> [n, C_next, h, w])``.
    """
    nxt = _check_stage(model, layer, need_next=True)
    stage = getattr(model, nxt)
    mods = list(stage.modules())
    conv = next(m for m in mods if isinstance(m, nn.Conv2d))
    bn = next(m for m in mods[mods.index(conv):] if isinstance(m, nn.BatchNorm2d))
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach()
    weight = conv.weight.detach() * scale[:, None, None, None]
    name = next(n for n, m in model.named_modules() if m is bn)

    def units(images: torch.Tensor) -> torch.Tensor:
        return F.relu(layer_activations(model, [name], images)[name])

    return weight.cpu(), units


def _linearised_stage(model: nn.Module, layer: str) -> tuple[nn.Module, nn.Module | None, str]:
    """A copy of the stage after ``layer`` with every ReLU removed (BN in eval mode is affine), its
    leading max pooling split off (the pooled map is the input whose taps the weights address)."""
    import copy

    nxt = _check_stage(model, layer, need_next=True)
    stage = copy.deepcopy(getattr(model, nxt)).eval()
    for module in stage.modules():
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.ReLU):
                setattr(module, child_name, nn.Identity())
    pool = None
    if isinstance(stage, nn.Sequential) and len(stage) and isinstance(stage[0], nn.MaxPool2d):
        pool, stage = stage[0], stage[1:]
    return stage, pool, nxt


def expanded_weights(model: nn.Module, layer: str, size: int = 17
                     ) -> tuple[torch.Tensor, Callable[[torch.Tensor], torch.Tensor], float]:
    """Weights from stage ``layer`` to the **output** of the next stage, through all its convs.

    The "expanded weights" of the Circuits papers: the next stage with its
    nonlinearities removed is an affine map; its linear part, read at one
    output position, is a ``k x k`` kernel from every unit of ``layer`` (after
    the stage's max pooling, if any) to every unit of the next stage's output.
    For a stage of one conv it equals :func:`stage_entry`'s weights; for two 3x3
    convs (VGG) it is 5 x 5; for a stride-2 residual block it is 7 x 7 on the
    unpooled map, skip connection included.

    Args:
        model: A zoo CNN.
        layer: The stage whose units are read.
        size: Side of the probe input map (odd, large enough that padding never reaches the centre).

    Returns:
        ``(weight [C_next, C_layer, k, k], units(images) -> [n, C_next, h, w], spacing)``:
        ``units`` is the next stage's post-ReLU output and ``spacing`` the distance
        between two taps of the kernel in input pixels.

    Examples:
        >>> from mi_tutor.vision.architectures import build_zoo_net
        >>> net = build_zoo_net("vgg").eval()
        >>> w, units, spacing = expanded_weights(net, "layer3")
        >>> w.shape, spacing
        (torch.Size([64, 48, 5, 5]), 8.0)
    """
    stage, pool, nxt = _linearised_stage(model, layer)
    stage = stage.cpu()
    c_in = next(m for m in stage.modules() if isinstance(m, nn.Conv2d)).in_channels
    x = torch.zeros(1, c_in, size, size, requires_grad=True)
    out = stage(x)
    centre_out = out.shape[-1] // 2
    stride = (size - 1) // max(out.shape[-1] - 1, 1)
    rows = []
    for o in range(out.shape[1]):
        (g,) = torch.autograd.grad(out[0, o, centre_out, centre_out], x, retain_graph=True)
        rows.append(g[0])
    jac = torch.stack(rows).detach()                                         # [C_next, C_layer, size, size]
    c = centre_out * stride
    support = jac.abs().amax((0, 1)) > 1e-7 * jac.abs().max().clamp_min(1e-30)
    ys, xs = support.nonzero(as_tuple=True)
    r = int(max((ys - c).abs().max(), (xs - c).abs().max())) if len(ys) else 0
    weight = jac[:, :, c - r:c + r + 1, c - r:c + r + 1]
    probe = torch.zeros(1, 3, 64, 64, device=next(model.parameters()).device)
    shapes = {n: a.shape[-1] for n, a in layer_activations(model, [layer], probe).items()}
    spacing = 64 / shapes[layer] * (2 if pool is not None else 1)

    def units(images: torch.Tensor) -> torch.Tensor:
        return layer_activations(model, [nxt], images)[nxt]

    return weight, units, float(spacing)


#: How weights between two stages are read: the first conv of the next stage, or the whole next stage expanded.
READS: tuple[str, ...] = ("conv", "stage")
#: How :func:`composition` picks its part units.
PART_CHOICES: tuple[str, ...] = ("mask", "contrast")


def _offsets(k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(dx, dy)`` of a ``k x k`` kernel's taps, x right and y up (row 0 is the top)."""
    r = torch.arange(k, dtype=torch.float32) - (k - 1) / 2
    dy, dx = torch.meshgrid(-r, r, indexing="ij")
    return dx, dy


def circle_template(orientations: torch.Tensor, k: int = 3, radius: float | None = None,
                    width: float = 0.5) -> torch.Tensor:
    """``[n, k, k]`` expected weights from curve units onto a circle unit at the kernel's centre.

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
        read: ``"conv"``: the first conv of the next stage (:func:`stage_entry`);
            ``"stage"``: the expanded weights into the next stage's output (:func:`expanded_weights`).
        radius: Ring of the template in taps (:func:`circle_template`); ``None``: every tap.

    Returns:
        A :class:`CircleUnits`.
    """
    if len(family) < 2:
        raise ValueError(f"`family` needs at least 2 members to define a circle, got {len(family)}")
    check_choice("read", read, READS)
    weight = stage_entry(model, layer)[0] if read == "conv" else expanded_weights(model, layer)[0]
    w = weight[:, family.channels]                                      # [C, n, k, k]
    k = w.shape[-1]

    def align(orients: torch.Tensor) -> torch.Tensor:
        t = circle_template(orients, k, radius).flatten()
        return (w.flatten(1) @ t) / (w.flatten(1).norm(dim=1).clamp_min(1e-12) * t.norm())

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


def _spatial_max(acts: torch.Tensor) -> torch.Tensor:
    return acts.amax(dim=(2, 3))


def _part_scores(acts: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``[C]`` (mean activation where ``mask`` covers the map - mean elsewhere) / std, per unit."""
    frac = F.adaptive_avg_pool2d(mask[:, None].float(), acts.shape[-2:])[:, 0] > 0
    a = acts.permute(1, 0, 2, 3).flatten(1)
    on = frac.flatten()
    return (a[:, on].mean(1) - a[:, ~on].mean(1)) / a.std(1).clamp_min(1e-8)


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
        read: ``"conv"`` (first conv of the next stage) or ``"stage"`` (:func:`expanded_weights`).
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

    The object unit is the unit of the stage after ``layer`` whose
    (spatial-max) activation best separates scenes of ``obj`` from the rest; the
    part units are units of ``layer`` chosen with the part masks (over scenes of
    ``obj``); the circuit is the two kernels between them.

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
        read: ``"conv"``: the weights of the first conv of the next stage into its
            units (:func:`stage_entry`, 3 x 3); ``"stage"``: the expanded weights through
            the whole next stage into its output units (:func:`expanded_weights`).
        parts_by: ``"mask"``: each part unit is the unit most active on its part's mask
            against everything else (it may be a unit for the whole object);
            ``"contrast"``: the unit most active on its part's mask against the other part's mask.
        object_unit: Read this next-stage unit instead of the most selective one.
        selectivity: How the object unit is chosen: ``"mean"``, its mean spatial-max activation on
            ``obj`` scenes against the mean on all other scenes; ``"min"``, against the kind it
            fires on most after ``obj`` (a unit for ``obj`` and not for a look-alike).
        n_shuffles: Permutations for ``vertical_p``.

    Examples:
        >>> from mi_tutor.vision.architectures import build_zoo_net
        >>> c = composition(build_zoo_net("vgg").eval(), "layer3", n=64, read="stage", n_shuffles=10)
        >>> c.kernels.shape, c.preference.shape
        (torch.Size([2, 5, 5]), torch.Size([48]))
    """
    check_choice("read", read, READS)
    check_choice("parts_by", parts_by, PART_CHOICES)
    check_choice("selectivity", selectivity, ("mean", "min"))
    batch = batch if batch is not None else render_objects(n, seed=seed, config=config or ObjectWorldConfig())
    cfg = batch.config
    check_choice("obj", obj, cfg.kinds)
    for name, part in (("below", below), ("above", above)):
        check_choice(name, part, batch.part_masks)
    if read == "conv":
        weight, units = stage_entry(model, layer)
    else:
        weight, units, _ = expanded_weights(model, layer)
    is_obj = batch.labels == cfg.kinds.index(obj)
    if not bool(is_obj.any()) or bool(is_obj.all()):
        raise ValueError(f"`batch` needs scenes of {obj!r} and of other kinds; got {int(is_obj.sum())} of {len(is_obj)}")
    nxt = _spatial_max(units(batch.images))
    if selectivity == "mean":
        score = (nxt[is_obj].mean(0) - nxt[~is_obj].mean(0)) / nxt.std(0).clamp_min(1e-8)
    else:
        others = torch.stack([nxt[batch.labels == i].mean(0) for i in batch.labels[~is_obj].unique()])
        score = (nxt[is_obj].mean(0) - others.amax(0)) / nxt.std(0).clamp_min(1e-8)
    if object_unit is not None:
        check_range("object_unit", object_unit, 0, weight.shape[0] - 1)
    o = int(score.argmax()) if object_unit is None else int(object_unit)
    acts = layer_activations(model, [layer], batch.images[is_obj])[layer]
    masks = [batch.part_masks[p][is_obj] for p in (below, above)]
    pref = _contrast_scores(acts, masks[0], masks[1])
    chosen, pscores = [], []
    for i in range(2):
        s = _part_scores(acts, masks[i]) if parts_by == "mask" else (pref if i == 0 else -pref)
        chosen.append(int(s.argmax()))
        pscores.append(float(s.max()))
    kernels = weight[o, chosen]
    vertical = weight[o, :, 0].mean(-1) - weight[o, :, -1].mean(-1)
    corr, p = _correlation_test(pref, vertical, n_shuffles, seed)
    return Composition(o, float(score[o]), (below, above), tuple(chosen), tuple(pscores), kernels,
                       kernels[:, 0].mean(-1), kernels[:, -1].mean(-1), read, pref, vertical, corr, p)


def _contrast_scores(acts: torch.Tensor, mask_a: torch.Tensor, mask_b: torch.Tensor) -> torch.Tensor:
    """``[C]`` (mean activation on cells covered by ``mask_a`` only - on cells of ``mask_b`` only) / std."""
    hw = acts.shape[-2:]
    on_a = F.adaptive_avg_pool2d(mask_a[:, None].float(), hw)[:, 0].flatten() > 0
    on_b = F.adaptive_avg_pool2d(mask_b[:, None].float(), hw)[:, 0].flatten() > 0
    a = acts.permute(1, 0, 2, 3).flatten(1)
    only_a, only_b = on_a & ~on_b, on_b & ~on_a
    if not bool(only_a.any()) or not bool(only_b.any()):
        return torch.zeros(a.shape[0])
    return (a[:, only_a].mean(1) - a[:, only_b].mean(1)) / a.std(1).clamp_min(1e-8)


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


def _pose_index(acts: torch.Tensor, facing: torch.Tensor) -> torch.Tensor:
    left, right = acts[facing < 0].mean(0), acts[facing > 0].mean(0)
    return (left - right) / (left + right).clamp_min(1e-8)


def pose_circuit(model: nn.Module, layer: str, kind: str = "head", n: int = 1024, seed: int = 54321,
                 max_invariance: float = 0.15) -> PoseCircuit:
    """Find a left unit, a right unit in ``layer`` and the pose-invariant unit they feed.

    Args:
        model: A zoo CNN trained on the object task.
        layer: Stage of the pose units.
        kind: A kind with a pose (``"head"``, ``"car"``, ``"cart"``).
        n: Scenes (half of them ``kind``).
        seed: Seed of the scenes.
        max_invariance: Largest ``|pose index|`` of an invariant unit.
    """
    from .objects import FACING_KINDS

    check_choice("kind", kind, FACING_KINDS)
    only = render_objects(n // 2, seed=seed, config=ObjectWorldConfig(kinds=(kind,)))
    rest = render_objects(n // 2, seed=seed + 1, config=ObjectWorldConfig(
        kinds=tuple(k for k in ObjectWorldConfig().kinds if k != kind)))
    facing = only.facing[:, 0]
    acts = _spatial_max(layer_activations(model, [layer], only.images)[layer])
    idx = _pose_index(acts, facing)
    strength = acts.mean(0) / acts.mean(0).max().clamp_min(1e-8)
    pref = idx * strength.clamp(0, 1) ** 0.5  # strong units, not ones that barely fire
    left, right = int(pref.argmax()), int(pref.argmin())
    weight, units = stage_entry(model, layer)
    nxt_h, nxt_o = _spatial_max(units(only.images)), _spatial_max(units(rest.images))
    nidx = _pose_index(nxt_h, facing)
    both = torch.cat([nxt_h, nxt_o])
    score = (nxt_h.mean(0) - nxt_o.mean(0)) / both.std(0).clamp_min(1e-8)
    score = torch.where(nidx.abs() < max_invariance, score, torch.full_like(score, -float("inf")))
    inv = int(score.argmax())
    sums = weight[inv].sum((-1, -2))
    order = sums.argsort(descending=True).tolist()
    return PoseCircuit(left, right, idx, inv, float(nidx[inv]), float(score[inv]),
                       sums[[left, right]], (order.index(left), order.index(right)))


def polysemantic_units(model: nn.Module, layer: str, n: int = 1024, seed: int = 777, threshold: float = 1.0,
                       dilate: int = 5, batch: ObjectBatch | None = None) -> list[tuple[int, str, str, float, float]]:
    """Units of ``layer`` that fire on two unrelated object kinds, found with the object masks.

    Each unit's score on kind ``k`` is how many standard deviations above its
    mean it fires inside the (dilated by ``dilate`` px) masks of ``k``
    objects. Two kinds are unrelated when they share no part
    (``car`` and ``cart`` share wheels' hubs and windows; ``clock`` and ``sign`` share hands).

    Returns:
        ``(unit, kind_a, kind_b, score_a, score_b)`` for every unit whose two best
        unrelated kinds both score at least ``threshold``, most polysemantic first.
    """
    from .objects import BLUEPRINTS

    batch = batch if batch is not None else render_objects(n, seed=seed)
    cfg = batch.config
    acts = layer_activations(model, [layer], batch.images)[layer]
    a = acts.permute(1, 0, 2, 3).flatten(1)
    mean, std = a.mean(1), a.std(1).clamp_min(1e-8)
    scores = {}
    for kind, mask in batch.object_masks.items():
        grown = F.max_pool2d(mask[:, None].float(), dilate, 1, dilate // 2)
        on = F.adaptive_avg_pool2d(grown, acts.shape[-2:])[:, 0].flatten() > 0.5
        scores[kind] = (a[:, on].mean(1) - mean) / std
    parts = {k: {p[1] for p in BLUEPRINTS[k]} for k in cfg.kinds}
    found = []
    kinds = list(scores)
    s = torch.stack([scores[k] for k in kinds], 1)
    for c in range(s.shape[0]):
        liked = [i for i in s[c].argsort(descending=True).tolist() if s[c, i] >= threshold]
        pair = next(((i, j) for x, i in enumerate(liked) for j in liked[x + 1:]
                     if not parts[kinds[i]] & parts[kinds[j]]), None)
        if pair:
            i, j = pair
            found.append((c, kinds[i], kinds[j], float(s[c, i]), float(s[c, j])))
    return sorted(found, key=lambda f: -f[4])


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
    from .objects import blur_images as _blur

    _check_stage(model, layer)
    size = 64
    g = torch.Generator().manual_seed(seed)
    tex = (0.5 + contrast * (torch.rand(n_textures, 1, size, size, generator=g) * 2 - 1)).expand(-1, 3, -1, -1)
    soft = _blur(tex, sigma)
    coords = (torch.arange(size, dtype=torch.float32) + 0.5) / size * 2 - 1
    y, x = torch.meshgrid(-coords, coords, indexing="ij")
    theta = torch.arange(n_orientations, dtype=torch.float32) * (2 * math.pi / n_orientations)
    imgs = [tex, soft]
    for t in theta:  # sharp where the direction t points, blurred behind
        sharp_side = (x * torch.cos(t) + y * torch.sin(t)) > 0
        imgs.append(torch.where(sharp_side, tex, soft))
    acts = layer_activations(model, [layer], torch.cat(imgs))[layer]
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
    stages = _stages(model)
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
