"""The IOI task generator, its training, and the shipped ioi_* models' numbers (lesson 9).

Thresholds on the shipped models come from their measured values (in the comments, measured on
the batch of :func:`lesson_batch`: template 0, order BAB, 48 prompts, seed 0) with the margin stated.
"""

from __future__ import annotations

import math

import pytest
import torch

from mi_tutor import patching as P
from mi_tutor import zoo
from mi_tutor.tasks import (CLASSIC_D_VOCAB, D_VOCAB, N_CTX, NAMES, NEW_NAMES, ORDERS, TEMPLATES, TEST_TEMPLATES,
                            TRAIN_NAMES, TRAIN_TEMPLATES, VOCAB, decode, ioi_batch, is_held_out_pair, name_token_ids,
                            tokenize)
from mi_tutor.tasks.ioi_train import IOITrainConfig, ioi_accuracy, ioi_model_config, train_ioi
from mi_tutor.transformer import HookedTransformer


# ------------------------------------------------------------------ the task
def test_vocabulary_and_templates():
    assert len(TEMPLATES) >= 10 and len(set(TEMPLATES)) == len(TEMPLATES)
    for t in TEMPLATES:
        words = t.split()
        assert len(words) == N_CTX - 1 and [w for w in words if w.startswith("{")] == ["{0}", "{1}", "{2}"]
    assert len(set(VOCAB)) == len(VOCAB) == D_VOCAB
    assert all(n in VOCAB for n in NAMES) and len(NAMES) >= 10
    text = "When Mary and John went to the store, John gave a drink to"
    assert decode(tokenize(text)) == "<bos> " + text
    with pytest.raises(KeyError, match="Zebedee"):
        tokenize("When Zebedee and John went")


@pytest.mark.parametrize("order", ORDERS)
def test_prompts_have_one_io_and_two_subjects(order):
    b = ioi_batch(64, seed=3, order=order)
    rows = torch.arange(64)
    assert b.tokens.shape == (64, N_CTX)
    assert (b.io != b.s).all()
    assert (b.tokens[rows, b.pos["IO"]] == b.io).all()
    assert (b.tokens[rows, b.pos["S1"]] == b.s).all() and (b.tokens[rows, b.pos["S2"]] == b.s).all()
    assert (b.pos["S1"] < b.pos["S2"]).all() and (b.pos["END"] == N_CTX - 1).all()
    names = name_token_ids()
    is_name = torch.isin(b.tokens, names)
    assert (is_name.sum(1) == 3).all()  # fillers are never names: the answer is never a filler token
    io_count = (b.tokens == b.io[:, None]).sum(1)
    assert (io_count == 1).all() and ((b.tokens == b.s[:, None]).sum(1) == 2).all()
    slot = {"ABB": "S1", "BAB": "S1", "BBA": "S1"}[order]
    if order == "ABB":
        assert (b.pos["IO"] < b.pos[slot]).all()
    if order == "BBA":
        assert (b.pos["IO"] > b.pos["S2"]).all()
    assert len(b.text()) == 64 and "<bos>" not in b.text()[0]


def test_draws_are_seeded_and_templates_vary():
    a, b = ioi_batch(200, seed=1), ioi_batch(200, seed=1)
    assert torch.equal(a.tokens, b.tokens)
    assert not torch.equal(a.tokens, ioi_batch(200, seed=2).tokens)
    assert len(a.templates.unique()) == 12  # the classic split: the first 12 templates
    assert set(a.pos["IO"].tolist()) != set(a.pos["S1"].tolist()) or len(set(a.pos["IO"].tolist())) > 1


def test_corrupted_partners_keep_positions():
    b = ioi_batch(50, seed=4)
    rows = torch.arange(50)
    for kind in ("flip", "abc"):
        c = b.corrupt(kind)
        assert c.tokens.shape == b.tokens.shape and c.pos == b.pos and c.kind == kind
        changed = (c.tokens != b.tokens)
        assert (changed.sum(1) == 1).all() and changed[rows, b.pos["S2"]].all()  # only S2 changes
    flip = b.corrupt("flip")
    assert (flip.tokens[rows, b.pos["S2"]] == b.io).all() and torch.equal(flip.answers(), b.s)
    abc = b.corrupt("abc", seed=3)
    third = abc.tokens[rows, b.pos["S2"]]
    assert ((third != b.io) & (third != b.s)).all()
    with pytest.raises(ValueError, match="no answer"):
        abc.answers()
    with pytest.raises(ValueError, match="clean"):
        flip.corrupt("abc")
    assert torch.equal(b.tokens, ioi_batch(50, seed=4).tokens)  # corrupt() leaves the clean batch alone


def test_resample_keeps_templates_and_name_slots():
    b = ioi_batch(40, seed=5)
    r = b.resample(seed=2)
    assert torch.equal(r.templates, b.templates)
    names = name_token_ids()
    assert torch.equal(torch.isin(r.tokens, names), torch.isin(b.tokens, names))  # slots stay slots
    assert not torch.equal(r.tokens, b.tokens)
    kept = b.resample(seed=2, keep_order=True)
    assert torch.equal(kept.pos["IO"], b.pos["IO"])


def test_bad_arguments_are_named():
    with pytest.raises(KeyError, match="order"):
        ioi_batch(4, order="AAB")
    with pytest.raises(ValueError, match="template"):
        ioi_batch(4, template=len(TEMPLATES))
    with pytest.raises(ValueError, match="`n`"):
        ioi_batch(0)
    with pytest.raises(KeyError, match="split"):
        ioi_batch(4, split="held_out")


def test_splits_hold_names_pairs_and_templates_out():
    assert len(NAMES) >= 40 and set(TRAIN_NAMES).isdisjoint(NEW_NAMES) and len(TEMPLATES) >= 20
    assert set(TRAIN_TEMPLATES).isdisjoint(TEST_TEMPLATES) and len(TRAIN_TEMPLATES) + len(TEST_TEMPLATES) == len(TEMPLATES)
    new = name_token_ids(NEW_NAMES)
    train = ioi_batch(3000, seed=1, split="train")
    test = ioi_batch(1000, seed=2, split="test")
    fresh = ioi_batch(1000, seed=3, split="new_names")
    assert set(train.templates.tolist()) == set(TRAIN_TEMPLATES) and set(test.templates.tolist()) == set(TEST_TEMPLATES)
    assert not torch.isin(train.tokens, new).any() and not torch.isin(test.tokens, new).any()
    assert not is_held_out_pair(train.io, train.s).any() and is_held_out_pair(test.io, test.s).all()
    assert (torch.isin(fresh.io, new) | torch.isin(fresh.s, new)).all()
    assert set(fresh.templates.tolist()) == set(TEST_TEMPLATES)
    # every split has every order, and its ABC partners and resamples stay in its names
    for b in (train, test):
        assert set(b.pos["IO"].tolist()) > set() and not torch.isin(b.corrupt("abc").tokens, new).any()
        assert not torch.isin(b.resample(seed=1).tokens, new).any()
    # the classic split is what the first models trained on: only its tokens
    assert ioi_batch(500, seed=4).tokens.max() < CLASSIC_D_VOCAB < D_VOCAB


@pytest.mark.parametrize("split", ["train", "test", "new_names"])
@pytest.mark.parametrize("order", ORDERS)
def test_every_split_and_order_is_a_valid_ioi_prompt(split, order):
    b = ioi_batch(200, seed=7, order=order, split=split)
    rows = torch.arange(200)
    assert (b.io != b.s).all() and (b.tokens[rows, b.pos["IO"]] == b.io).all()
    assert (b.tokens[rows, b.pos["S1"]] == b.s).all() and (b.tokens[rows, b.pos["S2"]] == b.s).all()
    assert (torch.isin(b.tokens, name_token_ids()).sum(1) == 3).all()
    before, after = {"ABB": ("IO", "S1"), "BAB": ("S1", "IO"), "BBA": ("S2", "IO")}[order]
    assert (b.pos[before] < b.pos[after]).all() and (b.pos["S1"] < b.pos["S2"]).all()


def test_training_improves_the_end_prediction():
    torch.manual_seed(0)
    model = HookedTransformer(ioi_model_config(n_layers=1, n_heads=1))
    held = ioi_batch(300, seed=9)
    before = ioi_accuracy(model, held)
    model, log = train_ioi(model, IOITrainConfig(steps=120, batch_size=64, lr=3e-3, warmup=10), progress=False,
                           device="cpu", eval_every=60)
    # from uniform over the vocabulary (log 105 = 4.65) to about uniform over the 20 classic names (log 20 = 3.00)
    assert log.losses[0] > 4.2 and log.losses[-1] < math.log(20) + 0.3
    assert ioi_accuracy(model, held) >= before


def test_noisy_fillers_change_only_fillers_and_draw_the_splits_words():
    from mi_tutor.tasks import template_word_ids
    from mi_tutor.tasks.ioi_train import noisy_fillers

    b = ioi_batch(200, seed=4, split="train")
    before = b.tokens.clone()
    all_swapped = noisy_fillers(b.tokens, 1.0, torch.Generator().manual_seed(1))
    assert torch.equal(b.tokens, before)  # the input is left alone
    keep = torch.isin(b.tokens, name_token_ids())
    keep[:, 0] = keep[:, -1] = True  # BOS, the names and END stay
    assert torch.equal(all_swapped[keep], b.tokens[keep])
    train_words, test_words = template_word_ids("train"), template_word_ids("test")
    assert torch.isin(all_swapped[~keep], train_words).all()
    unseen = test_words[~torch.isin(test_words, train_words)]  # words only the held-out templates use
    assert len(unseen) and not torch.isin(all_swapped, unseen).any()
    assert (all_swapped[~keep] != b.tokens[~keep]).float().mean() > 0.8  # a fraction of 1 redraws every filler
    assert torch.equal(noisy_fillers(b.tokens, 0.0, torch.Generator()), b.tokens)
    some = noisy_fillers(b.tokens, 0.3, torch.Generator().manual_seed(1))
    assert 0.15 < (some != b.tokens).float().sum() / (~keep).sum() < 0.35
    with pytest.raises(ValueError, match="fraction.*1.5"):
        noisy_fillers(b.tokens, 1.5, torch.Generator())
    with pytest.raises(KeyError, match="schedule.*linear"):
        train_ioi(HookedTransformer(ioi_model_config(1, 1)), IOITrainConfig(steps=1, schedule="linear"), progress=False)


# ------------------------------------------------------------------ the shipped models
@pytest.fixture(scope="module")
def models():
    torch.set_num_threads(1)
    return {n: zoo.load(n, device="cpu") for n in ("ioi_2l1h", "ioi_2l2h", "ioi_1l2h")}


@pytest.fixture(scope="module")
def lesson_batch():
    b = ioi_batch(48, seed=0, template=0, order="BAB")
    return b, b.corrupt("flip"), b.corrupt("abc")


def _ld(model, tokens, b):
    with torch.no_grad():
        return P.logit_diff(model(tokens), b.io, b.s).item()


def test_accuracy_and_logit_differences(models, lesson_batch):
    test = ioi_batch(1000, seed=123)
    acc = {n: ioi_accuracy(m, test) for n, m in models.items()}
    # measured: 2l1h 0.75, 2l2h 0.95, 1l2h 0.70 (margin 0.05)
    assert acc["ioi_2l1h"] >= 0.70 and acc["ioi_2l2h"] >= 0.90
    assert acc["ioi_1l2h"] <= 0.75 and acc["ioi_1l2h"] < min(acc["ioi_2l1h"], acc["ioi_2l2h"])
    b, flip, _ = lesson_batch
    for name, m in models.items():
        clean, corrupt = _ld(m, b.tokens, b), _ld(m, flip.tokens, b)
        assert clean > 2.0 and corrupt < -2.0, (name, clean, corrupt)  # measured: clean 3.7 .. 9.4, corrupt < -5


def test_normalized_metric_is_exactly_one_and_zero(models, lesson_batch):
    b, flip, _ = lesson_batch
    m = models["ioi_2l1h"]
    clean, corrupt = _ld(m, b.tokens, b), _ld(m, flip.tokens, b)
    with torch.no_grad():
        assert P.normalized_metric(P.logit_diff(m(b.tokens), b.io, b.s), clean, corrupt).item() == pytest.approx(1, abs=1e-6)
        assert P.normalized_metric(P.logit_diff(m(flip.tokens), b.io, b.s), clean, corrupt).item() == pytest.approx(0, abs=1e-6)


def _metric(m, b, flip):
    clean, corrupt = _ld(m, b.tokens, b), _ld(m, flip.tokens, b)
    return lambda logits: P.normalized_metric(P.logit_diff(logits, b.io, b.s), clean, corrupt)


@pytest.mark.parametrize("name", ["ioi_2l1h", "ioi_2l2h"])
def test_patching_map_locates_the_circuit(models, lesson_batch, name):
    b, flip, _ = lesson_batch
    m = models[name]
    attn = P.patch_residual(m, b.tokens, flip.tokens, _metric(m, b, flip), component="attn_out")
    s2, end = int(b.pos["S2"][0]), int(b.pos["END"][0])
    controls = [p for p in range(N_CTX) if p not in (s2, end)]
    worst = attn[:, controls].abs().max().item()
    # measured: 2l1h L0 at S2 0.33, last layer at END 0.36; 2l2h 0.135 and 0.27; controls <= 0.001.
    # Floors at about 2/3 of the measured values; the issue asks for >= 3x every control position.
    floor_s2, floor_end = {"ioi_2l1h": (0.22, 0.24), "ioi_2l2h": (0.09, 0.18)}[name]
    assert attn[0, s2] >= floor_s2 and attn[-1, end] >= floor_end
    assert attn[0, s2] >= 3 * worst and attn[-1, end] >= 3 * worst
    resid = P.patch_residual(m, b.tokens, flip.tokens, _metric(m, b, flip))
    assert resid[0, s2] == pytest.approx(1, abs=1e-4) and resid[0, controls].abs().max() < 1e-4


def test_path_patching_keys_and_values_not_query(models, lesson_batch):
    b, flip, _ = lesson_batch
    m = models["ioi_2l1h"]
    met = _metric(m, b, flip)
    s2, end = b.pos["S2"], b.pos["END"]
    k = P.path_patch(m, flip.tokens, b.tokens, met, (0, 0), [P.Receiver(1, 0, "k", s2)]).item()
    v = P.path_patch(m, flip.tokens, b.tokens, met, (0, 0), [P.Receiver(1, 0, "v", s2)]).item()
    q = P.path_patch(m, flip.tokens, b.tokens, met, (0, 0), [P.Receiver(1, 0, "q", end)]).item()
    # measured: k 0.10, v 0.26, q 0.00
    assert k >= 0.05 and v >= 0.15 and abs(q) <= 0.02


def test_found_circuit_is_faithful_and_random_ones_are_not(models, lesson_batch):
    b, _, abc = lesson_batch
    m = models["ioi_2l1h"]
    F = lambda logits: P.logit_diff(logits, b.io, b.s)  # noqa: E731
    s1, io, s2, end = (int(b.pos[r][0]) for r in ("S1", "IO", "S2", "END"))
    circuit = {(1, 0): [end], (0, 0): [end, s2, io, s1]}
    found = P.faithfulness(m, b.tokens, circuit, abc.tokens, F).faithfulness
    rand = [P.faithfulness(m, b.tokens, P.random_circuit(m, 5, seed=s, n_pos=N_CTX), abc.tokens, F).faithfulness
            for s in range(5)]
    # measured: found 1.03, random mean 0.43; the issue asks >= 0.8
    assert 0.8 <= found <= 1.3
    assert found > sum(rand) / len(rand) + 0.3


def test_scrubbing_accepts_the_correct_hypothesis_only(models, lesson_batch):
    b, _, _ = lesson_batch
    m = models["ioi_2l1h"]
    F = lambda logits: P.logit_diff(logits, b.io, b.s)  # noqa: E731
    s1, io, s2, end = (int(b.pos[r][0]) for r in ("S1", "IO", "S2", "END"))
    r = b.resample(seed=1).tokens
    correct = P.causal_scrub(m, b.tokens, r, F, {(0, 0): [s1, io, s2, end], (1, 0): [end]}).score
    wrong = P.causal_scrub(m, b.tokens, r, F, {(0, 0): [s1], (1, 0): [end]}).score
    # measured: correct 1.07, wrong -0.57
    assert correct >= 0.8 and correct > wrong + 0.8


def test_ablating_layer_zero_everywhere_removes_the_behaviour(models, lesson_batch):
    b, _, abc = lesson_batch
    m = models["ioi_2l1h"]
    clean = _ld(m, b.tokens, b)
    ld = P.logit_diff(P.ablate(m, b.tokens, "blocks.0.attn.hook_z", "mean", reference=abc.tokens), b.io, b.s).item()
    assert ld <= 0.1 * clean  # measured: -0.98 against 3.70 (the notes' criterion)


# ------------------------------------------------------------------ every order, held-out prompts (lesson 9, sections 1, 9, 10)
def _dla_end(model, b):
    """Direct contribution of each component to logit(IO) - logit(S) at END, by label."""
    from mi_tutor.circuits_transformer import decompose_resid
    with torch.no_grad():
        _, cache = model.run_with_cache(b.tokens)
        comps, labels = decompose_resid(model, cache)
        return dict(zip(labels, (comps[:, :, -1] * (model.W_U[:, b.io] - model.W_U[:, b.s]).T).sum(-1).mean(1).tolist()))


def test_classic_models_accuracy_per_order(models):
    acc = {n: {o: ioi_accuracy(m, ioi_batch(1000, seed=5000 + k, order=o)) for k, o in enumerate(ORDERS)}
           for n, m in models.items()}
    # lesson (seeds 123-125): 2l2h 0.95-0.97, 2l1h 0.71-0.82 (worst with the IO last), 1l2h 0.62-0.76 (margin 0.03)
    assert all(0.92 <= a <= 1.0 for a in acc["ioi_2l2h"].values())
    assert all(0.66 <= a <= 0.85 for a in acc["ioi_2l1h"].values()) and min(acc["ioi_2l1h"], key=acc["ioi_2l1h"].get) == "BBA"
    assert all(0.58 <= a <= 0.79 for a in acc["ioi_1l2h"].values())


def test_a_zero_before_the_corrupted_token_is_the_causal_mask(models):
    m = models["ioi_2l1h"]
    for t, order in ((3, "ABB"), (7, "BAB"), (9, "BBA")):
        b = ioi_batch(16, seed=40 + t, template=t, order=order)
        s2 = int(b.pos["S2"][0])
        for kind in ("flip", "abc"):
            c = b.corrupt(kind)
            attn = P.patch_residual(m, b.tokens, c.tokens, lambda x: P.logit_diff(x, b.io, b.s).mean(), component="attn_out")
            with torch.no_grad():
                low = P.logit_diff(m(c.tokens), b.io, b.s).mean()
            assert torch.allclose(attn[:, :s2], low.expand_as(attn[:, :s2]), atol=1e-5)  # exactly the corrupt run


def test_flipped_partners_of_bab_and_bba_are_the_same_sentences():
    for t in (1, 6, 15):
        assert torch.equal(ioi_batch(20, seed=t, template=t, order="BAB").corrupt("flip").tokens,
                           ioi_batch(20, seed=t, template=t, order="BBA").corrupt("flip").tokens)


@pytest.mark.slow
def test_2l1h_roles_change_with_the_order(models):
    m = models["ioi_2l1h"]
    helps, io_moves = {o: 0 for o in ORDERS}, 0
    for t in range(1, 12):  # the lesson uses template 0
        for order in ORDERS:
            b = ioi_batch(40, seed=600 + t, template=t, order=order)
            helps[order] += _dla_end(m, b)["L1H0"] > 0
            if order == "BBA":  # the IO comes after S2: layer 0 at the IO is no longer zero under ABC
                abc = b.corrupt("abc")
                with torch.no_grad():
                    c, low = _ld(m, b.tokens, b), _ld(m, abc.tokens, b)
                    io = P.patch(m, abc.tokens, b.tokens, "blocks.0.hook_attn_out", positions=[int(b.pos["IO"][0])])
                io_moves += abs((P.logit_diff(io, b.io, b.s).mean().item() - low) / (c - low)) >= 0.03
    # lesson: the layer-1 head pushes to the IO in ABB on most templates, in BAB on a minority (seed 300: 10 and 4 of 12)
    assert helps["ABB"] >= 8 and helps["BAB"] <= 5, helps
    assert io_moves >= 7, io_moves


@pytest.fixture(scope="module")
def m4():
    torch.set_num_threads(1)
    return zoo.load("ioi_2l4h", device="cpu")


def test_2l4h_accuracy_on_held_out_prompts(m4):
    acc = {(sp, o): ioi_accuracy(m4, ioi_batch(1000, seed=4000 + k, order=o, split=sp))
           for sp in ("train", "test", "new_names") for k, o in enumerate(ORDERS)}
    # lesson (seeds 900-902): train 0.97-0.99, test 0.75-0.84 (worst BBA), new names under half
    assert all(acc["train", o] >= 0.96 for o in ORDERS)
    assert all(0.70 <= acc["test", o] <= 0.90 for o in ORDERS)
    assert min(ORDERS, key=lambda o: acc["test", o]) == "BBA"
    assert all(acc["new_names", o] < 0.5 for o in ORDERS)


@pytest.mark.slow
@pytest.mark.parametrize("template", [8, 13, 16, 18])  # the lesson uses held-out template 2
def test_2l4h_circuit_on_other_held_out_templates(m4, template):
    for order in ORDERS:
        b = ioi_batch(48, seed=11, template=template, order=order, split="test")
        s2 = int(b.pos["S2"][0])
        flip, abc = b.corrupt("flip"), b.corrupt("abc")
        met = _metric(m4, b, flip)
        attn = P.patch_residual(m4, b.tokens, flip.tokens, met, component="attn_out")
        mlp = P.patch_residual(m4, b.tokens, flip.tokens, met, component="mlp_out")
        assert mlp[0, s2] >= 0.3 and attn[0, s2] <= 0.15  # S2 is marked by MLP0, not by layer-0 attention
        assert attn[1, -1] >= 0.5  # a layer-1 head at END reads it
        dla, clean = _dla_end(m4, b), _ld(m4, b.tokens, b)
        heads = [abs(v) for k, v in dla.items() if k.startswith("L")]
        assert dla["mlp1"] >= 0.6 * clean and dla["mlp1"] > max(heads)  # MLP1 writes the answer
        ablated = [P.logit_diff(P.ablate(m4, b.tokens, "blocks.1.attn.hook_z", "mean", reference=abc.tokens, heads=[h]),
                                b.io, b.s).mean().item() for h in range(4)]
        reader = 3 if order == "BBA" else 2
        assert min(range(4), key=ablated.__getitem__) == reader and ablated[reader] < 0.75 * clean, (order, ablated)
        if order == "BBA":
            assert ablated[2] >= 0.95 * clean  # with the IO after S2, L1H2 is not needed


# ------------------------------------------------------------------ ioi_2l4h_wide: a model that solves the held-out prompts
@pytest.fixture(scope="module")
def wide():
    torch.set_num_threads(1)
    return zoo.load("ioi_2l4h_wide", device="cpu")


def test_wide_model_solves_held_out_prompts_in_every_order(wide):
    acc = {(sp, o): ioi_accuracy(wide, ioi_batch(2000 if sp == "test" else 500, seed=31_000 + k, order=o, split=sp))
           for sp in ("train", "test", "new_names") for k, o in enumerate(ORDERS)}
    # measured (seeds 123456-8, 3000 each): test 0.968 / 0.972 / 0.973, train 1.0, new names 0.33-0.35
    assert all(acc["test", o] >= 0.96 for o in ORDERS), acc
    assert all(acc["train", o] >= 0.995 for o in ORDERS)
    assert all(acc["new_names", o] < 0.5 for o in ORDERS)  # an untrained name cannot be copied
    # names and templates held out separately (measured: pairs 0.983 / 0.986 / 0.998, templates 0.979 / 0.987 / 0.975)
    for split, templates in (("test", TRAIN_TEMPLATES), ("train", TEST_TEMPLATES)):
        for k, o in enumerate(ORDERS):
            sep = sum(ioi_accuracy(wide, ioi_batch(60, seed=33_000 + 10 * t + k, template=t, order=o, split=split))
                      for t in templates) / len(templates)
            assert sep >= 0.96, (split, o, sep)
    for t in TEST_TEMPLATES:  # every held-out template on its own (measured at least 0.908, template 18 BBA)
        assert all(ioi_accuracy(wide, ioi_batch(300, seed=32_000 + t, template=t, order=o, split="test")) >= 0.85
                   for o in ORDERS), t


def _wide_circuit(model, b):
    """Lesson 9's path patching (summed over the four layer-0 senders) and scrubbing scores on batch ``b``."""
    flip = b.corrupt("flip")
    with torch.no_grad():
        clean, low = (P.logit_diff(model(x.tokens), b.io, b.s).mean().item() for x in (b, flip))
    met = lambda lg: P.normalized_metric(P.logit_diff(lg, b.io, b.s).mean(), clean, low)  # noqa: E731
    paths = {x: sum(P.path_patch(model, flip.tokens, b.tokens, met, (0, h), [P.Receiver(1, r, x) for r in range(4)]).item()
                    for h in range(4)) for x in "qkv"}
    first, end = min(int(b.pos["S1"][0]), int(b.pos["IO"][0])), b.tokens.shape[1] - 1
    later = sorted({int(b.pos["IO"][0]), int(b.pos["S2"][0])} - {first})
    layer1 = {(1, h): [end] for h in range(4)}
    hypotheses = {"circuit": {**{(0, h): later + [end] for h in range(4)}, **layer1},
                  "no layer 1 at END": {(0, h): later + [end] for h in range(4)},
                  "no layer 0 at the later slots": {**{(0, h): [end] for h in range(4)}, **layer1}}
    partner = b.resample(seed=7, keep_order=True).tokens
    scrub = {k: P.causal_scrub(model, b.tokens, partner, lambda lg: P.logit_diff(lg, b.io, b.s).mean(), v).score
             for k, v in hypotheses.items()}
    return paths, scrub


@pytest.mark.parametrize("template", [8, 13, 16, 18])  # the lesson uses held-out template 2
def test_wide_model_circuit_holds_on_other_held_out_templates(wide, template):
    """Path patching finds layer 0 -> layer-1 values, scrubbing keeps the circuit and loses it without layer 1 at END."""
    for order in ORDERS:
        paths, scrub = _wide_circuit(wide, ioi_batch(48, seed=11, template=template, order=order, split="test"))
        # measured: v 0.35-0.84, k <= 0.18, q 0.00
        assert paths["v"] >= 0.3 and paths["v"] > 2 * paths["k"] and abs(paths["q"]) <= 0.02, (order, paths)
        # measured: circuit 0.94-1.39, without layer 1 at END <= 0.09, without layer 0 at the later slots
        # 0.32-0.56 (ABB, BAB) and <= -0.04 (BBA)
        assert scrub["circuit"] >= 0.9 and scrub["no layer 1 at END"] <= 0.15, (order, scrub)
        assert scrub["no layer 0 at the later slots"] <= scrub["circuit"] - 0.35, (order, scrub)
        if order == "BBA":
            assert scrub["no layer 0 at the later slots"] <= 0.1, scrub


@pytest.mark.parametrize("seed", [1, 2])
def test_wide_recipe_at_other_seeds_solves_less_but_has_the_same_circuit(seed):
    """Seed 0's 0.97 is not the recipe's: seeds 1 and 2 answer 0.87-0.92; the circuit's main parts hold in all three."""
    model = zoo.load(f"ioi_2l4h_wide_s{seed}", device="cpu")
    acc = [ioi_accuracy(model, ioi_batch(1000, seed=34_000 + k, order=o, split="test")) for k, o in enumerate(ORDERS)]
    assert all(0.84 <= a <= 0.95 for a in acc), acc  # measured (seeds 77000-2): 0.867-0.873 (s1), 0.892-0.918 (s2)
    for order in ORDERS:
        paths, scrub = _wide_circuit(model, ioi_batch(48, seed=12, template=13, order=order, split="test"))
        # measured over the 5 held-out templates: v 0.35-0.79, k <= 0.16, q <= 0.01; circuit 0.94-1.60, without
        # layer 1 at END <= 0.21, without layer 0 at the later slots <= -0.03 in BBA (0.21-0.91 in ABB and BAB)
        assert paths["v"] >= 0.3 and paths["v"] > 2 * paths["k"] and abs(paths["q"]) <= 0.02, (order, paths)
        assert scrub["circuit"] >= 0.9 and scrub["no layer 1 at END"] <= 0.3, (order, scrub)
        if order == "BBA":
            assert scrub["no layer 0 at the later slots"] <= 0.1, scrub
