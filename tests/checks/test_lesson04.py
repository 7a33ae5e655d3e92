"""Lesson 4's checks: the reference passes, plausible mistakes fail with a message that names them,
and the locked cells that read the student's own numbers send the student back."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import circuits_vision as cv
from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson04 as c4
from mi_tutor.circuits_vision import weights as wt
from mi_tutor.hooks import collect
from mi_tutor.vision import tuning as tn
from test_circuits_vision import TWO_PI, line_filter_bank  # a hand-made layer of line detectors


def _reference_kernel(p, o, c, s, k, length=0.9):
    """The exercise's kernel, written by the package."""
    return cv.handbuilt_curve_weights(p, o, c, s, cv.HandBuiltConfig(kernel_size=k, length=length))


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)

def test_lesson04_result_checks_send_the_student_back():
    ang = torch.arange(36) * (2 * torch.pi / 36)
    pref = torch.arange(6) * (2 * torch.pi / 6)
    c4.check_handoff_result(cv.handoff(torch.exp(2 * (torch.cos(ang[:, None] + 0.4 - pref[None]) - 1)), ang, pref))
    scrambled = cv.handoff(torch.rand(36, 6, generator=torch.Generator().manual_seed(1)), ang, pref)
    with pytest.raises(CheckFailure, match="Exercise 4.5"):          # responses that ignore the rotation
        c4.check_handoff_result(scrambled)
    with pytest.raises(CheckFailure, match="Exercise 4.6"):
        c4.check_alignment_result(0.01, torch.randn(50, generator=torch.Generator().manual_seed(0)) * 0.05)


def test_next_layer_checks_accept_the_reference_and_reject_mistakes():
    c4.check_circle_alignment(cv.circle_alignment)
    c4.check_composition_rows(cv.composition_rows)
    c4.check_pose_index(cv.pose_index)
    fails(c4.check_circle_alignment, lambda w, o: -cv.circle_alignment(w, o), "wrong sign")
    fails(c4.check_composition_rows, lambda w, u, p: cv.composition_rows(w, u, p).flip(1), "bottom, top")
    fails(c4.check_pose_index, lambda a, f: -cv.pose_index(a, f), "wrong sign")
    fails(c4.check_pose_index, lambda a, f: (a[f < 0].mean(0) - a[f > 0].mean(0)) / (a[f < 0].mean(0) + a[f > 0].mean(0)),
          "NaN")
    fails(c4.check_pose_index, lambda a, f: (a[f < 0].sum(0) - a[f > 0].sum(0)) / (a[f < 0].sum(0) + a[f > 0].sum(0)
                                                                                   ).clamp_min(1e-8), "mean")


def test_next_layer_result_checks_recompute_from_the_weights():
    g = torch.Generator().manual_seed(0)
    o = torch.arange(6) * (2 * torch.pi / 6)
    w = torch.randn(4, 6, 3, 3, generator=g)
    a = cv.circle_alignment(w, o)
    c4.check_circle_result(a, w, o, torch.rand(30, 4, generator=g))
    with pytest.raises(CheckFailure, match="Exercise 4.8"):
        c4.check_circle_result(-a, w, o, torch.rand(30, 4, generator=g))
    weight = torch.randn(3, 5, 3, 3, generator=g)
    units = cv.CompositionUnits(1, 2.0, ("wheel", "window"), (0, 4), (1.0, 1.0))
    rows = cv.composition_rows(weight, 1, [0, 4])
    c4.check_composition_result(rows, weight, units)
    with pytest.raises(CheckFailure, match="Exercise 4.11"):
        c4.check_composition_result(rows.flip(1), weight, units)
    # A pose circuit built by hand: unit 0 left, unit 1 right, next unit 2 fed by both.
    facing = torch.tensor([-1, -1, 1, 1])
    acts = torch.tensor([[2.0, 1.0], [2.0, 1.0], [1.0, 2.0], [1.0, 2.0]])
    weight = torch.zeros(3, 2, 3, 3)
    weight[2] = 0.1
    units = cv.PoseUnits(0, 1, cv.pose_index(acts, facing), 2, 0.0, 3.0)
    c4.check_pose_result(units, weight, facing, acts)
    weight[2, 1] = -0.1
    with pytest.raises(CheckFailure, match="not both positive"):
        c4.check_pose_result(units, weight, facing, acts)
    with pytest.raises(CheckFailure, match="Exercise 4.12"):
        c4.check_pose_result(cv.PoseUnits(0, 1, -cv.pose_index(acts, facing), 2, 0.0, 3.0), weight, facing, acts)


def test_checks_accept_the_reference(capsys):
    c4.check_tuning_grid(cv.tuning_grid)
    c4.check_tuning_grid(cv.tuning_grid, seed=17, large=True)
    c4.check_preferred_orientation(tn.preferred_orientation)
    c4.check_max_circular_gap(tn.max_circular_gap)
    c4.check_curve_line_selectivity(tn.curve_line_selectivity)
    c4.check_rotate_images(cv.rotate_images)
    c4.check_tangent_alignment(lambda k, p, o, c, s: wt.tangent_alignment(k, p, o, c, s))
    c4.check_equivariance_score(lambda w, o, i: wt.equivariance_score(w, o, i))
    c4.check_handbuilt_kernel(_reference_kernel)
    c4.check_concept_scores(cv.concept_scores)
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("\u2713") == 10


def test_checks_reject_plausible_mistakes():
    with pytest.raises(CheckFailure, match="argmax is not enough"):
        c4.check_preferred_orientation(lambda r, th: th[r.argmax(-1)])
    with pytest.raises(CheckFailure, match="clockwise"):
        c4.check_rotate_images(lambda im, a: cv.rotate_images(im, -a))
    with pytest.raises(CheckFailure, match="wraps"):
        c4.check_max_circular_gap(lambda a: float(torch.sort(a).values.diff().max()) if len(a) > 1 else 0.0)
    with pytest.raises(CheckFailure, match="clip both"):
        c4.check_curve_line_selectivity(lambda c, l: (c - l) / (c + l))
    with pytest.raises(CheckFailure, match="positive weights"):
        c4.check_tangent_alignment(lambda k, p, o, c, s: wt.tangent_alignment(k.abs(), p, o, c, s))
    with pytest.raises(CheckFailure, match="not implemented"):
        def todo(*args):
            raise NotImplementedError()
        c4.check_concept_scores(todo)


def _grid(model, layer, channels, orientations, curvatures, style=None, off=0, transpose=True):
    """The exercise's grid written out, read ``off`` above-left of the centre; ``transpose=False``: the
    [n_images, n_channels] responses reshaped without putting the channels first."""
    theta, kappa = orientations.repeat(len(curvatures)), curvatures.repeat_interleave(len(orientations))
    act = collect(model, cv.render_curves(theta, kappa, style), layer)[layer][:, list(channels)]
    resp = act[:, :, act.shape[2] // 2 - off, act.shape[3] // 2 - off]
    return (resp.T if transpose else resp).reshape(len(channels), len(curvatures), len(orientations))


@pytest.mark.parametrize("wrong, match", [
    (lambda m, la, ch, o, c, st=None: cv.tuning_grid(m, la, ch, o, c, st).transpose(1, 2), "map transposed"),
    (lambda m, la, ch, o, c, st=None: cv.tuning_grid(m, la, ch, o, c, st).permute(1, 2, 0), "channels last"),
    (lambda m, la, ch, o, c, st=None: _grid(m, la, ch, o, c, st, transpose=False), "mixes images and channels"),
    (lambda m, la, ch, o, c, st=None: _grid(m, la, [ch[0]] * len(ch), o, c, st), "Every row .* channel"),
    (lambda m, la, ch, o, c, st=None: _grid(m, la, sorted(ch), o, c, st), "sorted order"),
    (lambda m, la, ch, o, c, st=None: _grid(m, la, ch, o, c, st, off=1), r"\[h // 2, w // 2\]"),
    (lambda m, la, ch, o, c, st=None: _grid(m, la, ch, o, c), "default style"),
], ids=["transposed", "channels-last", "no-transpose", "one-channel", "sorted", "off-centre", "style-dropped"])
def test_tuning_grid_names_plausible_mistakes(wrong, match):
    fails(c4.check_tuning_grid, wrong, match)


def test_tuning_grid_large_catches_a_centre_written_for_32_pixels():
    def centre_of_32(model, layer, channels, orientations, curvatures, style=None):
        act = collect(model, cv.render_curves(orientations.repeat(len(curvatures)),
                                              curvatures.repeat_interleave(len(orientations)), style), layer)[layer]
        h = {"layer2": 8, "layer3": 4}[layer]                   # the centre of a 32 x 32 image's maps
        return act[:, list(channels), h, h].T.reshape(len(channels), len(curvatures), len(orientations))

    c4.check_tuning_grid(centre_of_32)                            # 32 x 32 arcs: right by accident
    fails(c4.check_tuning_grid, centre_of_32, "wrong values", seed=17, large=True)


def test_probe_tuning_maps_come_from_grid_fn():
    """The lesson's maps are the student's: a plausibly wrong tuning_grid changes them (or is refused)."""
    from mi_tutor.validation import ShapeError
    from mi_tutor.vision.models import ConvNet, ConvNetConfig

    torch.manual_seed(0)
    net = ConvNet(ConvNetConfig(channels=(4, 6), kernel_size=3)).eval()
    kw = dict(n_orientations=8, curvatures=(0.0, 3.0), styles=cv.PROBE_STYLES[:2])
    tuning = cv.probe_tuning(net, "layer2", **kw)[0]
    assert torch.equal(cv.probe_tuning(net, "layer2", grid_fn=cv.tuning_grid, **kw)[0], tuning)
    assert torch.equal(cv.probe_tuning(net, "layer2", grid_fn=_grid, **kw)[0], tuning)
    off_centre = cv.probe_tuning(net, "layer2", grid_fn=lambda *a: _grid(*a, off=1), **kw)[0]
    assert not torch.allclose(off_centre, tuning)
    with pytest.raises(ShapeError, match="grid_fn"):
        cv.probe_tuning(net, "layer2", grid_fn=lambda *a: cv.tuning_grid(*a).transpose(1, 2), **kw)


def test_result_checks_use_the_data():
    ang = torch.arange(36) * (TWO_PI / 36)
    pref = torch.arange(6) * (TWO_PI / 6)
    good = cv.handoff(torch.exp(2 * (torch.cos(ang[:, None] + 0.4 - pref[None]) - 1)), ang, pref)
    c4.check_handoff_result([good, good])
    bad = cv.handoff(torch.rand(36, 6, generator=torch.Generator().manual_seed(1)), ang, pref)
    with pytest.raises(CheckFailure):
        c4.check_handoff_result(bad)
    c4.check_alignment_result(0.3, torch.randn(50, generator=torch.Generator().manual_seed(0)) * 0.05)
    with pytest.raises(CheckFailure, match="shuffled"):
        c4.check_alignment_result(0.01, torch.randn(50, generator=torch.Generator().manual_seed(0)) * 0.05)
    r = torch.cos(ang - 1.0).clamp_min(0)
    c4.check_handbuilt_result(r, r * 3 + 0.1)
    with pytest.raises(CheckFailure, match="below 0.8"):
        c4.check_handbuilt_result(r, torch.cos(ang + 1.0).clamp_min(0))


def test_family_check_remeasures_the_model():
    # Hand-built detectors at 8 orientations on a hand-made edge layer pass; half of them do not.
    net, _ = line_filter_bank(8)
    edges = cv.find_edge_units(net, "1", n_orientations=16)
    det = cv.build_curve_detectors(net, edges, torch.arange(8) * (TWO_PI / 8), curvature=3.0, step=2 / 32,
                                   config=cv.HandBuiltConfig(kernel_size=15))
    curv = [0.0, 1.5, 2.5, 3.5, 5.0]
    tuning, grid = cv.tuning_map(det, "relu", n_orientations=24, curvatures=curv)
    fam = cv.find_curve_family(tuning, grid.orientations, grid.curvatures)
    assert len(fam) >= 6

    def measure(model, layer):
        t, g = cv.tuning_map(model, layer, n_orientations=24, curvatures=curv)
        return t, g.orientations

    c4.check_curve_family_result(fam, det, "relu", min_units=6, max_gap_degrees=90, measure=measure)
    half = cv.find_curve_family(tuning[:4], grid.orientations, grid.curvatures)
    with pytest.raises(CheckFailure, match="gap"):
        c4.check_curve_family_result(half, det, "relu", min_units=3, max_gap_degrees=90, measure=measure)


def test_lesson04_named_mistakes_and_contracts():
    """Clipping forgotten where the measure assumes non-negative activations, the wrap-around gap, square-only
    rotation and pooling, and the float the text asks for (issue 27)."""
    import math

    import torch.nn.functional as F

    from mi_tutor.circuits_vision import polysemantic as poly
    from mi_tutor.circuits_vision import rotation as rot

    def unclipped_preference(radial, orientations):
        x, y = (radial * torch.cos(orientations)).sum(-1), (radial * torch.sin(orientations)).sum(-1)
        return torch.remainder(torch.atan2(y, x), 2 * math.pi)

    fails(c4.check_preferred_orientation, unclipped_preference, r"unclipped(.|\n)*clamp_min\(0\)")
    fails(c4.check_curve_line_selectivity, lambda c, l: (c - l) / (c + l), "did not clip the responses at 0")

    def every_weight(kernels, pre_orientations, orientation, curvature, step):
        near, normal = wt.arc_normal_field(kernels.shape[-1], step, orientation, curvature)
        match = torch.cos(2 * (pre_orientations[:, None, None] - normal[None]))
        return float((kernels * near[None] * match).sum() / kernels.sum())

    fails(c4.check_tangent_alignment, every_weight, "only the positive")

    def no_wrap(angles):
        a = torch.sort(torch.remainder(angles, 2 * math.pi)).values
        return float((a[1:] - a[:-1]).max()) if len(a) > 1 else 2 * math.pi

    fails(c4.check_max_circular_gap, no_wrap, "wraps from the largest angle")
    fails(c4.check_max_circular_gap, lambda a: torch.tensor(tn.max_circular_gap(a)), r"should return a float(.|\n)*\.item\(\)")

    def square_rotation(images, angle):                 # the grid is built for H x H
        n, _, h, _ = images.shape
        c, s = math.cos(angle), math.sin(angle)
        theta = torch.tensor([[c, -s, 0.0], [s, c, 0.0]], dtype=images.dtype).expand(n, 2, 3)
        grid = F.affine_grid(theta, [n, images.shape[1], h, h], align_corners=False)
        return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)

    c4.check_rotate_images(rot.rotate_images, size=16, width=24)
    fails(c4.check_rotate_images, square_rotation, "passes on square images but fails on this 32 x 40")
    c4.check_rotate_images(square_rotation, width=32)  # square images only: it cannot tell

    def square_pooling(acts, masks):                     # pools every mask to h x h
        h = acts.shape[-1]
        mean, std = acts.mean((0, 2, 3)), acts.std((0, 2, 3)).clamp_min(1e-8)
        cols = []
        for m in masks.values():
            on = F.adaptive_avg_pool2d(m[:, None].float(), h)[:, 0] > 0.5
            cols.append((acts.permute(1, 0, 2, 3)[:, on].mean(-1) - mean) / std)
        return torch.stack(cols, 1)

    c4.check_concept_scores(poly.concept_scores)
    fails(c4.check_concept_scores, square_pooling, "not square")


def test_family_check_tests_the_students_numbers():
    """The family's orientations, selectivities and gap come from the student's functions (issue 27 part 4);
    the family check compares them with the re-measured ones, so a wrong function that still finds the units
    (an argmax orientation, unclipped responses, the wrap-around gap forgotten) now fails the story's check."""
    import math

    net, _ = line_filter_bank(8)
    edges = cv.find_edge_units(net, "1", n_orientations=16)
    uneven = 0.5 + 0.7 * torch.arange(8)         # 40° apart, and 79° from the last round to the first
    det = cv.build_curve_detectors(net, edges, uneven, curvature=3.0, step=2 / 32,
                                   config=cv.HandBuiltConfig(kernel_size=15))
    curv = [0.0, 1.5, 2.5, 3.5, 5.0]
    tuning, grid = cv.tuning_map(det, "relu", n_orientations=24, curvatures=curv)

    def measure(model, layer):
        t, g = cv.tuning_map(model, layer, n_orientations=24, curvatures=curv)
        return t, g.orientations

    def family(**fns):
        return cv.find_curve_family(tuning, grid.orientations, grid.curvatures, min_separation=0.0, **fns)

    check = lambda fam: c4.check_curve_family_result(fam, det, "relu", min_units=6, max_gap_degrees=120,  # noqa: E731
                                                     measure=measure)
    check(family(preferred_fn=tn.preferred_orientation, selectivity_fn=tn.curve_line_selectivity,
                 gap_fn=tn.max_circular_gap))
    argmax = lambda radial, th: th[radial.argmax(-1)]  # noqa: E731
    no_wrap = lambda a: float(torch.sort(torch.remainder(a.double(), TWO_PI)).values.diff().max())  # noqa: E731
    unclipped = lambda c, l: (c - l) / (c + l).clamp_min(1e-12)  # noqa: E731
    wrong = family(preferred_fn=argmax)
    assert len(wrong) >= 6                       # it still finds the units: only the orientations are off
    with pytest.raises(CheckFailure, match="Exercise 4.2"):
        check(wrong)
    with pytest.raises(CheckFailure, match="Exercise 4.4"):
        check(family(gap_fn=no_wrap))
    shifted = tuning - 0.45 * tuning.amax()      # some lines negative (a pre-ReLU layer): clipping matters
    fam = cv.find_curve_family(shifted, grid.orientations, grid.curvatures, min_separation=0.0,
                               selectivity_fn=unclipped, min_selectivity=-1.0)
    with pytest.raises(CheckFailure, match="Exercise 4.3"):
        c4.check_curve_family_result(fam, det, "relu", min_units=1, max_gap_degrees=360,
                                     measure=lambda m, l: (shifted, grid.orientations))
    assert math.isclose(family().max_gap, tn.max_circular_gap(family().orientations))


def test_handbuilt_detector_uses_the_students_kernel():
    """The hand-built detectors are written by the student's kernel (issue 27 part 4): the exercise's kernel
    gives the package's detector, one that ignores the arc length (the check names it) or halves the
    inhibition another; a config the kernel cannot follow is refused."""
    from dataclasses import replace

    net, _ = line_filter_bank(8)
    edges = cv.find_edge_units(net, "1", n_orientations=16)
    config = cv.HandBuiltConfig(kernel_size=9, length=0.6)
    build = lambda **kw: cv.build_curve_detectors(net, edges, [0.3, 2.0], [3.0, 4.0], 2 / 32, config,  # noqa: E731
                                                  **kw).conv.weight
    reference = build()
    assert torch.allclose(build(kernel_fn=_reference_kernel), reference, atol=1e-6)
    default_length = lambda p, o, c, s, k, length=0.9: _reference_kernel(p, o, c, s, k)  # noqa: E731
    assert not torch.allclose(build(kernel_fn=default_length), reference, atol=1e-3)
    fails(c4.check_handbuilt_kernel, default_length, "pass `length` on to arc_normal_field")
    weak = lambda p, o, c, s, k, length=0.9: _reference_kernel(p, o, c, s, k, length).clamp_min(-0.25)  # noqa: E731
    assert not torch.allclose(build(kernel_fn=weak), reference, atol=1e-3)
    with pytest.raises(ValueError, match="kernel_fn"):
        cv.build_curve_detectors(net, edges, [0.3], 3.0, 2 / 32, replace(config, sharpness=3.0),
                                 kernel_fn=_reference_kernel)


def test_shuffled_alignment_uses_the_students_function():
    """The null of the tangent-alignment figure is scored by the student's function (issue 27 part 4): the
    exercise's function gives the package's null, one that uses every weight (not only the positive ones)
    another; an option the function cannot follow is refused."""
    g = torch.Generator().manual_seed(3)
    pre = torch.rand(6, generator=g) * 3.1
    kernels = torch.randn(6, 7, 7, generator=g)
    null = lambda **kw: cv.shuffled_tangent_alignment(kernels, pre, 0.7, 2.0, 0.125, n_shuffles=20, seed=1,  # noqa: E731
                                                       **kw)
    reference = null()
    mine = lambda k, p, o, c, s: wt.tangent_alignment(k, p, o, c, s)  # noqa: E731
    assert torch.allclose(null(alignment_fn=mine), reference, atol=1e-5)

    def every_weight(k, p, o, c, s):
        near, normal = wt.arc_normal_field(k.shape[-1], s, o, c)
        return float((k * near[None] * torch.cos(2 * (p[:, None, None] - normal[None]))).sum() / k.abs().sum())

    assert not torch.allclose(null(alignment_fn=every_weight), reference, atol=1e-3)
    with pytest.raises(ValueError, match="alignment_fn"):
        null(alignment_fn=mine, length=0.6)
