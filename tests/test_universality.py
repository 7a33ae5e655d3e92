"""mi_tutor.universality: CKA/CCA golden values and invariances, matching, mutual kNN, stitching, errors.

Golden values: Kornblith et al.'s Demo.ipynb (google-research/representation_similarity) on
``np.random.seed(1337); X = randn(100, 10); Y = randn(100, 10) + X``.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from mi_tutor import universality as U
from mi_tutor import zoo
from mi_tutor.hooks import collect
from mi_tutor.validation import ShapeError

GOLDEN = {"linear": 0.557613, "rbf_0.5": 0.654831, "debiased": 0.513456, "cca": 0.543124}


@pytest.fixture(scope="module")
def demo():
    rng = np.random.RandomState(1337)                     # same stream as the demo's np.random.seed(1337)
    x = rng.randn(100, 10)
    y = rng.randn(100, 10) + x
    return torch.tensor(x), torch.tensor(y)


# ------------------------------------------------------------------ golden values
def test_golden_values(demo):
    X, Y = demo
    assert U.linear_cka(X, Y) == pytest.approx(GOLDEN["linear"], abs=1e-4)
    assert U.rbf_cka(X, Y, threshold=0.5) == pytest.approx(GOLDEN["rbf_0.5"], abs=1e-4)
    assert U.debiased_cka(X, Y) == pytest.approx(GOLDEN["debiased"], abs=1e-4)
    assert U.cca(X, Y, center=False) == pytest.approx(GOLDEN["cca"], abs=1e-4)


def test_feature_space_forms_equal_gram_forms(demo):
    X, Y = demo
    assert U.linear_cka(X, Y) == pytest.approx(U.cka_from_grams(U.gram_linear(X), U.gram_linear(Y)), abs=1e-12)
    assert U.debiased_cka(X, Y) == pytest.approx(
        U.cka_from_grams(U.gram_linear(X), U.gram_linear(Y), debiased=True), abs=1e-12)
    g = torch.Generator().manual_seed(3)
    A, B = torch.randn(37, 50, generator=g, dtype=torch.float64), torch.randn(37, 7, generator=g, dtype=torch.float64)
    assert U.debiased_cka(A, B) == pytest.approx(
        U.cka_from_grams(U.gram_linear(A), U.gram_linear(B), debiased=True), abs=1e-10)


def test_float32_and_dtype_mix(demo):
    X, Y = demo
    assert U.linear_cka(X.float(), Y.float()) == pytest.approx(GOLDEN["linear"], abs=1e-4)
    assert U.debiased_cka(X.float(), Y) == pytest.approx(GOLDEN["debiased"], abs=1e-4)


# ------------------------------------------------------------------ invariances
@pytest.mark.parametrize("fn", [U.linear_cka, U.debiased_cka, lambda a, b: U.rbf_cka(a, b, 0.5)])
def test_cka_orthogonal_and_isotropic_scaling(demo, fn):
    X, Y = demo
    q, _ = torch.linalg.qr(torch.randn(10, 10, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    base = fn(X, Y)
    assert fn(X, X) == pytest.approx(1.0, abs=1e-6)
    assert fn(X @ q, Y) == pytest.approx(base, abs=1e-6)
    assert fn(1.337 * X, Y) == pytest.approx(base, abs=1e-6)
    assert fn(X, X @ q) == pytest.approx(1.0, abs=1e-6)


def test_cka_not_invariant_to_general_invertible_map_but_cca_is(demo):
    X, Y = demo
    A = torch.randn(10, 10, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    assert torch.linalg.matrix_rank(A) == 10
    assert abs(U.linear_cka(X, X @ A) - 1) > 0.05
    assert abs(U.linear_cka(X @ A, Y) - U.linear_cka(X, Y)) > 1e-3
    assert U.cca(X, X @ A) == pytest.approx(1.0, abs=1e-6)
    assert U.cca(X @ A, Y) == pytest.approx(U.cca(X, Y), abs=1e-6)


def test_cca_saturates_when_width_reaches_n():
    g = torch.Generator().manual_seed(0)
    X, Y = torch.randn(30, 40, generator=g, dtype=torch.float64), torch.randn(30, 40, generator=g, dtype=torch.float64)
    rho = U.cca_coefficients(X, Y)                        # unrelated, yet "identical" to CCA:
    assert len(rho) == 29 and rho.min() > 1 - 1e-6        # every canonical correlation is 1 (rank n - 1)
    assert U.linear_cka(X, Y) < 0.9 and abs(U.debiased_cka(X, Y)) < 0.1


def test_svcca_and_pwcca():
    g = torch.Generator().manual_seed(0)
    Z = torch.randn(400, 4, generator=g, dtype=torch.float64)
    X = Z @ torch.randn(4, 30, generator=g, dtype=torch.float64) + 0.01 * torch.randn(400, 30, generator=g, dtype=torch.float64)
    Y = Z @ torch.randn(4, 20, generator=g, dtype=torch.float64) + 0.01 * torch.randn(400, 20, generator=g, dtype=torch.float64)
    assert U.svcca(X, Y, keep=4) > 0.99          # shared 4-d signal, found after the SVD step
    assert U.svcca(X, Y, keep=0.99) > 0.95
    assert U.pwcca(X, Y) > 0.95
    N = torch.randn(400, 20, generator=g, dtype=torch.float64)
    assert U.svcca(X, N, keep=4) < 0.3
    with pytest.raises(ValueError, match="keep"):
        U.svcca(X, Y, keep=0)


# ------------------------------------------------------------------ matching
def test_matching_recovers_planted_permutation():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(1000, 12, generator=g)
    perm = torch.randperm(12, generator=g)
    B = 2.0 * A[:, perm] + 0.3 * torch.randn(1000, 12, generator=g)   # B's unit j = A's unit perm[j]
    m = U.match_units(A, B)
    assert (perm[m.cols] == m.rows).all()
    assert m.correlations.min() > 0.9
    s = U.semi_match(A, B)
    assert (perm[s.cols] == s.rows).all()
    corr = U.unit_correlation(A, B)
    assert corr.shape == (12, 12) and torch.allclose(corr[m.rows, m.cols], m.correlations)


def test_one_to_one_differs_from_semi_matching_when_units_repeat():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(500, 3, generator=g)
    B = torch.stack([A[:, 0], A[:, 0] + 0.5 * torch.randn(500, generator=g), torch.randn(500, generator=g)], 1)
    B = torch.cat([B[:, :1], B[:, 2:]], 1)           # units: copy of A0, noise
    A2 = torch.stack([A[:, 0], A[:, 0] + 0.1 * torch.randn(500, generator=g)], 1)   # two A units like B0
    s, m = U.semi_match(A2, B), U.match_units(A2, B)
    assert s.cols.tolist() == [0, 0]                  # semi-matching reuses B0
    assert sorted(m.cols.tolist()) == [0, 1]           # one-to-one cannot
    assert m.mean < s.mean


def test_dead_units_correlate_zero():
    A = torch.randn(50, 3)
    A[:, 1] = 0.0
    corr = U.unit_correlation(A, A)
    assert torch.isfinite(corr).all() and corr[1].abs().max() == 0


# ------------------------------------------------------------------ mutual kNN
def test_mutual_knn_identity_and_chance():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 16, generator=g)
    assert U.mutual_knn_alignment(X, X) == 1.0
    assert U.mutual_knn_alignment(X, 5 * X) == 1.0            # normalised: scale-free
    n, k = 500, 10
    scores = torch.tensor([U.mutual_knn_alignment(torch.randn(n, 32, generator=g), torch.randn(n, 32, generator=g), k)
                           for _ in range(10)])
    mean, se = U.mutual_knn_chance(n, k)
    assert mean == pytest.approx(k / (n - 1))
    assert abs(scores.mean() - mean) < 3 * 2 * se / 10 ** 0.5 + 1e-3   # 2x: neighbourhoods are not independent
    assert scores.mean() < 0.03


def test_mutual_knn_matches_reference_definition():
    g = torch.Generator().manual_seed(1)
    X, Y = torch.randn(80, 5, generator=g), torch.randn(80, 5, generator=g)
    Y = X + 0.8 * Y

    def ref(a, b, k):   # platonic-rep metrics.py: normalise, fill diagonal with -1e8, argsort, overlap / k
        a, b = torch.nn.functional.normalize(a, dim=-1), torch.nn.functional.normalize(b, dim=-1)
        ka = (a @ a.T).fill_diagonal_(-1e8).argsort(dim=1, descending=True)[:, :k]
        kb = (b @ b.T).fill_diagonal_(-1e8).argsort(dim=1, descending=True)[:, :k]
        ma, mb = torch.zeros(80, 80), torch.zeros(80, 80)
        r = torch.arange(80)[:, None]
        ma[r, ka], mb[r, kb] = 1.0, 1.0
        return ((ma * mb).sum(1) / k).mean().item()

    for k in (1, 5, 10):
        assert U.mutual_knn_alignment(X, Y, k) == pytest.approx(ref(X, Y, k), abs=1e-6)
    assert U.knn_indices(X, 3).shape == (80, 3)
    assert not (U.knn_indices(X, 3) == torch.arange(80)[:, None]).any()   # self excluded


# ------------------------------------------------------------------ correspondence, stitching
def test_correspondence_map_and_identification():
    g = torch.Generator().manual_seed(0)
    base = [torch.randn(200, 8, generator=g) for _ in range(4)]
    fa = {f"layer{i + 1}": b for i, b in enumerate(base)}
    q, _ = torch.linalg.qr(torch.randn(8, 8, generator=g))
    fb = {f"layer{i + 1}": b @ q + 0.1 * torch.randn(200, 8, generator=g) for i, b in enumerate(base)}
    cmap = U.correspondence_map(fa, fb)
    assert cmap.values.shape == (4, 4) and cmap.layers_b == list(fb)
    assert U.identify_layers(cmap) == [0, 1, 2, 3]
    assert U.identification_accuracy([cmap]) == 1.0
    shuffled = U.correspondence_map(fa, dict(reversed(list(fb.items()))))
    assert U.identification_accuracy([shuffled]) == 0.0
    fig, data = U.plot_correspondence(cmap)
    assert data is cmap.values
    import matplotlib.pyplot as plt
    plt.close(fig)


def test_stitching_identity_net_recovers_accuracy():
    from mi_tutor.vision.architectures import PlainNet

    torch.manual_seed(0)
    net = PlainNet().eval()
    g = torch.Generator().manual_seed(0)
    images = torch.rand(64, 3, 32, 32, generator=g)
    labels = net(images).argmax(-1)                       # the net's own labels: it scores 1.0

    def batch(n, seed):
        x = torch.rand(n, 3, 32, 32, generator=torch.Generator().manual_seed(seed))
        with torch.no_grad():
            return x, net(x).argmax(-1)

    s = U.train_stitch(net, net, "layer2", "layer2", batch, U.StitchConfig(steps=0))   # least squares: identity
    assert torch.allclose(s.stitch.weight[:, :, 0, 0], torch.eye(32), atol=1e-3)
    assert U.stitch_accuracy(s, images, labels) == 1.0
    assert all(not p.requires_grad for p in net.parameters())
    s2 = U.StitchedNet(net, PlainNet(), "layer1", "layer3")
    assert s2(images[:2]).shape == (2, 9)                 # 32x32 -> 8x8 resized
    assert s2.stitch.weight.requires_grad


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("fn", [U.linear_cka, U.debiased_cka, U.rbf_cka, U.cca, U.svcca, U.mutual_knn_alignment,
                                U.unit_correlation])
def test_errors_name_the_argument(fn):
    X = torch.randn(20, 4)
    with pytest.raises(ShapeError, match=r"20 examples.*19|same examples"):
        fn(X, torch.randn(19, 4))
    with pytest.raises(ShapeError, match="1-D"):
        fn(torch.randn(20), X)
    bad = X.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ShapeError, match="NaN"):
        fn(X, bad)
    with pytest.raises(ShapeError, match="floating"):
        fn(X, torch.ones(20, 4, dtype=torch.long))


def test_inputs_not_modified():
    X, Y = torch.randn(30, 4), torch.randn(30, 6)
    X0, Y0 = X.clone(), Y.clone()
    for fn in (U.linear_cka, U.debiased_cka, U.rbf_cka, U.cca, U.svcca, U.pwcca, U.mutual_knn_alignment):
        fn(X, Y)
    assert torch.equal(X, X0) and torch.equal(Y, Y0)


# ------------------------------------------------------------------ the shipped nets (lesson 7's numbers)
SEED_NETS = ["plainnet_short_s0", "plainnet_short_s1", "plainnet_short_s2"]
ARCH_NETS = {"plainnet": "plainnet_objects_s0", "resnet": "resnet_objects_s0", "vgg": "vgg_objects_s0"}
LAYERS = ["layer1", "layer2", "layer3", "layer4"]


@pytest.fixture(scope="module")
def shipped():
    from mi_tutor import zoo
    from mi_tutor.vision.architectures import build_zoo_net
    from mi_tutor.vision.objects import render_objects
    from mi_tutor.zoo.entries.objects import object_net_config

    nets = {}
    for name in SEED_NETS + list(ARCH_NETS.values()):
        try:
            nets[name] = zoo.load(name, device="cpu")
        except FileNotFoundError as err:       # the object-world weights may be missing: say so, do not pass
            pytest.skip(f"zoo weights not shipped yet: {err}")
    torch.manual_seed(0)
    for arch in ARCH_NETS:
        nets[f"{arch}_random"] = build_zoo_net(arch, object_net_config(arch)).eval()
    scenes = render_objects(400, seed=10**6)
    feats = {name: collect(net, scenes.images, LAYERS, pool="mean") for name, net in nets.items()}
    return scenes, feats


def test_layer_identification_across_seeds(shipped):
    _, feats = shipped
    maps = [U.correspondence_map(feats[a], feats[b]) for a in SEED_NETS for b in SEED_NETS if a != b]
    acc = U.identification_accuracy(maps)
    print(f"layer identification across seeds: {acc:.0%} of {4 * len(maps)}")     # measured: 100% of 24
    assert acc >= 0.9


def test_mutual_knn_ordering(shipped):
    _, feats = shipped
    def knn(a, b): return U.mutual_knn_alignment(feats[a]["layer4"], feats[b]["layer4"])
    same = sum(knn(a, b) for i, a in enumerate(SEED_NETS) for b in SEED_NETS[i + 1:]) / 3
    nets = list(ARCH_NETS.values())
    cross = sum(knn(a, b) for i, a in enumerate(nets) for b in nets[i + 1:]) / 3
    rand = sum(knn(n, f"{a}_random") for a, n in ARCH_NETS.items()) / 3
    print(f"mutual 10-NN layer4: same arch {same:.3f}, cross arch {cross:.3f}, random init {rand:.3f}")
    # measured: 0.347 > 0.322 > 0.041 (chance 10/399 = 0.025)
    assert same > cross > rand
    assert rand < 0.1


def test_matched_unit_correlation_first_layer_above_middle(shipped):
    _, feats = shipped
    pairs = [(a, b) for i, a in enumerate(SEED_NETS) for b in SEED_NETS[i + 1:]]
    by_layer = {l: sum(U.match_units(feats[a][l], feats[b][l]).mean for a, b in pairs) / 3 for l in LAYERS}
    print("mean one-to-one matched correlation by layer:", {k: round(v, 3) for k, v in by_layer.items()})
    # measured 0.77, 0.74, 0.69, 0.75: Li et al.'s ordering (first and last layers best, middle worst)
    assert by_layer["layer1"] > by_layer["layer3"]
    assert by_layer["layer4"] > by_layer["layer3"]


def test_image_caption_alignment_above_shuffled(shipped):
    from mi_tutor import zoo

    scenes, feats = shipped
    lm = zoo.load("caption_lm", device="cpu")
    text = U.caption_features(lm, U.caption_tokens(U.scene_captions(scenes)))
    result = U.image_caption_alignment(feats["plainnet_short_s0"], text, k=10, n_shuffles=5)
    print(f"image-caption alignment by layer {result.scores}, shuffled {result.shuffled_mean:.3f} "
          f"± {result.shuffled_std:.3f}, margin {result.margin():.3f}")
    # measured: layer4 0.270 vs shuffled 0.025 ± 0.003 (margin 0.245)
    assert result.margin() > 10 * max(result.shuffled_std, 1e-3)
    assert result.best_layer == "layer4"
    run = zoo.snapshots("plainnet_short_s0", device="cpu")
    accs, snaps = run.curves["accuracy"], run.models
    first, final = (U.mutual_knn_alignment(collect(m, scenes.images, ["layer4"], pool="mean")["layer4"], text)
                    for m in (snaps[0], snaps[-1]))
    print(f"alignment at initialisation {first:.3f} (accuracy {accs[0]:.2f}), after training {final:.3f} ({accs[-1]:.2f})")
    assert final > first + 0.1          # measured 0.047 -> 0.269


def test_captions_describe_the_ground_truth():
    from mi_tutor.vision.objects import render_objects

    b = render_objects(6, seed=3)
    caps = U.scene_captions(b)
    for i, c in enumerate(caps):
        [obj] = b.scene(i)
        words = c.split()
        assert words[0] == "<bos>" and words[-1] == "<eos>"
        assert obj.kind in words and obj.colour in words and set(obj.parts) <= set(words)
        assert ("facing" in words) == (obj.facing is not None)
    tok = U.caption_tokens(caps, 32)
    assert tok.shape == (6, 32) and (tok[:, 0] == U.captions.WORD_TO_ID["<bos>"]).all()
    with pytest.raises(KeyError, match="zebra"):
        U.caption_tokens(["<bos> a zebra <eos>"])
    with pytest.raises(ValueError, match="n_ctx"):
        U.caption_tokens([caps[0]], n_ctx=5)


# ------------------------------------------------------------------ lesson 7's claims beside their controls
# Fresh scenes (the lesson uses seed 10**6) and untrained nets of the plain architecture over three seeds.
# Numbers measured by bench/universality_controls.py (bench/results/universality_controls.json).
UNTRAINED_SEEDS = (0, 1, 2)
FRESH_SEED = 10**6 + 7


@pytest.fixture(scope="module")
def controls():
    from mi_tutor import zoo
    from mi_tutor.vision.objects import render_objects

    torch.set_num_threads(1)
    names = SEED_NETS + [ARCH_NETS["plainnet"], "plainnet_count_s0"]
    try:
        nets = {n: zoo.load(n, device="cpu") for n in names}
    except FileNotFoundError as err:
        pytest.skip(f"zoo weights not shipped yet: {err}")
    for s in UNTRAINED_SEEDS:
        nets[f"untrained_s{s}"] = zoo.untrained(ARCH_NETS["plainnet"], seed=s)
    scenes = render_objects(400, seed=FRESH_SEED)
    feats = {n: collect(net, scenes.images, LAYERS, pool="mean") for n, net in nets.items()}
    return {"nets": nets, "scenes": scenes, "feats": feats,
            "seed_pairs": [(a, b) for i, a in enumerate(SEED_NETS) for b in SEED_NETS[i + 1:]],
            "untrained_pairs": [(f"untrained_s{i}", f"untrained_s{j}") for i, j in ((0, 1), (0, 2), (1, 2))]}


def _mean(values):
    values = list(values)
    return sum(values) / len(values)


def test_untrained_is_seeded_and_leaves_the_global_generator():
    state = torch.random.get_rng_state()
    a, b = zoo.untrained("plainnet_objects_s0", seed=1), zoo.untrained("plainnet_objects_s0", seed=1)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))
    c = zoo.untrained("plainnet_objects_s0", seed=2)
    assert any(not torch.equal(p, q) for p, q in zip(a.state_dict().values(), c.state_dict().values()))


def test_bag_of_words_counts_and_errors():
    tok = U.caption_tokens(["<bos> a red car <eos>", "<bos> a a car <eos>"], n_ctx=8)
    bow = U.bag_of_words(tok)
    ids = U.captions.WORD_TO_ID
    assert bow.shape == (2, len(U.CAPTION_VOCAB)) and bow[:, ids["<pad>"]].eq(0).all()
    assert bow[1, ids["a"]] == 2 and bow[0, ids["red"]] == 1 and bow[1, ids["red"]] == 0
    with pytest.raises(ValueError, match="vocab_size"):
        U.bag_of_words(tok, vocab_size=3)
    with pytest.raises(ShapeError, match="tokens"):
        U.bag_of_words(tok[0])


def test_first_layer_cka_across_tasks_is_what_untrained_nets_give(controls):
    f = controls["feats"]
    across_tasks = U.linear_cka(f[ARCH_NETS["plainnet"]]["layer1"], f["plainnet_count_s0"]["layer1"])
    untrained = [U.linear_cka(f[a]["layer1"], f[b]["layer1"]) for a, b in controls["untrained_pairs"]]
    seeds = [U.linear_cka(f[a]["layer1"], f[b]["layer1"]) for a, b in controls["seed_pairs"]]
    print(f"layer1 CKA: objects vs counting {across_tasks:.3f}; untrained pairs {[round(v, 3) for v in untrained]}; "
          f"seeds {[round(v, 3) for v in seeds]}")
    # measured (fresh scenes): 0.956; untrained 0.962-0.995 (mean 0.976); seeds 0.922-0.976 (mean 0.949)
    assert min(untrained) > 0.93 and across_tasks > 0.93
    assert across_tasks < max(untrained)            # no higher than two nets that learnt nothing
    assert _mean(seeds) < _mean(untrained) + 0.02    # the seeds do not beat the untrained pairs in layer1


def test_layer_identification_beats_untrained_nets(controls):
    f = controls["feats"]
    def ident(pairs):
        return U.identification_accuracy([U.correspondence_map(f[a], f[b]) for x, y in pairs for a, b in ((x, y), (y, x))])
    seeds, untrained = ident(controls["seed_pairs"]), ident(controls["untrained_pairs"])
    print(f"layer identification: seeds {seeds:.0%}, untrained pairs {untrained:.0%}")   # measured 100% and 67%
    assert seeds >= 0.9 and untrained <= 0.8


def test_matched_correlation_beats_untrained_pairs_in_every_layer(controls):
    f = controls["feats"]
    def by_layer(pairs):
        return {l: [U.match_units(f[a][l], f[b][l]).mean for a, b in pairs] for l in LAYERS}
    seeds, untrained = by_layer(controls["seed_pairs"]), by_layer(controls["untrained_pairs"])
    diff = {l: _mean(seeds[l]) - _mean(untrained[l]) for l in LAYERS}
    print("matched correlation, seeds:", {l: [round(v, 2) for v in seeds[l]] for l in LAYERS})
    print("untrained pairs:", {l: [round(v, 2) for v in untrained[l]] for l in LAYERS})
    print("seeds minus untrained:", {l: round(v, 3) for l, v in diff.items()})
    # measured (fresh scenes): seeds 0.78 0.74 0.68 0.74, untrained pairs 0.69 0.64 0.65 0.61 (0.57-0.79 over pairs);
    # differences +0.09 +0.10 +0.03 +0.14
    assert max(diff, key=diff.get) in ("layer2", "layer4") and diff["layer4"] > 0.08   # clearest at the end
    assert diff["layer3"] < 0.08                                                       # least in the middle
    assert max(untrained["layer1"]) >= min(seeds["layer1"])   # an untrained pair matches layer1 as well as seeds


def test_mutual_knn_of_two_untrained_nets_is_as_high_as_of_two_seeds(controls):
    f = controls["feats"]
    knn = lambda a, b: U.mutual_knn_alignment(f[a]["layer4"], f[b]["layer4"])  # noqa: E731
    seeds = [knn(a, b) for a, b in controls["seed_pairs"]]
    untrained = [knn(a, b) for a, b in controls["untrained_pairs"]]
    cross = [knn(f"untrained_s{s}", ARCH_NETS["plainnet"]) for s in UNTRAINED_SEEDS]
    print(f"mutual 10-NN layer4: seeds {[round(v, 3) for v in seeds]}, untrained pairs {[round(v, 3) for v in untrained]}, "
          f"trained vs untrained {[round(v, 3) for v in cross]}")
    # measured (fresh scenes): seeds 0.319-0.333, untrained pairs 0.31-0.44, trained vs untrained 0.03-0.05
    assert _mean(untrained) > _mean(seeds) - 0.05
    assert max(cross) < 0.08


@pytest.mark.slow
def test_least_squares_stitching_reaches_the_target_only_at_layer4(controls):
    from mi_tutor.vision.objects import render_objects

    nets, scenes = controls["nets"], controls["scenes"]
    fit = render_objects(128, seed=FRESH_SEED + 1).images
    held, y = scenes.images[:200], scenes.labels[:200]
    frac = {}
    for l in LAYERS:
        frac[l] = []
        for a, b in ((0, 1), (1, 2), (2, 0)):
            na, nb = nets[SEED_NETS[a]], nets[SEED_NETS[b]]
            s = U.StitchedNet(na, nb, l, l, 64)
            s.stitch = U.stitch_init_lstsq(na, nb, l, l, fit)
            frac[l].append(U.stitch_accuracy(s, held, y) / U.stitch_accuracy(nb, held, y))
    u = U.StitchedNet(nets["untrained_s0"], nets[SEED_NETS[1]], "layer3", "layer3", 64)
    u.stitch = U.stitch_init_lstsq(nets["untrained_s0"], nets[SEED_NETS[1]], "layer3", "layer3", fit)
    control = U.stitch_accuracy(u, held, y) / U.stitch_accuracy(nets[SEED_NETS[1]], held, y)
    print("least-squares stitch, fraction of the target's accuracy:", {l: [round(v, 2) for v in vs] for l, vs in frac.items()},
          f"untrained bottom at layer3 {control:.2f}")
    # measured (fresh scenes): layer1 0.13-0.61, layer2 0.33-0.49, layer3 0.65-0.82, layer4 0.91-1.03; untrained 0.15
    assert min(frac["layer4"]) >= 0.9
    assert max(frac["layer3"]) < 0.9 and max(frac["layer2"]) < 0.9 and _mean(frac["layer1"]) < 0.9
    assert min(frac["layer3"]) > control + 0.3


def test_census_finds_no_full_curve_family_and_does_not_separate_trained_from_untrained(controls):
    # Other stimuli than the lesson's (24 orientations, not 16): the verdict must not hang on the lesson's grid.
    nets = controls["nets"]
    census = U.family_census(nets, image_size=64, n_orientations=24)
    best = {n: min(r.curve_max_gap for r in census if r.net == n) for n in nets}
    edges = {n: next(r.edge_units for r in census if r.net == n) for n in nets}
    print("best curve-family gaps (degrees):", best, "first-layer edge units:", edges)
    trained = [g for n, g in best.items() if not n.startswith("untrained")]
    untrained = [g for n, g in best.items() if n.startswith("untrained")]
    assert min(best.values()) > 45                           # no full family anywhere
    assert min(trained) <= max(untrained) and min(untrained) <= max(trained)
    assert all(v > 0 for v in edges.values())                # orientation-tuned first-layer units in every net


def test_bag_of_words_aligns_with_images_as_well_as_the_caption_model(controls):
    from mi_tutor import zoo

    f, scenes = controls["feats"], controls["scenes"]
    tokens = U.caption_tokens(U.scene_captions(scenes))
    text = U.caption_features(zoo.load("caption_lm", device="cpu"), tokens)
    words = U.bag_of_words(tokens)
    lm = [U.mutual_knn_alignment(f[n]["layer4"], text) for n in SEED_NETS]
    bow = [U.mutual_knn_alignment(f[n]["layer4"], words) for n in SEED_NETS]
    print(f"layer4 alignment: caption model {[round(v, 3) for v in lm]}, bag of words {[round(v, 3) for v in bow]}")
    # measured (fresh scenes): 0.263 0.233 0.243 against 0.263 0.237 0.240
    assert all(abs(a - b) <= 0.03 for a, b in zip(lm, bow))
    assert min(bow) > 0.15                                   # far above chance (0.025): the words carry it
