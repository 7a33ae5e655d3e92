"""Checks for lesson 4, "Circuits in vision: curve detectors".

Each ``check_<exercise>(student_fn, seed=...)`` compares the student's function
with the reference in :mod:`mi_tutor.circuits_vision` on random inputs; the
``check_*_result`` functions verify the numbers behind the lesson's key
figures, recomputed from the model.
"""

from __future__ import annotations

from collections.abc import Callable

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..device import model_device
from ..circuits_vision import handbuilt as hb
from ..circuits_vision import next_layer as nl
from ..circuits_vision import polysemantic as poly
from ..circuits_vision import rotation as rot
from ..vision import tuning as tn
from ..circuits_vision import weights as wt
from ..hooks import run_with_cache
from ..vision.stimuli import StimulusStyle, render_curves
from ..vision.models import ConvNet, ConvNetConfig
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, expect_tensor_like, expect_type, passed
from .mistakes import expect_close_or_named, named_mistake

__all__ = [
    "CONTRACTS",
    "check_tuning_grid",
    "check_preferred_orientation",
    "check_max_circular_gap",
    "check_curve_line_selectivity",
    "check_curve_family_result",
    "check_rotate_images",
    "check_handoff_result",
    "check_tangent_alignment",
    "check_alignment_result",
    "check_equivariance_score",
    "check_handbuilt_kernel",
    "check_handbuilt_result",
    "check_concept_scores",
    "check_circle_alignment",
    "check_circle_result",
    "check_composition_rows",
    "check_composition_result",
    "check_pose_index",
    "check_pose_result",
]

TWO_PI = 2 * math.pi

# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every
# call: every exercise leaves the model, responses, weights, images and masks it is given as they were.
TENSOR = Contract(returns=torch.Tensor)
FLOAT = Contract(returns=float)                # "as a float" / "return a float": not a 0-d tensor
CONTRACTS = {"tuning_grid": TENSOR, "preferred_orientation": TENSOR, "curve_line_selectivity": TENSOR,
             "max_circular_gap": FLOAT, "rotate_images": TENSOR, "tangent_alignment": FLOAT,
             "equivariance_score": FLOAT, "circle_alignment": TENSOR, "handbuilt_kernel": TENSOR,
             "concept_scores": TENSOR, "composition_rows": TENSOR, "pose_index": TENSOR}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _tiny_net(seed: int) -> nn.Module:
    torch.manual_seed(seed)
    return ConvNet(ConvNetConfig(channels=(6, 8, 10), kernel_size=5, n_classes=9)).eval()


def _grid_read_at(model, layer, channels, orientations, curvatures, style=None, off: int = 0, transpose: bool = True):
    """``tuning_grid``, read ``off`` positions above and left of the centre; ``transpose=False``: the mistake of
    reshaping ``[n_images, n_channels]`` into ``[n_channels, ...]`` without transposing it first."""
    theta = orientations.repeat(len(curvatures))
    kappa = curvatures.repeat_interleave(len(orientations))
    _, cache = run_with_cache(model, render_curves(theta, kappa, style, device=model_device(model)), [layer])
    act = cache[layer][:, list(channels)]
    resp = act[:, :, act.shape[2] // 2 - off, act.shape[3] // 2 - off]          # [n_images, n_channels]
    return (resp.T if transpose else resp).reshape(len(channels), len(curvatures), len(orientations))


#: 64 x 64 arcs drawn off the image centre in red on a dark background, like one of the lesson's probes.
_PROBE_STYLE = StimulusStyle(size=64, length=0.6, width=0.04, colour="red", background=0.3, center=(0.06, -0.06))


def _tuning_cases(seed: int, large: bool) -> list[dict]:
    """Two layers of a random network: two channels in order and the default style on ``layer2``, four
    channels out of order and a thick yellow stroke on ``layer3`` (``large``: 64 x 64 off-centre arcs on
    both layers, the channels as a tuple)."""
    g = _gen(seed)
    model = _tiny_net(seed)
    cases = []
    for layer, n_ch, n_o, curv in (("layer2", 8, 8, [0.0, 2.0, 4.0]), ("layer3", 10, 5, [1.0, 3.0])):
        if layer == "layer2":
            channels, style = sorted(torch.randperm(n_ch, generator=g)[:2].tolist()), None
        else:
            channels = torch.randperm(n_ch, generator=g)[:4].tolist()
            channels = channels[::-1] if channels == sorted(channels) else channels
            style = StimulusStyle(width=0.12, colour="yellow", background=0.6)
        cases.append({"model": model, "layer": layer, "channels": tuple(channels) if large else channels,
                      "orientations": torch.rand(n_o, generator=g) * TWO_PI, "curvatures": torch.tensor(curv),
                      "style": _PROBE_STYLE if large else style})
    return cases


def _describe_tuning_case(case: dict) -> str:
    style = "the default style" if case["style"] is None else f"style={case['style']}"
    return (f"on {case['layer']} with channels={case['channels']!r}, {len(case['orientations'])} orientations x "
            f"{len(case['curvatures'])} curvatures and {style}")


def _tuning_mistakes(case: dict) -> list:
    """The likely mistakes on ``case``, as :data:`~mi_tutor.checks.mistakes.Mistake` s (computed on a failure only)."""
    model, layer, channels, o, c, style = case.values()
    channels = list(channels)
    mistakes = [
        (lambda: _grid_read_at(model, layer, channels, o, c, style, transpose=False),
         "Your grid mixes images and channels: the responses of one forward pass are [n_images, n_channels]; "
         "put the channels first (transpose) before reshaping."),
        (lambda: _grid_read_at(model, layer, [channels[0]] * len(channels), o, c, style),
         f"Every row of your result is channel {channels[0]}'s: index the map with the whole of `channels`, one "
         "row per channel."),
        (lambda: _grid_read_at(model, layer, sorted(channels), o, c, style),
         "Your rows are the channels in sorted order: row i must be `channels[i]`, in the order given."),
        (lambda: _grid_read_at(model, layer, channels, o, c, style, off=1),
         "You read the maps one position up and to the left of the centre: the centre of an h x w map is "
         "[h // 2, w // 2]."),
    ]
    if style is not None:
        mistakes.append((lambda: _grid_read_at(model, layer, channels, o, c, None),
                         "Your arcs are drawn in the default style: pass `style` on to `cv.render_curves`."))
    return mistakes


def check_tuning_grid(student_fn: Callable, seed: int = 0, large: bool = False) -> None:
    """``tuning_grid(model, layer, channels, orientations, curvatures, style=None)`` ->
    ``[n_channels, n_curv, n_orient]``.

    Two layers of a random network, the second with its channels out of order and a non-default style;
    ``large=True``: 64 x 64 arcs off the image centre on both (bigger maps), the channels as a tuple.
    """
    def compare(case):
        def close(got, want, ctx):
            if isinstance(got, torch.Tensor) and got.dim() == 3 and got.shape != want.shape:
                n_ch, n_c, n_o = want.shape
                if tuple(got.shape) == (n_ch, n_o, n_c):
                    raise CheckFailure(f"Your grid has shape {tuple(got.shape)}, each channel's map transposed; "
                                       f"{tuple(want.shape)} is wanted: rows are curvatures, columns orientations.")
                if tuple(got.shape) in ((n_c, n_o, n_ch), (n_o, n_c, n_ch)):
                    raise CheckFailure(f"Your grid has shape {tuple(got.shape)}, the channels last; "
                                       f"{tuple(want.shape)} is wanted: one [n_curv, n_orient] map per channel.")
            expect_close_or_named("tuning_grid(...)", got, want, mistakes=_tuning_mistakes(case), rtol=1e-3,
                                  atol=1e-4, context=ctx,
                                  hint="draw one arc per (curvature, orientation), curvature changing slowest, in "
                                       "the given style; run the model once and read every channel asked for, in "
                                       "order, at the centre of its map.")
        return close

    n = 0
    for case in _tuning_cases(seed, large):
        n += compare_functions("tuning_grid", student_fn, tn.tuning_grid, [case], contract=CONTRACTS["tuning_grid"],
                               describe=_describe_tuning_case, compare=compare(case))
    what = "64 x 64 off-centre arcs, channels as a tuple" if large else "channels out of order, a non-default style"
    passed(f"tuning_grid matches the reference on {n} layers of a random network ({what})")


def _compare_cases(name: str, student_fn: Callable, reference_fn: Callable, cases, compare: Callable) -> int:
    """Like ``compare_functions`` (contract tested on every case), with ``compare(got, want, context, case)``."""
    for case in cases:
        context = "with " + ", ".join(f"{k} of shape {tuple(v.shape)}" if isinstance(v, torch.Tensor) else f"{k}={v!r}"
                                      for k, v in case.items())
        want = reference_fn(*(v.clone() if isinstance(v, torch.Tensor) else v for v in case.values()))
        given = [v.clone() if isinstance(v, torch.Tensor) else v for v in case.values()]
        check_contract(name, student_fn, CONTRACTS[name], *given, context=context,
                       compare=lambda got: compare(got, want, context, case))
    return len(cases)


def _naming(check: Callable, wrong: Callable, why: str, **options) -> Callable:
    """A ``compare(got, want, context, case)`` for :func:`_compare_cases`: ``check(got, want, context)``, and when
    it fails on a value equal to ``wrong(**case)``'s (and the reference differs from it), ``why`` after the
    numbers (:func:`~mi_tutor.checks.mistakes.named_mistake`; ``options`` such as ``period=`` go to it)."""
    return lambda got, want, ctx, case: named_mistake(lambda: check(got, want, ctx), got,
                                                      [(lambda: wrong(**case), why)], want=want, **options)


def _unclipped_preference(radial: torch.Tensor, orientations: torch.Tensor) -> torch.Tensor:
    """The mistake: the preferred orientation of the responses without clipping them at 0."""
    x, y = (radial * torch.cos(orientations)).sum(-1), (radial * torch.sin(orientations)).sum(-1)
    return torch.remainder(torch.atan2(y, x), TWO_PI)


def _signed_alignment(kernels: torch.Tensor, pre_orientations: torch.Tensor, orientation: float, curvature: float,
                      step: float) -> float:
    """The mistake: tangent alignment with every weight, not only the positive ones."""
    near, normal = wt.arc_normal_field(kernels.shape[-1], step, orientation, curvature)
    match = torch.cos(2 * (pre_orientations[:, None, None] - normal[None]))
    total = float(kernels.sum())
    return float((kernels * near[None] * match).sum() / total) if total != 0 else 0.0


def _angles_close(name: str, hint: str):
    def compare(got, want, ctx):
        expect_tensor_like(name, got, want)
        err = tn.angle_difference(got.detach().double().cpu(), want.detach().double().cpu()).abs()
        if float(err.max()) > 1e-3:
            i = int(err.flatten().argmax())
            raise CheckFailure(f"`{name}` is off by {math.degrees(float(err.flatten()[i])):.1f}° at index {i} {ctx} "
                               f"(got {float(got.flatten()[i]):.3f} rad, expected {float(want.flatten()[i]):.3f}).\n"
                               f"Hint: {hint}")
        expect(bool(((got >= 0) & (got < TWO_PI + 1e-6)).all()),
               f"`{name}` should lie in [0, 2 pi): use torch.remainder(angle, 2 * math.pi).")
    return compare


def check_preferred_orientation(student_fn: Callable, seed: int = 0, units: int = 6) -> None:
    """``preferred_orientation(radial, orientations)`` -> ``[units]`` angles in ``[0, 2 pi)``."""
    g = _gen(seed)
    cases = []
    for n_o in (12, 24):
        th = torch.arange(n_o) * (TWO_PI / n_o)
        prefs = torch.rand(units, generator=g) * TWO_PI
        radial = torch.exp(2 * torch.cos(th[None] - prefs[:, None])) - 2.5       # negative away from the lobe
        radial = radial + 0.3 * torch.randn(units, n_o, generator=g)
        cases.append({"radial": radial, "orientations": th})
    close = _angles_close("preferred_orientation(...)",
                          "sum the unit vectors (cos, sin) of the orientations weighted by the responses "
                          "clipped at 0, then take atan2(y_sum, x_sum); argmax is not enough.")
    n = _compare_cases("preferred_orientation", student_fn, tn.preferred_orientation, cases,
                       _naming(close, _unclipped_preference,
                               "Your angles are those of the *unclipped* responses: a negative response (the unit is "
                               "silenced) must not pull the sum away from that orientation. Clip the responses at 0 "
                               "first (`radial.clamp_min(0)`).", period=TWO_PI))
    passed(f"preferred_orientation matches the reference on {n} batches of {units} tuning curves")


def check_max_circular_gap(student_fn: Callable, seed: int = 0) -> None:
    """``max_circular_gap(angles)`` -> float, the largest gap around the circle."""
    g = _gen(seed)
    cases = [{"angles": torch.tensor([0.3])}, {"angles": torch.tensor([5.0, 1.0, 3.0])},
             {"angles": torch.tensor([-0.5, 6.5, 2.0])}]
    cases += [{"angles": torch.rand(n, generator=g) * TWO_PI} for n in (4, 9)]

    def compare(got, want, ctx):
        got = float(got)
        if abs(got - want) > 1e-4:
            raise CheckFailure(f"max_circular_gap gave {got:.4f} rad but the largest gap is {want:.4f} rad {ctx}.\n"
                               "Hint: wrap the angles into [0, 2 pi) with torch.remainder, sort them, and do not "
                               "forget the gap that wraps from the largest angle back to the smallest (+ 2 pi).")

    def no_wrap(angles: torch.Tensor) -> float:     # the mistake: the gap across 0 forgotten
        a = torch.sort(torch.remainder(angles.double(), TWO_PI)).values
        return float((a[1:] - a[:-1]).max()) if len(a) > 1 else 0.0

    n = _compare_cases("max_circular_gap", student_fn, tn.max_circular_gap, cases,
                       _naming(compare, no_wrap,
                               "Your gap is the largest between sorted neighbours only: the gap that wraps from the "
                               "largest angle back round to the smallest (+ 2 pi) is missing."))
    passed(f"max_circular_gap is right on {n} sets of angles (one angle, unsorted, outside [0, 2 pi))")


def check_curve_line_selectivity(student_fn: Callable, seed: int = 0, n: int = 10) -> None:
    """``curve_line_selectivity(curve_response, line_response)`` -> ``(c - l) / (c + l)`` of the rectified values."""
    g = _gen(seed)
    c = torch.randn(n, generator=g) * 2
    l = torch.randn(n, generator=g) * 2
    c[0], l[0] = -1.0, -2.0          # neither fires
    c[1], l[1] = 3.0, -1.0           # line response negative
    cases = [{"curve_response": c, "line_response": l},
             {"curve_response": torch.rand(3, 4, generator=g), "line_response": torch.rand(3, 4, generator=g)}]

    def compare(got, want, ctx):
        expect_close("curve_line_selectivity(...)", got, want, context=ctx,
                     hint="clip both responses at 0 first, and return 0 where both are 0 "
                          "(divide by (c + l).clamp_min(1e-12)).")

    def unclipped(curve_response: torch.Tensor, line_response: torch.Tensor) -> torch.Tensor:
        c, l = curve_response.double(), line_response.double()       # the mistake: negatives kept
        return (c - l) / (c + l)

    k = _compare_cases("curve_line_selectivity", student_fn, tn.curve_line_selectivity, cases,
                       _naming(compare, unclipped,
                               "You did not clip the responses at 0: a negative response means the unit is silent, "
                               "and the measure assumes non-negative activations (clip both with `clamp_min(0)` "
                               "first)."))
    passed(f"curve_line_selectivity is right on {k} cases, including units that do not fire")


def check_curve_family_result(family, model: nn.Module, layer: str, min_units: int = 8,
                              max_gap_degrees: float = 60.0, measure=None) -> None:
    """The family found in ``layer`` is a real curve family: re-measured from the model here, and its
    orientations, selectivities and largest gap (the student's functions' numbers) are the re-measured ones.

    The probes are those of the findings table (:func:`mi_tutor.circuits_vision.findings.probe_tuning`:
    16 orientations x 7 curvatures, on the units' receptive-field centre, averaged over 16 styles),
    or ``measure(model, layer) -> (tuning [units, curv, orient], orientations)`` for other models;
    curvature 0 must come first.
    """
    from ..circuits_vision.findings import probe_tuning

    expect(isinstance(family, tn.CurveFamily), "Pass the CurveFamily returned by find_curve_family.")
    expect(len(family) >= min_units, f"The family has {len(family)} members; at least {min_units} are needed.")
    if measure is None:
        tuning, orientations, _ = probe_tuning(model, layer)
    else:
        tuning, orientations = measure(model, layer)
    tuning = tuning[family.channels].cpu()
    radial = tuning[:, 1:].amax(1)
    best = radial.argmax(-1)
    curve = radial.gather(1, best[:, None])[:, 0]
    line = tuning[:, 0].gather(1, best[:, None])[:, 0]
    ratio = curve / line.clamp_min(1e-6)
    weak = [(ch, round(float(r), 2)) for ch, r in zip(family.channels, ratio) if r < 2]
    expect(not weak, "These members fire less than twice as much on their best curve as on the line of the same "
                     f"orientation: {weak}.")
    pref = tn.preferred_orientation(radial - radial.amin(-1, keepdim=True), orientations.cpu())
    gap = math.degrees(tn.max_circular_gap(pref))
    off = tn.angle_difference(family.orientations.float().cpu(), pref).abs()
    if float(off.max()) > 1e-3:
        i = int(off.argmax())
        raise CheckFailure(f"Member {family.channels[i]} is given the orientation "
                           f"{math.degrees(float(family.orientations[i])):.1f}°; its tuning map, re-measured, "
                           f"points at {math.degrees(float(pref[i])):.1f}°. The family's orientations come from "
                           "your `preferred_orientation`: go back to Exercise 4.2 (clip at 0, sum the weighted "
                           "unit vectors, atan2, wrap into [0, 2 pi)).")
    sel = tn.curve_line_selectivity(curve, line)
    expect(torch.allclose(family.selectivity.float().cpu(), sel, atol=1e-4),
           "The family's curve-versus-line selectivities differ from the re-measured ones "
           f"({[round(float(v), 3) for v in family.selectivity[:4]]}... against "
           f"{[round(float(v), 3) for v in sel[:4]]}...): they come from your `curve_line_selectivity`, go back "
           "to Exercise 4.3.")
    expect(abs(math.degrees(family.max_gap) - gap) < 0.1,
           f"The family reports a largest gap of {math.degrees(family.max_gap):.1f}° between its orientations; "
           f"they leave {gap:.1f}°. It comes from your `max_circular_gap`: go back to Exercise 4.4 (the gap "
           "from the last angle round to the first).")
    expect(gap <= max_gap_degrees, f"The members' orientations leave a gap of {gap:.0f}° (more than "
                                   f"{max_gap_degrees:.0f}°): the family does not cover the circle.")
    passed(f"{len(family)} curve detectors in {layer}, each firing {float(ratio.min()):.1f}x or more on its curve than "
           f"on its line, orientations cover the circle (largest gap {gap:.0f}°)")


def _smooth_images(seed: int, n: int, size: int, width: int | None = None) -> torch.Tensor:
    width = size if width is None else width
    x = torch.rand(n, 3, size // 4, width // 4, generator=_gen(seed))
    return F.interpolate(x, size=(size, width), mode="bilinear", align_corners=False)


def check_rotate_images(student_fn: Callable, seed: int = 0, size: int = 32, width: int | None = None) -> None:
    """``rotate_images(images, angle)`` rotates counter-clockwise (y up) about the centre.

    Args:
        size: The square images' side.
        width: The width of a ``size x width`` batch that follows (default ``size + 8``: not square). Only a
            half turn is compared there (it is the same turn however non-square pixels are mapped), and
            the shape of any turn.
    """
    width = size + 8 if width is None else width
    images = _smooth_images(seed, 3, size)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    disc = (xx**2 + yy**2) < 0.7**2                      # corners depend on the padding: ignore them
    for angle in (0.5, math.pi / 2, -2.0, 3.0):
        got = check_contract("rotate_images", student_fn, TENSOR, images.clone(), angle,
                             context=f"with angle={angle:.2f} on images of shape {tuple(images.shape)}")
        want = rot.rotate_images(images, angle)
        expect_tensor_like("rotate_images(...)", got, want)
        err = (got - want).abs()[:, :, disc].max().item()
        if err > 0.03:
            back = (got - rot.rotate_images(images, -angle)).abs()[:, :, disc].max().item()
            hint = ("You rotate clockwise: with y pointing up, counter-clockwise by a means the output at p "
                    "reads the input at R(-a) p; in grid_sample's y-down coordinates theta = "
                    "[[cos, -sin, 0], [sin, cos, 0]]." if back < 0.03 else
                    "Rotate about the image centre with F.affine_grid + F.grid_sample (bilinear, align_corners=False).")
            raise CheckFailure(f"rotate_images(images, {angle:.2f}) differs from the reference by up to {err:.3f} "
                               f"inside the central disc.\nHint: {hint}")
    if width != size:
        _check_rotate_non_square(student_fn, _smooth_images(seed + 1, 2, size, width))
    passed("rotate_images turns images counter-clockwise by the given angle"
           + (f" ({size}x{size} and {size}x{width} images)" if width != size else ""))


def _check_rotate_non_square(student_fn: Callable, images: torch.Tensor) -> None:
    h, w = images.shape[-2:]
    square_only = (f"\nIt passes on square images but fails on this {h} x {w} (height x width) batch: does your "
                   "code use one side for both (`H` where `W` is meant)? Take the height and the width separately "
                   "from `images.shape`.")
    for angle in (math.pi, 0.5):
        context = f"with angle={angle:.2f} on images of shape {tuple(images.shape)}"
        try:
            got = check_contract("rotate_images", student_fn, TENSOR, images.clone(), angle, context=context)
            expect_tensor_like("rotate_images(...)", got, images)
            if angle == math.pi:    # a half turn maps pixel (i, j) to (H-1-i, W-1-j), whatever the aspect ratio
                expect_close("rotate_images(...)", got, rot.rotate_images(images, angle), atol=1e-4, context=context,
                             hint="a half turn flips both axes about the image centre.")
        except CheckFailure as err:
            raise CheckFailure(f"{str(err).strip()}{square_only}") from err.__cause__


def check_handoff_result(results, n_shuffles: int = 200, seed: int = 0) -> None:
    """Rotating examples hands activation from one family member to the next, in order.

    ``results`` is one :class:`~mi_tutor.circuits_vision.rotation.Handoff` or a
    list of them (one experiment per family member). The control: the same
    responses scored with the members' preferred orientations permuted among
    them. The real mean peak error must beat 95 % of the permutations, and at
    least three members must take a turn as the most active one.
    """
    results = [results] if isinstance(results, rot.Handoff) else list(results)
    expect(results and all(isinstance(r, rot.Handoff) for r in results),
           "Pass the Handoff (or list of Handoffs) returned by handoff(...).")
    prefs = []
    for r in results:  # recompute from the responses: the numbers must come from the data
        pref = torch.remainder(r.peak_angles + r.offset + r.errors, TWO_PI)
        again = rot.handoff(r.responses, r.angles, pref)
        expect(abs(again.mean_abs_error - r.mean_abs_error) < 1e-4, "A Handoff's numbers are inconsistent.")
        prefs.append(pref)
    err = sum(r.mean_abs_error for r in results) / len(results)
    g = _gen(seed)
    null = []
    for _ in range(n_shuffles):
        perm = torch.randperm(len(prefs[0]), generator=g)
        null.append(sum(rot.handoff(r.responses, r.angles, p[perm]).mean_abs_error
                        for r, p in zip(results, prefs)) / len(results))
    null = torch.tensor(null)
    frac = float((null <= err).float().mean())
    acc = sum(r.handoff_accuracy for r in results) / len(results)
    winners = sum(len(set(r.winners.tolist())) for r in results) / len(results)
    back = " The examples were rotated by your `rotate_images`: go back to Exercise 4.5 (which way does it turn?)."
    expect(frac <= 0.05, f"Members peak {math.degrees(err):.0f}° away (on average) from where their preferred "
                         f"orientations say they should, no better than with the orientations shuffled among "
                         f"them ({frac:.0%} of shuffles do as well)." + back)
    expect(winners >= 3, f"Only {winners:.1f} members win on average: activation is not handed around the family."
           + back)
    passed(f"rotating examples hands activation along the family: peaks {math.degrees(err):.0f}° from the prediction "
           f"on average (shuffled orientations: {math.degrees(float(null.mean())):.0f}°, none of "
           f"{n_shuffles} shuffles at or below it: {frac == 0}), {winners:.1f} different winners per example set, "
           f"winner within {math.degrees(results[0].tolerance):.0f}° at {acc:.0%} of angles")


def check_tangent_alignment(student_fn: Callable, seed: int = 0, n_pre: int = 8) -> None:
    """``tangent_alignment(kernels, pre_orientations, orientation, curvature, step)`` -> float."""
    g = _gen(seed)
    cases = []
    for k, curv in ((5, 3.0), (7, 0.0), (9, 2.0)):
        pre = torch.rand(n_pre, generator=g) * math.pi
        orient = float(torch.rand(1, generator=g) * TWO_PI)
        aligned = hb.handbuilt_curve_weights(pre, orient, max(curv, 0.0), 0.125, hb.HandBuiltConfig(kernel_size=k))
        kernels = aligned + 0.3 * torch.randn(n_pre, k, k, generator=g)
        cases.append({"kernels": kernels, "pre_orientations": pre, "orientation": orient, "curvature": curv,
                      "step": 0.125})

    def compare(got, want, ctx):
        if abs(float(got) - want) > 1e-4:
            raise CheckFailure(f"tangent_alignment gave {float(got):.4f}, expected {want:.4f} {ctx}.\n"
                               "Hint: keep only positive weights (clamp_min(0)) in numerator and denominator, use "
                               "cos(2 * (phi_i - normal)) for axial edge orientations, and weight by `near`.")

    n = _compare_cases("tangent_alignment", student_fn, wt.tangent_alignment, cases,
                       _naming(compare, _signed_alignment,
                               "You used every weight: only the positive (excitatory) weights count, in the numerator "
                               "and the denominator (`kernels.clamp_min(0)`)."))
    passed(f"tangent_alignment matches the reference on {n} kernels (curves and a line)")


def check_alignment_result(alignment: float, null: torch.Tensor, min_margin: float = 0.01) -> None:
    """The real weights' tangent alignment beats (nearly) every shuffle of the lower units' orientations."""
    expect_type("null", null, torch.Tensor)
    expect(null.numel() >= 20, "Use at least 20 shuffles for the null distribution.")
    frac = float((null >= alignment).float().mean())
    back = " The real alignment comes from your `tangent_alignment`: go back to Exercise 4.6."
    expect(frac <= 0.05, f"{frac:.0%} of shuffled orientations align as well as the real ones ({alignment:.3f}): "
                         "the weights do not follow the curve's tangent." + back)
    expect(alignment - float(null.mean()) >= min_margin,
           f"The alignment {alignment:.3f} is barely above the shuffled mean {float(null.mean()):.3f}." + back)
    passed(f"tangent alignment {alignment:.2f} beats {1 - frac:.0%} of {null.numel()} shuffles "
           f"(shuffled mean {float(null.mean()):.2f})")


def check_equivariance_score(student_fn: Callable, seed: int = 0) -> None:
    """``equivariance_score(weights, out_orientations, in_orientations)`` -> R^2 of a 2-harmonic fit."""
    g = _gen(seed)
    cases = []
    for n_out, n_in, noise in ((6, 8, 0.1), (5, 7, 1.0), (9, 4, 0.5)):
        o = torch.rand(n_out, generator=g) * TWO_PI
        i = torch.rand(n_in, generator=g) * TWO_PI
        d = i[None] - o[:, None]
        w = torch.cos(d) + 0.5 * torch.sin(2 * d) + noise * torch.randn(n_out, n_in, generator=g)
        cases.append({"weights": w, "out_orientations": o, "in_orientations": i})

    def compare(got, want, ctx):
        if abs(float(got) - want) > 1e-3:
            raise CheckFailure(f"equivariance_score gave {float(got):.4f}, expected {want:.4f} {ctx}.\nHint: the "
                               "design matrix has columns 1, cos(k d), sin(k d) for k = 1, 2 with d = in - out; "
                               "R^2 = 1 - residual sum of squares / total sum of squares about the mean.")

    n = compare_functions("equivariance_score", student_fn,
                          lambda w, o, i: wt.equivariance_score(w, o, i, order=2), cases, compare=compare,
                          contract=FLOAT)
    passed(f"equivariance_score matches the reference on {n} weight matrices")


def check_handbuilt_kernel(student_fn: Callable, seed: int = 0, n_pre: int = 6) -> None:
    """``handbuilt_kernel(pre_orientations, orientation, curvature, step, kernel_size, length=0.9)`` -> ``[n_pre, k, k]``.

    The last case passes ``length=0.6``, the arc length the lesson's hand-built detectors use.
    """
    g = _gen(seed)
    cases = []
    for k, curv, step in ((7, 3.0, 0.125), (5, 2.0, 0.25), (9, 0.0, 0.125), (9, 4.0, 0.0625)):
        cases.append({"pre_orientations": torch.rand(n_pre, generator=g) * math.pi,
                      "orientation": float(torch.rand(1, generator=g) * TWO_PI), "curvature": curv,
                      "step": step, "kernel_size": k})
    cases[-1]["length"] = 0.6

    def reference(pre, orient, curv, step, k, length=0.9):
        return hb.handbuilt_curve_weights(pre, orient, curv, step, hb.HandBuiltConfig(kernel_size=k, length=length))

    def compare(got, want, ctx):
        hint = ("near * (match.clamp_min(0) ** 2 - 0.5 * (-match).clamp_min(0)) - 0.05 * (1 - near) "
                "with match = cos(2 * (phi_i - normal)); shapes [n_pre, 1, 1] against [k, k].")
        if "length" in ctx:
            hint = "pass `length` on to arc_normal_field: the arc is shorter here. " + hint
        expect_close("handbuilt_kernel(...)", got, want, atol=1e-5, context=ctx, hint=hint)

    n = compare_functions("handbuilt_kernel", student_fn, reference, cases, compare=compare, contract=TENSOR)
    passed(f"handbuilt_kernel writes the reference kernels for {n} curves (two arc lengths)")


def check_handbuilt_result(learned_radial: torch.Tensor, built_radial: torch.Tensor, min_correlation: float = 0.8
                           ) -> None:
    """The hand-built detector's radial tuning curve correlates with the learned one's."""
    expect_type("learned_radial", learned_radial, torch.Tensor)
    expect_type("built_radial", built_radial, torch.Tensor)
    expect(learned_radial.shape == built_radial.shape and learned_radial.dim() == 1,
           f"Pass two radial tuning curves of the same length, got {tuple(learned_radial.shape)} and "
           f"{tuple(built_radial.shape)}.")
    expect(float(built_radial.max()) > 0, "The hand-built detector never fires on the curves.")
    r = float(hb.tuning_correlation(learned_radial.float().cpu(), built_radial.float().cpu()))
    expect(r >= min_correlation, f"The tuning curves correlate at r = {r:.2f}, below {min_correlation}.")
    passed(f"the hand-built detector reproduces the learned detector's radial tuning (r = {r:.2f})")


def check_concept_scores(student_fn: Callable, seed: int = 0, n: int = 6) -> None:
    """``concept_scores(acts, masks)`` -> ``[C, n_concepts]`` standardised mean activation on each concept.

    The last case has non-square (6 x 10) maps and (24 x 40) masks.
    """
    g = _gen(seed)
    cases = []
    for c, (h, w), (big_h, big_w) in ((4, (8, 8), (32, 32)), (3, (16, 16), (16, 16)), (3, (6, 10), (24, 40))):
        masks = {}
        for name in ("curve", "stripes", "red"):
            m = torch.rand(n, big_h // 4, big_w // 4, generator=g) > 0.6
            masks[name] = m.repeat_interleave(4, 1).repeat_interleave(4, 2)      # blocky masks
        acts = torch.rand(n, c, h, w, generator=g) + 2 * F.adaptive_avg_pool2d(
            masks["curve"][:, None].float(), (h, w)).expand(n, c, h, w) * torch.rand(1, c, 1, 1, generator=g)
        cases.append({"acts": acts, "masks": masks})

    def compare(got, want, ctx):
        expect_close("concept_scores(...)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="shrink each mask to the map size with F.adaptive_avg_pool2d, count positions covered "
                          "more than half, and standardise with the unit's mean and std over (images, y, x).")

    def run(some) -> int:
        return compare_functions("concept_scores", student_fn, poly.concept_scores, some, compare=compare,
                                 contract=TENSOR, describe=lambda case: f"with acts of shape "
                                 f"{tuple(case['acts'].shape)} and masks of shape {tuple(case['masks']['curve'].shape)}")

    k = run(cases[:2])
    try:
        k += run(cases[2:])
    except CheckFailure as err:
        raise CheckFailure(f"{str(err).strip()}\nIt passes on square maps but fails on these 6 x 10 maps (24 x 40 "
                           "masks), not square: pool each mask to the maps' (height, width), `acts.shape[-2:]`, "
                           "not to one side.") from err.__cause__
    passed(f"concept_scores matches the reference on {k} layers (masks at image resolution)")


def check_circle_alignment(student_fn: Callable, seed: int = 0, n: int = 6, k: int = 3) -> None:
    """``circle_alignment(weights, orientations)`` -> ``[C_next]`` cosine with the circle template."""
    g = _gen(seed)
    cases = []
    for c_next in (4, 1):
        o = torch.rand(n, generator=g) * TWO_PI
        w = 0.5 * torch.randn(c_next, n, k, k, generator=g)
        w[0] += nl.circle_template(o, k)                      # one unit built like a circle
        cases.append({"weights": w, "orientations": o})

    def compare(got, want, ctx):
        if isinstance(got, torch.Tensor) and torch.allclose(got.float(), -want, atol=1e-4):
            raise CheckFailure(f"circle_alignment has the wrong sign {ctx}: a curve unit of orientation theta is "
                               "wanted at the taps in direction theta (where its convex side points). Remember "
                               "kernel row 0 is the top (y up) and the centre tap is 0.")
        expect_close("circle_alignment(...)", got, want, rtol=1e-4, atol=1e-5, context=ctx,
                     hint="the template at tap (dx, dy) is cos(atan2(dy, dx) - theta) with dy = +1 on the top "
                          "row, 0 at the centre; the score is a cosine similarity over all members and taps.")

    m = compare_functions("circle_alignment", student_fn, nl.circle_alignment, cases, compare=compare,
                          contract=TENSOR)
    passed(f"circle_alignment matches the reference on {m} weight tensors ({k} x {k} kernels)")


def check_circle_result(alignment: torch.Tensor, weights: torch.Tensor, orientations: torch.Tensor,
                        shuffled: torch.Tensor) -> None:
    """The circle alignments shown come from the weights (recomputed here); reports whether any unit beats every shuffle.

    Nothing is asserted about the network: the number is what it is.
    """
    expect_type("alignment", alignment, torch.Tensor)
    want = nl.circle_alignment(weights, orientations)
    expect(alignment.shape == want.shape and torch.allclose(alignment.float().cpu(), want.float().cpu(), atol=1e-4),
           "These alignments differ from the weights' own: go back to Exercise 4.8.")
    expect(shuffled.dim() == 2 and shuffled.shape[1] == want.shape[0] and shuffled.shape[0] >= 20,
           "`shuffled` should be [n_shuffles >= 20, C_next].")
    beats = (shuffled < want[None]).float().mean(0)
    best = int(want.argmax())
    winners = int(((beats == 1.0) & (want >= 0.3)).sum())
    passed(f"best unit {best}: cosine {float(want[best]):.2f}, above {float(beats[best]):.0%} of the shuffles; "
           f"{winners} units with cosine >= 0.3 beat every shuffle")


def check_composition_rows(student_fn: Callable, seed: int = 0, k: int = 3) -> None:
    """``composition_rows(weight, object_unit, part_units)`` -> ``[n_parts, 2]`` (top, bottom) row means."""
    g = _gen(seed)
    cases = [{"weight": torch.randn(5, 7, k, k, generator=g), "object_unit": 3, "part_units": [6, 0]},
             {"weight": torch.randn(2, 4, k + 2, k + 2, generator=g), "object_unit": 0, "part_units": [1, 2, 1]}]

    def compare(got, want, ctx):
        if isinstance(got, torch.Tensor) and got.shape == want.shape and torch.allclose(got, want.flip(1)):
            raise CheckFailure(f"composition_rows gives (bottom, top) {ctx}: row 0 of a kernel reads the input "
                               "above the unit, the last row below; return (top, bottom).")
        expect_close("composition_rows(...)", got, want, atol=1e-5, context=ctx,
                     hint="pick the object unit's row of the weight and the part units' columns, then average "
                          "the first and the last kernel row of each.")

    m = compare_functions("composition_rows", student_fn, nl.composition_rows, cases, compare=compare,
                          contract=TENSOR)
    passed(f"composition_rows matches the reference on {m} weight tensors")


def check_composition_result(rows: torch.Tensor, weight: torch.Tensor, units) -> None:
    """The rows shown come from the weights (recomputed); reports whether the car pattern holds.

    The pattern: the below-part (wheel) unit positive at the bottom and negative at
    the top, the above-part (window) unit the reverse. Nothing is asserted about the net.
    """
    expect_type("rows", rows, torch.Tensor)
    want = nl.composition_rows(weight, units.object_unit, units.part_units)
    expect(rows.shape == want.shape and torch.allclose(rows.float().cpu(), want.float().cpu(), atol=1e-5),
           "These rows differ from the weights' own: go back to Exercise 4.11.")
    holds = bool(want[0, 1] > 0 > want[0, 0] and want[1, 0] > 0 > want[1, 1])
    below, above = units.parts
    passed(f"{below} unit {units.part_units[0]}: top {float(want[0, 0]):+.3f}, bottom {float(want[0, 1]):+.3f}; "
           f"{above} unit {units.part_units[1]}: top {float(want[1, 0]):+.3f}, bottom {float(want[1, 1]):+.3f}; "
           f"the car pattern {'holds' if holds else 'does not hold'}")


def check_pose_index(student_fn: Callable, seed: int = 0, n: int = 12, c: int = 5) -> None:
    """``pose_index(acts, facing)`` -> ``[C]`` ``(L - R) / (L + R)`` of the mean responses."""
    g = _gen(seed)
    facing = torch.where(torch.rand(n, generator=g) < 0.3, -1, 1)             # unbalanced on purpose
    facing[0], facing[1] = -1, 1
    acts = torch.rand(n, c, generator=g) * 3
    acts[:, 0] = 0.0                                                            # a unit that never fires
    cases = [{"acts": acts, "facing": facing},
             {"acts": torch.rand(n + 3, c + 2, generator=g), "facing": torch.tensor([-1, 1] * ((n + 3) // 2) + [1])}]

    def compare(got, want, ctx):
        expect_tensor_like("pose_index(...)", got, want)
        if torch.isnan(got).any():
            raise CheckFailure(f"pose_index returns NaN {ctx}: a unit that never fires has L + R = 0; give it 0.")
        if torch.allclose(got, -want, atol=1e-5):
            raise CheckFailure(f"pose_index has the wrong sign {ctx}: positive means the unit prefers "
                               "left-facing objects (facing = -1).")
        expect_close("pose_index(...)", got, want, atol=1e-5, context=ctx,
                     hint="compare the *mean* response on left- and on right-facing scenes (there are not as "
                          "many of each), and guard L + R = 0.")

    m = compare_functions("pose_index", student_fn, nl.pose_index, cases, compare=compare, contract=TENSOR)
    passed(f"pose_index matches the reference on {m} cases, with unbalanced poses and a silent unit")


def check_pose_result(units, weight: torch.Tensor, facing: torch.Tensor, acts: torch.Tensor,
                      max_invariance: float = 0.15) -> None:
    """The pose circuit: a left unit, a right unit, and an invariant next-stage unit fed positively by both."""
    expect(isinstance(units, nl.PoseUnits), "Pass the PoseUnits returned by find_pose_units.")
    idx = nl.pose_index(acts, facing)
    back = " The pose indices come from your `pose_index`: go back to Exercise 4.12."
    expect(torch.allclose(units.index.float().cpu(), idx.float().cpu(), atol=1e-5),
           "These pose indices differ from the activations' own." + back)
    expect(float(idx[units.left_unit]) > 0 > float(idx[units.right_unit]),
           f"Unit {units.left_unit} should prefer left-facing heads (index > 0) and unit {units.right_unit} "
           "right-facing ones." + back)
    expect(abs(units.invariant_index) < max_invariance, f"The 'invariant' unit has pose index "
                                                        f"{units.invariant_index:+.2f}, not below {max_invariance}.")
    w = weight[units.invariant_unit, [units.left_unit, units.right_unit]].sum((-1, -2))
    expect(bool((w > 0).all()), f"The weights from the left and the right unit into unit {units.invariant_unit} "
                                f"are {w.tolist()}: not both positive, so no pose-invariant circuit here.")
    passed(f"left unit {units.left_unit} (index {float(idx[units.left_unit]):+.2f}) and right unit "
           f"{units.right_unit} ({float(idx[units.right_unit]):+.2f}) both feed unit {units.invariant_unit} "
           f"(index {units.invariant_index:+.2f}) with positive weight ({float(w[0]):+.2f}, {float(w[1]):+.2f})")
