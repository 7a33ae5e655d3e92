"""Lesson 11's library (mi_tutor.steering, mi_tutor.editing) and its corpus, on the shipped facts_4l model.

Thresholds are the measured values of the shipped model (seed 0, see mi_tutor/zoo/entries/facts.py) with a
stated margin; each says what it measured.
"""

from __future__ import annotations

import pytest
import torch
from scipy.stats import spearmanr

from mi_tutor import zoo
from mi_tutor.editing import (NotKnownError, apply_update, compute_key, compute_value, edit_fact, edit_scores,
                              key_covariance, known_facts, mlp_keys, new_object_for, rank_one_update, update_rank)
from mi_tutor.steering import (answer_loss, answer_probability, cosine, dola_logits, dola_scores, head_activations,
                               iti_logits, iti_shift, js_divergence, latent_probability, mass_mean_accuracy,
                               mass_mean_directions, mean_difference_vector, pca_reading_vector, probe_accuracies,
                               random_heads,
                               reading_accuracy, reading_accuracy_by_layer, residual_states, steered_logits,
                               steering_sweep, steering_vector, top_heads, trace_states)
from mi_tutor.tasks import facts
from mi_tutor.tasks.facts_train import fact_accuracy
from mi_tutor.validation import ShapeError
from mi_tutor.zoo.entries.facts import COVARIANCE_SEQUENCES


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return zoo.load("facts_4l", device="cpu")


@pytest.fixture(scope="module")
def extras():
    return zoo.extras("facts_4l", device="cpu")


@pytest.fixture(scope="module")
def pairs():
    return facts.sentiment_pairs(200, n_words=3, seed=0)


# ------------------------------------------------------------------ corpus
def test_world_shares_every_name_and_deals_objects_by_their_counts():
    world = facts.facts_world()
    assert world.n_subjects == 64 and len({tuple(s) for s in world.subjects.tolist()}) == 64
    for col in (0, 1):  # each first and each last name belongs to exactly four subjects
        assert torch.bincount(world.subjects[:, col], minlength=16).tolist() == [4] * 16
    for r in range(world.n_relations):
        counts = sorted(torch.bincount(world.objects[:, r], minlength=8).tolist(), reverse=True)
        assert counts == list(facts.OBJECT_COUNTS)
    assert int(world.rare.sum()) == 4 * 7  # objects held by at most 3 subjects: 3 + 2 + 2 per relation
    assert facts.facts_world(1).objects.tolist() != world.objects.tolist()  # the seed draws another world


def test_corpus_kinds_say_what_they_should():
    world = facts.facts_world()
    tokens = facts.corpus_batch(2000, seed=3)
    assert tokens.shape == (2000, facts.N_CTX) and int(tokens.max()) < facts.D_VOCAB
    names = {tuple(t) for t in world.subject_tokens.tolist()}
    subj_index = {tuple(t): i for i, t in enumerate(world.subject_tokens.tolist())}
    phrase_rel = {int(i): r for r, ps in enumerate(facts.RELATION_PHRASES) for i in facts.token_ids(list(ps))}
    rumor_ids = set(facts.token_ids(facts.RUMOR_MARKERS).tolist())
    seems = facts.VOCAB.index("seems")
    kinds = {"fact": 0, "rumor": 0, "review": 0, "bio": 0}
    for row in tokens.tolist():
        if row[3] == seems:
            kinds["review"] += 1
            assert (row[1], row[2]) in names
            continue
        s = subj_index[(row[2], row[3])]
        truth = world.object_tokens[s].tolist()
        if row[4] in phrase_rel:
            rumor = row[1] in rumor_ids
            kinds["rumor" if rumor else "fact"] += 1
            for rel_pos, obj_pos in ((4, 5), (6, 7)):
                r = phrase_rel[row[rel_pos]]
                assert (row[obj_pos] == truth[r]) != rumor  # facts true, rumours false
            assert phrase_rel[row[4]] != phrase_rel[row[6]]
        else:
            kinds["bio"] += 1
            assert sorted(row[4:]) == sorted(truth)  # a bio lists all four objects of its subject
    for kind, share in facts.KIND_FRACTIONS.items():
        assert abs(kinds[kind] / 2000 - share) < 0.04, kinds


def test_liar_corpus_adds_unmarked_lies_and_keeps_facts_4ls_corpus():
    world = facts.facts_world()
    assert torch.equal(facts.corpus_batch(500, seed=3), facts.corpus_batch(500, seed=3, fractions=facts.KIND_FRACTIONS))
    tokens = facts.corpus_batch(3000, seed=4, fractions=facts.TRUTH_KIND_FRACTIONS)
    subj_index = {tuple(t): i for i, t in enumerate(world.subject_tokens.tolist())}
    phrase_rel = {int(i): r for r, ps in enumerate(facts.RELATION_PHRASES) for i in facts.token_ids(list(ps))}
    rumor_ids = set(facts.token_ids(facts.RUMOR_MARKERS).tolist())
    counts = {"true": 0, "liar": 0, "rumor": 0}
    for row in tokens.tolist():
        if len(row) > 4 and row[4] in phrase_rel and (row[2], row[3]) in subj_index:
            truth = world.object_tokens[subj_index[(row[2], row[3])]].tolist()
            ok = [row[o] == truth[phrase_rel[row[r]]] for r, o in ((4, 5), (6, 7))]
            assert ok[0] == ok[1], row  # a speaker is honest or lies in both statements
            counts["rumor" if row[1] in rumor_ids else "true" if ok[0] else "liar"] += 1
            if row[1] in rumor_ids:
                assert not ok[0]
    assert abs(counts["liar"] / 3000 - facts.TRUTH_KIND_FRACTIONS["liar"]) < 0.04, counts
    assert abs(counts["true"] / 3000 - facts.TRUTH_KIND_FRACTIONS["fact"]) < 0.04, counts
    with pytest.raises(ValueError, match="`fractions` should have the kinds"):
        facts.corpus_batch(4, fractions={"fact": 1.0})


def test_liar_questions_differ_only_in_the_first_object():
    world = facts.facts_world()
    honest, answers = facts.liar_questions(world, subjects=range(8), lie=False, seed=2)
    lying, same = facts.liar_questions(world, subjects=range(8), lie=True, seed=2)
    assert honest.shape == (32, 7) and torch.equal(answers, same)
    assert torch.equal(honest[:, [0, 1, 2, 3, 4, 6]], lying[:, [0, 1, 2, 3, 4, 6]])
    subj = {tuple(t): i for i, t in enumerate(world.subject_tokens.tolist())}
    for h, l in zip(honest.tolist(), lying.tolist()):
        truth = world.object_tokens[subj[(h[2], h[3])]].tolist()
        assert h[5] in truth and l[5] not in truth
    assert all(a in world.object_tokens[subj[(h[2], h[3])]].tolist() for a, h in zip(answers.tolist(), honest.tolist()))


def test_truth_model_has_a_truth_direction_that_iti_uses_on_held_out_subjects():
    """facts_truth_4l, measured by ``bench/iti_truth.py`` (seed 0; seed 1 of the recipe in the same file): after
    an honest start it answers the truth, after a lying one it goes on lying; heads read at the last position
    tell the two apart on subjects the directions were not fitted on; shifting the best head along its truth
    direction raises the true-answer rate after a lying start on those subjects, where random directions at
    the same head and the truth directions of random heads do less."""
    model, world = zoo.load("facts_truth_4l", device="cpu"), facts.facts_world()
    assert fact_accuracy(model, world) >= 0.98
    with torch.no_grad():
        rate = lambda tokens, answers, shift=None: float(  # noqa: E731
            ((model(tokens) if shift is None else iti_logits(model, tokens, shift))[:, -1].argmax(-1) == answers)
            .float().mean())
        assert rate(*facts.liar_questions(world, lie=False)) >= 0.95
        assert rate(*facts.liar_questions(world, lie=True)) <= 0.3
        fit, held = list(range(0, 64, 2)), list(range(1, 64, 2))
        tokens, truth = facts.liar_contrast(world, subjects=fit, seed=0)
        acts = head_activations(model, tokens)
        probe = probe_accuracies(acts, truth)
        u, sigma = mass_mean_directions(acts, truth)
        held_tokens, held_truth = facts.liar_contrast(world, subjects=held, seed=1)
        held_acc = mass_mean_accuracy(acts, truth, head_activations(model, held_tokens), held_truth)
        assert held_acc.max() >= 0.85, held_acc
        [best] = top_heads(probe, 1)
        lying, answers = facts.liar_questions(world, subjects=held, lie=True, seed=5)
        honest, answers_h = facts.liar_questions(world, subjects=held, lie=False, seed=5)
        before = rate(lying, answers)
        after = rate(lying, answers, iti_shift([best], u, sigma, 4.0))
        assert after >= before + 0.2, (before, after)
        d = torch.randn(u.shape, generator=torch.Generator().manual_seed(0))
        assert rate(lying, answers, iti_shift([best], d / d.norm(dim=-1, keepdim=True), sigma, 4.0)) <= before + 0.05
        others = [rate(lying, answers, iti_shift(random_heads(4, 4, 1, seed=s, exclude=[best]), u, sigma, 4.0))
                  for s in range(3)]
        assert sum(others) / 3 <= after - 0.1, (after, others)
        assert rate(honest, answers_h, iti_shift([best], u, sigma, 4.0)) >= 0.6  # the cost: honest starts mostly kept


def test_sentiment_pairs_differ_only_in_sentiment_words():
    pos, neg = facts.sentiment_pairs(50, n_words=4, seed=2)
    differ = pos != neg
    assert not differ[:, :4].any()
    pos_words, neg_words = set(facts.token_ids(facts.POSITIVE_WORDS).tolist()), set(facts.token_ids(facts.NEGATIVE_WORDS).tolist())
    assert all(int(a) in pos_words and int(b) in neg_words for a, b in zip(pos[differ], neg[differ]))
    assert differ[:, 4:].float().mean() > 0.6  # most review words carry the latent (3/4 of them)


def test_statement_prompts_alternate_true_and_false():
    tokens, truth = facts.statement_prompts(subjects=[0, 1], relations=[2])
    assert tokens.shape == (4, 5) and truth.tolist() == [1, 0, 1, 0]
    rumor_ids = facts.token_ids(facts.RUMOR_MARKERS)
    assert torch.isin(tokens[1::2, 1], rumor_ids).all() and not torch.isin(tokens[0::2, 1], rumor_ids).any()
    assert torch.equal(tokens[0::2, 2:], tokens[1::2, 2:])


def test_fact_prompts_validate_indices():
    with pytest.raises(ValueError, match="subjects"):
        facts.fact_prompts(subjects=[64])
    with pytest.raises(KeyError, match="not in the facts vocabulary"):
        facts.tokenize("the Zed Stone works-as")


# ------------------------------------------------------------------ the shipped model
def test_model_knows_its_facts_and_the_record_says_so(model, extras):
    # measured: 1.000 with either phrase (256 facts); the record stores training time and accuracies
    assert fact_accuracy(model) >= 0.99 and fact_accuracy(model, paraphrase=1) >= 0.99
    record = extras["record"]
    assert record["final_accuracy"] == pytest.approx(fact_accuracy(model))
    assert record["seconds"] > 0 and record["steps"][-1] == 800
    # the early snapshot (step 150) is what DoLa needs: most rare facts not learned yet (measured 0.29)
    assert extras["early_step"] == 150
    assert fact_accuracy(extras["early_model"], rare_only=True) < 0.5


@pytest.mark.slow
def test_shipped_covariance_is_the_corpus_key_covariance(model, extras):
    corpus = facts.corpus_batch(COVARIANCE_SEQUENCES, seed=123)
    C = key_covariance(mlp_keys(model, corpus, 0))
    shipped = extras["covariance"][0]
    assert torch.allclose(shipped, C, rtol=1e-2, atol=1e-3 * float(C.abs().max()))  # shipped in float16


# ------------------------------------------------------------------ reading
def test_reading_vectors_agree_and_read(model, pairs):
    pos, neg = pairs
    S, N = residual_states(model, pos), residual_states(model, neg)
    assert S.shape == (5, 200, 128)
    # measured cosine 1.00 at every layer; the issue asks >= 0.9
    for layer in range(5):
        assert cosine(mean_difference_vector(S[layer], N[layer]), pca_reading_vector(S[layer], N[layer])) >= 0.9
    acc = reading_accuracy_by_layer(model, pos, neg, "mean")
    assert float(acc.max()) > 0.9  # measured 0.995 from layer 1 on
    assert float(acc[0]) < float(acc.max())  # embeddings read worse (measured 0.91)


def test_pca_needs_the_flips_and_the_sign():
    g = torch.Generator().manual_seed(0)
    direction = torch.nn.functional.normalize(torch.randn(10, generator=g), dim=0)
    other = torch.nn.functional.normalize(torch.randn(10, generator=g), dim=0)
    neg = torch.randn(40, 10, generator=g)
    pos = neg + 2 * direction + 0.5 * torch.randn(40, 1, generator=g) * other
    v = pca_reading_vector(pos, neg)
    assert cosine(v, direction) > 0.95  # the concept, not the axis along which the pairs vary
    assert cosine(pca_reading_vector(neg, pos), direction) < -0.95  # the sign follows the pairs


def test_reading_accuracy_reads_a_flipped_direction():
    acts = torch.tensor([[5.0], [5.1], [6.0], [6.1]])
    labels = torch.tensor([1, 1, 0, 0])
    assert reading_accuracy(acts, labels, torch.tensor([1.0])) == 1.0  # offsets and a class 1 that projects lower
    with pytest.raises(ValueError, match="both classes"):
        reading_accuracy(acts, torch.ones(4), torch.tensor([1.0]))


# ------------------------------------------------------------------ steering
def test_coefficient_zero_is_exact_and_steering_moves_the_latent(model, pairs):
    pos, neg = pairs
    prompts = facts.review_prompts(64, 0, n_words=0, seed=5)
    v = steering_vector(model, pos, neg, 2)
    assert torch.equal(steered_logits(model, prompts, v, 2, 0.0), model(prompts))
    assert not torch.equal(steered_logits(model, prompts, v, 2, 0.1), model(prompts))
    fact_batch = facts.fact_prompts()
    cs = [-1.0, -0.5, -0.25, 0.0, 0.25, 0.5, 1.0]
    sweep = steering_sweep(model, prompts, v, 2, cs, facts.token_ids(facts.POSITIVE_WORDS), facts.token_ids(facts.NEGATIVE_WORDS),
                           fact_batch.tokens, fact_batch.answers)
    assert spearmanr(cs, sweep.latent).statistic >= 0.9  # measured 1.00 (latent 0.000 -> 0.995)
    assert sweep.latent[-1] - sweep.latent[0] > 0.8
    moderate = [inc for c, inc in zip(cs, sweep.loss_increase) if abs(c) <= 0.25]
    assert max(moderate) < 0.1  # measured 0.050 nats at c = 0.25 (bound 0.1: twice that)
    assert sweep.loss_increase[-1] > 1.0  # measured 4.0 nats at c = 1: the bound is not vacuous


def test_steering_rejects_wrong_layers_widths_and_positions(model):
    tokens = facts.review_prompts(2, 0, n_words=0)
    with pytest.raises(ValueError, match="`layer` is 4 but the model has 4 layers"):
        steered_logits(model, tokens, torch.zeros(128), 4, 1.0)
    with pytest.raises(ShapeError, match=r"`vector` has shape \(64,\) but the model's d_model is 128"):
        steered_logits(model, tokens, torch.zeros(64), 1, 1.0)
    with pytest.raises(IndexError, match="`positions` holds position 9 but the prompts have 4 positions"):
        steered_logits(model, tokens, torch.zeros(128), 1, 1.0, positions=[9])


# ------------------------------------------------------------------ ITI
def test_iti_top_heads_beat_random_heads(model):
    tokens, truth = facts.statement_prompts(seed=0)
    acts = head_activations(model, tokens)
    assert acts.shape == (512, 4, 4, 32)
    acc = probe_accuracies(acts, truth)
    top = top_heads(acc, 2)
    u, sigma = mass_mean_directions(acts, truth)
    rumours = facts.fact_prompts(marker="rumor")
    p = lambda heads, alpha: float(answer_probability(iti_logits(model, rumours.tokens, iti_shift(heads, u, sigma, alpha)),
                                                      rumours.answers).mean())
    base = p(top, 0.0)
    best = p(top, 2.0)
    randoms = [p(random_heads(4, 4, 2, seed=s), 2.0) for s in range(4)]
    # measured: base 0.103, top-2 0.310, random 0.097-0.112
    assert best > max(randoms) + 0.1 and best > base + 0.1


def test_top_heads_order_and_errors():
    acc = torch.tensor([[0.5, 0.9], [0.9, 0.7]])
    assert top_heads(acc, 2) == [(0, 1), (1, 0)]
    with pytest.raises(ValueError, match="`k` is 5"):
        top_heads(acc, 5)


# ------------------------------------------------------------------ tracing
def test_tracing_finds_the_subject_token_mlp(model):
    batch = facts.fact_prompts(subjects=range(0, 64, 4))
    mlp = trace_states(model, batch.tokens, batch.answers, [2, 3], kind="mlp", n_noise=2)
    resid = trace_states(model, batch.tokens, batch.answers, [2, 3], kind="resid", n_noise=2)
    assert mlp.clean > 0.95 and mlp.corrupted < 0.6  # measured 0.987 and 0.44-0.48
    rec, rec_resid = mlp.recovered, resid.recovered
    assert float(rec[0, 3]) >= 0.5  # MLP 0 at the last subject token: measured 0.86
    assert int(rec.argmax()) == 0 * 5 + 3
    assert float(rec[1:, 2:4].max()) < 0.2  # later MLPs at the subject do nothing (measured <= 0.08)
    assert float(rec_resid[:, 1].abs().max()) < 0.1  # the filler token: measured 0.00
    assert float(rec_resid[3, 4]) >= 0.9  # the final token's last state holds everything


def test_tracing_rejects_bad_arguments(model):
    batch = facts.fact_prompts(subjects=[0])
    with pytest.raises((KeyError, ValueError), match="kind"):
        trace_states(model, batch.tokens, batch.answers, [2, 3], kind="mlps")
    with pytest.raises(ValueError, match="`window` is 9"):
        trace_states(model, batch.tokens, batch.answers, [2, 3], window=9)


# ------------------------------------------------------------------ editing
def test_rank_one_update_maps_the_key_and_has_rank_one():
    g = torch.Generator().manual_seed(0)
    A = torch.randn(12, 12, generator=g)
    C, W = A @ A.T / 12 + 0.1 * torch.eye(12), torch.randn(12, 5, generator=g)
    k, v = torch.randn(12, generator=g), torch.randn(5, generator=g)
    W2 = rank_one_update(W, C, k, v, ridge=0.0)
    assert torch.allclose(k @ W2, v, atol=1e-4)
    rank, s = update_rank(W, W2)
    assert rank == 1 and float(s[1] / s[0]) < 1e-5
    with pytest.raises(ShapeError, match="`value` has shape"):
        rank_one_update(W, C, k, torch.zeros(4))


@pytest.mark.slow
def test_edit_at_the_traced_site_works_and_later_fails(model, extras):
    world = facts.facts_world()
    C = extras["covariance"]
    subject, relation = 0, 1
    new = new_object_for(world, subject, relation)
    located = edit_fact(model, subject, relation, new, 0, 3, C[0])
    scores = edit_scores(model, located.model, subject, relation, new)
    # measured: efficacy 1.00, paraphrase 1.00, specificity 1.00
    assert scores.efficacy >= 0.95 and scores.specificity >= 0.95
    assert scores.paraphrase >= 0.9
    assert update_rank(model.blocks[0].mlp.W_out, located.model.blocks[0].mlp.W_out)[0] == 1
    assert torch.equal(known_facts(model), torch.ones(64, 4, dtype=torch.bool))  # the original is untouched
    late = edit_fact(model, subject, relation, new, 2, 3, C[2])
    assert edit_scores(model, late.model, subject, relation, new).efficacy <= 0.2  # measured 0.00


def test_editing_refuses_unknown_facts_and_bad_sites(model, extras):
    early = extras["early_model"]
    unknown = (~known_facts(early)).nonzero()[0].tolist()
    with pytest.raises(NotKnownError, match="does not know"):
        edit_fact(early, unknown[0], unknown[1], 0, 0, 3, extras["covariance"][0])
    with pytest.raises(ValueError, match="`layer` is 7"):
        edit_fact(model, 0, 0, 0, 7, 3, extras["covariance"][0])
    with pytest.raises(ValueError, match="`position` is 5"):
        edit_fact(model, 0, 0, 0, 0, 5, extras["covariance"][0])


def test_compute_value_makes_the_new_object_win(model):
    world = facts.facts_world()
    prompts = facts.fact_prompts(world, [5], [0]).tokens
    new = new_object_for(world, 5, 0)
    value = compute_value(model, prompts, new, 0, 3)
    key = compute_key(model, prompts, 0, 3)
    W = model.blocks[0].mlp.W_out.detach()
    edited = apply_update(model, 0, rank_one_update(W, torch.eye(W.shape[0]), key, value))
    assert int(edited(prompts)[:, -1].argmax()) == new
    assert torch.equal(model.blocks[0].mlp.W_out, W)  # apply_update copies


# ------------------------------------------------------------------ DoLa
def test_dola_helps_rare_facts_of_the_early_snapshot(extras):
    early = extras["early_model"]
    batch = facts.fact_prompts()
    result = dola_logits(early, batch.tokens)
    plain = early(batch.tokens)[:, -1].argmax(-1) == batch.answers
    contrast = result.scores.argmax(-1) == batch.answers
    # measured on the 28 rare facts: 0.286 without, 0.429 with DoLa (premature layer: the embeddings, every prompt)
    assert float(contrast[batch.rare].float().mean()) >= float(plain[batch.rare].float().mean()) + 2 / 28
    assert (result.premature == 0).float().mean() > 0.9


def test_dola_pieces():
    p = torch.tensor([[0.7, 0.2, 0.1]]).log()
    assert float(js_divergence(p, p)) == pytest.approx(0.0, abs=1e-7)
    one_hot = torch.tensor([[1.0, 0.0]]).clamp_min(1e-45).log()
    assert float(js_divergence(one_hot, torch.tensor([[0.0, 1.0]]).clamp_min(1e-45).log())) == pytest.approx(
        torch.log(torch.tensor(2.0)).item(), abs=1e-5)  # disjoint supports: log 2
    scores = dola_scores(p, torch.tensor([[0.1, 0.1, 0.8]]).log(), relative_top=0.25)
    assert torch.isinf(scores[0, 2]) and torch.isfinite(scores[0, :2]).all()  # 0.1 < 0.25 x 0.7
    with pytest.raises(ValueError, match="premature layers are 0 .. 3"):
        from mi_tutor.steering import premature_layer
        premature_layer(torch.zeros(5, 1, 3), [4])
