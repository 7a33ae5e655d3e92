"""mi_tutor.editing beyond one edit: the scores of many edits, MEMIT, and lesson 11's editing claims measured
on facts the lesson does not edit (the lesson edits subjects 0 and 17; bench/rome_facts.py edits 32 others).

Thresholds are measured values of the shipped facts_4l (seed 0) with a stated margin; each says what it measured.
"""

from __future__ import annotations

import pytest
import torch

from mi_tutor import zoo
from mi_tutor.editing import (edit_fact, edit_facts, edit_measures, memit_update, new_object_for, rank_one_update,
                              score_distribution, update_rank)
from mi_tutor.tasks import facts
from mi_tutor.validation import ShapeError

FIT = [0, 1, 2, 3]  # fillers the edits are fitted on; 4-7 are held out


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return zoo.load("facts_4l", device="cpu")


@pytest.fixture(scope="module")
def covariance():
    return zoo.extras("facts_4l", device="cpu")["covariance"]


def _system(seed=0, d_mlp=10, d_model=4, n=3):
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(d_mlp, d_mlp, generator=g)
    C = A @ A.T / d_mlp + 0.1 * torch.eye(d_mlp)
    return (C, torch.randn(d_mlp, d_model, generator=g), torch.randn(n, d_mlp, generator=g),
            torch.randn(n, d_model, generator=g))


def test_memit_update_fits_every_key_and_has_rank_at_most_n():
    C, W, K, R = _system()
    W2 = memit_update(W, C, K, R, weight=1e-6, ridge=0.0)
    assert torch.allclose(K @ (W2 - W), R, atol=1e-3)
    assert update_rank(W, W2)[0] == 3
    loose = memit_update(W, C, K, R, weight=100.0, ridge=0.0)  # a heavy covariance weight fits the keys less
    assert (K @ (loose - W) - R).norm() > (K @ (W2 - W) - R).norm()


def test_memit_of_one_edit_with_no_weight_is_rome():
    C, W, K, R = _system(seed=1, n=1)
    value = K[0] @ W + R[0]
    assert torch.allclose(memit_update(W, C, K, R, weight=1e-7, ridge=0.0), rank_one_update(W, C, K[0], value, ridge=0.0),
                          atol=1e-4)


def test_memit_update_names_bad_shapes():
    C, W, K, R = _system()
    with pytest.raises(ShapeError, match="`residuals` has shape"):
        memit_update(W, C, K, R[:2])
    with pytest.raises(ShapeError, match="`keys` has shape"):
        memit_update(W, C, K[:, :4], R)


def test_edit_measures_of_an_unedited_model(model):
    scores = edit_measures(model, model, [(5, 0, new_object_for(facts.facts_world(), 5, 0))], fit_fillers=FIT)
    assert scores["efficacy"].tolist() == [0.0] and scores["held_out"].tolist() == [0.0]
    assert scores["specificity"].tolist() == [1.0] and scores["neighbours"].tolist() == [1.0]
    assert torch.isnan(edit_measures(model, model, [(5, 0, 40)])["held_out"]).all()  # fitted on every filler
    with pytest.raises(ValueError, match="`fillers` is"):
        edit_measures(model, model, [(5, 0, 40)], fit_fillers=[9])
    assert score_distribution(torch.tensor([1.0, 0.8])) == {"mean": 0.9, "worst": 0.8, "share_ge_0.9": 0.5, "n": 2}


def test_memit_rejects_bad_layers(model, covariance):
    with pytest.raises(ValueError, match="ascending"):
        edit_facts(model, [(5, 0, 40)], (1, 0), covariance)
    with pytest.raises(ValueError, match="`layer` is 7"):
        edit_facts(model, [(5, 0, 40)], (7,), covariance)


def test_truth_statements_differ_only_in_the_object():
    world = facts.facts_world()
    tokens, truth = facts.truth_statements(world, subjects=range(10), seed=3)
    assert tokens.shape == (80, 6) and truth.tolist() == [1, 0] * 40
    assert torch.equal(tokens[0::2, :5], tokens[1::2, :5])  # same filler, subject and phrase
    assert bool((tokens[0::2, 5] != tokens[1::2, 5]).all())
    assert torch.equal(tokens[0::2, 5], facts.fact_prompts(world, range(10)).answers)
    markers = facts.token_ids(facts.RUMOR_MARKERS)
    assert not bool(torch.isin(tokens, markers).any())


# ------------------------------------------------------------------ lesson 11's claims, on other facts
# The lesson edits subjects 0 and 17 and (section 6's last cell) 3, 19, 34, 50; these are others.
OTHER = (4, 11, 21, 28, 38, 44, 52, 62)


@pytest.fixture(scope="module")
def other_edits():
    world = facts.facts_world()
    return [(s, (s + 1) % 4, new_object_for(world, s, (s + 1) % 4, shift=1 + s % 5)) for s in OTHER]


def _stack(rows):
    return {k: torch.cat([r[k] for r in rows]) for k in rows[0]}


@pytest.mark.slow
def test_rome_recipe_over_other_facts(model, covariance, other_edits):
    rows = [edit_measures(model, edit_fact(model, s, r, new, 0, 3, covariance[0], fillers=FIT).model, [(s, r, new)],
                          fit_fillers=FIT) for s, r, new in other_edits]
    scores = _stack(rows)
    # measured: efficacy, held out, neighbours, specificity 1.0; same subject 0.917
    # "on most facts the edit takes everywhere, the neighbours keep every fact, the same subject mostly survives"
    assert score_distribution(scores["efficacy"])["share_ge_0.9"] >= 0.75
    assert float(scores["held_out"].mean()) >= 0.8
    assert float(scores["neighbours"].mean()) >= 0.99 and float(scores["specificity"].mean()) >= 0.99
    assert float(scores["same_subject"].mean()) >= 0.85


@pytest.mark.slow
def test_the_worst_fact_can_stay_unedited(model, covariance):
    # bench/rome_facts.py's worst fact under the chosen recipe: (35, job) -> token 55, efficacy 0.0
    e = edit_fact(model, 35, 1, 55, 0, 3, covariance[0], fillers=FIT)
    assert float(edit_measures(model, e.model, [(35, 1, 55)], fit_fillers=FIT)["efficacy"][0]) <= 0.25


@pytest.mark.slow
def test_memit_and_sequential_rome_over_other_facts(model, covariance, other_edits):
    memit = edit_measures(model, edit_facts(model, other_edits, (0,), covariance, fillers=FIT).model, other_edits,
                          fit_fillers=FIT)
    # "MEMIT writes all the facts at once with about the same generalisation and specificity"
    assert float(memit["efficacy"].mean()) >= 0.8 and float(memit["held_out"].mean()) >= 0.8
    assert float(memit["specificity"][0]) >= 0.98
    sequential = model
    for s, r, new in other_edits:
        sequential = edit_fact(sequential, s, r, new, 0, 3, covariance[0], fillers=FIT, check_known=False).model
    # "applied one after another, ROME's rank-one updates still leave the other subjects alone"
    seq = edit_measures(model, sequential, other_edits, fit_fillers=FIT)
    assert float(seq["specificity"][0]) >= 0.98
    # "about as well": measured held out 1.0 (sequential ROME) and 0.969 (MEMIT), same subject 0.875 and 0.917
    for k in ("efficacy", "held_out", "same_subject"):
        assert float(memit[k].mean()) >= float(seq[k].mean()) - 0.1
