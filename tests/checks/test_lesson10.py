"""Lesson 10's checks: the reference passes, each plausible mistake fails with words that name it, and
the result checks send the student back to the exercise whose function made the number."""

from __future__ import annotations

import math

import pytest
import torch

from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson10 as c10
from mi_tutor.grokking import analysis, fourier


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


# ------------------------------------------------------------------ the reference answers
def basis_ok(p):
    return fourier.fourier_basis(p)[0]


def norms_ok(W_E, basis):
    return fourier.frequency_norms(basis @ W_E)


def keys_ok(norms, ratio):
    return [k + 1 for k in torch.nonzero(norms > ratio * norms.max()).flatten().tolist()]


def fractions_ok(acts, basis):
    return analysis.neuron_frequency_fractions(acts)


def test_lesson10_references_pass(capsys):
    c10.check_fourier_basis(basis_ok)
    c10.check_embedding_frequency_norms(norms_ok)
    c10.check_key_frequencies(keys_ok)
    c10.check_neuron_frequency_fractions(fractions_ok)
    c10.check_cos_sum_terms(analysis.cos_sum_terms)
    c10.check_restricted_logits(analysis.restricted_logits_with_basis)
    c10.check_excluded_logits(analysis.excluded_logits_with_basis)
    assert capsys.readouterr().out.count("\u2713") == 7


# ------------------------------------------------------------------ exercise mistakes
def test_lesson10_fourier_basis_mistakes():
    def one_factor(p):  # every row divided by sqrt(p / 2): the constant row gets norm sqrt 2
        x = torch.arange(p, dtype=torch.float64)
        rows = [torch.ones(p, dtype=torch.float64)]
        for k in range(1, (p - 1) // 2 + 1):
            rows += [torch.cos(2 * math.pi * k * x / p), torch.sin(2 * math.pi * k * x / p)]
        return (torch.stack(rows) / math.sqrt(p / 2)).float()

    def sin_first(p):
        b = basis_ok(p).clone()
        b[1::2], b[2::2] = basis_ok(p)[2::2], basis_ok(p)[1::2]
        return b

    fails(c10.check_fourier_basis, one_factor, "normalise every row")
    fails(c10.check_fourier_basis, sin_first, "sin k before cos k")
    fails(c10.check_fourier_basis, fourier.fourier_basis, "should return a Tensor but returned a tuple")  # returns (basis, labels)


def test_lesson10_frequency_norm_mistakes():
    fails(c10.check_embedding_frequency_norms, lambda W_E, basis: norms_ok(W_E, basis) ** 2, r"\*squared\* norms")
    fails(c10.check_embedding_frequency_norms, lambda W_E, basis: fourier.frequency_norms(basis.T @ W_E),
          "transpose of the basis")


def test_lesson10_key_frequency_mistakes():
    fails(c10.check_key_frequencies, lambda n, r: [k - 1 for k in keys_ok(n, r)], "off by one")
    fails(c10.check_key_frequencies, lambda n, r: sorted(keys_ok(n, r), key=lambda k: -float(n[k - 1])),
          "sorted in increasing order")
    fails(c10.check_key_frequencies, lambda n, r: keys_ok(n, r)[:1], "ratio x the largest norm")


def test_lesson10_neuron_fraction_mistakes():
    def total_before_centring(acts, basis):  # divides by the uncentred sum of squares, mean included
        coef = torch.einsum("ia,jb,abn->ijn", basis, basis, acts).pow(2)
        return fractions_ok(acts, basis) * ((coef.sum((0, 1)) - coef[0, 0]) / coef.sum((0, 1)))[:, None]

    def cos_sin_block_only(acts, basis):  # leaves out the terms in a or b alone
        p = acts.shape[0]
        centred = acts - acts.mean((0, 1), keepdim=True)
        coef = torch.einsum("ia,jb,abn->ijn", basis, basis, centred).pow(2)
        blocks = [coef[[2 * k - 1, 2 * k]][:, [2 * k - 1, 2 * k]].sum((0, 1)) for k in range(1, (p - 1) // 2 + 1)]
        return torch.stack(blocks, 1) / coef.sum((0, 1))[:, None]

    fails(c10.check_neuron_frequency_fractions, total_before_centring, "Centre each neuron")
    fails(c10.check_neuron_frequency_fractions, cos_sin_block_only, "terms in a or b alone")


def test_lesson10_cos_sum_mistakes():
    def plus_c(p, freqs):
        x = torch.arange(p, dtype=torch.float32)
        w = 2 * math.pi * torch.tensor(freqs, dtype=torch.float32) / p
        return torch.cos(w[:, None, None, None] * (x[:, None, None] + x[None, :, None] + x[None, None, :]))

    fails(c10.check_cos_sum_terms, plus_c, "minus sign")
    fails(c10.check_cos_sum_terms, lambda p, freqs: analysis.cos_sum_terms(p, freqs).permute(0, 3, 1, 2) * 0.5,
          "axes are")


def _no_bias(logits, freqs, basis):  # the key components without each answer's mean
    return analysis.restricted_logits(logits, freqs) - logits.mean((0, 1), keepdim=True)


def test_lesson10_restricted_and_excluded_logit_mistakes():
    fails(c10.check_restricted_logits, _no_bias, "bias correction")
    fails(c10.check_excluded_logits, lambda logits, freqs, basis: analysis.excluded_logits(logits, freqs)
          - logits.mean((0, 1), keepdim=True), "also removed each answer's mean")
    fails(c10.check_excluded_logits, analysis.restricted_logits_with_basis, "returned the restricted logits")


def test_lesson10_stub_is_named():
    def todo(*args):
        raise NotImplementedError()

    fails(c10.check_cos_sum_terms, todo, "not implemented")


# ------------------------------------------------------------------ result checks send the student back
def _curves(train_at: int, test_at: int, steps: int = 1000, every: int = 50) -> dict:
    s = list(range(0, steps + 1, every))
    return {"steps": s, "train_acc": [1.0 if t >= train_at else 0.5 for t in s],
            "test_acc": [0.99 if t >= test_at else 0.01 for t in s], "weight_norm": [100.0 - t / 20 for t in s]}


def test_lesson10_run_result_checks():
    c10.check_live_run_result(_curves(100, 500))
    with pytest.raises(CheckFailure, match="no memorisation phase"):
        c10.check_live_run_result(_curves(100, 100))
    with pytest.raises(CheckFailure, match="not long after"):
        c10.check_live_run_result(_curves(100, 150))
    c10.check_weight_decay_control_result(_curves(100, 500), _curves(100, 5000))
    with pytest.raises(CheckFailure, match="control reaches"):
        c10.check_weight_decay_control_result(_curves(100, 500), _curves(100, 600))


def test_lesson10_result_checks_name_the_exercise():
    norms = torch.full((56,), 0.05)
    norms[[13, 34, 40]] = 1.0
    c10.check_embedding_sparsity_result(norms, [14, 35, 41])
    with pytest.raises(CheckFailure, match="Exercise 10.3"):
        c10.check_embedding_sparsity_result(norms, list(range(1, 20)))
    with pytest.raises(CheckFailure, match="Exercise 10.3"):
        c10.check_embedding_sparsity_result(norms, [1, 2])
    spread = torch.full((56,), 0.3)                   # the rule finds every frequency: too many to be a handful
    with pytest.raises(CheckFailure, match="Exercises 10.2 and 10.3"):
        c10.check_embedding_sparsity_result(spread, list(range(1, 57)))
    weak = torch.full((56,), 0.2)
    weak[[13, 34]] = 1.0                              # two keys that carry too little of the squared norm
    with pytest.raises(CheckFailure, match="Exercises 10.2 and 10.3"):
        c10.check_embedding_sparsity_result(weak, [14, 35])


def test_lesson10_sparsity_result_tests_the_rule_not_only_the_share():
    """Issue 27, part 5: keys in the wrong order, or missing a weak one, carried enough of the norm to pass."""
    norms = torch.full((56,), 0.05)
    norms[[13, 34, 40, 50]] = torch.tensor([0.6, 1.0, 0.5, 0.3], dtype=norms.dtype)
    c10.check_embedding_sparsity_result(norms, [14, 35, 41, 51])
    for wrong in ([35, 14, 41, 51], [14, 35, 41]):       # sorted by norm; the weak key (0.3 > 0.25) left out
        with pytest.raises(CheckFailure, match=r"Exercise 10\.3"):
            c10.check_embedding_sparsity_result(norms, wrong)
    fractions = torch.zeros(10, 56)
    fractions[:, 13] = 0.9
    c10.check_neuron_clusters_result(fractions, [14, 35, 41])
    with pytest.raises(CheckFailure, match="Exercise 10.4"):
        c10.check_neuron_clusters_result(fractions * 0.5, [14, 35, 41])
    with pytest.raises(CheckFailure, match="not key frequencies"):
        c10.check_neuron_clusters_result(fractions, [35, 41])
    c10.check_cos_fit_result(0.95)
    with pytest.raises(CheckFailure, match="Exercise 10.5"):
        c10.check_cos_fit_result(0.4)
    c10.check_ablation_result(0.01, [0.99, 0.98], 113)
    with pytest.raises(CheckFailure, match="Exercise 10.7"):
        c10.check_ablation_result(0.6, [0.99, 0.98], 113)
    with pytest.raises(CheckFailure, match="should not matter"):
        c10.check_ablation_result(0.01, [0.99, 0.3], 113)


def test_lesson10_progress_measures_name_the_exercise():
    steps = list(range(0, 1001, 100))
    good = {"steps": steps, "test loss": [4.0] * 11,
            "restricted loss": [4.0, 3.0, 1.0, 0.05, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01],
            "excluded loss (train)": [0.1, 0.1, 0.5, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0],
            "test accuracy": [0.0, 0.0, 0.0, 0.1, 0.2, 0.9, 1.0, 1.0, 1.0, 1.0, 1.0],
            "phases": {"circuit formation": (100, 400)}}
    c10.check_progress_measures_result(good)
    with pytest.raises(CheckFailure, match="Exercise 10.6"):
        c10.check_progress_measures_result({**good, "restricted loss": [4.0] * 11})
    with pytest.raises(CheckFailure, match="Exercise 10.7"):
        c10.check_progress_measures_result({**good, "excluded loss (train)": [0.1] * 11})


def test_lesson10_key_frequencies_must_be_a_list_of_ints():
    """Issue 27: a tensor where the text asks for a list of ints used to pass (the figure cells then crash)."""
    fails(c10.check_key_frequencies, lambda n, r: torch.tensor(keys_ok(n, r)),
          r"should return a list of int but returned a torch.Tensor.*\.tolist\(\)")
    fails(c10.check_key_frequencies, lambda n, r: [torch.tensor(k) for k in keys_ok(n, r)],
          "an element is a Tensor")


def test_lesson10_named_mistakes_after_the_numbers():
    """Issue 27, part 3: mistakes the texts invite are named after the numbers that differ."""
    fails(c10.check_fourier_basis, lambda p: basis_ok(p).T.contiguous(), r"(?s)wrong values.*COLUMNS")

    def with_constant(W_E, basis):  # entry 0 the constant's norm: k - 1 is no longer frequency k
        sq = (basis @ W_E).pow(2).sum(-1)
        return torch.cat([sq[:1], sq[1::2] + sq[2::2]]).sqrt()
    fails(c10.check_embedding_frequency_norms, with_constant, r"(?s)shape.*norm of the constant")

    def at_least(norms, ratio):  # ">=" where the text says "exceeds"
        return [int(i) + 1 for i in torch.nonzero(norms >= ratio * norms.max()).flatten()]
    c10.check_key_frequencies(at_least)                       # no tie: indistinguishable
    fails(c10.check_key_frequencies, at_least, r"(?s)are \[.*`>`, not `>=`", tie=True)

    def unnormalised(sign):  # the two directions without the 1/sqrt 2
        def fn(logits, freqs, basis):
            out = logits.mean((0, 1), keepdim=True).expand_as(logits).clone() if sign > 0 else logits.clone()
            for k in freqs:
                c, s = basis[2 * k - 1], basis[2 * k]
                for d in (torch.outer(c, c) - torch.outer(s, s), torch.outer(s, c) + torch.outer(c, s)):
                    out = out + sign * torch.einsum("ab,c->abc", d, torch.einsum("ab,abc->c", d, logits))
            return out
        return fn
    fails(c10.check_restricted_logits, unnormalised(+1), r"(?s)wrong values.*not divided by sqrt 2")
    fails(c10.check_excluded_logits, unnormalised(-1), r"(?s)wrong values.*not divided by sqrt 2")


def test_lesson10_result_checks_compare_with_the_reference_on_the_lessons_inputs():
    """Issue 27, part 5: squared norms (other keys, a larger share) and uncentred fractions (every neuron 'explained')
    passed the sparsity and cluster checks, which only tested ranges; given W_E/basis and acts they fail."""
    p, g = 11, torch.Generator().manual_seed(0)
    basis = basis_ok(p)
    W_E = basis[[3, 4]].T @ torch.randn(2, 8, generator=g) + 0.05 * torch.randn(p, 8, generator=g)
    norms = norms_ok(W_E, basis)
    c10.check_embedding_sparsity_result(norms, keys_ok(norms, 0.25), W_E, basis)
    squared = norms ** 2
    c10.check_embedding_sparsity_result(squared, keys_ok(squared, 0.25))             # without the inputs: passes
    with pytest.raises(CheckFailure, match="Exercise 10.2"):
        c10.check_embedding_sparsity_result(squared, keys_ok(squared, 0.25), W_E, basis)

    x = torch.arange(p, dtype=torch.float32)
    acts = torch.cos(2 * math.pi * 2 * (x[:, None, None] + x[None, :, None]) / p + torch.rand(6, generator=g)) \
        + 0.02 * torch.rand(p, p, 6, generator=g) + 1.0                              # frequency 2, an offset

    def uncentred(acts, basis):  # the const x const term kept in every block and in the total
        coef = torch.einsum("ia,jb,abn->ijn", basis, basis, acts).pow(2)
        blocks = [coef[[0, 2 * k - 1, 2 * k]][:, [0, 2 * k - 1, 2 * k]].sum((0, 1)) for k in range(1, (p - 1) // 2 + 1)]
        return torch.stack(blocks, 1) / coef.sum((0, 1))[:, None]
    c10.check_neuron_clusters_result(fractions_ok(acts, basis), [2], acts)
    c10.check_neuron_clusters_result(uncentred(acts, basis), [2])                    # without acts: passes
    with pytest.raises(CheckFailure, match="Exercise 10.4"):
        c10.check_neuron_clusters_result(uncentred(acts, basis), [2], acts)


def test_lesson10_cos_sum_terms_names_a_missing_division_by_p():
    def no_p(p, freqs):  # w = 2 pi k: every term is cos(2 pi k n) = 1
        x = torch.arange(p, dtype=torch.float32)
        w = 2 * math.pi * torch.tensor([float(k) for k in freqs])
        return torch.cos(w[:, None, None, None] * (x[:, None, None] + x[None, :, None] - x[None, None, :]))
    fails(c10.check_cos_sum_terms, no_p, r"(?s)wrong values.*not divided by p")
    fails(c10.check_fourier_basis, lambda p: basis_ok(p)[[0] + [i + d for i in range(1, p, 2) for d in (1, 0)]],
          r"(?s)wrong values.*sin k before cos k")
