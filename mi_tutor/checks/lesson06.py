"""Checks for lesson 6 (dictionary learning): each compares a student's function with ``mi_tutor.dictionary``.

Examples:
    >>> from mi_tutor.dictionary import sae_decode
    >>> check_sae_decode(sae_decode)
    ✓ sae_decode matches the reference on 3 inputs
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import dictionary as ref
from .contracts import compare_functions
from .core import CheckFailure, expect, expect_close, expect_type, passed

__all__ = [
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


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _sae_params(g: torch.Generator, d_in: int, d_sae: int) -> dict[str, torch.Tensor]:
    W_dec = ref.normalize_rows(torch.randn(d_sae, d_in, generator=g))
    return {"W_enc": torch.randn(d_in, d_sae, generator=g) / d_in**0.5, "b_enc": torch.randn(d_sae, generator=g) * 0.2,
            "W_dec": W_dec, "b_dec": torch.randn(d_in, generator=g) * 0.5}


def check_sae_encode(student_fn: Callable, seed: int = 0, batch: int = 9) -> None:
    """``sae_encode(x, W_enc, b_enc, b_dec)`` -> ``[batch, d_sae]``."""
    g = _gen(seed)
    cases = []
    for d_in, d_sae in [(4, 8), (6, 24), (10, 5)]:
        prm = _sae_params(g, d_in, d_sae)
        cases.append({"x": torch.randn(batch, d_in, generator=g), "W_enc": prm["W_enc"], "b_enc": prm["b_enc"],
                      "b_dec": prm["b_dec"]})

    def compare(got, want, ctx, case):
        expect_type("sae_encode(...)", got, torch.Tensor)
        if isinstance(got, torch.Tensor) and got.shape == want.shape:
            no_center = torch.relu(case["x"] @ case["W_enc"] + case["b_enc"])
            if torch.allclose(got, no_center, atol=1e-5):
                raise CheckFailure("You did not subtract `b_dec` from x before encoding: f = ReLU((x - b_dec) W_enc + b_enc).")
            if (got < 0).any():
                raise CheckFailure("Your latents have negative values: apply the ReLU.")
        expect_close("sae_encode(...)", got, want, context=ctx)

    for case in cases:
        compare_functions("sae_encode", student_fn, ref.sae_encode, [case],
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"sae_encode matches the reference on {len(cases)} inputs")


def check_sae_decode(student_fn: Callable, seed: int = 0, batch: int = 9) -> None:
    """``sae_decode(f, W_dec, b_dec)`` -> ``[batch, d_in]``."""
    g = _gen(seed)
    cases = []
    for d_in, d_sae in [(4, 8), (6, 24), (10, 5)]:
        prm = _sae_params(g, d_in, d_sae)
        cases.append({"f": torch.relu(torch.randn(batch, d_sae, generator=g)), "W_dec": prm["W_dec"],
                      "b_dec": prm["b_dec"]})
    n = compare_functions("sae_decode", student_fn, ref.sae_decode, cases,
                          compare=lambda got, want, ctx: expect_close(
                              "sae_decode(...)", got, want, context=ctx,
                              hint="x_hat = f @ W_dec + b_dec (W_dec is [d_sae, d_in]; do not forget the bias)."))
    passed(f"sae_decode matches the reference on {n} inputs")


def check_sae_loss(student_fn: Callable, seed: int = 0, batch: int = 12) -> None:
    """``sae_loss(x, x_hat, f, W_dec, l1_coeff)`` -> ``(total, mse, l1)`` scalars."""
    g = _gen(seed)
    cases = []
    for d_in, d_sae, coeff in [(4, 8, 0.1), (6, 24, 0.03), (5, 10, 1.0)]:
        W_dec = torch.randn(d_sae, d_in, generator=g)        # deliberately not unit norm
        cases.append({"x": torch.randn(batch, d_in, generator=g), "x_hat": torch.randn(batch, d_in, generator=g),
                      "f": torch.relu(torch.randn(batch, d_sae, generator=g)), "W_dec": W_dec, "l1_coeff": coeff})

    def compare(got, want, ctx, case):
        expect(isinstance(got, tuple) and len(got) == 3,
               f"`sae_loss` should return a tuple (total, mse, l1) but returned {type(got).__name__}.")
        total, mse, l1 = got
        x, x_hat, f, W = case["x"], case["x_hat"], case["f"], case["W_dec"]
        if isinstance(mse, torch.Tensor) and mse.dim() == 0:
            if torch.isclose(mse, ((x - x_hat) ** 2).mean(), atol=1e-6):
                raise CheckFailure("Your mse averages over d_in too; sum the squared error over d_in and average "
                                   "over the batch only.")
        if isinstance(l1, torch.Tensor) and l1.dim() == 0:
            if torch.isclose(l1, f.sum(-1).mean(), atol=1e-5):
                raise CheckFailure("Your l1 ignores the decoder norms: weight each f_i by ||W_dec[i]|| (the norm of "
                                   "row i), or the SAE can shrink f and grow W_dec to cheat the penalty.")
        for name, a, b in (("mse", mse, want.mse), ("l1", l1, want.l1), ("total", total, want.total)):
            expect_close(f"sae_loss(...).{name}", a, b, context=ctx)

    for case in cases:
        compare_functions("sae_loss", student_fn, ref.sae_loss, [case],
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"sae_loss matches the reference (total, mse, l1) on {len(cases)} inputs")


def check_remove_parallel_component(student_fn: Callable, seed: int = 0) -> None:
    """``remove_parallel_component(grad, W)`` -> ``[n, d]`` orthogonal to each row of ``W``."""
    g = _gen(seed)
    cases = [{"grad": torch.randn(n, d, generator=g), "W": ref.normalize_rows(torch.randn(n, d, generator=g))}
             for n, d in [(3, 2), (16, 5), (8, 12)]]

    def compare(got, want, ctx):
        expect_type("remove_parallel_component(...)", got, torch.Tensor)
        expect_close("remove_parallel_component(...)", got, want, context=ctx,
                     hint="Subtract, for every row, (grad_i . W_i) W_i: a per-row dot product, keepdim=True.")

    n = compare_functions("remove_parallel_component", student_fn, ref.remove_parallel_component, cases,
                          compare=compare)
    passed(f"remove_parallel_component matches the reference on {n} inputs")


def check_fraction_variance_explained(student_fn: Callable, seed: int = 0, batch: int = 50) -> None:
    """``fraction_variance_explained(x, x_hat)`` -> scalar."""
    g = _gen(seed)
    cases = []
    for d in (3, 8):
        x = torch.randn(batch, d, generator=g) * 2 + 3        # non-zero mean on purpose
        cases.append({"x": x, "x_hat": x + 0.5 * torch.randn(batch, d, generator=g)})
        cases.append({"x": x, "x_hat": x.mean(0, keepdim=True).expand_as(x).clone()})

    def compare(got, want, ctx, case):
        expect_type("fraction_variance_explained(...)", got, torch.Tensor)
        x, x_hat = case["x"], case["x_hat"]
        uncentred = 1 - ((x - x_hat) ** 2).sum() / (x**2).sum()
        if isinstance(got, torch.Tensor) and got.dim() == 0 and torch.isclose(got, uncentred, atol=1e-5):
            raise CheckFailure("You divided by sum ||x||^2; the variance is measured around the mean: "
                               "sum ||x - mean(x)||^2 (mean over the batch, per dimension).")
        expect_close("fraction_variance_explained(...)", got, want, context=ctx,
                     hint="Outputting the batch mean should give exactly 0, a perfect reconstruction 1.")

    for case in cases:
        compare_functions("fraction_variance_explained", student_fn, ref.fraction_variance_explained, [case],
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"fraction_variance_explained matches the reference on {len(cases)} inputs")


def check_mean_max_cosine_similarity(student_fn: Callable, seed: int = 0) -> None:
    """``mean_max_cosine_similarity(learned, true)`` -> scalar."""
    g = _gen(seed)
    cases = [{"learned": torch.randn(n_l, d, generator=g) * 3, "true": torch.randn(n_t, d, generator=g)}
             for n_l, n_t, d in [(10, 4, 3), (5, 12, 6), (32, 16, 8)]]

    def compare(got, want, ctx, case):
        expect_type("mean_max_cosine_similarity(...)", got, torch.Tensor)
        a = ref.normalize_rows(case["learned"])
        b = ref.normalize_rows(case["true"])
        if isinstance(got, torch.Tensor) and got.dim() == 0:
            if torch.isclose(got, (b @ a.T).amax(0).mean(), atol=1e-5):
                raise CheckFailure("You took the max over true features for each learned direction; MMCS asks, for "
                                   "each TRUE feature, how well its best learned match fits (max over learned).")
            if torch.isclose(got, (case["true"] @ case["learned"].T).amax(-1).mean(), atol=1e-4):
                raise CheckFailure("Normalise both sets of vectors first: cosine similarity, not dot products.")
        expect_close("mean_max_cosine_similarity(...)", got, want, context=ctx)

    for case in cases:
        compare_functions("mean_max_cosine_similarity", student_fn, ref.mean_max_cosine_similarity, [case],
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
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
        expect_type("concept_purity(...)", got, torch.Tensor)
        if isinstance(got, torch.Tensor) and got.shape == want.shape:
            if not torch.isnan(got[0]):
                raise CheckFailure("Unit 0 fires on only 3 of 200 inputs (less than min_active); return nan for it.")
            acts, concepts = cases[-1]["acts"], cases[-1]["concepts"]
            if (got.shape == want.shape == (acts.shape[1],) and not torch.allclose(got, want, equal_nan=True)
                    and torch.allclose(got, unclamped(acts, concepts, 0.05), atol=1e-5, equal_nan=True)):
                raise CheckFailure(f"`concept_purity` used the negative activations as they are {ctx}: negative "
                                   "values cancel positive mass, so shares can leave [0, 1]. Clamp the activations "
                                   "to 0 first (`acts.clamp_min(0)`), as the text says.")
        expect_close("concept_purity(...)", got, want, context=ctx,
                     hint="For each unit: activation mass on each concept (acts.T @ concepts), divided by the unit's "
                          "total activation; take the max over concepts.")

    n_checked = compare_functions("concept_purity", student_fn, ref.concept_purity, cases, compare=compare)
    passed(f"concept_purity matches the reference on {n_checked} inputs")


# ---------------------------------------------------------------------------------------------------------------
# Checks of results


def check_toy_recovery_result(mmcs: float | torch.Tensor, threshold: float = 0.9) -> None:
    """An SAE on the toy model's hidden activations recovers its features: MMCS >= 0.9."""
    value = float(mmcs)
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
