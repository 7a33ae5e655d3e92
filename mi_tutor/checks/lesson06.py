"""Checks for lesson 6 (dictionary learning): each compares a student's function with ``mi_tutor.dictionary``.

Examples:
    >>> from mi_tutor.dictionary import sae_decode
    >>> check_sae_decode(sae_decode)
    ✓ sae_decode matches the reference on 3 inputs
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import permutations

import torch

from .. import dictionary as ref
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, passed
from .mistakes import expect_close_or_named, matches

__all__ = [
    "CONTRACTS",
    "check_sae_encode",
    "check_sae_decode",
    "check_sae_loss",
    "check_remove_parallel_component",
    "check_fraction_variance_explained",
    "check_mean_max_cosine_similarity",
    "check_concept_purity",
    "check_toy_recovery_result",
    "check_l0_falls_result",
    "check_monosemanticity_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every call.
# Every exercise returns new tensors and leaves its arguments as they were. The SAE is trained by gradient
# descent through the encoder, the decoder and the loss, so their gradient must reach the SAE's parameters
# (and the loss's `total` must reach x_hat and f): no torch.no_grad(), .detach() or .item() on the way.
TENSOR = Contract(returns=torch.Tensor)
TRAINED = Contract(returns=torch.Tensor, gradient="flows")
LOSS = Contract(returns=tuple, items=torch.Tensor, gradient="flows")   # the gradient rule is on `total`, got[0]
CONTRACTS = {"sae_encode": TRAINED, "sae_decode": TRAINED, "sae_loss": LOSS, "remove_parallel_component": TENSOR,
             "mean_max_cosine_similarity": TENSOR, "fraction_variance_explained": TENSOR, "concept_purity": TENSOR}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sae_params(g: torch.Generator, d_in: int, d_sae: int) -> dict[str, torch.Tensor]:
    W_dec = ref.normalize_rows(torch.randn(d_sae, d_in, generator=g))
    return {"W_enc": torch.randn(d_in, d_sae, generator=g) / d_in**0.5, "b_enc": torch.randn(d_sae, generator=g) * 0.2,
            "W_dec": W_dec, "b_dec": torch.randn(d_in, generator=g) * 0.5}


def _describe(case: Mapping[str, object]) -> str:
    return "with " + ", ".join(f"{k} of shape {tuple(v.shape)}" if isinstance(v, torch.Tensor) else f"{k}={v!r}"
                               for k, v in case.items())


def _compare_trained(name: str, student_fn: Callable, reference_fn: Callable, cases, keys: tuple[str, ...],
                     compare: Callable) -> int:
    """Every case through ``check_contract``, with ``keys`` leaves that require grad and that the gradient must reach.

    ``compare(got, want, context, case)`` sees the case's own tensors, and those leaves as ``case["leaves"]``.
    """
    for case in cases:
        given = {k: v.detach().clone().requires_grad_(k in keys) if isinstance(v, torch.Tensor) else v
                 for k, v in case.items()}
        ctx = _describe(case)
        want = reference_fn(*case.values())
        leaves = {k: given[k] for k in keys}
        check_contract(name, student_fn, CONTRACTS[name], *given.values(), context=ctx, grad_to=list(leaves.values()),
                       compare=lambda got, want=want, ctx=ctx, case=dict(case, leaves=leaves): compare(
                           got, want, ctx, case))
    return len(cases)


def check_sae_encode(student_fn: Callable, seed: int = 0, batch: int = 9) -> None:
    """``sae_encode(x, W_enc, b_enc, b_dec)`` -> ``[batch, d_sae]``; the gradient must reach ``W_enc`` and ``b_enc``."""
    g = _gen(seed)
    cases = []
    for d_in, d_sae in [(4, 8), (6, 24), (10, 5)]:
        prm = _sae_params(g, d_in, d_sae)
        cases.append({"x": torch.randn(batch, d_in, generator=g), "W_enc": prm["W_enc"], "b_enc": prm["b_enc"],
                      "b_dec": prm["b_dec"]})

    def compare(got, want, ctx, case):
        x, W_enc, b_enc, b_dec = (case[k] for k in ("x", "W_enc", "b_enc", "b_dec"))
        if got.shape == want.shape:
            if matches(got, torch.relu(x @ W_enc + b_enc)):
                raise CheckFailure("You did not subtract `b_dec` from x before encoding: "
                                   "f = ReLU((x - b_dec) W_enc + b_enc).")
            if (got < 0).any():
                raise CheckFailure("Your latents have negative values: apply the ReLU.")
        expect_close_or_named("sae_encode(...)", got, want, context=ctx, mistakes=[
            (torch.relu((x + b_dec) @ W_enc + b_enc), "You added `b_dec`: the encoder works on x - b_dec (the "
                                                      "decoder adds b_dec back), f = ReLU((x - b_dec) W_enc + b_enc)."),
            (torch.relu((x - x.mean(0)) @ W_enc + b_enc), "You centred x on its batch mean: the text centres it on the "
                                                          "decoder bias, x - b_dec (a learned parameter, not a "
                                                          "statistic of the batch)."),
        ])

    n = _compare_trained("sae_encode", student_fn, ref.sae_encode, cases, ("W_enc", "b_enc", "b_dec"), compare)
    passed(f"sae_encode matches the reference on {n} inputs")


def check_sae_decode(student_fn: Callable, seed: int = 0, batch: int = 9) -> None:
    """``sae_decode(f, W_dec, b_dec)`` -> ``[batch, d_in]``; the gradient must reach ``W_dec`` and ``b_dec``."""
    g = _gen(seed)
    cases = []
    for d_in, d_sae in [(4, 8), (6, 24), (10, 5)]:
        prm = _sae_params(g, d_in, d_sae)
        cases.append({"f": torch.relu(torch.randn(batch, d_sae, generator=g)), "W_dec": prm["W_dec"],
                      "b_dec": prm["b_dec"]})

    def compare(got, want, ctx, case):
        f, W_dec, b_dec = (case[k] for k in ("f", "W_dec", "b_dec"))
        expect_close_or_named("sae_decode(...)", got, want, context=ctx, mistakes=[
            (f @ W_dec, "You forgot the decoder bias: x_hat = f W_dec + b_dec."),
            (f @ W_dec - b_dec, "You subtracted `b_dec`: the encoder subtracts it, the decoder adds it back "
                                "(x_hat = f W_dec + b_dec)."),
        ], hint="x_hat = f @ W_dec + b_dec (W_dec is [d_sae, d_in]).")

    n = _compare_trained("sae_decode", student_fn, ref.sae_decode, cases, ("W_dec", "b_dec"), compare)
    passed(f"sae_decode matches the reference on {n} inputs")


def _close_list(a: list[float], b: list[float]) -> bool:
    return all(abs(x - y) <= 1e-5 + 1e-4 * abs(y) for x, y in zip(a, b))


def check_sae_loss(student_fn: Callable, seed: int = 0, batch: int = 12) -> None:
    """``sae_loss(x, x_hat, f, W_dec, l1_coeff)`` -> ``(total, mse, l1)`` scalars; ``total`` keeps the gradient."""
    g = _gen(seed)
    cases = []
    for d_in, d_sae, coeff in [(4, 8, 0.1), (6, 24, 0.03), (5, 10, 1.0)]:
        W_dec = torch.randn(d_sae, d_in, generator=g)        # deliberately not unit norm
        cases.append({"x": torch.randn(batch, d_in, generator=g), "x_hat": torch.randn(batch, d_in, generator=g),
                      "f": torch.relu(torch.randn(batch, d_sae, generator=g)), "W_dec": W_dec, "l1_coeff": coeff})

    def compare(got, want, ctx, case):
        expect(len(got) == 3, f"`sae_loss` should return a tuple (total, mse, l1) but returned {len(got)} values.")
        total, mse, l1 = got
        x, x_hat, f = case["x"], case["x_hat"], case["f"]
        values = [float(v.detach()) if v.numel() == 1 else None for v in got]
        wanted = [float(want.total), float(want.mse), float(want.l1)]
        if None not in values and not _close_list(values, wanted) and any(
                _close_list([values[i] for i in order], wanted) for order in permutations(range(3))):
            raise CheckFailure(f"`sae_loss` returned the right three numbers in the wrong order {ctx}: "
                               "return (total, mse, l1), in that order.")
        if mse.dim() == 0:
            if matches(mse, ((x - x_hat) ** 2).mean(), atol=1e-6):
                raise CheckFailure("Your mse averages over d_in too; sum the squared error over d_in and average "
                                   "over the batch only.")
            if matches(mse, ((x - x_hat) ** 2).sum()):
                raise CheckFailure(f"Your mse sums over the batch too {ctx}: sum over d_in, then average over the "
                                   "batch (`.sum(-1).mean()`), so the loss does not grow with the batch size.")
        if l1.dim() == 0 and matches(l1, f.sum(-1).mean()):
            raise CheckFailure("Your l1 ignores the decoder norms: weight each f_i by ||W_dec[i]|| (the norm of "
                               "row i), or the SAE can shrink f and grow W_dec to cheat the penalty.")
        for name, a, b in (("mse", mse, want.mse), ("l1", l1, want.l1)):
            expect_close(f"sae_loss(...).{name}", a, b, context=ctx)
        expect_close_or_named("sae_loss(...).total", total, want.total, context=ctx, mistakes=[
            (want.mse + want.l1, f"Your total is mse + l1: the penalty is scaled by the coefficient, "
                                 f"total = mse + l1_coeff * l1 (here l1_coeff = {case['l1_coeff']}).")])
        leaves = case["leaves"]
        grads = torch.autograd.grad(total, list(leaves.values()), allow_unused=True) if total.requires_grad else ()
        cut = ([k for k, gr in zip(leaves, grads) if gr is None or not bool(gr.abs().sum() > 0)] if grads
               else list(leaves))
        if cut:
            raise CheckFailure(f"`sae_loss` returned a `total` with no gradient to {' and '.join(cut)} {ctx}: "
                               "training calls `total.backward()`, so compute it from x_hat and f without "
                               "`torch.no_grad()`, `.detach()` or `.item()`.")

    n = _compare_trained("sae_loss", student_fn, ref.sae_loss, cases, ("x_hat", "f"), compare)
    passed(f"sae_loss matches the reference (total, mse, l1) on {n} inputs")


def check_remove_parallel_component(student_fn: Callable, seed: int = 0) -> None:
    """``remove_parallel_component(grad, W)`` -> ``[n, d]`` orthogonal to each row of ``W``."""
    g = _gen(seed)
    cases = [{"grad": torch.randn(n, d, generator=g), "W": ref.normalize_rows(torch.randn(n, d, generator=g))}
             for n, d in [(3, 2), (16, 5), (8, 12)]]

    def compare(got, want, ctx, case):
        grad, W = case["grad"], case["W"]
        expect_close_or_named("remove_parallel_component(...)", got, want, context=ctx, mistakes=[
            (grad - grad @ W.T @ W, "You projected each row on every row of W (`grad @ W.T @ W`): row i of the "
                                    "gradient loses only its component along its own row W_i, (grad_i . W_i) W_i."),
            (grad - (grad * W).sum(0, keepdim=True) * W, "Your dot products run down the columns (dim=0): take them "
                                                         "along each row, `(grad * W).sum(-1, keepdim=True)`."),
            (grad + (grad * W).sum(-1, keepdim=True) * W, "You added the parallel component: subtract it, "
                                                          "g_i - (g_i . W_i) W_i."),
        ], hint="Subtract, for every row, (grad_i . W_i) W_i: a per-row dot product, keepdim=True.")

    n = 0
    for case in cases:
        n += compare_functions("remove_parallel_component", student_fn, ref.remove_parallel_component, [case],
                               contract=TENSOR, compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"remove_parallel_component matches the reference on {n} inputs")


def check_fraction_variance_explained(student_fn: Callable, seed: int = 0, batch: int = 50) -> None:
    """``fraction_variance_explained(x, x_hat)`` -> scalar."""
    g = _gen(seed)
    cases = []
    for d in (3, 8):
        x = torch.randn(batch, d, generator=g) * 2 + 3        # non-zero mean on purpose
        x = x + torch.arange(d) * 1.5                          # ... and a different one per dimension
        cases.append({"x": x, "x_hat": x + 0.5 * torch.randn(batch, d, generator=g)})
        cases.append({"x": x, "x_hat": x.mean(0, keepdim=True).expand_as(x).clone()})

    def compare(got, want, ctx, case):
        x, x_hat = case["x"], case["x_hat"]
        res = ((x - x_hat) ** 2)
        if got.dim() == 0 and matches(got, 1 - res.sum() / (x**2).sum()):
            raise CheckFailure("You divided by sum ||x||^2; the variance is measured around the mean: "
                               "sum ||x - mean(x)||^2 (mean over the batch, per dimension).")
        expect_close_or_named("fraction_variance_explained(...)", got, want, context=ctx, mistakes=[
            (1 - res.sum() / ((x - x.mean()) ** 2).sum(), "You subtracted one mean over every entry (`x.mean()`): "
                                                          "each dimension has its own mean over the batch, "
                                                          "`x.mean(0, keepdim=True)`."),
            (1 - (res.sum(0) / ((x - x.mean(0)) ** 2).sum(0)).mean(), "You averaged one ratio per dimension: the "
                                                                      "text takes one ratio of sums over the batch "
                                                                      "and the dimensions."),
        ], hint="Outputting the batch mean should give exactly 0, a perfect reconstruction 1.")

    for case in cases:
        compare_functions("fraction_variance_explained", student_fn, ref.fraction_variance_explained, [case],
                          contract=TENSOR, compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"fraction_variance_explained matches the reference on {len(cases)} inputs")


def check_mean_max_cosine_similarity(student_fn: Callable, seed: int = 0) -> None:
    """``mean_max_cosine_similarity(learned, true)`` -> scalar."""
    g = _gen(seed)
    cases = [{"learned": torch.randn(n_l, d, generator=g) * 3, "true": torch.randn(n_t, d, generator=g)}
             for n_l, n_t, d in [(10, 4, 3), (5, 12, 6), (32, 16, 8)]]

    def compare(got, want, ctx, case):
        a = ref.normalize_rows(case["learned"])
        b = ref.normalize_rows(case["true"])
        if got.dim() == 0:
            if matches(got, (b @ a.T).amax(0).mean()):
                raise CheckFailure("You took the max over true features for each learned direction; MMCS asks, for "
                                   "each TRUE feature, how well its best learned match fits (max over learned).")
            if matches(got, (case["true"] @ case["learned"].T).amax(-1).mean(), atol=1e-4):
                raise CheckFailure("Normalise both sets of vectors first: cosine similarity, not dot products.")
        expect_close("mean_max_cosine_similarity(...)", got, want, context=ctx)

    for case in cases:
        compare_functions("mean_max_cosine_similarity", student_fn, ref.mean_max_cosine_similarity, [case],
                          contract=TENSOR, compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"mean_max_cosine_similarity matches the reference on {len(cases)} inputs")


def check_concept_purity(student_fn: Callable, seed: int = 0, n: int = 200) -> None:
    """``concept_purity(acts, concepts, min_active)`` -> ``[n_units]`` (``nan`` for rare units)."""
    g = _gen(seed)
    cases = []
    for units, n_concepts in [(6, 4), (20, 10)]:
        acts = torch.relu(torch.randn(n, units, generator=g))
        acts[:, 0] = 0.0
        acts[:3, 0] = 1.0                                     # a rarely active unit
        label = torch.randint(n_concepts, (n,), generator=g)
        concepts = torch.nn.functional.one_hot(label, n_concepts).bool()
        acts[:, 1] = (label == 0).float() * 2.0               # a perfectly pure unit
        cases.append({"acts": acts, "concepts": concepts, "min_active": 0.05})
    raw = torch.randn(n, 8, generator=g) + 0.3                  # pre-ReLU activations: negatives must be clamped
    raw[:, 0] = -1.0
    raw[:3, 0] = 1.0
    label = torch.randint(3, (n,), generator=g)
    cases.append({"acts": raw, "concepts": torch.nn.functional.one_hot(label, 3).bool(), "min_active": 0.05})

    def unclamped(acts, concepts, min_active):
        purity = (acts.T @ concepts.to(acts.dtype)).amax(-1) / acts.sum(0).clamp_min(1e-12)
        return torch.where((acts > 0).to(acts.dtype).mean(0) < min_active, torch.nan, purity)

    def compare(got, want, ctx):
        if got.shape == want.shape:
            if not torch.isnan(got[0]):
                raise CheckFailure("Unit 0 fires on only 3 of 200 inputs (less than min_active); return nan for it.")
            acts, concepts = cases[-1]["acts"], cases[-1]["concepts"]
            if (got.shape == want.shape == (acts.shape[1],) and not matches(got, want)
                    and matches(got, unclamped(acts, concepts, 0.05))):
                raise CheckFailure(f"`concept_purity` used the negative activations as they are {ctx}: negative "
                                   "values cancel positive mass, so shares can leave [0, 1]. Clamp the activations "
                                   "to 0 first (`acts.clamp_min(0)`), as the text says.")
        expect_close("concept_purity(...)", got, want, context=ctx,
                     hint="For each unit: activation mass on each concept (acts.T @ concepts), divided by the unit's "
                          "total activation; take the max over concepts.")

    n_checked = compare_functions("concept_purity", student_fn, ref.concept_purity, cases, compare=compare,
                                  contract=TENSOR)
    passed(f"concept_purity matches the reference on {n_checked} inputs")


# ---------------------------------------------------------------------------------------------------------------
# Checks of results


def check_toy_recovery_result(mmcs: float | torch.Tensor, learned: torch.Tensor | None = None,
                              true: torch.Tensor | None = None, threshold: float = 0.9) -> None:
    """An SAE on the toy model's hidden activations recovers its features: MMCS >= 0.9.

    Args:
        mmcs: The mean max cosine similarity the student computed.
        learned: ``[n_learned, d]`` the SAE's decoder rows it was computed on, and
        true: ``[n_true, d]`` the true features: with both, ``mmcs`` must be the reference's value on them
            (a mean of cosines, never above 1), and the claim is tested on that value.
        threshold: The MMCS the claim needs.
    """
    value = float(mmcs)
    back = " The number comes from your `mean_max_cosine_similarity`: go back to Exercise 6.5."
    expect(value <= 1 + 1e-5, f"Mean max cosine similarity is {value:.3f}, above 1: a cosine never exceeds 1. "
                              "Normalise both sets of rows." + back)
    if learned is not None and true is not None:
        want = float(ref.mean_max_cosine_similarity(learned.detach().cpu(), true.detach().cpu()))
        expect(abs(value - want) < 1e-4, f"Mean max cosine similarity is {value:.3f}; on the same decoder and true "
                                         f"features it is {want:.3f}." + back)
    expect(value >= threshold, f"Mean max cosine similarity is {value:.3f}; the SAE should recover the toy model's "
                               f"features with {threshold} or more. The number comes from your "
                               "`mean_max_cosine_similarity`: go back to Exercise 6.5 if it looks wrong.")
    passed(f"the SAE recovers the ground-truth features: MMCS = {value:.3f}")


def check_l0_falls_result(l1_coeffs, l0) -> None:
    """L0 falls as the L1 coefficient rises."""
    c = torch.as_tensor(l1_coeffs, dtype=torch.float32)
    v = torch.as_tensor(l0, dtype=torch.float32)[c.argsort()]
    expect(bool((v[1:] <= v[:-1] + 0.05).all()) and v[-1] < v[0],
           f"L0 should fall as the L1 coefficient rises; L0 by increasing coefficient: {v.tolist()}.")
    passed(f"L0 falls from {v[0]:.2f} to {v[-1]:.2f} as the L1 coefficient rises")


def check_monosemanticity_result(neuron_purity: torch.Tensor, latent_purity: torch.Tensor, margin: float = 0.1) -> None:
    """SAE latents are more monosemantic than neurons: mean purity higher by ``margin`` or more."""
    n = neuron_purity[~neuron_purity.isnan()]
    s = latent_purity[~latent_purity.isnan()]
    expect(len(s) >= 5, f"Only {len(s)} SAE latents are active often enough to score; expected 5 or more.")
    expect(s.mean() >= n.mean() + margin,
           f"Mean purity of SAE latents {s.mean():.3f} is not above the neurons' {n.mean():.3f} by {margin}. "
           "Both come from your `concept_purity`: go back to Exercise 6.7 if they look wrong.")
    passed(f"SAE latents are purer than neurons: {s.mean():.2f} vs {n.mean():.2f} ({len(s)} latents, {len(n)} neurons)")
