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
from collections.abc import Callable, Mapping

import torch

from .. import superposition as ref
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, expect_tensor_like, passed
from .mistakes import Mistake, expect_close_or_named, matches

__all__ = [
    "CONTRACTS",
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


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every call.
# Every exercise returns a new tensor and leaves its arguments as they were. Training differentiates through
# the forward pass and minimises the loss, so their gradient must reach the weights (W, b) and the
# reconstruction (x_hat): no torch.no_grad(), .detach() or .item() on the way.
TENSOR = Contract(returns=torch.Tensor)
TRAINED = Contract(returns=torch.Tensor, gradient="flows")
CONTRACTS = {"generate_batch": TENSOR, "toy_forward": TRAINED, "importance_weighted_loss": TRAINED,
             "feature_dimensionality": TENSOR, "dimensions_per_feature": TENSOR, "classify_phase": TENSOR,
             "neuron_feature_counts": TENSOR}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _with_gradient(case: Mapping[str, torch.Tensor], keys: tuple[str, ...]) -> tuple[dict, list[torch.Tensor]]:
    """A copy of ``case`` whose ``keys`` are leaves that require grad, and those leaves (for ``grad_to``)."""
    given = {k: v.detach().clone().requires_grad_(k in keys) if isinstance(v, torch.Tensor) else v
             for k, v in case.items()}
    return given, [given[k] for k in keys]


def check_generate_batch(student_fn: Callable, seed: int = 0, n_instances: int = 3, n_features: int = 5) -> None:
    """``generate_batch(n_batch, feature_probability)`` -> ``[n_batch, n_instances, n_features]``, checked statistically."""
    g = _gen(seed)
    p = torch.rand(n_instances, n_features, generator=g) * 0.8 + 0.1
    p[0] = 1.0                                                     # one dense instance
    n_batch = 20_000
    x = check_contract("generate_batch", student_fn, TENSOR, n_batch, p.clone(),
                       context=f"with n_batch={n_batch} and feature_probability of shape {tuple(p.shape)}")
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


def _toy_compare(got: torch.Tensor, want: torch.Tensor, ctx: str, case: Mapping[str, torch.Tensor]) -> None:
    W, b, x = (case[k].detach() for k in ("W", "b", "x"))
    hidden = torch.einsum("bif,ifh->bih", x, W)
    pre = torch.einsum("bih,ifh->bif", hidden, W) + b
    if got.shape == want.shape:
        if matches(got, pre):
            raise CheckFailure("Your output has negative entries where the reference has 0: did you forget the "
                               "final ReLU?")
        if matches(got, torch.relu(pre - b)):
            raise CheckFailure("Your output matches ReLU(W^T W x) without the bias: add `b` before the ReLU.")
        if matches(got, torch.relu(pre - b) + b):
            raise CheckFailure(f"Your output is ReLU(W^T W x) + b {ctx}: the bias goes *inside* the ReLU, "
                               "ReLU(W^T W x + b), so that a negative bias can filter out small interference.")
    expect_close("toy_forward(...)", got, want, context=ctx,
                 hint="hidden = einsum('bif,ifh->bih', x, W); out = ReLU(einsum('bih,ifh->bif', hidden, W) + b).")


def check_toy_forward(student_fn: Callable, seed: int = 0, batch: int = 7) -> None:
    """``toy_forward(W, b, x)`` against :func:`mi_tutor.superposition.toy_forward`; gradient to ``W``, ``b``."""
    g = _gen(seed)
    cases = []
    for n_i, n_f, d in [(1, 5, 2), (3, 5, 2), (2, 6, 3), (4, 20, 5)]:
        cases.append({"W": torch.randn(n_i, n_f, d, generator=g), "b": torch.randn(n_i, n_f, generator=g) * 0.3,
                      "x": torch.rand(batch, n_i, n_f, generator=g)})
    for case in cases:
        given, leaves = _with_gradient(case, ("W", "b"))
        ctx = f"with W {tuple(case['W'].shape)}, b {tuple(case['b'].shape)} and x {tuple(case['x'].shape)}"
        want = ref.toy_forward(*case.values())
        check_contract("toy_forward", student_fn, TRAINED, *given.values(), context=ctx, grad_to=leaves,
                       compare=lambda got, want=want, ctx=ctx, case=case: _toy_compare(got, want, ctx, case))
    passed(f"toy_forward matches the reference on {len(cases)} inputs")


def check_importance_weighted_loss(student_fn: Callable, seed: int = 0, batch: int = 16) -> None:
    """``importance_weighted_loss(x, x_hat, importance)`` -> ``[n_instances]``; the gradient must reach ``x_hat``."""
    g = _gen(seed)
    cases = []
    for n_i, n_f in [(1, 5), (3, 5), (4, 7)]:
        cases.append({"x": torch.rand(batch, n_i, n_f, generator=g), "x_hat": torch.rand(batch, n_i, n_f, generator=g),
                      "importance": torch.rand(n_i, n_f, generator=g) + 0.1})

    def compare(got, want, ctx, case):
        err = (case["x"] - case["x_hat"]) ** 2
        if got.dim() == 0:
            raise CheckFailure("Your loss is a single number; return one loss per instance (shape [n_instances]): "
                               "reduce over the batch and feature axes only.")
        if got.shape == want.shape:
            if matches(got, err.mean(dim=(0, 2)), atol=1e-6):
                raise CheckFailure("Your loss ignores the importances: multiply each squared error by I[i, f].")
            if matches(got, (case["importance"] * err).sum(dim=(0, 2))):
                raise CheckFailure("You summed over batch and features; take the mean over both (one number per "
                                   "instance, independent of the batch size).")
            if matches(got, (case["importance"] * err).sum(-1).mean(0)):
                raise CheckFailure(f"Your loss sums over the features and averages over the batch {ctx}: the text "
                                   "takes the mean over both (`.mean(dim=(0, 2))`), so it is not n_features times "
                                   "larger.")
        expect_close("importance_weighted_loss(...)", got, want, context=ctx)

    for case in cases:
        given, leaves = _with_gradient(case, ("x_hat",))
        ctx = f"with x {tuple(case['x'].shape)} and importance {tuple(case['importance'].shape)}"
        want = ref.importance_weighted_loss(*case.values())
        check_contract("importance_weighted_loss", student_fn, TRAINED, *given.values(), context=ctx, grad_to=leaves,
                       compare=lambda got, want=want, ctx=ctx, case=case: compare(got, want, ctx, case))
    passed(f"importance_weighted_loss matches the reference on {len(cases)} inputs")


def _regular_polygon(k: int) -> torch.Tensor:
    angles = torch.arange(k) * 2 * math.pi / k
    return torch.stack([angles.cos(), angles.sin()], -1)


def _dimensionality_mistakes(W: torch.Tensor) -> list[Mistake]:
    """The feature dimensionalities plausible mistakes give, each with the sentence that names it."""
    norms = W.norm(dim=-1, keepdim=True)
    W_hat = W / norms.clamp_min(1e-6)
    dots = W_hat @ W.mT
    sq = norms.squeeze(-1) ** 2
    self_term = torch.diagonal(dots, dim1=-2, dim2=-1) ** 2
    return [
        (sq / ((W_hat @ W_hat.mT) ** 2).sum(-1).clamp_min(1e-12),
         "You normalised both factors: the sum is over (W_j_hat . W_k)^2, with W_k as it is (not a unit vector), "
         "so a short feature counts less."),
        (sq / ((dots ** 2).sum(-1) - self_term).clamp_min(1e-12),
         "Your sum leaves out k = j: the denominator includes the feature's own term (W_j_hat . W_j)^2 = ||W_j||^2."),
        (sq / dots.sum(-1).clamp_min(1e-12),
         "You did not square the dot products: the denominator is sum_k (W_j_hat . W_k)^2."),
    ]


def check_feature_dimensionality(student_fn: Callable, seed: int = 0) -> None:
    """``feature_dimensionality(W)`` for ``W`` ``[..., n_features, d_hidden]`` -> ``[..., n_features]``."""
    g = _gen(seed)
    pair_and_zero = torch.tensor([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    cases = [{"W": _regular_polygon(5)}, {"W": pair_and_zero}, {"W": torch.randn(3, 8, 3, generator=g)},
             {"W": torch.randn(2, 2, 10, 4, generator=g)}]

    def compare(got, want, ctx, case):
        if got.shape == want.shape and torch.isnan(got).any():
            raise CheckFailure("Your result has NaN: a feature with W_j = 0 divides 0 by 0. Clamp the norm "
                               "(e.g. `.clamp_min(1e-6)`) when you normalise, so unlearned features get 0.")
        expect_close_or_named(
            "feature_dimensionality(...)", got, want, mistakes=_dimensionality_mistakes(case["W"]), context=ctx,
            atol=1e-4, hint="D_j = ||W_j||^2 / sum_k (W_j_hat . W_k)^2: normalise only the first factor, square "
                            "each dot product, and include k = j in the sum. A pentagon gives 0.4 each.")

    for case in cases:
        compare_functions("feature_dimensionality", student_fn, ref.feature_dimensionality, [case], contract=TENSOR,
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"feature_dimensionality matches the reference on {len(cases)} inputs (pentagon -> 2/5, pair -> 1/2)")


def check_dimensions_per_feature(student_fn: Callable, seed: int = 0) -> None:
    """``dimensions_per_feature(W)``: ``[..., n_features, d_hidden]`` -> ``[...]``."""
    g = _gen(seed)
    cases = [{"W": _regular_polygon(5)}, {"W": torch.randn(6, 10, 4, generator=g)},
             {"W": torch.randn(2, 3, 7, 2, generator=g)}]

    def compare(got, want, ctx, case):
        if got.shape != want.shape:
            raise CheckFailure(f"`dimensions_per_feature(...)` has shape {tuple(got.shape)} but should have "
                               f"{tuple(want.shape)} {ctx}: one number per instance; sum the squares over the "
                               "last two axes (features and hidden) only.")
        W = case["W"]
        frob = (W ** 2).sum(dim=(-2, -1))
        expect_close_or_named("dimensions_per_feature(...)", got, want, context=ctx, mistakes=[
            (W.shape[-2] / frob, f"You divided the number of features (W.shape[-2] = {W.shape[-2]}) by ||W||_F^2: "
                                 f"the numerator is m, the number of hidden dimensions, W.shape[-1] = {W.shape[-1]}."),
            (frob / W.shape[-1], "Your ratio is upside down: D* = m / ||W||_F^2, hidden dimensions per stored "
                                 "feature."),
        ], hint="D* = d_hidden / ||W||_F^2, with d_hidden = W.shape[-1].")

    for case in cases:
        compare_functions("dimensions_per_feature", student_fn, ref.dimensions_per_feature, [case], contract=TENSOR,
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"dimensions_per_feature matches the reference on {len(cases)} inputs")


def _phase_variant(W: torch.Tensor, strict: bool = False, signed: bool = False) -> torch.Tensor:
    """classify_phase with a mistake: ``> 0.5`` instead of ``>= 0.5`` (``strict``), or ``W_j`` instead of ``|W_j|``."""
    w0, w1 = W[..., 0, 0], W[..., 1, 0]
    m0, m1 = (w0, w1) if signed else (w0.abs(), w1.abs())
    first, extra = (m0 > 0.5, m1 > 0.5) if strict else (m0 >= 0.5, m1 >= 0.5)
    phase = torch.full(w0.shape, -1, dtype=torch.long)
    phase[first & ~extra] = 0
    phase[~first & extra] = 1
    phase[first & extra & (w0 * w1 < 0)] = 2
    return phase


def check_classify_phase(student_fn: Callable, seed: int = 0, n: int = 40, at_threshold: bool = False) -> None:
    """``classify_phase(W)`` for ``W`` ``[..., 2, 1]`` -> ``[...]`` long codes 0, 1, 2 (or -1).

    Args:
        at_threshold: Add weights of exactly ±0.5 (learned: the text says ``>= 0.5``).
    """
    g = _gen(seed)
    base = torch.tensor([[[1.0], [0.0]], [[0.0], [1.0]], [[1.0], [-1.0]], [[-0.9], [1.1]], [[0.05], [0.02]],
                         [[1.0], [1.0]], [[-1.2], [0.1]], [[0.0], [-0.8]]])
    rand = torch.randn(n, 2, 1, generator=g)
    cases = [{"W": base}, {"W": rand}, {"W": rand.reshape(n // 4, 4, 2, 1)}]
    if at_threshold:
        cases.append({"W": torch.tensor([[[0.5], [0.0]], [[0.1], [-0.5]], [[-0.5], [0.5]], [[0.5], [0.49]],
                                         [[0.2], [0.5]], [[0.5], [-0.7]]])})

    def compare(got, want, ctx, case):
        expect_tensor_like("classify_phase(...)", got, want)
        bad = (got != want).nonzero()
        if len(bad):
            idx = tuple(int(v) for v in bad[0])
            W = case["W"]
            named = ""
            if torch.equal(got.cpu(), _phase_variant(W, strict=True)):
                named = ("\nA weight of exactly 0.5 counts as learned: the text says |W_j| >= 0.5 (`>=`, not `>`).")
            elif torch.equal(got.cpu(), _phase_variant(W, signed=True)):
                named = ("\nYou compared the signed weight with 0.5: a feature with W_j = -0.9 is learned too. "
                         "Compare the magnitude, `W.abs() >= 0.5`.")
            raise CheckFailure(
                f"`classify_phase` gives {int(got[idx])} where the answer is {int(want[idx])} {ctx} (at index {idx}, "
                f"W = {W[idx].flatten().tolist()}). A feature is learned when |W_j| >= 0.5; not learned = only "
                f"feature 0 learned, dedicated = only feature 1, antipodal = both with opposite signs, -1 otherwise."
                + named)

    for case in cases:
        compare_functions("classify_phase", student_fn, ref.classify_phase, [case], contract=TENSOR,
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"classify_phase agrees with the reference on {len(cases)} inputs"
           + (" (weights of exactly ±0.5 among them)" if at_threshold else ""))


def check_neuron_feature_counts(student_fn: Callable, seed: int = 0, at_threshold: bool = False) -> None:
    """``neuron_feature_counts(W, threshold)`` -> ``[..., d_hidden]`` counts of features with ``W >= threshold``.

    Args:
        at_threshold: Add a case whose weights include the threshold itself (counted: ``>=``).
    """
    g = _gen(seed)
    cases = [{"W": torch.tensor([[1.0, 0.0], [0.9, -0.7], [0.0, 1.0]]), "threshold": 0.5},
             {"W": torch.randn(3, 10, 5, generator=g), "threshold": 0.5},
             {"W": torch.randn(2, 8, 4, generator=g), "threshold": 1.0}]
    if at_threshold:
        W = torch.randn(2, 6, 3, generator=g)
        W[0, :3, 0], W[1, 2, 1], W[1, 4, 2] = 0.5, 0.5, -0.5
        cases.append({"W": W, "threshold": 0.5})

    def compare(got, want, ctx, case):
        W, t = case["W"], case["threshold"]
        if got.shape != want.shape and got.shape == W.shape[:-1]:
            raise CheckFailure(f"`neuron_feature_counts` has shape {tuple(got.shape)} {ctx}: one count per "
                               f"*feature*. Count over the features axis (dim=-2) to get one per neuron, shape "
                               f"{tuple(want.shape)}.")
        expect_tensor_like("neuron_feature_counts(...)", got, want)
        if torch.equal(got, want):
            return
        named = ""
        if torch.equal(got.cpu(), (W.abs() >= t).sum(-2)):
            named = ("\nYou counted |W| >= threshold: a negative weight only silences the neuron (behind the hidden "
                     "ReLU), so it does not count. Compare W itself.")
        elif torch.equal(got.cpu(), (W > t).sum(-2)):
            named = "\nA weight equal to the threshold counts: the text says `>=`, not `>`."
        raise CheckFailure(
            f"`neuron_feature_counts` gives {got.tolist()} but the answer is {want.tolist()} {ctx}. Count, for each "
            "neuron (last axis), the features (axis -2) whose weight is >= threshold; a negative weight only "
            "silences the neuron, so do not take the absolute value." + named)

    for case in cases:
        compare_functions("neuron_feature_counts", student_fn, ref.neuron_feature_counts, [case], contract=TENSOR,
                          compare=lambda got, want, ctx, case=case: compare(got, want, ctx, case))
    passed(f"neuron_feature_counts matches the reference on {len(cases)} inputs"
           + (" (weights at the threshold among them)" if at_threshold else ""))


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


def check_polysemantic_counts_result(counts: torch.Tensor, feature_probability: torch.Tensor,
                                     W: torch.Tensor | None = None) -> None:
    """Polysemantic neurons (counted per instance) become common as the data gets sparse.

    Args:
        counts: ``[n_models]`` polysemantic neurons of each model.
        feature_probability: ``[n_models]`` its feature probability.
        W: ``[n_models, n_features, d_hidden]`` the weights they were counted on: the counts must be those of
            the reference on them, and the sparsest model must have most of its neurons polysemantic.
    """
    c = torch.as_tensor(counts).cpu().reshape(-1)
    p = torch.as_tensor(feature_probability).cpu().reshape(-1)
    back = " The counts come from your `neuron_feature_counts`: go back to Exercise 5.7."
    if W is not None:
        W = W.detach().cpu()
        want = (ref.neuron_feature_counts(W) >= 2).sum(-1)
        expect(c.tolist() == want.tolist(), f"Your polysemantic counts are {c.tolist()}; on the same weights, "
                                            f"neurons with 2 or more features (W >= 0.5) number {want.tolist()}."
                                            + back)
    by_sparsity = c[p.argsort(descending=True)]
    dense, sparse = int(by_sparsity[0]), int(by_sparsity[-1])
    expect(sparse >= 3, f"The sparsest model has {sparse} polysemantic neurons; expected 3 or more." + back)
    expect(sparse > dense, f"The sparsest model has {sparse} polysemantic neurons and the densest {dense}; "
                           "sparsity should make them more common." + back)
    expect(bool((by_sparsity[1:] >= by_sparsity[:-1]).all()),
           f"Polysemantic neurons by falling feature probability: {by_sparsity.tolist()}; they should not get rarer "
           "as the data gets sparser." + back)
    if W is not None:
        expect(2 * sparse > W.shape[-1], f"The sparsest model has {sparse} polysemantic neurons of {W.shape[-1]}; "
                                         "most of its neurons should carry several features." + back)
    passed(f"polysemantic neurons: {dense} at p={p.max():.2g}, {sparse} at p={p.min():.2g}")
