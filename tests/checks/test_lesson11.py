"""Lesson 11's checks accept the reference implementations and reject typical mistakes with a message that
sends the student back to the right exercise."""

from __future__ import annotations

import pytest
import torch

from mi_tutor import zoo
from mi_tutor.checks import lesson11 as checks
from mi_tutor.checks.core import CheckFailure
from mi_tutor.editing import compute_key, rank_one_update
from mi_tutor.steering import js_divergence, mean_difference_vector, pca_reading_vector, reading_accuracy
from mi_tutor.steering.dola import dola_scores
from mi_tutor.tasks import facts


def _ref_shift(acts, labels, alpha):
    labels = labels.bool()
    d = acts[labels].mean(0) - acts[~labels].mean(0)
    u = d / d.norm()
    return alpha * (acts @ u).std() * u


def _ref_restore(clean, position):
    def hook(act, hook):
        act = act.clone()
        act[:, position] = clean[:, position]
        return act
    return hook


def _ref_add(resid, vector, coefficient, positions=None):
    out = resid.clone()
    out[:, slice(None) if positions is None else positions] += coefficient * vector
    return out


def test_references_pass(capsys):
    model = zoo.load("facts_4l", device="cpu")
    checks.check_mean_difference(mean_difference_vector)
    checks.check_pca_direction(pca_reading_vector)
    checks.check_reading_accuracy(reading_accuracy)
    checks.check_add_steering(_ref_add)
    checks.check_mass_mean_shift(_ref_shift)
    checks.check_restore_hook(_ref_restore)
    checks.check_mean_key(lambda m, p, l, pos: compute_key(m, p, l, pos), model,
                          [facts.fact_prompts(subjects=[1], relations=[0]).tokens], [(0, 3)])
    checks.check_mean_key(lambda m, p, l, pos: compute_key(m, p, l, pos))  # the visible test's own small model
    checks.check_rank_one_update(lambda W, C, k, v: rank_one_update(W, C, k, v, ridge=0.0))
    checks.check_js_divergence(js_divergence)
    checks.check_dola_contrast(dola_scores)
    assert capsys.readouterr().out.count("✓") == 11


@pytest.mark.parametrize("check, wrong, message", [
    (checks.check_mean_difference, lambda p, n: p.mean(0) - n.mean(0), "norm"),
    (checks.check_mean_difference, lambda p, n: mean_difference_vector(n, p), "wrong way"),
    (checks.check_pca_direction, lambda p, n: -pca_reading_vector(p, n), "wrong sign"),
    (checks.check_reading_accuracy, lambda a, l, d: float((((a @ d) > 0).long() == l).float().mean()), "halfway"),
    (checks.check_add_steering, lambda r, v, c, p: r + c * v, "wrong values"),
    (checks.check_mass_mean_shift, lambda a, l, alpha: alpha * torch.nn.functional.normalize(
        a[l.bool()].mean(0) - a[~l.bool()].mean(0), dim=0), "sigma"),
    (checks.check_restore_hook, lambda clean, pos: (lambda act, hook: clean), "whole clean activation"),
    (checks.check_rank_one_update, lambda W, C, k, v: W + torch.outer(k, v - k @ W) / (k @ k), "ignores C"),
    (checks.check_js_divergence, lambda p, q: 0.5 * ((p.exp() * (p - q)).sum(-1) + (q.exp() * (q - p)).sum(-1)),
     "wrong values"),
    (checks.check_dola_contrast, lambda f, p, rt: f - p, "filter keeps"),
])
def test_mistakes_are_caught(check, wrong, message):
    with pytest.raises(CheckFailure, match=message):
        check(wrong)


def test_mean_key_rejects_the_pre_activation():
    model = zoo.load("facts_4l", device="cpu")

    def pre(m, prompts, layer, position):
        _, cache = m.run_with_cache(prompts, names_filter=f"blocks.{layer}.mlp.hook_pre")
        return cache[f"blocks.{layer}.mlp.hook_pre"][:, position].mean(0)
    with pytest.raises(CheckFailure, match="pre-activation"):
        checks.check_mean_key(pre, model, [facts.fact_prompts(subjects=[1], relations=[0]).tokens], [(0, 3)])
    with pytest.raises(CheckFailure, match="pre-activation"):
        checks.check_mean_key(pre)  # the small random model of the visible test


def test_result_checks_send_the_student_back():
    with pytest.raises(CheckFailure, match="11.1 and 11.2"):
        checks.check_reading_result({"mean": [0.99], "pca": [0.99]}, [0.3])
    with pytest.raises(CheckFailure, match="11.4"):
        checks.check_steering_result([0, 1, 2], [0.5, 0.6, 0.7], exact_at_zero=False)
    with pytest.raises(CheckFailure, match="11.4"):
        checks.check_steering_result([0, 1, 2], [0.7, 0.6, 0.5], exact_at_zero=True)
    with pytest.raises(CheckFailure, match="11.5"):
        checks.check_iti_result(0.1, [0.2], 0.1)
    with pytest.raises(CheckFailure, match="11.6"):
        checks.check_tracing_result({"mlp": torch.zeros(4, 5), "resid": torch.zeros(4, 5)}, (0, 3))
    with pytest.raises(CheckFailure, match="11.8"):
        checks.check_edit_result({"site": {"efficacy": 1.0, "specificity": 1.0, "paraphrase": 1.0}}, "site", rank=3)


def test_named_mistakes_come_after_the_numbers():
    """Issue 27, part 3: the mistakes the texts invite are named after the numbers that differ."""
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*at every position"):
        checks.check_add_steering(lambda r, v, c, p: r + c * v)
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*every activation entry"):
        checks.check_mass_mean_shift(lambda a, l, alpha: alpha * a.std() * torch.nn.functional.normalize(
            a[l.bool()].mean(0) - a[~l.bool()].mean(0), dim=0))

    def sigma_of_class_1(acts, labels, alpha):
        labels = labels.bool()
        u = torch.nn.functional.normalize(acts[labels].mean(0) - acts[~labels].mean(0), dim=0)
        return alpha * (acts[labels] @ u).std() * u
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*class 1 only"):
        checks.check_mass_mean_shift(sigma_of_class_1)

    def batch_axis(clean, position):
        def hook(act, hook):
            act = act.clone()
            act[position] = clean[position]
            return act
        return hook
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*batch axis"):
        checks.check_restore_hook(batch_axis)
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*KL\(P \|\| Q\)"):
        checks.check_js_divergence(lambda p, q: 0.5 * ((p.exp() * (p - q)).sum(-1) + (q.exp() * (q - p)).sum(-1)))

    def filter_on_premature(final, premature, relative_top=0.1):
        keep = premature.exp() >= relative_top * premature.exp().max(-1, keepdim=True).values
        return torch.where(keep, final - premature, torch.full_like(final, float("-inf")))
    with pytest.raises(CheckFailure, match=r"(?s)filter keeps.*PREMATURE"):
        checks.check_dola_contrast(filter_on_premature)


def test_restore_hook_hidden_probe_on_head_outputs():
    """The hidden test's new probe: [batch, pos, heads, d_head] activations (the text's [batch, pos, ...])."""
    checks.check_restore_hook(_ref_restore, heads=3)

    def three_axis_mask(clean, position):  # a [1, pos, 1] mask: right for [batch, pos, d] only
        def hook(act, hook):
            at = torch.arange(act.shape[1])[None, :, None] == position % act.shape[1]
            return torch.where(at, clean, act)
        return hook
    checks.check_restore_hook(three_axis_mask)
    with pytest.raises(CheckFailure, match="three_axis_mask|hook"):
        checks.check_restore_hook(three_axis_mask, heads=3)


def test_dola_result_tests_the_lessons_finding():
    """Issue 27, part 5: the DoLa result check only tested that both accuracies lie in [0, 1]."""
    checks.check_dola_result(0.286, 0.429)
    with pytest.raises(CheckFailure, match="11.9-11.10"):
        checks.check_dola_result(0.286, 0.286)     # e.g. a filter that keeps every token of the contrast


def test_pca_without_the_flips_is_named():
    def no_flips(pos_acts, neg_acts):  # recentres the differences as they are: the concept goes with their mean
        diffs = pos_acts - neg_acts
        _, _, vh = torch.linalg.svd(diffs - diffs.mean(0), full_matrices=False)
        return -vh[0] if (diffs @ vh[0]).mean() < 0 else vh[0]
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*without\* the flips"):
        checks.check_pca_direction(no_flips)
    with pytest.raises(CheckFailure, match=r"(?s)wrong values.*wrong way"):
        checks.check_mean_difference(lambda p, n: mean_difference_vector(n, p))
