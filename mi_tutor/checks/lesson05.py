"""Checks for lesson 5 (superposition): each compares a student's function with ``mi_tutor.superposition``.

Every ``check_*`` raises :class:`~mi_tutor.checks.core.CheckFailure` with a
message a student can act on, and prints one line on success.

Examples:
    >>> from mi_tutor.superposition import toy_forward
    >>> check_toy_forward(toy_forward)
    ✓ toy_forward matches the reference on 4 inputs
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from .. import superposition as ref
from .contracts import compare_functions
from .core import CheckFailure, call_student, expect, expect_close, expect_tensor_like, expect_type, passed

__all__ = [
    "check_generate_batch",
    "check_toy_forward",
    "check_importance_weighted_loss",
    "check_feature_dimensionality",
    "check_dimensions_per_feature",
    "check_classify_phase",
    "check_neuron_feature_counts",
    "check_pentagon_result",
    "check_sticky_dimensionality_result",
    "check_phase_diagram_result",
    "check_polysemantic_counts_result",
]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def check_generate_batch(student_fn: Callable, seed: int = 0, n_instances: int = 3, n_features: int = 5) -> None:
    """``generate_batch(n_batch, feature_probability)`` -> ``[n_batch, n_instances, n_features]``, checked statistically."""
    g = _gen(seed)
    p = torch.rand(n_instances, n_features, generator=g) * 0.8 + 0.1
    p[0] = 1.0                                                     # one dense instance
    n_batch = 20_000
    x = call_student("generate_batch", student_fn, n_batch, p.clone())
    want = torch.empty(n_batch, n_instances, n_features)
    expect_tensor_like("generate_batch(...)", x, want)
    expect(x.is_floating_point(), f"`generate_batch` returned dtype {x.dtype}; features are floats in [0, 1].")
    expect(bool((x >= 0).all() and (x <= 1).all()),
           f"Your features range from {x.min():.3g} to {x.max():.3g}; they should lie in [0, 1] "
           "(torch.rand draws from U[0, 1]).")
    on = (x > 0).float().mean(0)                                   # [i, f]
    tol = 5 * torch.sqrt(p * (1 - p) / n_batch) + 2e-3
    worst = ((on - p).abs() - tol).argmax()
    i, f = divmod(int(worst), n_features)
    expect(bool(((on - p).abs() <= tol).all()),
           f"Feature {f} of instance {i} is non-zero in {on[i, f]:.3f} of the batch but its probability is "
           f"{p[i, f]:.3f}. Keep a value where `rand < p` (not `rand > p`) and use the probability of its own "
           "instance and feature (broadcast p of shape [n_instances, n_features] against the batch).")
    nonzero = x[x > 0]
    expect(abs(nonzero.mean().item() - 0.5) < 0.02 and nonzero.std().item() > 0.25,
           f"The non-zero values have mean {nonzero.mean():.3f} and std {nonzero.std():.3f}; a U[0, 1] value "
           "has mean 0.5 and std 0.29. Are you returning the mask instead of the values, or reusing one number?")
    masks = (x[:, 1:] > 0).float().flatten(1)
    corr = torch.corrcoef(masks.T).nan_to_num(0) - torch.eye(masks.shape[1])
    expect(corr.abs().max().item() < 0.1,
           "Different features (or instances) switch on together: draw an independent random number for every "
           "batch element, instance and feature, not one per row.")
    passed(f"generate_batch gives the right shape, sparsity per instance and U[0, 1] values ({n_batch} samples)")


def _toy_compare(got: object, want: torch.Tensor, ctx: str, case: dict) -> None:
    expect_type("toy_forward(...)", got, torch.Tensor)
    W, b, x = case["W"], case["b"], case["x"]
    hidden = torch.einsum("bif,ifh->bih", x, W)
    pre = torch.einsum("bih,ifh->bif", hidden, W) + b
    if isinstance(got, torch.Tensor) and got.shape == want.shape:
        if torch.allclose(got.detach().cpu(), pre, atol=1e-5):
            raise CheckFailure("Your output has negative entries where the reference has 0: did you forget the "
                               "final ReLU?")
        if torch.allclose(got.detach().cpu(), torch.relu(pre - b), atol=1e-5):
            raise CheckFailure("Your output matches ReLU(W^T W x) without the bias: add `b` before the ReLU.")
    expect_close("toy_forward(...)", got, want, context=ctx,
                 hint="hidden = einsum('bif,ifh->bih', x, W); out = ReLU(einsum('bih,ifh->bif', hidden, W) + b).")


def check_toy_forward(student_fn: Callable, seed: int = 0, batch: int = 7) -> None:
    """``toy_forward(W, b, x)`` against :func:`mi_tutor.superposition.toy_forward`."""
    g = _gen(seed)
    cases = []
    for n_i, n_f, d in [(1, 5, 2), (3, 5, 2), (2, 6, 3), (4, 20, 5)]:
        cases.append({"W": torch.randn(n_i, n_f, d, generator=g), "b": torch.randn(n_i, n_f, generator=g) * 0.3,
                      "x": torch.rand(batch, n_i, n_f, generator=g)})
    for case in cases:
        compare_functions("toy_forward", student_fn, ref.toy_forward, [case],
                          compare=lambda got, want, ctx, case=case: _toy_compare(got, want, ctx, case))
    passed(f"toy_forward matches the reference on {len(cases)} inputs")


def check_importance_weighted_loss(student_fn: Callable, seed: int = 0, batch: int = 16) -> None:
    """``importance_weighted_loss(x, x_hat, importance)`` -> ``[n_instances]``."""
    g = _gen(seed)
    cases = []
    for n_i, n_f in [(1, 5), (3, 5), (4, 7)]:
        cases.append({"x": torch.rand(batch, n_i, n_f, generator=g), "x_hat": torch.rand(batch, n_i, n_f, generator=g),
                      "importance": torch.rand(n_i, n_f, generator=g) + 0.1})

    def compare(got, want, ctx, case):
        expect_type("importance_weighted_loss(...)", got, torch.Tensor)
        err = (case["x"] - case["x_hat"]) ** 2
        if isinstance(got, torch.Tensor) and got.shape == want.shape:
            if torch.allclose(got, err.mean(dim=(0, 2)), atol=1e-6):
                raise CheckFailure("Your loss ignores the importances: multiply each squared error by I[i, f].")
            if torch.allclose(got, (case["importance"] * err).sum(dim=(0, 2)), atol=1e-5):
                raise CheckFailure("You summed over batch and features; take the mean over both (one number per "
                                   "instance, independent of the batch size).")
        if isinstance(got, torch.Tensor) and got.dim() == 0:
            raise CheckFailure("Your loss is a single number; return one loss per instance (shape [n_instances]): "
                               "reduce over the batch and feature axes only.")
        expect_close("importance_weighted_loss(...)", got, want, context=ctx)

    for case in cases:
        compare_functions("importance_weighted_loss", student_fn, ref.importance_weighted_loss, [case],
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"importance_weighted_loss matches the reference on {len(cases)} inputs")


def _regular_polygon(k: int) -> torch.Tensor:
    angles = torch.arange(k) * 2 * math.pi / k
    return torch.stack([angles.cos(), angles.sin()], -1)


def check_feature_dimensionality(student_fn: Callable, seed: int = 0) -> None:
    """``feature_dimensionality(W)`` for ``W`` ``[..., n_features, d_hidden]`` -> ``[..., n_features]``."""
    g = _gen(seed)
    pair_and_zero = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    cases = [{"W": _regular_polygon(5)}, {"W": pair_and_zero}, {"W": torch.randn(3, 8, 3, generator=g)},
             {"W": torch.randn(2, 2, 10, 4, generator=g)}]

    def compare(got, want, ctx):
        expect_type("feature_dimensionality(...)", got, torch.Tensor)
        if isinstance(got, torch.Tensor) and got.shape == want.shape and torch.isnan(got).any():
            raise CheckFailure("Your result has NaN: a feature with W_j = 0 divides 0 by 0. Clamp the norm "
                               "(e.g. `.clamp_min(1e-6)`) when you normalise, so unlearned features get 0.")
        expect_close("feature_dimensionality(...)", got, want, context=ctx, atol=1e-4,
                     hint="D_j = ||W_j||^2 / sum_k (W_j_hat . W_k)^2: normalise only the first factor, square "
                          "each dot product, and include k = j in the sum. A pentagon gives 0.4 each.")

    n = compare_functions("feature_dimensionality", student_fn, ref.feature_dimensionality, cases, compare=compare)
    passed(f"feature_dimensionality matches the reference on {n} inputs (pentagon -> 2/5, pair -> 1/2)")


def check_dimensions_per_feature(student_fn: Callable, seed: int = 0) -> None:
    """``dimensions_per_feature(W)``: ``[..., n_features, d_hidden]`` -> ``[...]``."""
    g = _gen(seed)
    cases = [{"W": _regular_polygon(5)}, {"W": torch.randn(6, 10, 4, generator=g)},
             {"W": torch.randn(2, 3, 7, 2, generator=g)}]

    def compare(got, want, ctx):
        expect_type("dimensions_per_feature(...)", got, torch.Tensor)
        if isinstance(got, torch.Tensor) and got.shape != want.shape:
            raise CheckFailure(f"`dimensions_per_feature(...)` has shape {tuple(got.shape)} but should have "
                               f"{tuple(want.shape)} {ctx}: one number per instance; sum the squares over the "
                               "last two axes (features and hidden) only.")
        expect_close("dimensions_per_feature(...)", got, want, context=ctx,
                     hint="D* = d_hidden / ||W||_F^2, with d_hidden = W.shape[-1].")

    n = compare_functions("dimensions_per_feature", student_fn, ref.dimensions_per_feature, cases, compare=compare)
    passed(f"dimensions_per_feature matches the reference on {n} inputs")


def check_classify_phase(student_fn: Callable, seed: int = 0, n: int = 40) -> None:
    """``classify_phase(W)`` for ``W`` ``[..., 2, 1]`` -> ``[...]`` long codes 0, 1, 2 (or -1)."""
    g = _gen(seed)
    base = torch.tensor([[[1.0], [0.0]], [[0.0], [1.0]], [[1.0], [-1.0]], [[-0.9], [1.1]], [[0.05], [0.02]],
                         [[1.0], [1.0]], [[-1.2], [0.1]], [[0.0], [-0.8]]])
    rand = torch.randn(n, 2, 1, generator=g)
    cases = [{"W": base}, {"W": rand}, {"W": rand.reshape(n // 4, 4, 2, 1)}]

    def compare(got, want, ctx):
        expect_tensor_like("classify_phase(...)", got, want)
        expect(got.dtype == torch.long, f"`classify_phase` returned dtype {got.dtype}; return integer codes "
                                        "(`torch.long`).")
        bad = (got != want).nonzero()
        if len(bad):
            idx = tuple(int(v) for v in bad[0])
            raise CheckFailure(
                f"`classify_phase` gives {int(got[idx])} where the answer is {int(want[idx])} {ctx} (at index {idx}). "
                "A feature is learned when |W_j| >= 0.5; not learned = only feature 0 learned, dedicated = only "
                "feature 1, antipodal = both with opposite signs, -1 otherwise.")

    n_checked = compare_functions("classify_phase", student_fn, ref.classify_phase, cases, compare=compare)
    passed(f"classify_phase agrees with the reference on {n_checked} inputs")


def check_neuron_feature_counts(student_fn: Callable, seed: int = 0) -> None:
    """``neuron_feature_counts(W, threshold)`` -> ``[..., d_hidden]`` counts of features with ``W >= threshold``."""
    g = _gen(seed)
    cases = [{"W": torch.tensor([[1.0, 0.0], [0.9, -0.7], [0.0, 1.0]]), "threshold": 0.5},
             {"W": torch.randn(3, 10, 5, generator=g), "threshold": 0.5},
             {"W": torch.randn(2, 8, 4, generator=g), "threshold": 1.0}]

    def compare(got, want, ctx):
        expect_tensor_like("neuron_feature_counts(...)", got, want)
        if torch.equal(got, want):
            return
        raise CheckFailure(
            f"`neuron_feature_counts` gives {got.tolist()} but the answer is {want.tolist()} {ctx}. Count, for each "
            "neuron (last axis), the features (axis -2) whose weight is >= threshold; a negative weight only "
            "silences the neuron, so do not take the absolute value.")

    n = compare_functions("neuron_feature_counts", student_fn, ref.neuron_feature_counts, cases, compare=compare)
    passed(f"neuron_feature_counts matches the reference on {n} inputs")


# ---------------------------------------------------------------------------------------------------------------
# Checks of results (the numbers behind the lesson's figures)


def check_pentagon_result(W: torch.Tensor, feature_probability: torch.Tensor) -> None:
    """5 features in 2 dimensions: the densest instance keeps 2 orthogonal features, the sparsest a pentagon."""
    W = W.detach().cpu()
    p = torch.as_tensor(feature_probability).detach().cpu().reshape(-1)
    expect(W.shape[-2:] == (5, 2), f"Expected W of shape (n_instances, 5, 2), got {tuple(W.shape)}.")
    dense, sparse = W[p.argmax()], W[p.argmin()]
    norms = dense.norm(dim=-1)
    kept = (norms > 0.5).nonzero().flatten().tolist()
    expect(len(kept) == 2, f"The dense instance keeps {len(kept)} features (norms {norms.tolist()}); expected 2.")
    cos = torch.nn.functional.cosine_similarity(dense[kept[0]], dense[kept[1]], dim=0).item()
    expect(abs(cos) < 0.2, f"The two kept features are not orthogonal (cosine {cos:.2f}).")
    snorms = sparse.norm(dim=-1)
    expect(bool(((snorms - 1).abs() < 0.25).all()),
           f"At p={p.min():.3g} every feature should have norm near 1; norms are {snorms.round(decimals=2).tolist()}.")
    dims = ref.feature_dimensionality(sparse)
    expect(bool(((dims - 0.4).abs() < 0.06).all()),
           f"On a pentagon every feature has dimensionality 2/5; got {dims.round(decimals=3).tolist()}.")
    passed(f"dense: features {kept} kept, orthogonal; sparse: a pentagon (norms ~1, dimensionality ~2/5)")


def check_sticky_dimensionality_result(dims_per_feature: torch.Tensor, feature_probability: torch.Tensor) -> None:
    """The dimensions-per-feature curve sits near 1 when dense and has a plateau near 1/2."""
    d = torch.as_tensor(dims_per_feature).detach().cpu().reshape(-1)
    p = torch.as_tensor(feature_probability).detach().cpu().reshape(-1)
    order = p.argsort(descending=True)
    d = d[order]
    near_one = ((d - 1).abs() < 0.05).sum().item()
    near_half = ((d - 0.5).abs() < 0.05).sum().item()
    back = " The numbers come from your `dimensions_per_feature`: go back to Exercise 5.5."
    expect(near_one >= 2, f"Only {near_one} instances have dimensions per feature within 0.05 of 1; the dense end "
                          "should stick at 1." + back)
    expect(near_half >= 3, f"Only {near_half} instances sit within 0.05 of 1/2; expected a plateau of 3 or more."
           + back)
    expect(bool((d[1:] <= d[:-1] + 0.05).all()), "Dimensions per feature should fall (roughly) as sparsity rises."
           + back)
    passed(f"dimensions per feature stick at 1 ({near_one} instances) and at 1/2 ({near_half} instances)")


def check_phase_diagram_result(phases: torch.Tensor, importances: torch.Tensor, densities: torch.Tensor) -> None:
    """Three regions in the right places: not learned (dense, extra feature unimportant), dedicated (dense,
    important), antipodal (sparse)."""
    ph = torch.as_tensor(phases).cpu()
    imp = torch.as_tensor(importances).cpu()
    den = torch.as_tensor(densities).cpu()
    counts = {name: int((ph == code).sum()) for code, name in ref.PHASE_NAMES.items() if code >= 0}
    back = " The phases are labelled by your `classify_phase`: go back to Exercise 5.6."
    expect(all(v >= 3 for v in counts.values()), f"Each phase should cover several grid points; counts: {counts}."
           + back)
    dense = den >= 0.5
    sparse = den <= 0.05
    low, high = imp < 0.5, imp > 2
    expect(bool((ph[low][:, dense] == ref.NOT_LEARNED).float().mean() > 0.7),
           "Dense data with an unimportant extra feature should leave it not learned." + back)
    expect(bool((ph[high][:, dense] == ref.DEDICATED).float().mean() > 0.7),
           "Dense data with an important extra feature should give it the dimension." + back)
    expect(bool((ph[:, sparse] == ref.ANTIPODAL).float().mean() > 0.7),
           "Sparse data should put both features in an antipodal pair." + back)
    passed(f"three phases in their places: {counts}")


def check_polysemantic_counts_result(counts: torch.Tensor, feature_probability: torch.Tensor) -> None:
    """Polysemantic neurons (counted per instance) become common as the data gets sparse."""
    c = torch.as_tensor(counts).cpu().reshape(-1)
    p = torch.as_tensor(feature_probability).cpu().reshape(-1)
    dense, sparse = int(c[p.argmax()]), int(c[p.argmin()])
    back = " The counts come from your `neuron_feature_counts`: go back to Exercise 5.7."
    expect(sparse >= 3, f"The sparsest model has {sparse} polysemantic neurons; expected 3 or more." + back)
    expect(sparse > dense, f"The sparsest model has {sparse} polysemantic neurons and the densest {dense}; "
                           "sparsity should make them more common." + back)
    passed(f"polysemantic neurons: {dense} at p={p.max():.2g}, {sparse} at p={p.min():.2g}")
