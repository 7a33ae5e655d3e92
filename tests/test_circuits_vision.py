"""Curve-detector toolkit (lesson 4): stimuli, tuning, weights, hand-built detector, polysemanticity, plots."""

from __future__ import annotations

import math
from dataclasses import replace

import matplotlib
import pytest
import torch
import torch.nn.functional as F
from torch import nn

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from mi_tutor import circuits_vision as cv  # noqa: E402
from mi_tutor.circuits_vision import plots  # noqa: E402
from mi_tutor.vision.stimuli import StimulusStyle, arc_distance, pixel_grid, stroke_alpha  # noqa: E402
from mi_tutor.circuits_vision.weights import kernel_offsets  # noqa: E402
from mi_tutor.validation import ShapeError  # noqa: E402

TWO_PI = 2 * math.pi


def circ_err(a, b) -> float:
    return abs(float(cv.angle_difference(torch.as_tensor(a), torch.as_tensor(b))))


# ------------------------------------------------------------------ hand-made networks
def line_filter_bank(n: int = 8, k: int = 5) -> tuple[nn.Module, torch.Tensor]:
    """A conv layer of ``n`` oriented line detectors (weights set by hand) and their orientations."""
    orient = torch.arange(n, dtype=torch.float32) * (math.pi / n)
    x, y = kernel_offsets(k, 1.0)
    kernels = []
    for t in orient:
        d = (x * torch.cos(t) + y * torch.sin(t)).abs()          # distance from the line with normal t
        on = torch.exp(-d**2 / 0.5)
        kernels.append(on - on.mean())
    conv = nn.Conv2d(3, n, k, padding=k // 2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.stack(kernels)[:, None].expand(n, 3, k, k) / 3)
    return nn.Sequential(conv, nn.ReLU()), orient


# ------------------------------------------------------------------ stimuli
@pytest.mark.parametrize("theta,kappa", [(0.0, 3.0), (1.0, 2.0), (4.0, 4.0)])
def test_arc_matches_the_analytic_arc(theta, kappa):
    style = StimulusStyle(size=64, width=0.05, length=1.0)
    img = cv.render_curves(torch.tensor([theta]), kappa, style)
    alpha = (img[0, 0] - 0.4) / (0.95 - 0.4)                 # white stroke on 0.4 grey
    r = 1 / kappa
    cx, cy = -r * math.cos(theta), -r * math.sin(theta)
    x, y = pixel_grid(64)
    # Every painted pixel lies on the circle (within the half-width and a pixel) and inside the span.
    painted = alpha > 0.5
    rho = torch.sqrt((x - cx) ** 2 + (y - cy) ** 2)
    assert painted.sum() > 20
    assert ((rho[painted] - r).abs() <= 0.05 + 2 / 64).all()
    phi = torch.atan2(y - cy, x - cx)
    assert (cv.angle_difference(phi[painted], torch.tensor(theta)).abs() <= (0.5 + 0.05 + 2 / 64) / r).all()  # span + round cap
    # Every point of the analytic arc is painted.
    for s in torch.linspace(-0.45, 0.45, 19):
        a = theta + s / r
        px, py = cx + r * math.cos(a), cy + r * math.sin(a)
        col, row = int((px + 1) / 2 * 64), int((1 - py) / 2 * 64)
        assert alpha[row, col] > 0.2, f"arc point at arc length {s:.2f} is not drawn"


def test_orientation_convention_and_lines():
    imgs = cv.render_curves(torch.tensor([0.0, math.pi / 2]), 4.0)
    x, y = pixel_grid(32)
    w = imgs[:, 0] - 0.4
    cx = (w * x).sum((1, 2)) / w.sum((1, 2))
    cy = (w * y).sum((1, 2)) / w.sum((1, 2))
    # Convex side faces the orientation: the arc's ends (and centroid) lie on the other side.
    assert cx[0] < -0.05 and abs(cy[0]) < 0.02
    assert cy[1] < -0.05 and abs(cx[1]) < 0.02
    line = cv.render_lines(torch.tensor([0.0]))[0, 0] - 0.4       # normal 0: a vertical line
    assert line[:, 15:17].sum() > 0.8 * line.sum()
    assert torch.allclose(cv.render_angles(torch.tensor([0.7]), math.pi), cv.render_lines(torch.tensor([0.7])),
                          atol=0.05)


def test_angles_point_at_their_orientation():
    img = cv.render_angles(torch.tensor([0.0]), math.pi / 3)[0, 0] - 0.4
    x, _ = pixel_grid(32)
    assert (img * x).sum() / img.sum() < -0.1                    # the arms go back, away from 0 rad


def test_cosmetic_variants_change_only_looks():
    styles = cv.cosmetic_variants()
    assert {"base", "thin", "thick", "red stroke", "dark background"} <= set(styles)
    red = cv.render_curves(torch.tensor([0.0]), 3.0, styles["red stroke"])[0]
    assert red[0].max() > 0.85 and red[1].max() < 0.45
    dark = cv.render_curves(torch.tensor([0.0]), 3.0, styles["dark background"])[0]
    assert abs(dark[:, 0, 0].mean().item() - 0.15) < 1e-6
    thick = cv.render_curves(torch.tensor([0.0]), 3.0, styles["thick"])[0]
    thin = cv.render_curves(torch.tensor([0.0]), 3.0, styles["thin"])[0]
    assert (thick[0] > 0.7).sum() > (thin[0] > 0.7).sum()


def test_curve_grid_layout():
    grid = cv.curve_grid(6, [0.0, 3.0])
    assert grid.shape == (2, 6) and grid.images.shape == (12, 3, 32, 32)
    assert torch.allclose(grid.images[6 + 2], cv.render_curves(grid.orientations[2:3], 3.0)[0])


def test_stimuli_reject_bad_arguments():
    with pytest.raises(ValueError, match="curvatures"):
        cv.render_curves(torch.zeros(2), torch.tensor([-1.0, 1.0]))
    with pytest.raises(ValueError, match="curvatures"):
        cv.render_curves(torch.zeros(3), torch.ones(2))
    with pytest.raises(KeyError, match="colour"):
        cv.render_curves(torch.zeros(1), 1.0, StimulusStyle(colour="mauve"))
    with pytest.raises(ValueError, match="openings"):
        cv.render_angles(torch.zeros(1), 4.0)
    # an empty orientation grid and a wrong image size name the argument and what is wanted
    with pytest.raises(ValueError, match=r"`orientations` is empty: give at least one angle"):
        cv.render_curves(torch.zeros(0), 1.0)
    with pytest.raises(ValueError, match=r"`n_orientations` must be a positive number of orientations, got 0"):
        cv.curve_grid(0, [0.0, 3.0])
    with pytest.raises(ValueError, match=r"`style.size` must be at least 4 pixels, got 2"):
        cv.render_curves(torch.zeros(1), 1.0, StimulusStyle(size=2))
    with pytest.raises(ValueError, match=r"`length` should be a number or one value per stroke"):
        x, y = pixel_grid(8)
        arc_distance(x, y, torch.zeros(2), torch.zeros(2), torch.ones(2, 3))


# ------------------------------------------------------------------ tuning
def test_edge_filter_shows_the_orientation_it_was_given():
    net, orient = line_filter_bank(8)
    edges = cv.find_edge_units(net, "1", n_orientations=16)
    assert edges.channels == list(range(8))
    for got, want in zip(edges.orientations, orient):
        assert circ_err(2 * got, 2 * want) / 2 < math.radians(8)


def synthetic_tuning(prefs: torch.Tensor, n_orient: int = 24, line_factor: float = 0.2):
    th = torch.arange(n_orient) * (TWO_PI / n_orient)
    curv = torch.tensor([0.0, 1.0, 3.0])
    lobe = torch.exp(3 * (torch.cos(th[None] - prefs[:, None]) - 1))          # [units, n_orient]
    gain = torch.tensor([line_factor, 0.7, 1.0])
    return gain[None, :, None] * lobe[:, None, :], th, curv


def test_family_search_finds_a_synthetic_family():
    prefs = torch.tensor([0.3, 1.1, 2.0, 2.9, 3.7, 4.5, 5.4])
    tuning, th, curv = synthetic_tuning(prefs)
    # Distractors: a line detector, a flat unit, and a duplicate of unit 0 that is weaker.
    line_unit = torch.cat([tuning[:1, :1] * 5, tuning[:1, 1:] * 0.2], 1)
    flat = torch.ones(1, 3, len(th))
    dup = tuning[:1] * 0.5
    all_units = torch.cat([tuning, line_unit, flat, dup])
    fam = cv.find_curve_family(all_units, th, curv, channels=list(range(10, 20)))
    assert fam.channels == [10, 11, 12, 13, 14, 15, 16]
    assert all(circ_err(a, b) < 0.05 for a, b in zip(fam.orientations, prefs))
    assert fam.max_gap < math.radians(75) and fam.coverage >= 7 / 8
    assert torch.allclose(fam.selectivity, torch.full((7,), (1 - 0.2) / 1.2), atol=1e-4)
    assert "largest gap" in fam.summary()
    # Half the family: the gap shows it does not cover the circle.
    half = cv.find_curve_family(tuning[:3], th, curv)
    assert half.max_gap > math.pi


def test_family_search_rejects_line_lovers_and_bad_shapes():
    tuning, th, curv = synthetic_tuning(torch.tensor([1.0, 2.0]), line_factor=0.8)   # selectivity 0.11
    assert len(cv.find_curve_family(tuning, th, curv)) == 0
    with pytest.raises(ValueError, match="exactly one 0"):
        cv.find_curve_family(tuning, th, torch.tensor([0.5, 1.0, 3.0]))
    with pytest.raises(ShapeError, match="tuning"):
        cv.find_curve_family(tuning[:, :2], th, curv)


def test_tuning_of_template_units_peaks_at_their_curve():
    # Units whose kernels are arc templates (minus the line's): a family we know.
    prefs = torch.arange(8) * (TWO_PI / 8)
    style = StimulusStyle(size=15, length=0.9, width=0.12)
    arcs = cv.render_curves(prefs, 2.5, style)[:, 0] - 0.4
    lines = cv.render_lines(prefs, style)[:, 0] - 0.4
    kernels = arcs - 0.8 * lines
    kernels = kernels - kernels.mean((1, 2), keepdim=True)
    conv = nn.Conv2d(3, 8, 15, padding=7, bias=False)
    with torch.no_grad():
        conv.weight.copy_(kernels[:, None].expand(8, 3, 15, 15) / 3)
    net = nn.Sequential(conv, nn.ReLU())
    tuning, grid = cv.tuning_map(net, "1", n_orientations=16, curvatures=[0.0, 1.5, 2.5, 4.0],
                                 style=StimulusStyle(size=15, length=0.9, width=0.12), position="center")
    assert tuning.shape == (8, 4, 16)
    radial = cv.radial_tuning(tuning)
    got = cv.preferred_orientation(radial, grid.orientations)
    assert all(circ_err(a, b) < math.radians(15) for a, b in zip(got, prefs))
    fam = cv.find_curve_family(tuning, grid.orientations, grid.curvatures, min_orientation_selectivity=0.1)
    assert len(fam) == 8 and fam.coverage == 1.0


def test_circular_helpers():
    assert math.isclose(cv.max_circular_gap(torch.tensor([0.0, math.pi])), math.pi, rel_tol=1e-6)
    assert math.isclose(cv.max_circular_gap(torch.tensor([0.1])), TWO_PI, rel_tol=1e-6)
    assert cv.orientation_coverage(torch.arange(8) * (TWO_PI / 8)) == 1.0
    assert cv.orientation_coverage(torch.tensor([0.0, 0.1, 0.2])) == 1 / 8
    r = torch.tensor([[1.0, 0.0, 1.0, 0.0]])
    th = torch.tensor([0.0, math.pi / 2, math.pi, 3 * math.pi / 2])
    assert cv.orientation_selectivity(r, th).item() < 1e-6      # an "echo" has no net direction
    assert torch.allclose(cv.curve_line_selectivity(torch.tensor([2.0, -1.0]), torch.tensor([1.0, -1.0])),
                          torch.tensor([1 / 3, 0.0]))


def test_rotation_matches_rendering_at_the_rotated_orientation():
    for theta, a in [(0.3, 1.2), (2.0, -0.8), (5.0, 2.5)]:
        rotated = cv.rotate_images(cv.render_curves(torch.tensor([theta]), 3.0), a)
        direct = cv.render_curves(torch.tensor([theta + a]), 3.0)
        other = cv.render_curves(torch.tensor([theta - a]), 3.0)
        err = (rotated - direct).abs().mean()
        assert err < 0.5 * (rotated - other).abs().mean() and err < 0.02
    dot = torch.zeros(1, 1, 5, 5)
    dot[0, 0, 2, 4] = 1
    assert cv.rotate_images(dot, math.pi / 2)[0, 0].argmax().item() == 2   # right -> top


def test_center_examples_moves_the_mask_centroid_to_the_centre():
    style = StimulusStyle(size=33, center=(0.4, -0.3))
    img = cv.render_curves(torch.tensor([1.0]), 0.0, style)          # a line away from the centre
    mask = (img[:, 0] - 0.4) > 0.3
    moved = cv.center_examples(img, mask)
    x, y = pixel_grid(33)
    w = (moved[0, 0] - 0.4).clamp_min(0)
    assert abs(float((w * x).sum() / w.sum())) < 0.03 and abs(float((w * y).sum() / w.sum())) < 0.03
    empty = torch.zeros(1, 33, 33, dtype=torch.bool)
    assert torch.allclose(cv.center_examples(img, empty), img, atol=1e-5)
    with pytest.raises(ShapeError, match="masks"):
        cv.center_examples(img, mask[:, :10])


def test_handoff_recovers_order_and_offset():
    ang = torch.arange(36) * (TWO_PI / 36)
    pref = torch.arange(6) * (TWO_PI / 6) + 0.2
    resp = torch.exp(2 * (torch.cos(ang[:, None] + 1.0 - pref[None]) - 1))
    h = cv.handoff(resp, ang, pref)
    assert abs(h.offset - 1.0) < 0.1 and h.mean_abs_error < 0.1 and h.handoff_accuracy > 0.9
    scrambled = cv.handoff(resp, ang, pref[torch.tensor([3, 0, 5, 1, 4, 2])])
    assert scrambled.mean_abs_error > 0.8 and scrambled.handoff_accuracy < 0.5


def test_rotation_responses_of_template_units():
    net, _ = line_filter_bank(4)
    img = cv.render_lines(torch.tensor([0.0]))
    ang = torch.arange(8) * (math.pi / 8)
    resp = cv.rotation_responses(net, "1", [0, 1, 2, 3], img, ang)
    assert resp.shape == (8, 4)
    assert resp.argmax(1)[::2].tolist() == [0, 1, 2, 3]     # rotating a line hands it from unit to unit


def test_unit_responses_checks_its_arguments():
    net, _ = line_filter_bank(2)
    with pytest.raises(ShapeError, match="images"):
        cv.unit_responses(net, "1", torch.rand(3, 32, 32))
    with pytest.raises(KeyError, match="position"):
        cv.unit_responses(net, "1", torch.rand(1, 3, 8, 8), position="centre")
    with pytest.raises(KeyError, match="No module named"):
        cv.unit_responses(net, "relu9", torch.rand(1, 3, 8, 8))


# ------------------------------------------------------------------ weights
def test_expanded_weights_equal_the_composed_kernel():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(2, 3, 3), nn.Conv2d(3, 2, 3))
    got = cv.expanded_weights(net, ["0", "1"], out_channel=1, size=9)          # [2, 9, 9]
    w1, w2 = net[0].weight.detach(), net[1].weight.detach()
    want = torch.zeros(2, 5, 5)
    for i in range(2):
        for m in range(3):
            for a in range(3):
                for b in range(3):
                    want[i, a:a + 3, b:b + 3] += w2[1, m, a, b] * w1[m, i]
    assert torch.allclose(got[:, 2:7, 2:7], want, atol=1e-6)
    assert got[:, :2].abs().max() == 0 and got[:, 7:].abs().max() == 0


def test_expanded_weights_need_a_linear_path():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(2, 1, 3))
    with pytest.raises(ValueError, match="linearize"):
        cv.expanded_weights(net, ["0", "1", "2", "3"], 0)
    w = cv.expanded_weights(net, ["0", "1", "2", "3"], 0, size=16, linearize=True)
    assert w.shape == (1, 16, 16) and w.abs().sum() > 0
    with pytest.raises(TypeError, match="not an nn.Conv2d"):
        cv.conv_weights(net, "1")
    assert cv.conv_weights(net, "3", [0], [1]).shape == (1, 1, 3, 3)


def test_tangent_alignment_rewards_tangent_weights():
    pre = torch.arange(8) * (math.pi / 8)
    aligned = cv.handbuilt_curve_weights(pre, 0.5, 3.0, step=0.125,
                                         config=cv.HandBuiltConfig(kernel_size=9, inhibition=0, surround=0))
    good = cv.tangent_alignment(aligned, pre, 0.5, 3.0, step=0.125)
    crossed = cv.tangent_alignment(aligned, pre + math.pi / 2, 0.5, 3.0, step=0.125)
    random = cv.tangent_alignment(torch.randn(8, 9, 9, generator=torch.Generator().manual_seed(0)), pre, 0.5, 3.0,
                                  step=0.125)
    assert good > 0.5 and crossed < -0.2 and abs(random) < 0.2
    null = cv.shuffled_tangent_alignment(aligned, pre, 0.5, 3.0, step=0.125, n_shuffles=50)
    assert good > null.max()
    with pytest.raises(ShapeError, match="kernels"):
        cv.tangent_alignment(aligned[:, :3], pre, 0.5, 3.0, 0.125)


def test_equivariance_score():
    o = torch.arange(6) * (TWO_PI / 6)
    i = torch.arange(8) * (TWO_PI / 8)
    d = i[None] - o[:, None]
    assert cv.equivariance_score(torch.cos(d) + 0.3 * torch.cos(2 * d), o, i) > 0.999
    rand = torch.randn(6, 8, generator=torch.Generator().manual_seed(0))
    assert cv.equivariance_score(rand, o, i) < 0.5
    # Kernels that rotate with the output unit and scale with cos(d): equivariant position by position.
    x, y = kernel_offsets(9, 0.25)
    blob = torch.exp(-((x - 0.5) ** 2 + y**2) / 0.1)                        # off-centre, points to 0 rad
    turned = cv.rotate_images(blob.expand(6, 1, 9, 9).contiguous(), o, fill="zeros")[:, 0]   # [6, 9, 9]
    kernels = torch.cos(d)[:, :, None, None] * turned[:, None]
    real = cv.equivariance_score(kernels, o, i)
    shuffled = cv.equivariance_score(kernels, o[torch.tensor([3, 1, 5, 0, 2, 4])], i)
    assert real > 0.9 and real > shuffled + 0.3
    assert cv.equivariance_score(torch.ones(6, 8), o, i) == 0.0


# ------------------------------------------------------------------ hand-built detector
def test_handbuilt_detector_on_hand_made_edges_is_a_curve_detector():
    net, _ = line_filter_bank(8)
    edges = cv.find_edge_units(net, "1", n_orientations=16)
    targets = torch.tensor([0.0, math.pi / 2, 4.0])
    det = cv.build_curve_detectors(net, edges, targets, curvature=3.0, step=2 / 32,
                                   config=cv.HandBuiltConfig(kernel_size=15))
    tuning, grid = cv.tuning_map(det, "relu", n_orientations=24, curvatures=[0.0, 2.0, 3.0, 4.0])
    radial = cv.radial_tuning(tuning)
    got = cv.preferred_orientation(radial, grid.orientations)
    assert all(circ_err(a, b) < math.radians(20) for a, b in zip(got, targets))
    fam = cv.find_curve_family(tuning, grid.orientations, grid.curvatures)
    assert len(fam) == 3
    # Two detectors of the same orientation correlate; of opposite orientations they do not.
    assert cv.tuning_correlation(radial[0], radial[0] * 2 + 1).item() > 0.999
    assert cv.tuning_correlation(radial[0], radial[2]).item() < 0.5


def test_axial_preference_and_correlation_edge_cases():
    th = torch.arange(8) * (math.pi / 8)
    o, s = cv.axial_preference(torch.ones(8), th)
    assert s.item() < 1e-5
    assert cv.tuning_correlation(torch.ones(5), torch.arange(5.0)).item() == 0.0
    with pytest.raises(ShapeError, match="b"):
        cv.tuning_correlation(torch.ones(5), torch.ones(4))


# ------------------------------------------------------------------ polysemantic
def test_polysemantic_units_are_found_from_masks():
    g = torch.Generator().manual_seed(0)
    n, size = 20, 8
    masks = {k: torch.zeros(n, size, size, dtype=torch.bool) for k in ("curve_0", "curve", "stripes", "red")}
    masks["curve_0"][:10, 2, :] = True
    masks["curve"][:10, 2, :] = True
    masks["curve"][10:, 5, :] = True
    masks["stripes"][:, 6:, :] = True
    masks["red"][10:, 5, :] = True                       # red overlaps the second half's curves
    acts = 0.1 * torch.rand(n, 3, size, size, generator=g)
    acts[:, 0] += 3 * (masks["curve_0"].float() + masks["stripes"].float())   # curve_0 + stripes: unrelated
    acts[:, 1] += 3 * masks["curve"].float()                                    # curve only (and curve_0)
    acts[:, 2] += 3 * (masks["curve"].float() + masks["red"].float())          # curve + red: they overlap
    scores = cv.concept_scores(acts, masks)
    assert scores.shape == (3, 4)
    overlap = cv.concept_overlap(masks)
    found = cv.find_polysemantic(scores, list(masks), overlap, threshold=0.5)
    assert [u.channel for u in found] == [0]
    assert set(found[0].concepts) == {"curve_0", "stripes"}


# ------------------------------------------------------------------ plots
def test_plots_return_their_data():
    th = torch.arange(8) * (TWO_PI / 8)
    curv = torch.tensor([0.0, 2.0, 4.0])
    tuning = torch.rand(3, 3, 8)
    fig, data = plots.plot_tuning_heatmaps(tuning, th, curv)
    assert torch.equal(data, tuning)
    fig2, r = plots.plot_radial_tuning(tuning.amax(1), th, labels=["a", "b", "c"])
    assert torch.allclose(r.amax(1), torch.ones(3))
    fig3, k = plots.plot_kernels(torch.randn(2, 3, 5, 5))
    assert k.shape == (2, 3, 5, 5)
    fig4, d = plots.plot_handbuilt_vs_learned(tuning[0], tuning[0] * 2, th, curv)
    assert d["correlation"].item() > 0.999
    ang = torch.arange(12) * (TWO_PI / 12)
    h = cv.handoff(torch.rand(12, 3), ang, torch.tensor([0.0, 2.0, 4.0]))
    fig5, hr = plots.plot_handoff(h)
    assert hr.shape == (12, 3)
    fig6, s = plots.plot_concept_scores(torch.randn(2, 3), ["a", "b", "c"])
    fig7, im = plots.plot_stimuli(cv.render_curves(th, 3.0))
    assert im.shape == (8, 32, 32, 3)
    plt.close("all")


def test_tuning_grid_is_the_tuning_map_of_the_channels_asked_for():
    net, _ = line_filter_bank(4)
    style = StimulusStyle(colour="red", width=0.1)
    tuning, grid = cv.tuning_map(net, "1", n_orientations=8, curvatures=[0.0, 3.0], style=style)
    assert torch.equal(cv.tuning_grid(net, "1", (3, 1), grid.orientations, grid.curvatures, style), tuning[[3, 1]])
    with pytest.raises(ValueError, match="`channels` is empty"):
        cv.tuning_grid(net, "1", [], grid.orientations, grid.curvatures)
    with pytest.raises(ValueError, match="orientations"):
        cv.tuning_grid(net, "1", [0], grid.orientations[None], grid.curvatures)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_tuning_follows_the_model_device():
    net, _ = line_filter_bank(4)
    net = net.cuda()
    tuning, grid = cv.tuning_map(net, "1", n_orientations=8, curvatures=[0.0, 3.0])
    assert tuning.device.type == "cuda"
    assert cv.tuning_grid(net, "1", [2, 0], grid.orientations, grid.curvatures).device.type == "cuda"
    edges = cv.find_edge_units(net, "1")
    det = cv.build_curve_detectors(net, edges, torch.tensor([0.0]), 3.0, 2 / 32)
    assert det(grid.images.cuda()).device.type == "cuda"


# ------------------------------------------------------------------ optional GoogLeNet path
def test_googlenet_door_reads_a_local_file_and_feeds_mixed3b(tmp_path, monkeypatch):
    from torchvision.models import googlenet

    from mi_tutor import zoo
    from mi_tutor.vision import pretrained

    monkeypatch.setenv("MI_TUTOR_GOOGLENET_WEIGHTS", str(tmp_path / "missing.pth"))
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    assert pretrained.pretrained_weights_path("googlenet") is None
    with pytest.raises(FileNotFoundError, match="MI_TUTOR_GOOGLENET_WEIGHTS"):
        zoo.load("googlenet_imagenet", device="cpu")
    torch.manual_seed(0)
    fake = googlenet(weights=None, aux_logits=True, init_weights=False)   # a stand-in for the ImageNet file
    path = tmp_path / "googlenet-1378be20.pth"
    torch.save(fake.state_dict(), path)
    monkeypatch.setenv("MI_TUTOR_GOOGLENET_WEIGHTS", str(path))
    assert pretrained.pretrained_weights_path("googlenet") == path
    model = zoo.load("googlenet_imagenet", device="cpu")
    assert model.transform_input, "the ImageNet weights expect transform_input=True"
    assert torch.equal(model.inception3b.branch1.conv.weight, fake.inception3b.branch1.conv.weight)
    wrapped = pretrained.ResizedInput(model, size=64)
    resp = cv.unit_responses(wrapped, pretrained.MIXED3B, cv.render_curves(torch.zeros(2), 3.0), [0, 5])
    assert resp.shape == (2, 2)
    with pytest.raises(ValueError, match="`size` must be at least 16"):
        pretrained.imagenet_input(torch.rand(1, 3, 32, 32), size=8)


# ------------------------------------------------------------------ next stage: circles, parts, poses
# (lesson 4's checks are tested in tests/checks/test_lesson04.py; the result checks here read the shipped net)
from mi_tutor.checks import lesson04 as checks  # noqa: E402
from mi_tutor.circuits_vision import next_layer as nl  # noqa: E402


def test_circle_alignment_finds_a_circle_unit_and_checks_shapes():
    o = torch.arange(8) * (TWO_PI / 8)
    w = 0.1 * torch.randn(3, 8, 3, 3, generator=torch.Generator().manual_seed(0))
    w[1] += cv.circle_template(o)
    a = cv.circle_alignment(w, o)
    assert a.shape == (3,) and int(a.argmax()) == 1 and a[1] > 0.9
    assert cv.circle_alignment(torch.zeros(2, 8, 3, 3), o).abs().max() == 0      # no weight, no NaN
    with pytest.raises(ShapeError, match="weights"):
        cv.circle_alignment(w[:, :5], o)


def test_next_layer_rules_agree_with_the_findings_functions():
    """On a random zoo net, the lesson's rules on cached activations pick the units the zoo's measurements pick."""
    from mi_tutor.circuits_vision import findings
    from mi_tutor.hooks import collect
    from mi_tutor.vision.architectures import build_zoo_net
    from mi_tutor.vision.objects import ObjectWorldConfig, render_objects

    torch.manual_seed(0)
    net = build_zoo_net("vgg").eval()
    batch = render_objects(96, seed=3)
    acts = collect(net, batch.images, ["layer3", "layer4.1"])
    mine = cv.find_composition_units(acts["layer3"], acts["layer4.1"], batch)
    ref = findings.composition(net, "layer3", batch=batch)
    assert (mine.object_unit, mine.part_units) == (ref.object_unit, ref.part_units)
    weight, _ = cv.stage_entry(net, "layer3")
    rows = cv.composition_rows(weight, mine.object_unit, list(mine.part_units))
    assert torch.allclose(rows[:, 0], ref.top) and torch.allclose(rows[:, 1], ref.bottom)
    n, seed = 64, 5
    only = render_objects(n // 2, seed=seed, config=ObjectWorldConfig(kinds=("head",)))
    rest = render_objects(n // 2, seed=seed + 1, config=ObjectWorldConfig(
        kinds=tuple(k for k in ObjectWorldConfig().kinds if k != "head")))
    a, b = (collect(net, x.images, ["layer3", "layer4.1"]) for x in (only, rest))
    pose = cv.find_pose_units(a["layer3"].amax((2, 3)), only.facing[:, 0], a["layer4.1"].amax((2, 3)),
                              b["layer4.1"].amax((2, 3)))
    ref = findings.pose_circuit(net, "layer3", n=n, seed=seed)
    assert (pose.left_unit, pose.right_unit, pose.invariant_unit) == (ref.left_unit, ref.right_unit, ref.invariant_unit)


def test_part_contrast_and_the_min_selectivity():
    """The contrast of two parts flips with their order; "min" compares with the look-alike the unit likes most."""
    acts = torch.zeros(4, 2, 2, 2)
    acts[:, 0, 0, 0] = 1.0                                     # unit 0 fires at the top left, unit 1 at the bottom
    acts[:, 1, 1, :] = 1.0
    top = torch.zeros(4, 4, 4, dtype=torch.bool)
    top[:, :2, :2] = True
    bottom = torch.zeros(4, 4, 4, dtype=torch.bool)
    bottom[:, 2:, :] = True
    c = cv.part_contrast(acts, top, bottom)
    assert c[0] > 0 > c[1] and torch.allclose(cv.part_contrast(acts, bottom, top), -c)
    assert cv.part_contrast(acts, top, top).abs().max() == 0                  # no cell of one part alone
    m = torch.tensor([4.0, 3.0, 1.0, 0.0]).reshape(4, 1, 1, 1)               # kinds 0, 1 (a look-alike), 2, 2
    is_obj, labels = torch.tensor([True, False, False, False]), torch.tensor([0, 1, 2, 2])
    mean, least = (cv.object_selectivity(m, is_obj, how, labels) for how in ("mean", "min"))
    assert float(least) < float(mean) and float(least) == pytest.approx(1 / m.flatten().std().item())
    with pytest.raises(ValueError, match="labels"):
        cv.object_selectivity(m, is_obj, "min")


def test_stage_weights_read_one_conv_or_the_whole_stage():
    """Both reads of stage_entry, and the expanded weights through a residual block (skip included)."""
    from mi_tutor.vision.architectures import build_zoo_net

    torch.manual_seed(0)
    net = build_zoo_net("resnet").eval()
    conv, _ = cv.stage_entry(net, "layer2")
    stage, units = cv.stage_entry(net, "layer2", read="stage")
    assert conv.shape == (48, 24, 3, 3) and stage.shape == (48, 24, 7, 7)   # stride-2 block: 3x3 + 3x3 + 1x1 skip
    assert units(torch.zeros(2, 3, 64, 64)).shape == (2, 48, 16, 16) and cv.tap_spacing(net, "layer2") == 2.0
    skip = net.layer3[0].downsample
    block = cv.expanded_weights(net, ["layer3.0"], [0, 5], size=17, linearize=True)      # [2, 24, 17, 17]
    no_skip = cv.expanded_weights(net, ["layer3.0.conv1", "layer3.0.bn1", "layer3.0.relu", "layer3.0.conv2",
                                        "layer3.0.bn2"], [0, 5], size=17, linearize=True)
    w_skip = (skip[0].weight[:, :, 0, 0] * (skip[1].weight / (skip[1].running_var + skip[1].eps).sqrt())[:, None])
    assert torch.allclose((block - no_skip)[:, :, 8, 8], w_skip[[0, 5]].detach(), atol=1e-5)
    with pytest.raises(ValueError, match="linearize"):
        cv.expanded_weights(net, ["layer3.0"], 0, size=17)
    with pytest.raises(KeyError, match="layer"):
        cv.stage_entry(net, "layer4")                                  # the last stage has no next stage


def test_pose_index_and_part_scores():
    acts = torch.tensor([[4.0, 0.0], [2.0, 0.0], [1.0, 0.0]])
    assert cv.pose_index(acts, torch.tensor([-1, 1, 1])).tolist() == [pytest.approx(4 / 5.5 - 1.5 / 5.5), 0.0]
    with pytest.raises(ShapeError, match="facing"):
        cv.pose_index(acts, torch.tensor([-1, 1]))
    a = torch.zeros(2, 2, 4, 4); a[:, 0, 0, 0] = 5.0
    mask = torch.zeros(2, 8, 8, dtype=torch.bool); mask[:, 0, 0] = True
    s = cv.part_scores(a, mask)
    assert s[0] > 2 and s[1] == 0                                      # a silent unit scores 0, not NaN


def test_shift_and_center_on_peaks_and_vectorised_shuffles():
    img = torch.zeros(2, 1, 16, 16); img[:, 0, 2, 13] = 1.0
    maps = torch.zeros(2, 8, 8); maps[:, 1, 6] = 1.0                  # the map cell over pixel (2, 13)
    out = cv.center_on_peaks(img, maps)
    r, c = divmod(int(out[0, 0].argmax()), 16)
    assert (r, c) in {(8, 9), (9, 9), (8, 8), (9, 8)}                 # the centre cell [4, 4] covers pixels 8-9
    inner = torch.zeros(2, 1, 16, 16); inner[:, 0, 6, 9] = 1.0       # away from the border, which shifts copy
    assert torch.allclose(cv.shift_images(cv.shift_images(inner, 0.25, 0.125), -0.25, -0.125), inner, atol=1e-6)
    k = torch.rand(5, 7, 7, generator=torch.Generator().manual_seed(1))
    pre = torch.rand(5, generator=torch.Generator().manual_seed(2)) * math.pi
    fast = cv.shuffled_tangent_alignment(k, pre, 0.5, 3.0, 0.125, n_shuffles=6, seed=4)
    g = torch.Generator().manual_seed(4)
    slow = torch.tensor([cv.tangent_alignment(k, pre[torch.randperm(5, generator=g)], 0.5, 3.0, 0.125)
                         for _ in range(6)])
    assert torch.allclose(fast, slow, atol=1e-6)
    net, _ = line_filter_bank(4)
    edges = cv.find_edge_units(net, "1", n_orientations=8)
    with pytest.raises(ValueError, match="curvature"):
        cv.build_curve_detectors(net, edges, [0.0, 1.0], [2.0, 3.0, 4.0], 0.125)


def test_object_concepts_and_kind_relations():
    from mi_tutor.vision.objects import render_objects

    batch = render_objects(8, seed=0)
    masks = cv.object_concept_masks(batch, dilate=3)
    assert set(masks) == set(batch.object_masks)
    assert all((masks[k] >= batch.object_masks[k]).all() for k in masks)          # grown, never shrunk
    with pytest.raises(ValueError, match="dilate"):
        cv.object_concept_masks(batch, dilate=4)
    assert cv.kinds_share_part("clock", "sign") and not cv.kinds_share_part("ladder", "arch")
    scores = torch.tensor([[3.0, 2.5, 0.0], [3.0, 0.0, 2.0]])
    found = cv.find_polysemantic(scores, ["car", "cart", "arch"], threshold=1.5, related_fn=cv.kinds_share_part)
    assert [u.channel for u in found] == [1] and found[0].concepts == ("car", "arch")


# ------------------------------------------------------------------ the shipped model: lesson 4's numbers
LESSON_MODEL, LESSON_LAYER = "vgg_objects_s1", "layer3"


@pytest.fixture(scope="module")
def lesson_net():
    from mi_tutor import zoo

    model = zoo.load(LESSON_MODEL, device="cpu")
    tuning, orientations, curvatures = cv.probe_tuning(model, LESSON_LAYER)
    fam = cv.find_curve_family(tuning, orientations, curvatures, min_separation=0.0)
    return model, tuning, orientations, curvatures, fam


def test_lesson_model_has_a_curve_family(lesson_net):
    """The property lesson 4 relies on: >= 8 curve detectors, 2x curve over line, no gap above 60 degrees."""
    model, tuning, orientations, curvatures, fam = lesson_net
    assert len(fam) >= 8, fam.summary()
    assert (fam.curve_response >= 2 * fam.line_response).all(), fam.summary()
    assert fam.max_gap <= math.radians(60), fam.summary()
    checks.check_curve_family_result(fam, model, LESSON_LAYER)


def test_lesson_model_passes_the_lesson_numbers(lesson_net):
    """What lesson 4's prose says of vgg_objects_s1, computed as the lesson does."""
    from mi_tutor.hooks import collect
    from mi_tutor.vision.objects import ObjectWorldConfig, render_objects

    model, tuning, orientations, curvatures, fam = lesson_net
    fam_tuning = tuning[fam.channels]
    scenes = render_objects(600, seed=4)
    acts = collect(model, scenes.images, [LESSON_LAYER, "layer4.1"])
    # The tangent alignment of the expanded weights beats the shuffles.
    edges = cv.find_edge_units(model, "layer2")
    path = ["layer3.0", "layer3.1.0", "layer3.1.1", "layer3.1.2", "layer3.2.0", "layer3.2.1"]
    ex = torch.stack([cv.expanded_weights(model, path, ch, in_channels=16, size=32, linearize=True)
                      for ch in fam.channels])[:, edges.channels, 11:22, 11:22] * edges.scale[None, :, None, None]
    best_curv = [float(curvatures[fam_tuning[i].amax(-1).argmax()]) for i in range(len(fam))]
    align = sum(cv.tangent_alignment(ex[i], edges.orientations, float(fam.orientations[i]), best_curv[i], 0.0625)
                for i in range(len(fam))) / len(fam)
    null = torch.stack([cv.shuffled_tangent_alignment(ex[i], edges.orientations, float(fam.orientations[i]),
                                                      best_curv[i], 0.0625, n_shuffles=200, seed=1)
                        for i in range(len(fam))]).mean(0)
    checks.check_alignment_result(align, null)
    # Hand-built detectors: the best one reproduces its learned unit's radial tuning.
    det = cv.build_curve_detectors(model, edges, fam.orientations, [max(k, 1.5) for k in best_curv], 0.0625,
                                   cv.HandBuiltConfig(kernel_size=9, length=0.6))
    style = replace(cv.STIMULUS_STYLE, center=cv.receptive_field_centre(model, "layer2"))
    built, _ = cv.tuning_map(det, "relu", n_orientations=16, curvatures=curvatures.tolist(), style=style)
    corr = cv.tuning_correlation(cv.radial_tuning(built), cv.radial_tuning(fam_tuning))
    assert float(corr.max()) >= 0.8, corr
    # No circle unit, and no car composition, in the weights of one conv (the lesson says so).
    weight, _ = cv.stage_entry(model, LESSON_LAYER)
    w = weight[:, fam.channels]
    circle = cv.circle_alignment(w, fam.orientations)
    g = torch.Generator().manual_seed(0)
    shuffled = torch.stack([cv.circle_alignment(w, fam.orientations[torch.randperm(len(fam), generator=g)])
                            for _ in range(200)])
    assert not ((shuffled < circle[None]).all(0) & (circle >= 0.3)).any()
    car = cv.find_composition_units(acts[LESSON_LAYER], acts["layer4.1"], scenes)
    rows = cv.composition_rows(weight, car.object_unit, list(car.part_units))
    assert not (rows[0, 1] > 0 > rows[0, 0] and rows[1, 0] > 0 > rows[1, 1]), rows
    # The pose circuit holds.
    heads = render_objects(256, seed=54321, config=ObjectWorldConfig(kinds=("head",)))
    h = collect(model, heads.images, [LESSON_LAYER, "layer4.1"])
    facing = heads.facing[:, 0]
    rest = scenes.labels != scenes.config.kinds.index("head")
    pose = cv.find_pose_units(h[LESSON_LAYER].amax((2, 3)), facing, h["layer4.1"].amax((2, 3)),
                              acts["layer4.1"][rest].amax((2, 3)))
    checks.check_pose_result(pose, weight, facing, h[LESSON_LAYER].amax((2, 3)))
