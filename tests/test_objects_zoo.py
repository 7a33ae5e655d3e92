"""The object-world zoo: the Circuits findings measured on the SHIPPED weights.

Thresholds come from the values measured on the shipped nets (site/api/vision_findings.md,
the entries' ``info``), with the margin stated next to each. Nothing here trains a net.
"""

import math

import pytest
import torch

from mi_tutor import zoo
from mi_tutor.vision import findings as F
from mi_tutor.vision.objects import ObjectWorldConfig, render_objects
from mi_tutor.vision.train import classifier_accuracy
from mi_tutor.vision.architectures import build_zoo_net
from mi_tutor.zoo.entries.objects import (ARRANGEMENT_MEASURED, ARRANGEMENT_MODELS, COMPOSITION_READ, MEASURED,
                                          OBJECT_MODELS, WRECK_WORLD)

OBJECT_NETS = [n for n in OBJECT_MODELS if "_objects_" in n]
FAMILY_NETS = [n for n in OBJECT_MODELS if MEASURED.get(n, {}).get("curve_family_layer3", (0, 360))[1] <= 60]


@pytest.fixture(scope="module")
def nets():
    return {}


def _load(nets, name):
    if name not in nets:
        nets[name] = zoo.load(name, device="cpu")
    return nets[name]


def test_every_entry_ships_small_weights():
    assert len(OBJECT_NETS) >= 9 and any("_count_" in n for n in OBJECT_MODELS)
    for arch in ("plainnet", "resnet", "vgg"):
        assert sum(n.startswith(f"{arch}_objects_") for n in OBJECT_NETS) >= 3
    for name in OBJECT_MODELS:
        path = zoo.weights_path(name)
        assert path.exists(), f"{name}: weights missing"
        assert path.stat().st_size < 2_000_000
        assert set(MEASURED[name]) >= {"accuracy", "train_s", "curve_family_layer3"}


@pytest.mark.parametrize("name", OBJECT_MODELS)
def test_accuracy(nets, name):
    """Held-out accuracy (512 fresh scenes) within 0.05 of the recorded value on 2,000."""
    cfg = ObjectWorldConfig(task="count") if "_count_" in name else ObjectWorldConfig()
    test = render_objects(512, seed=10**9 + 7, config=cfg)
    acc = classifier_accuracy(_load(nets, name), test.images, test.labels)
    assert acc >= MEASURED[name]["accuracy"] - 0.05, f"{name}: accuracy {acc:.3f}"


@pytest.mark.parametrize("name", FAMILY_NETS)
def test_curve_family_in_intermediate_layer(nets, name):
    """>= 8 curve units in layer3 (not the last conv stage, layer4), each >= 2x curve over line,
    preferred orientations over 16 orientations leaving no gap above 60 degrees."""
    net = _load(nets, name)
    assert net.layer_names[-1] != "layer3"
    fam = F.layer_curve_family(net, "layer3", n_orientations=16)
    assert len(fam) >= 8, f"{name}: only {len(fam)} curve units"
    assert math.degrees(fam.max_gap) <= 60, f"{name}: gap {math.degrees(fam.max_gap):.0f} deg"
    assert bool((fam.curve_response >= 2 * fam.line_response.clamp_min(0)).all())
    # the recorded count, within a margin of 4 units (the measurement is deterministic; the margin
    # covers BLAS differences between machines)
    assert abs(len(fam) - MEASURED[name]["curve_family_layer3"][0]) <= 4


def test_curve_family_needs_curves(nets):
    """The same search finds no family when the 'curves' are straight lines (the check can fail)."""
    net = _load(nets, FAMILY_NETS[0])
    tuning, orients, curvs = F.probe_tuning(net, "layer3", curvatures=(0.0, 1e-3))
    from mi_tutor.circuits_vision import find_curve_family

    fam = find_curve_family(tuning, orients, curvs, min_separation=0.0)
    assert len(fam) < 8 or math.degrees(fam.max_gap) > 60


def test_family_absent_in_first_layer(nets):
    """Curve units are not an edge-layer property: layer1 has (almost) none in every net."""
    for name in OBJECT_NETS[::3]:
        fam = F.layer_curve_family(_load(nets, name), "layer1")
        assert len(fam) <= 3, f"{name}: {len(fam)} curve units in layer1"


def test_bad_layer_names_the_argument(nets):
    net = _load(nets, OBJECT_NETS[0])
    with pytest.raises(KeyError, match="`layer`"):
        F.layer_curve_family(net, "relu3")
    with pytest.raises(KeyError, match="`layer`"):
        F.stage_entry(net, "layer4")  # the last stage has no next stage
    with pytest.raises(ValueError, match="`n_orientations`"):
        F.layer_curve_family(net, "layer3", n_orientations=0)


def test_plain_nets_family_is_partial(nets):
    """Recorded as partial: the plain nets grow >= 12 curve units in layer3 but leave a gap above 60 deg."""
    plain = [n for n in OBJECT_NETS if n.startswith("plainnet_")]
    assert not set(plain) & set(FAMILY_NETS)
    fam = F.layer_curve_family(_load(nets, plain[0]), "layer3")
    assert len(fam) >= 12 and math.degrees(fam.max_gap) > 60


# Robust over four samplings (n=512/1024/2048, three seeds) only in these two object nets; resnet_objects_s0's
# recorded circuit (n=512) held for one sampling of four, so no test claims it.
POSE_NETS = ["vgg_objects_s1", "vgg_objects_s2"]


@pytest.mark.parametrize("name", POSE_NETS)
def test_pose_circuit_weak(nets, name):
    """layer3 has a left-preferring and a right-preferring head unit; a layer4 unit that does not care
    which way the head faces (|index| < 0.15) takes positive weight from both. The preferences are weak
    (index 0.15-0.4, i.e. 1.35-2.3x), as recorded."""
    p = F.pose_circuit(_load(nets, name), "layer3", n=2048, seed=7)
    assert p.holds, f"{name}: weights {p.weights.tolist()}"
    assert float(p.left_index[p.left_unit]) >= 0.08 and float(p.left_index[p.right_unit]) <= -0.08
    assert abs(p.invariant_index) < 0.15


def test_polysemantic_and_high_low(nets):
    """Mask-found polysemantic units and high-low frequency units, within 50% of the recorded counts."""
    name = "vgg_objects_s0"
    net = _load(nets, name)
    poly = F.polysemantic_units(net, "layer3", n=512, seed=2024, threshold=1.5)
    assert len(poly) >= 0.5 * MEASURED[name]["polysemantic_layer3"]
    unit, a, b, sa, sb = poly[0]
    assert a != b and min(sa, sb) >= 1.5
    hl = F.high_low_units(net, "layer3")
    assert len(hl.channels) >= 0.5 * MEASURED[name]["high_low_layer3"]
    c = hl.channels[0]
    assert hl.boundary[c].max() >= 2 * max(float(hl.sharp[c]), float(hl.blurred[c]), 1e-3)


def test_no_composition_or_circle_units_recorded():
    """What did not grow is recorded as such (the docs table says so)."""
    for name in OBJECT_MODELS:
        assert not any(MEASURED[name][f"composition_layer{k}"] for k in (1, 2, 3))


# ------------------------------------------------------------------ the arrangement world (the car composition)
def test_expanded_weights_compose_the_stage():
    """The expanded weights of a VGG stage equal the two BN-folded 3x3 kernels composed by hand (5 x 5),
    and those of a one-conv stage equal the conv's own weights."""
    torch.manual_seed(0)
    net = build_zoo_net("vgg").eval()
    for m in net.modules():  # non-trivial batch-norm statistics
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    w, _, spacing = F.expanded_weights(net, "layer3")
    (c1, b1), (c2, b2) = [(s[0], s[1]) for s in (net.layer4[1], net.layer4[2])]
    w1 = c1.weight * (b1.weight / (b1.running_var + b1.eps).sqrt())[:, None, None, None]
    w2 = c2.weight * (b2.weight / (b2.running_var + b2.eps).sqrt())[:, None, None, None]
    want = torch.zeros_like(w)
    for a in range(3):
        for b in range(3):
            want[:, :, a:a + 3, b:b + 3] += torch.einsum("oj,jikl->oikl", w2[:, :, a, b], w1).detach()
    assert spacing == 8.0 and torch.allclose(w, want, atol=1e-5)
    plain = build_zoo_net("plainnet").eval()
    assert torch.allclose(F.expanded_weights(plain, "layer3")[0], F.stage_entry(plain, "layer3")[0], atol=1e-6)


@pytest.mark.parametrize("name", ARRANGEMENT_MODELS)
def test_arrangement_net_accuracy(nets, name):
    test = render_objects(512, seed=10**9 + 7, config=WRECK_WORLD)
    acc = classifier_accuracy(_load(nets, name), test.images, test.labels)
    assert acc >= ARRANGEMENT_MEASURED[name]["accuracy"] - 0.03, f"{name}: accuracy {acc:.3f}"


@pytest.mark.parametrize("name", [n for n in ARRANGEMENT_MODELS if ARRANGEMENT_MEASURED[n]["composition_holds"]])
def test_car_composition_circuit(nets, name):
    """The Circuits car detector, read from the weights: the layer4 unit that fires more on cars than on any
    other kind (the upside-down car included) takes weight from the layer3 wheel unit that is positive in the
    kernel's bottom row and negative in its top row, and from the window unit the reverse. Over all layer3 units,
    preferring wheels to windows goes with weight below rather than above (r <= -0.4, beaten by < 1% of
    permutations). Two samplings of the scenes that the recorded numbers did not use."""
    net = _load(nets, name)
    for seed in (3, 4):
        c = F.composition(net, "layer3", batch=render_objects(1024, seed=seed, config=WRECK_WORLD), **COMPOSITION_READ)
        assert c.holds, (f"{name} (seed {seed}): car unit {c.object_unit}, wheel bottom/top "
                         f"{float(c.bottom[0]):+.3f}/{float(c.top[0]):+.3f}, window {float(c.bottom[1]):+.3f}/"
                         f"{float(c.top[1]):+.3f}")
        assert c.vertical_corr <= -0.4 and c.vertical_p < 0.01, (c.vertical_corr, c.vertical_p)
        assert c.object_unit == ARRANGEMENT_MEASURED[name]["car_unit"]


def test_composition_reading_fails_on_a_default_world_net(nets):
    """The same reading on a net of the default world (no look-alike with the car's parts rearranged) finds no
    circuit: the test above can fail."""
    net = _load(nets, "vgg_objects_s1")
    c = F.composition(net, "layer3", batch=render_objects(1024, seed=3), **COMPOSITION_READ)
    assert not c.holds
