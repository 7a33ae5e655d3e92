"""Checks of lesson 10 (grokking). Each ``check_*`` compares a student's function with ``mi_tutor.grokking``'s.

Examples:
    >>> from mi_tutor.grokking import fourier_basis
    >>> check_fourier_basis(lambda p: fourier_basis(p)[0])
    ✓ fourier_basis matches the reference for p = 7, 53 and is orthonormal
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import torch

from ..grokking import analysis, fourier
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, expect_tensor_like, passed
from .mistakes import expect_close_or_named

__all__ = [
    "CONTRACTS", "check_fourier_basis", "check_embedding_frequency_norms", "check_key_frequencies",
    "check_neuron_frequency_fractions", "check_cos_sum_terms", "check_restricted_logits", "check_excluded_logits",
    "check_live_run_result", "check_embedding_sparsity_result", "check_neuron_clusters_result", "check_cos_fit_result",
    "check_ablation_result", "check_progress_measures_result", "check_weight_decay_control_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every case:
# a tensor, or (Exercise 10.3) a list of ints (the figure cells after it index and format them), and the
# arguments left as they were. None of these analyses needs a gradient.
TENSOR = Contract(returns=torch.Tensor)
INT_LIST = Contract(returns=list, items=int)
CONTRACTS = {"fourier_basis": TENSOR, "embedding_frequency_norms": TENSOR, "key_frequencies": INT_LIST,
             "neuron_frequency_fractions": TENSOR, "cos_sum_terms": TENSOR, "restricted_logits": TENSOR,
             "excluded_logits": TENSOR}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _basis(p: int) -> torch.Tensor:
    return fourier.fourier_basis(p)[0]


def _ref_norms(W_E: torch.Tensor, basis: torch.Tensor) -> torch.Tensor:
    return fourier.frequency_norms(basis @ W_E)


def _ref_keys(norms: torch.Tensor, ratio: float) -> list[int]:
    return [k + 1 for k in torch.nonzero(norms > ratio * norms.max()).flatten().tolist()]


def _circuit_logits(p: int, freqs: Sequence[int], seed: int, noise: float = 1.0) -> torch.Tensor:
    """Logits [p, p, p] of a noisy Fourier circuit plus a per-answer bias (a stand-in for a grokked model)."""
    g = _gen(seed)
    x = torch.arange(p, dtype=torch.float32)
    s = x[:, None, None] + x[None, :, None] - x[None, None, :]
    out = torch.randn(p, p, p, generator=g) * noise + torch.randn(1, 1, p, generator=g) * 3
    for k in freqs:
        out = out + (2 + 3 * torch.rand(1, generator=g)) * torch.cos(2 * math.pi * k * s / p)
    return out


# ------------------------------------------------------------------ exercise 1
def check_fourier_basis(student_fn: Callable, ps: Sequence[int] = (7, 53)) -> None:
    """Exercise 10.1: ``fourier_basis(p)`` returns the ``[p, p]`` basis, one vector per row."""
    for p in ps:
        got = check_contract("fourier_basis", student_fn, TENSOR, p, context=f"with p={p}")  # a tuple is refused
        want = _basis(p)
        expect_tensor_like(f"fourier_basis({p})", got, want, check_device=False)
        g = got.detach().double()
        norms = g.norm(dim=1)
        expect(torch.allclose(norms, torch.ones_like(norms), atol=1e-4),
               f"The rows of fourier_basis({p}) have norms from {norms.min():.3g} to {norms.max():.3g}, not 1: "
               "normalise every row (the constant and the cos/sin rows need different factors).")
        gram = g @ g.T
        off = (gram - torch.eye(p, dtype=torch.float64)).abs().max().item()
        expect(off < 1e-4, f"fourier_basis({p}) is not orthonormal: |B B^T - I| reaches {off:.3g}. Are the "
               "frequencies k = 1 .. (p-1)/2 each used once, with x = 0 .. p-1?")
        swapped = want.clone()
        swapped[1::2], swapped[2::2] = want[2::2], want[1::2]
        expect_close_or_named(f"fourier_basis({p})", got, want, atol=1e-5, context=f"for p={p}",
                              mistakes=[(swapped, f"fourier_basis({p}) has sin k before cos k: row 2k - 1 should be "
                                                  "cos k and row 2k sin k."),
                                        (want.T, "Your basis vectors are the COLUMNS (the transpose): return one basis "
                                                 "vector per row, B[i] the i-th function of x, so that coefficients "
                                                 "are basis @ f.")],
                              hint="row 0 is the constant, then cos(2 pi k x / p), sin(2 pi k x / p) for k = 1, 2, ...; "
                                   "check the sign and the order of the rows.")
    passed(f"fourier_basis matches the reference for p = {', '.join(map(str, ps))} and is orthonormal")


# ------------------------------------------------------------------ exercise 2
def check_embedding_frequency_norms(student_fn: Callable, seed: int = 0, p: int = 11, d_model: int = 16) -> None:
    """Exercise 10.2: ``embedding_frequency_norms(W_E, basis)`` -> ``[(p - 1) / 2]``."""
    g = _gen(seed)
    basis = _basis(p)
    sparse = basis[[3, 4]].T @ torch.randn(2, d_model, generator=g)  # only frequency 2
    cases = [{"W_E": torch.randn(p, d_model, generator=g), "basis": basis},
             {"W_E": sparse + 0.01 * torch.randn(p, d_model, generator=g), "basis": basis}]

    def compare(got, want, ctx, case):
        coef = case["basis"] @ case["W_E"]
        constant = torch.cat([coef[0].norm()[None], want])
        expect_close_or_named(
            "embedding_frequency_norms(W_E, basis)", got, want, rtol=1e-4, atol=1e-5, context=ctx,
            mistakes=[(want ** 2, "Your norms are the *squared* norms: take the square root of cos^2 + sin^2."),
                      (lambda: fourier.frequency_norms(case["basis"].T @ case["W_E"]),
                       "You transformed with the transpose of the basis: the coefficients are basis @ W_E (each row "
                       "of the basis is one basis vector)."),
                      (constant, "Your entry 0 is the norm of the constant (row 0 of the coefficients): leave it out, "
                                 "so that entry k - 1 is frequency k.")],
            hint="entry k - 1 combines the cos k and sin k rows of the coefficients (rows 2k - 1 and 2k), "
                 "summed over d_model; the constant row 0 is left out.")
    n = sum(compare_functions("embedding_frequency_norms", student_fn, _ref_norms, [case],
                              compare=partial(compare, case=case), contract=TENSOR) for case in cases)
    passed(f"embedding_frequency_norms matches the reference on {n} embeddings (p={p})")


# ------------------------------------------------------------------ exercise 3
def check_key_frequencies(student_fn: Callable, seed: int = 0, n_freq: int = 26, ratio: float = 0.25,
                          tie: bool = False) -> None:
    """Exercise 10.3: ``key_frequencies(norms, ratio)`` -> sorted 1-based frequencies above ``ratio * max``.

    With ``tie``, one more input has a norm exactly ``ratio`` times the largest: "exceeds" leaves it out.
    """
    g = _gen(seed)
    norms = torch.rand(n_freq, generator=g) * 0.2
    norms[torch.randperm(n_freq, generator=g)[:4]] += torch.tensor([1.0, 0.8, 0.5, 0.3])
    cases = [(norms, ratio), (norms, 0.6), (torch.rand(n_freq, generator=g), ratio)]
    if tie:
        tied = torch.rand(n_freq, generator=g) * 0.2 * ratio
        tied[[1, n_freq // 2, n_freq - 2]] = torch.tensor([1.0, ratio, 0.5 + ratio / 2])
        assert bool((tied == ratio * tied.max()).any()), "the tie case has no tie"
        cases.append((tied, ratio))
    for norms_, r in cases:
        ctx = f"for norms of {len(norms_)} frequencies and ratio={r}"
        got = check_contract("key_frequencies", student_fn, INT_LIST, norms_.clone(), r, context=ctx)
        want = _ref_keys(norms_, r)
        got = list(got)
        if got == want:
            continue
        numbers = (f"`key_frequencies` returned {got} {ctx} but the frequencies whose norm exceeds ratio x the largest "
                   f"norm are {want}.")
        at_least = [k + 1 for k in torch.nonzero(norms_ >= r * norms_.max()).flatten().tolist()]
        if got == [k - 1 for k in want]:
            raise CheckFailure(f"{numbers}\nYour frequencies are off by one: entry 0 of the norms is frequency 1.")
        if sorted(got) == want:
            raise CheckFailure(f"{numbers}\nReturn the key frequencies sorted in increasing order.")
        if got == at_least:
            raise CheckFailure(f"{numbers}\nA norm exactly ratio x the largest does not exceed it: compare with `>`, "
                               "not `>=`.")
        raise CheckFailure(numbers)
    passed(f"key_frequencies matches the reference on {len(cases)} inputs" + (" (a tie at the threshold)" if tie else ""))


# ------------------------------------------------------------------ exercise 4
def check_neuron_frequency_fractions(student_fn: Callable, seed: int = 0, p: int = 7, n_neurons: int = 6) -> None:
    """Exercise 10.4: ``neuron_frequency_fractions(acts, basis)`` -> ``[n_neurons, (p - 1) / 2]``."""
    g = _gen(seed)
    basis = _basis(p)
    x = torch.arange(p, dtype=torch.float32)
    k = 1 + torch.randint((p - 1) // 2, (n_neurons,), generator=g)
    wave = torch.cos(2 * math.pi * k[None, None] * (x[:, None, None] + x[None, :, None]) / p + torch.rand(n_neurons, generator=g))
    acts = torch.relu(wave) + 0.2 * torch.rand(p, p, n_neurons, generator=g) + 5.0  # offset: centring matters
    cases = [{"acts": acts, "basis": basis}, {"acts": torch.randn(p, p, n_neurons, generator=g).abs(), "basis": basis}]

    def reference(acts_, basis_):
        return analysis.neuron_frequency_fractions(acts_)

    def compare(got, want, ctx, case):
        expect_tensor_like("neuron_frequency_fractions(acts, basis)", got, want, check_device=False)
        coef_unc = torch.einsum("ia,jb,abn->ijn", case["basis"], case["basis"], case["acts"]).pow(2)
        if got.detach().double().max() < 0.5 * want.double().max() and want.max() > 0.5:
            total_unc = coef_unc.sum((0, 1))
            raise CheckFailure(f"Your fractions are much smaller than expected {ctx}: did you divide by the total "
                               f"including the mean (const x const) term? Centre each neuron over (a, b) first. "
                               f"(the mean holds {float((coef_unc[0, 0] / total_unc).mean()):.0%} of the uncentred "
                               "sum of squares here)")
        expect_close("neuron_frequency_fractions(acts, basis)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="for frequency k use the 3 x 3 block of 2-D coefficients with rows and columns "
                          "{0, 2k - 1, 2k} (const, cos k, sin k), including the terms in a or b alone.")
    n = sum(compare_functions("neuron_frequency_fractions", student_fn, reference, [case],
                              compare=partial(compare, case=case), contract=TENSOR) for case in cases)
    passed(f"neuron_frequency_fractions matches the reference on {n} inputs (p={p})")


# ------------------------------------------------------------------ exercise 5
def check_cos_sum_terms(student_fn: Callable, p: int = 7, freqs: Sequence[int] = (1, 3)) -> None:
    """Exercise 10.5: ``cos_sum_terms(p, freqs)`` -> ``[len(freqs), p, p, p]`` of ``cos(w_k (a + b - c))``."""
    want = analysis.cos_sum_terms(p, list(freqs))
    got = check_contract("cos_sum_terms", student_fn, TENSOR, p, list(freqs), context=f"with p={p}, freqs={list(freqs)}")
    expect_tensor_like("cos_sum_terms(p, freqs)", got, want, check_device=False)
    x = torch.arange(p, dtype=torch.float32)
    w = 2 * math.pi * torch.tensor(list(freqs), dtype=torch.float32)[:, None, None, None]
    plus = torch.cos(w * (x[:, None, None] + x[None, :, None] + x[None, None, :]) / p)
    no_p = torch.cos(w * (x[:, None, None] + x[None, :, None] - x[None, None, :]))
    expect_close_or_named("cos_sum_terms(p, freqs)", got, want, atol=1e-4, context=f"with p={p}, freqs={list(freqs)}",
                          mistakes=[(plus, "Your terms are cos(w (a + b + c)): the answer c enters with a minus sign, "
                                           "cos(w (a + b - c)) peaks where c = a + b mod p."),
                                    (no_p, "Your frequencies are not divided by p: w_k = 2 pi k / p (with 2 pi k alone "
                                           "every term is 1).")],
                          hint="w_k = 2 pi k / p, and the axes are (k, a, b, c) in this order.")
    passed(f"cos_sum_terms matches the reference for p={p}, freqs={list(freqs)}")


# ------------------------------------------------------------------ exercises 6-7
def _logit_cases(seed: int, p: int, freqs: Sequence[int]) -> list[dict]:
    basis = _basis(p)
    return [{"logits": _circuit_logits(p, freqs, seed), "freqs": list(freqs), "basis": basis},
            {"logits": _circuit_logits(p, freqs[:1], seed + 1, noise=0.3), "freqs": list(freqs[:1]), "basis": basis}]


def check_restricted_logits(student_fn: Callable, seed: int = 0, p: int = 11, freqs: Sequence[int] = (2, 5)) -> None:
    """Exercise 10.6: ``restricted_logits(logits, freqs, basis)`` keeps the key ``cos/sin(w (a + b))`` parts + bias."""
    cases = _logit_cases(seed, p, freqs)

    def compare(got, want, ctx, case):
        bias = case["logits"].mean((0, 1), keepdim=True)
        expect_close_or_named(
            "restricted_logits(logits, freqs, basis)", got, want, rtol=1e-3, atol=1e-3, context=ctx,
            mistakes=[(want - bias, "Your restricted logits lack the bias correction: add back each answer's mean logit "
                                    "over (a, b) (logits.mean((0, 1), keepdim=True)); without it the loss is dominated "
                                    "by the missing offsets."),
                      (bias + 2 * (want - bias), "Your key components are twice too large: the two directions were not "
                                                 "divided by sqrt 2, so they are not unit vectors and the projection "
                                                 "D (D . logits) counts them twice.")],
            hint="for each key k project the logits (for every c) onto the two unit directions "
                 "(cos_k cos_k^T - sin_k sin_k^T)/sqrt 2 and (sin_k cos_k^T + cos_k sin_k^T)/sqrt 2 over (a, b).")
    n = sum(compare_functions("restricted_logits", student_fn, analysis.restricted_logits_with_basis, [case],
                              compare=partial(compare, case=case), contract=TENSOR) for case in cases)
    passed(f"restricted_logits matches the reference on {n} inputs (p={p})")


def check_excluded_logits(student_fn: Callable, seed: int = 0, p: int = 11, freqs: Sequence[int] = (2, 5)) -> None:
    """Exercise 10.7: ``excluded_logits(logits, freqs, basis)`` removes the key ``cos/sin(w (a + b))`` parts."""
    cases = _logit_cases(seed, p, freqs)

    def compare(got, want, ctx, case):
        logits = case["logits"]
        expect_close_or_named(
            "excluded_logits(logits, freqs, basis)", got, want, rtol=1e-3, atol=1e-3, context=ctx,
            mistakes=[(want - logits.mean((0, 1), keepdim=True), "Your excluded logits also removed each answer's mean: "
                                                                "only the cos/sin(w_k (a + b)) components of the key "
                                                                "frequencies go."),
                      (lambda: analysis.restricted_logits(logits, case["freqs"]),
                       "You returned the restricted logits: excluded = logits minus the key components."),
                      (2 * want - logits, "You removed the key components twice over: the two directions were not "
                                          "divided by sqrt 2, so they are not unit vectors.")],
            hint="subtract exactly what restricted_logits keeps, minus its bias term.")
    n = sum(compare_functions("excluded_logits", student_fn, analysis.excluded_logits_with_basis, [case],
                              compare=partial(compare, case=case), contract=TENSOR) for case in cases)
    passed(f"excluded_logits matches the reference on {n} inputs (p={p})")


# ------------------------------------------------------------------ result checks (locked, no points)
def _first(steps, values, threshold):
    for s, v in zip(steps, values):
        if v >= threshold:
            return s
    return None


def check_live_run_result(curves, factor: float = 3.0) -> None:
    """The live MLP memorises first (train accuracy 0.99 with test accuracy at chance), then generalises later.

    Args:
        curves: ``log.curves()`` of the live run.
        factor: Test accuracy must pass 0.5 at least ``factor`` times later than train accuracy reaches 0.99.
    """
    steps = curves["steps"]
    s_train = _first(steps, curves["train_acc"], 0.99)
    expect(s_train is not None, "The live model never reached 99% train accuracy: was it trained for all its steps?")
    test_then = curves["test_acc"][steps.index(s_train)]
    s_test = _first(steps, curves["test_acc"], 0.5)
    expect(test_then < 0.05, f"When train accuracy reached 0.99 (step {s_train}) test accuracy was already "
           f"{test_then:.2f}: no memorisation phase (was the train fraction changed?).")
    expect(s_test is not None and s_test >= factor * s_train,
           f"Test accuracy passed 0.5 at step {s_test}, not long after train accuracy reached 0.99 (step {s_train}).")
    passed(f"train accuracy 0.99 at step {s_train} (test accuracy {test_then:.3f}); test accuracy passes 0.5 at step "
           f"{s_test}, {s_test / s_train:.1f}x later; final test accuracy {curves['test_acc'][-1]:.3f}")


def check_embedding_sparsity_result(norms: torch.Tensor, keys: Sequence[int], W_E: torch.Tensor | None = None,
                                    basis: torch.Tensor | None = None, max_keys: int = 8, min_share: float = 0.85) -> None:
    """The norms are the embedding's (given ``W_E`` and ``basis``), the key frequencies those of the rule on them,
    a handful, and they carry most of the squared norm."""
    if W_E is not None and basis is not None:
        expect_close("the Fourier norms of W_E", norms.detach().double().cpu(),
                     _ref_norms(W_E.detach().double().cpu(), basis.detach().double().cpu()), rtol=1e-3, atol=1e-4,
                     hint="they come from your `embedding_frequency_norms` (Exercise 10.2).")
    norms = norms.detach().double().cpu()
    want = _ref_keys(norms, 0.25)
    expect(list(keys) == want, f"The key frequencies are {list(keys)}, but the norms above 0.25 x the largest are those "
           f"of frequencies {want} (sorted, 1-based). They come from your `key_frequencies` (Exercise 10.3).")
    share = float(norms[[k - 1 for k in keys]].pow(2).sum() / norms.pow(2).sum()) if keys else 0.0
    expect(0 < len(keys) <= max_keys, f"{len(keys)} key frequencies found ({list(keys)}): expected a handful. They come "
           "from your `embedding_frequency_norms` and `key_frequencies` (Exercises 10.2 and 10.3).")
    expect(share >= min_share, f"The key frequencies {list(keys)} carry only {share:.0%} of the embedding's squared "
           f"Fourier norm (expected at least {min_share:.0%}). Check Exercises 10.2 and 10.3.")
    passed(f"{len(keys)} key frequencies {list(keys)} carry {share:.1%} of the embedding's squared Fourier norm "
           f"(of {len(norms)} frequencies)")


def check_neuron_clusters_result(fractions: torch.Tensor, keys: Sequence[int], acts: torch.Tensor | None = None,
                                 threshold: float = 0.85, min_share: float = 0.75) -> None:
    """The fractions are the neurons' (given ``acts``), most neurons are explained by one frequency, and those
    frequencies are key frequencies."""
    if acts is not None:
        expect_close("the neurons' frequency fractions", fractions.detach().double().cpu(),
                     analysis.neuron_frequency_fractions(acts.detach().double().cpu()), rtol=1e-3, atol=1e-4,
                     hint="they come from your `neuron_frequency_fractions` (Exercise 10.4): centre each neuron, "
                          "and use the 3 x 3 block {0, 2k - 1, 2k} of the centred coefficients.")
    best, which = fractions.detach().cpu().max(1)
    single = best > threshold
    share = float(single.float().mean())
    freqs = sorted(set((which[single] + 1).tolist()))
    expect(share >= min_share, f"Only {share:.0%} of the neurons have more than {threshold:.0%} of their variance from "
           f"one frequency (expected at least {min_share:.0%}). The fractions come from your "
           "`neuron_frequency_fractions` (Exercise 10.4).")
    outside = [k for k in freqs if k not in set(keys)]
    expect(not outside, f"Neurons cluster on frequencies {outside} that are not key frequencies {list(keys)}.")
    passed(f"{share:.1%} of the neurons are explained (> {threshold:.0%}) by one frequency; clusters at {freqs}")


def check_cos_fit_result(explained: float, min_explained: float = 0.9) -> None:
    """The logits are well described by a sum of ``cos(w_k (a + b - c))`` over the key frequencies."""
    expect(explained >= min_explained, f"The fit explains only {explained:.1%} of the logits' variance (expected at "
           f"least {min_explained:.0%}). The terms come from your `cos_sum_terms` (Exercise 10.5).")
    passed(f"sum of cos(w_k (a + b - c)) over the key frequencies explains {explained:.1%} of the logits' variance")


def check_ablation_result(acc_keys: float, acc_random: Sequence[float], p: int, max_keys_acc: float = 0.1,
                          min_random_acc: float = 0.95) -> None:
    """Removing the key frequencies from the logits destroys test accuracy; removing as many others does not."""
    expect(acc_keys <= max_keys_acc, f"With the key frequencies excluded the test accuracy is {acc_keys:.2f}, not near "
           f"chance (1/{p} = {1 / p:.3f}). The ablation uses your `excluded_logits` (Exercise 10.7).")
    expect(min(acc_random) >= min_random_acc, f"Excluding random non-key frequencies drops the test accuracy to "
           f"{min(acc_random):.2f}: they should not matter. Check `excluded_logits` removes only the listed frequencies.")
    passed(f"test accuracy with key frequencies excluded: {acc_keys:.3f} (chance {1 / p:.3f}); with as many random "
           f"other frequencies excluded: {min(acc_random):.3f} to {max(acc_random):.3f}")


def check_progress_measures_result(data: Mapping, restricted_max: float = 0.1, excluded_factor: float = 2.0) -> None:
    """The progress-measure figure: restricted loss falls before test accuracy rises; excluded loss rises
    during circuit formation.

    Args:
        data: The figure's data: ``steps``, ``"test loss"``, ``"restricted loss"``, ``"excluded loss (train)"``,
            ``"test accuracy"`` and ``phases``.
    """
    steps, restricted, excluded, acc = (data["steps"], data["restricted loss"], data["excluded loss (train)"],
                                        data["test accuracy"])
    early = [s for s, r, a in zip(steps, restricted, acc) if r < restricted_max and a < 0.5]
    expect(bool(early), f"Restricted loss never falls below {restricted_max} while test accuracy is below 0.5: it should "
           "lead. It is computed with your `restricted_logits` (Exercise 10.6): is the bias correction there?")
    start, end = data["phases"]["circuit formation"]
    at = {s: e for s, e in zip(steps, excluded)}
    near = lambda t: min(steps, key=lambda s: abs(s - t))  # noqa: E731
    e0, e1 = at[near(start)], at[near(end)]
    expect(e1 >= excluded_factor * e0, f"Excluded train loss goes from {e0:.2f} to {e1:.2f} over circuit formation "
           f"(steps {start}-{end}); it should rise at least {excluded_factor}x. Check `excluded_logits` (Exercise 10.7).")
    passed(f"restricted loss < {restricted_max} at step {early[0]} while test accuracy is "
           f"{acc[steps.index(early[0])]:.2f}; excluded train loss rises {e1 / e0:.1f}x during circuit formation "
           f"(steps {start}-{end})")


def check_weight_decay_control_result(curves_wd: Mapping, curves_control: Mapping) -> None:
    """The run with weight decay generalises; the weight-decay-0 control does not in the same steps."""
    s_wd = _first(curves_wd["steps"], curves_wd["test_acc"], 0.95)
    best_control = max(curves_control["test_acc"])
    expect(s_wd is not None, "The weight-decay run should reach 95% test accuracy.")
    expect(best_control < 0.5 and curves_control["steps"][-1] >= s_wd,
           f"The control reaches test accuracy {best_control:.2f} in {curves_control['steps'][-1]} steps.")
    passed(f"weight decay 1: 95% test accuracy at step {s_wd}; weight decay 0: at most {best_control:.2f} in "
           f"{curves_control['steps'][-1]} steps; final sum of squared weights {curves_wd['weight_norm'][-1]:.0f} vs "
           f"{curves_control['weight_norm'][-1]:.0f}")
