"""Checks of lesson 11 (reading, steering and editing). Each ``check_*`` compares a student's function with
``mi_tutor.steering`` / ``mi_tutor.editing``'s on fresh inputs; the ``check_*_result`` ones check the lesson's
numbers (they carry no points).

Examples:
    >>> from mi_tutor.steering import mean_difference_vector
    >>> check_mean_difference(mean_difference_vector)
    ✓ mean_difference matches the reference on 3 pairs of activation sets
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from ..editing import rome
from ..steering import dola, reading
from ..transformer import HookedTransformer, TransformerConfig
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, call_student, expect, expect_close, expect_tensor_like, passed
from .mistakes import expect_close_or_named

__all__ = [
    "CONTRACTS", "check_mean_difference", "check_pca_direction", "check_reading_accuracy", "check_add_steering",
    "check_mass_mean_shift", "check_restore_hook", "check_mean_key", "check_rank_one_update",
    "check_js_divergence", "check_dola_contrast",
    "check_reading_result", "check_steering_result", "check_iti_result", "check_truth_iti_result",
    "check_tracing_result",
    "check_edit_result", "check_dola_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every case:
# the type of the result, and the arguments (activations, the model, W_out, C, key, value) left as they were.
# Nothing here is optimised through, so no exercise has a gradient rule.
TENSOR = Contract(returns=torch.Tensor)
FLOAT = Contract(returns=float)                      # 11.3: "a Python float"
HOOK = Contract(returns=Callable)                    # 11.6: a hook function (hook(act, hook) -> act)
CONTRACTS = {"mean_difference": TENSOR, "pca_direction": TENSOR, "reading_accuracy": FLOAT, "add_steering": TENSOR,
             "mass_mean_shift": TENSOR, "restore_hook": HOOK, "mean_key": TENSOR, "rank_one_update": TENSOR,
             "js_divergence": TENSOR, "dola_contrast": TENSOR}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _paired(seed: int, n: int, d: int, shift: float = 2.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Paired activations: neg = pos minus a concept direction (with noise) plus a shared offset."""
    g = _gen(seed)
    direction = torch.randn(d, generator=g)
    direction = direction / direction.norm()
    base = torch.randn(n, d, generator=g) + 3.0 * torch.randn(d, generator=g)
    pos = base + shift * direction * (1 + 0.3 * torch.rand(n, 1, generator=g))
    neg = base - 0.1 * torch.randn(n, d, generator=g)
    return pos, neg


# ------------------------------------------------------------------ exercise 1
def check_mean_difference(student_fn: Callable, seed: int = 0, n: int = 12, d: int = 16) -> None:
    """Exercise 11.1: ``mean_difference(pos_acts, neg_acts)`` -> unit ``[d_model]``."""
    cases = []
    for i in range(3):
        pos, neg = _paired(seed + i, n + 5 * i, d)
        if i == 2:  # unpaired sizes: a mean difference does not need pairs
            neg = neg[: n // 2]
        cases.append({"pos_acts": pos, "neg_acts": neg})

    def compare(got, want, ctx):
        expect_tensor_like("mean_difference(...)", got, want, check_device=False)
        g = got.detach().double()
        expect(abs(float(g.norm()) - 1) < 1e-4, f"`mean_difference` returned a vector of norm {float(g.norm()):.4g} "
               f"{ctx}: divide by its norm so directions of different layers compare.")
        expect_close_or_named("mean_difference(...)", got, want, atol=1e-4, context=ctx,
                              mistakes=[(-want, "Your direction points the wrong way: it should be positive minus "
                                                "negative.")],
                              hint="take the mean over the batch axis of each group, subtract, then normalise.")
    n_cases = compare_functions("mean_difference", student_fn, reading.mean_difference_vector, cases, compare=compare,
                                contract=TENSOR)
    passed(f"mean_difference matches the reference on {n_cases} pairs of activation sets")


# ------------------------------------------------------------------ exercise 2
def check_pca_direction(student_fn: Callable, seed: int = 0, n: int = 20, d: int = 12) -> None:
    """Exercise 11.2: ``pca_direction(pos_acts, neg_acts)`` -> unit ``[d_model]``, first PC of the paired
    differences with every second one negated, recentred, signed so positives project higher."""
    cases = []
    for i in range(3):
        pos, neg = _paired(seed + 10 + i, n + 7 * i, d, shift=1.0 + i)
        if i >= 1:  # pairs that also vary along a second axis: recentring without the flips finds that axis
            g = _gen(seed + 99 + i)
            w = torch.randn(d, generator=g)
            pos = pos + 0.5 * torch.randn(pos.shape[0], 1, generator=g) * w / w.norm()
        cases.append({"pos_acts": pos, "neg_acts": neg})

    def compare(got, want, ctx):
        expect_tensor_like("pca_direction(...)", got, want, check_device=False)
        g = got.detach().double()
        expect(abs(float(g.norm()) - 1) < 1e-4, f"`pca_direction` returned a vector of norm {float(g.norm()):.4g} "
               f"{ctx}: return a unit vector.")
        d = (cases[compare.i]["pos_acts"] - cases[compare.i]["neg_acts"]).double()
        compare.i += 1
        _, _, vh = torch.linalg.svd(d - d.mean(0), full_matrices=False)
        no_flips = "Your direction is the top component of the recentred differences *without* the flips: " \
                   "recentring removes their mean, which is the concept, and leaves only how the pairs vary. Negate " \
                   "every second difference before recentring (RepE's random pair order)."
        expect_close_or_named("pca_direction(...)", got, want, atol=1e-4, context=ctx,
                              mistakes=[(-want, "Your direction has the wrong sign: PCA does not choose one; flip it so "
                                                "that the positive members' differences project positively."),
                                        (vh[0], no_flips), (-vh[0], no_flips)],
                              hint="negate every second difference pos - neg, subtract the mean, take the first right "
                                   "singular vector, then fix its sign with the unflipped differences.")
    compare.i = 0
    n_cases = compare_functions("pca_direction", student_fn, reading.pca_reading_vector, cases, compare=compare,
                                contract=TENSOR)
    passed(f"pca_direction matches the reference on {n_cases} sets of pairs (sign included)")


# ------------------------------------------------------------------ exercise 3
def check_reading_accuracy(student_fn: Callable, seed: int = 0, n: int = 30, d: int = 8) -> None:
    """Exercise 11.3: ``reading_accuracy(acts, labels, direction)`` -> float."""
    g = _gen(seed)
    cases = []
    for i, flip in enumerate((False, True, False)):
        acts = torch.randn(n + 6 * i, d, generator=g)
        labels = (torch.rand(n + 6 * i, generator=g) < 0.4).long()
        if i == 2:
            labels[:2] = torch.tensor([0, 1])
        direction = torch.randn(d, generator=g)
        direction = direction / direction.norm()
        acts = acts + (1.0 + 2 * i) * labels[:, None] * direction * (-1 if flip else 1) + 5.0 * direction
        cases.append({"acts": acts, "labels": labels, "direction": direction})
    for case in cases:
        ctx = f"on {case['acts'].shape[0]} states"
        got = check_contract("reading_accuracy", student_fn, FLOAT, *(v.clone() for v in case.values()), context=ctx)
        want = reading.reading_accuracy(**case)
        if abs(got - (1 - want)) < 1e-6 and abs(want - 0.5) > 0.05:
            raise CheckFailure(f"Your accuracy is 1 - the reference's {ctx}: when class 1 projects *lower* than "
                               "class 0, the prediction must flip (read the side from the class means).")
        expect(abs(got - want) < 1e-6, f"`reading_accuracy` returned {got:.4f} {ctx}, the reference {want:.4f}. The "
               "threshold is halfway between the two classes' mean projections (a threshold at 0 fails when every "
               "state has a large offset along the direction).")
    passed("reading_accuracy matches the reference on 3 sets (offsets and a flipped direction included)")


# ------------------------------------------------------------------ exercise 4
def _ref_add_steering(resid, vector, coefficient, positions):
    out = resid.clone()
    where = slice(None) if positions is None else positions
    out[:, where] = out[:, where] + coefficient * vector
    return out


def check_add_steering(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 11.4: ``add_steering(resid, vector, coefficient, positions)`` -> ``[batch, pos, d_model]``."""
    g = _gen(seed)
    cases = [{"resid": torch.randn(3, 5, 8, generator=g), "vector": torch.randn(8, generator=g), "coefficient": 2.5,
              "positions": None},
             {"resid": torch.randn(2, 6, 4, generator=g), "vector": torch.randn(4, generator=g), "coefficient": -1.0,
              "positions": [0, 2]},
             {"resid": torch.randn(1, 4, 8, generator=g), "vector": torch.randn(8, generator=g), "coefficient": 0.5,
              "positions": [-1]}]

    def compare(got, want, ctx):
        case = cases[compare.i]
        compare.i += 1
        everywhere = _ref_add_steering(case["resid"], case["vector"], case["coefficient"], None)
        expect_close_or_named("add_steering(...)", got, want, context=ctx,
                              mistakes=[(everywhere, f"You added the vector at every position; `positions` "
                                                     f"({case['positions']}) lists the only ones to steer.")],
                              hint="add coefficient x vector only at the listed positions (all when positions is None), "
                                   "broadcast over the batch.")
    compare.i = 0
    n = compare_functions("add_steering", student_fn, _ref_add_steering, cases, compare=compare, contract=TENSOR)
    resid = torch.randn(2, 3, 4, generator=g)
    got = check_contract("add_steering", student_fn, TENSOR, resid.clone(), torch.randn(4, generator=g), 0.0, None,
                         context="with coefficient 0")
    expect(isinstance(got, torch.Tensor) and torch.equal(got, resid),
           "With coefficient 0 `add_steering` must return the residual stream exactly unchanged.")
    passed(f"add_steering matches the reference on {n + 1} inputs (coefficient 0 exact, inputs untouched)")


# ------------------------------------------------------------------ exercise 5
def _ref_mass_mean_shift(acts, labels, alpha):
    labels = labels.bool()
    d = acts[labels].mean(0) - acts[~labels].mean(0)
    u = d / d.norm()
    return alpha * (acts @ u).std() * u


def check_mass_mean_shift(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 11.5: ``mass_mean_shift(acts, labels, alpha)`` -> ``[d_head]`` = alpha x sigma x unit direction."""
    g = _gen(seed)
    cases = []
    for i, (n, d, alpha) in enumerate(((20, 6, 5.0), (31, 3, -2.0), (12, 8, 15.0))):
        labels = torch.arange(n) % 2
        acts = torch.randn(n, d, generator=g) * (1 + i) + labels[:, None] * torch.randn(d, generator=g) * 3
        cases.append({"acts": acts, "labels": labels, "alpha": alpha})

    def compare(got, want, ctx):
        expect_tensor_like("mass_mean_shift(...)", got, want, check_device=False)
        c = cases[compare.i]
        compare.i += 1
        u = want / want.norm() * (1 if c["alpha"] > 0 else -1)
        expect_close_or_named(
            "mass_mean_shift(...)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
            mistakes=[(c["alpha"] * u, "Your shift has length |alpha|: scale by sigma too, the standard deviation of "
                                       "the activations projected on the direction."),
                      (c["alpha"] * c["acts"].std() * u, "Your sigma is the standard deviation of every activation "
                                                         "entry; ITI's sigma is that of the projections acts @ u, one "
                                                         "number per example."),
                      (c["alpha"] * c["acts"][c["labels"].bool()].sub(c["acts"][c["labels"].bool()].mean(0)).matmul(u)
                       .std() * u, "Your sigma is measured on class 1 only: take the spread of the projections over "
                                   "every example.")],
            hint="direction = mean(class 1) - mean(class 0), normalised; sigma = std of acts @ direction "
                 "over every example.")
    compare.i = 0
    n = compare_functions("mass_mean_shift", student_fn, _ref_mass_mean_shift, cases, compare=compare, contract=TENSOR)
    passed(f"mass_mean_shift matches the reference on {n} heads")


# ------------------------------------------------------------------ exercise 6
def check_restore_hook(student_fn: Callable, seed: int = 0, heads: int | None = None) -> None:
    """Exercise 11.6: ``restore_hook(clean, position)`` returns a hook ``(act, hook) -> act`` that puts
    ``clean[:, position]`` back, leaving every other position as the corrupted run had it.

    With ``heads``, the activations are ``[batch, pos, heads, d_head]`` (an attention head's output), as the
    text's ``[batch, pos, ...]`` allows.
    """
    g = _gen(seed)
    for b, p, d, pos in ((4, 5, 8, 3), (2, 6, 4, 0), (1, 5, 16, -1)):
        shape = (b, p, d) if heads is None else (b, p, heads, d)
        clean = torch.randn(*shape, generator=g)
        act = torch.randn(*shape, generator=g)
        ctx = f"for activations of shape {shape} and position {pos}"
        hook = check_contract("restore_hook", student_fn, HOOK, clean.clone(), pos, context=ctx)
        before = act.clone()
        got = call_student("the hook of restore_hook", hook, act, None, context=ctx)
        if got is None:
            got = act  # an in-place hook that returns None also works in the engine
        want = before.clone()
        want[:, pos] = clean[:, pos]
        batch_axis = before.clone()
        batch_axis[pos] = clean[pos]
        expect_close_or_named("hook output", got, want, context=ctx,
                              mistakes=[(clean, "Your hook returns the whole clean activation: restore only one "
                                                "position."),
                                        (batch_axis, "You replaced along the batch axis (`act[position]`): positions "
                                                     "are the second axis, `act[:, position]`.")],
                              hint="copy the clean activation at that position into (a copy of) the corrupted one.")
    passed("restore_hook restores exactly one position on 3 shapes" + ("" if heads is None else f" with {heads} heads"))


# ------------------------------------------------------------------ exercise 7
def _small_mlp_model(seed: int) -> HookedTransformer:
    """A random 2-layer transformer with GELU MLPs (so that the pre- and post-activations differ everywhere)."""
    cfg = TransformerConfig(n_layers=2, d_model=16, n_heads=2, d_head=8, d_mlp=24, d_vocab=20, n_ctx=8,
                            attn_only=False, act_fn="gelu", init_range=0.3, seed=seed)
    return HookedTransformer(cfg).eval()


def check_mean_key(student_fn: Callable, model=None, tokens_sets: Sequence[torch.Tensor] | None = None,
                   layer_pos: Sequence[tuple[int, int]] | None = None, seed: int = 0) -> None:
    """Exercise 11.7: ``mean_key(model, prompts, layer, position)`` -> ``[d_mlp]`` mean of ``mlp.hook_post``.

    Without ``model``, on a small random transformer of the check's own, with 5 prompts and a single one.
    """
    if model is None:
        model = _small_mlp_model(seed)
        g = _gen(seed + 1)
        tokens_sets = [torch.randint(0, 20, (5, 8), generator=g), torch.randint(0, 20, (1, 8), generator=g)]
        layer_pos = [(1, 3), (0, 7)]
    for tokens, (layer, pos) in zip(tokens_sets, layer_pos):
        ctx = f"for {tokens.shape[0]} prompts, layer {layer}, position {pos}"
        got = check_contract("mean_key", student_fn, TENSOR, model, tokens.clone(), layer, pos, context=ctx)
        want = rome.compute_key(model, tokens, layer, pos)
        pre = f"blocks.{layer}.mlp.hook_pre"
        _, cache = model.run_with_cache(tokens, names_filter=[pre])
        expect_close_or_named("mean_key(...)", got, want, atol=1e-5, context=ctx,
                              mistakes=[(cache[pre][:, pos].mean(0), "Your key is the MLP's pre-activation: the key is "
                                         "what W_out multiplies, the activation after the non-linearity (hook_post).")],
                              hint="cache blocks.{layer}.mlp.hook_post and average over the prompts at that position.")
    passed(f"mean_key matches the reference on {len(tokens_sets)} sets of prompts")


# ------------------------------------------------------------------ exercise 8
def check_rank_one_update(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 11.8: ``rank_one_update(W_out, C, key, value)`` -> edited ``[d_mlp, d_model]`` (no ridge)."""
    g = _gen(seed)
    for d_mlp, d_model in ((6, 4), (10, 3), (5, 7)):
        A = torch.randn(d_mlp, d_mlp, generator=g)
        C = A @ A.T / d_mlp + 0.1 * torch.eye(d_mlp)
        W = torch.randn(d_mlp, d_model, generator=g)
        k = torch.randn(d_mlp, generator=g).abs()
        v = torch.randn(d_model, generator=g)
        ctx = f"for W_out of shape {(d_mlp, d_model)}"
        got = check_contract("rank_one_update", student_fn, TENSOR, W.clone(), C.clone(), k.clone(), v.clone(),
                             context=ctx)
        want = rome.rank_one_update(W, C, k, v, ridge=0.0)
        expect_tensor_like("rank_one_update(...)", got, want, check_device=False)
        maps = torch.allclose(k @ got.detach(), v, atol=1e-3)
        ident = rome.rank_one_update(W, torch.eye(d_mlp), k, v, ridge=0.0)
        if maps and torch.allclose(got, ident, atol=1e-4) and not torch.allclose(want, ident, atol=1e-4):
            raise CheckFailure(f"Your update ignores C {ctx}: u must be C^-1 k*, not k* (that is plain least change "
                               "in Frobenius norm, which disturbs common keys more).")
        expect(maps, f"Your edited W_out does not map the key to the value {ctx} (|k W - v| = "
               f"{float((k @ got.detach() - v).norm()):.3g}): the denominator is u . k* with u = C^-1 k*.")
        expect_close("rank_one_update(...)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="W + outer(u, v* - k* W) / (u . k*), u = solve(C, k*).")
        rank = int((torch.linalg.svdvals((got - W).detach().double()) > 1e-6).sum())
        expect(rank == 1, f"Your update has rank {rank} {ctx}, not 1.")
    passed("rank_one_update matches the reference on 3 shapes: maps k* to v*, rank one, inputs untouched")


# ------------------------------------------------------------------ exercise 9
def check_js_divergence(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 11.9: ``js_divergence(logp, logq)`` -> ``[...]`` (nats)."""
    g = _gen(seed)
    cases = [{"logp": torch.randn(4, 10, generator=g).log_softmax(-1), "logq": torch.randn(4, 10, generator=g).log_softmax(-1)},
             {"logp": (3 * torch.randn(2, 3, 7, generator=g)).log_softmax(-1),
              "logq": torch.randn(2, 3, 7, generator=g).log_softmax(-1)}]
    one_hot = torch.full((1, 5), -1e4); one_hot[0, 0] = 0.0
    cases.append({"logp": one_hot.log_softmax(-1), "logq": torch.zeros(1, 5).log_softmax(-1)})

    def compare(got, want, ctx):
        expect_tensor_like("js_divergence(...)", got, want, check_device=False)
        if torch.isnan(got).any():
            raise CheckFailure(f"`js_divergence` gives NaN {ctx}: a probability of 0 times log 0; work with "
                               "log-probabilities and clamp the mixture before its log.")
        case = cases[compare.i]
        compare.i += 1
        p, q = case["logp"], case["logq"]
        symmetric_kl = 0.5 * ((p.exp() * (p - q)).sum(-1) + (q.exp() * (q - p)).sum(-1))
        expect_close_or_named("js_divergence(...)", got, want, rtol=1e-4, atol=1e-5, context=ctx,
                              mistakes=[(symmetric_kl, "You averaged KL(P || Q) and KL(Q || P): the JSD compares each "
                                                       "distribution with the mixture M = (P + Q) / 2, not with the "
                                                       "other one."),
                                        (2 * want, "Your value is twice the JSD: average the two KL terms (/ 2).")],
                              hint="M = (P + Q) / 2; JSD = (KL(P || M) + KL(Q || M)) / 2, summed over the last axis.")
    compare.i = 0
    n = compare_functions("js_divergence", student_fn, dola.js_divergence, cases, compare=compare, contract=TENSOR)
    passed(f"js_divergence matches the reference on {n} inputs (a one-hot distribution included)")


# ------------------------------------------------------------------ exercise 10
def check_dola_contrast(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 11.10: ``dola_contrast(final, premature, relative_top)`` -> ``[batch, d_vocab]``."""
    g = _gen(seed)
    cases = [{"final": (2 * torch.randn(3, 12, generator=g)).log_softmax(-1),
              "premature": torch.randn(3, 12, generator=g).log_softmax(-1), "relative_top": 0.1},
             {"final": (4 * torch.randn(5, 6, generator=g)).log_softmax(-1),
              "premature": torch.randn(5, 6, generator=g).log_softmax(-1), "relative_top": 0.5},
             {"final": torch.randn(2, 9, generator=g).log_softmax(-1),
              "premature": torch.randn(2, 9, generator=g).log_softmax(-1), "relative_top": 0.0}]

    def compare(got, want, ctx):
        expect_tensor_like("dola_contrast(...)", got, want, check_device=False)
        kept_g, kept_w = torch.isfinite(got), torch.isfinite(want)
        if not torch.equal(kept_g, kept_w):
            case = cases[compare.i]
            on_premature = torch.isfinite(dola.dola_scores(case["premature"], case["final"], case["relative_top"]))
            raise CheckFailure(f"Your filter keeps {int(kept_g.sum())} tokens {ctx}, the reference "
                               f"{int(kept_w.sum())}: keep the tokens whose final-layer probability is at least "
                               "relative_top x that row's largest probability; give the others -inf."
                               + ("\nYour filter reads the PREMATURE layer's probabilities: the plausibility "
                                  "constraint is on the final layer's." if torch.equal(kept_g, on_premature) else ""))
        compare.i += 1
        expect(torch.allclose(got[kept_w], want[kept_w], atol=1e-5),
               f"The kept scores differ from log p_final - log p_premature {ctx}.")
    compare.i = 0
    n = compare_functions("dola_contrast", student_fn, dola.dola_scores, cases, compare=compare, contract=TENSOR)
    passed(f"dola_contrast matches the reference on {n} inputs")


# ------------------------------------------------------------------ results (no points)
def check_reading_result(accuracy: Mapping[str, Sequence[float]], cosines: Sequence[float]) -> None:
    """Reading vectors: mean difference and PCA agree (cosine >= 0.9 past the embedding) and read above 0.9."""
    expect(max(accuracy["mean"]) > 0.9 and max(accuracy["pca"]) > 0.9,
           f"Reading accuracy peaks at {max(accuracy['mean']):.2f} (mean) / {max(accuracy['pca']):.2f} (PCA), not above "
           "0.9: check mean_difference, pca_direction and reading_accuracy (exercises 11.1-11.3).")
    expect(min(cosines) >= 0.9, f"Mean-difference and PCA vectors disagree (cosines {[round(c, 2) for c in cosines]}): "
           "recheck exercises 11.1 and 11.2.")
    passed(f"reading peaks at {max(accuracy['mean']):.3f}; mean-difference vs PCA cosine >= {min(cosines):.2f}")


def check_steering_result(coefficients: Sequence[float], latent: Sequence[float], exact_at_zero: bool) -> None:
    """Activation addition: c = 0 is exact and the latent rises with c (Spearman >= 0.9)."""
    from scipy.stats import spearmanr

    expect(exact_at_zero, "Coefficient 0 did not reproduce the unsteered logits exactly: add_steering must leave the "
           "residual stream unchanged when c = 0 (exercise 11.4).")
    rho = float(spearmanr(coefficients, latent).statistic)
    expect(rho >= 0.9, f"The latent does not rise with the coefficient (Spearman {rho:.2f}): check the sign and the "
           "positions in add_steering (exercise 11.4).")
    passed(f"coefficient 0 exact; latent rises with c (Spearman {rho:.2f})")


def check_iti_result(top: float, random: Sequence[float], base: float) -> None:
    """ITI: the top-K heads raise P(true object | rumour) more than every set of K random heads."""
    expect(top > max(random) and top > base, f"Top-K heads give {top:.3f}, random heads up to {max(random):.3f}, no "
           f"intervention {base:.3f}: recheck mass_mean_shift (exercise 11.5).")
    passed(f"top-K heads {top:.3f} > best random {max(random):.3f} > baseline {base:.3f}" if max(random) > base else
           f"top-K heads {top:.3f} > random {max(random):.3f}, baseline {base:.3f}")


def check_truth_iti_result(curves: Mapping[str, Sequence[float]], alphas: Sequence[float], alpha: float = 4.0,
                           gain: float = 0.2) -> None:
    """ITI along truth: at ``alpha`` the best head's own shift raises the true-answer rate after a lying start by at
    least ``gain``; the same size along a random direction moves it by at most 0.05, random heads' own shifts gain
    at least 0.1 less, and after an honest start the rate stays at least 0.6.

    Args:
        curves: ``{label: rate per alpha}`` in the lesson's order: the best head, the same head along a random
            direction, random heads (mean), the best head after an honest start.
        alphas: The alphas of the curves (0 first).
    """
    best, random_dir, random_heads, honest = (list(c) for c in curves.values())
    i = list(alphas).index(alpha)
    expect(best[i] >= best[0] + gain, f"The best head's truth shift at alpha {alpha:g} gives {best[i]:.3f} true "
           f"answers after a lying start, from {best[0]:.3f} with none: recheck mass_mean_shift (exercise 11.5), its sign "
           "(true minus false) and its size.")
    expect(random_dir[i] <= best[0] + 0.05, f"A random direction of the same size gives {random_dir[i]:.3f}, from "
           f"{best[0]:.3f}: the control should barely move it.")
    expect(random_heads[i] <= best[i] - 0.1, f"Random heads give {random_heads[i]:.3f}, the best head {best[i]:.3f}.")
    expect(honest[i] >= 0.6, f"After an honest start the shift leaves {honest[i]:.3f} true answers.")
    passed(f"lying start {best[0]:.3f} -> {best[i]:.3f} (random direction {random_dir[i]:.3f}, random heads "
           f"{random_heads[i]:.3f}); honest start {honest[0]:.3f} -> {honest[i]:.3f}")


def check_tracing_result(recovered: Mapping[str, torch.Tensor], site: tuple[int, int], filler_pos: int = 1) -> None:
    """Tracing: the decisive MLP state recovers at least half, a filler state under a tenth."""
    mlp = torch.as_tensor(recovered["mlp"])
    layer, pos = site
    expect(float(mlp[layer, pos]) >= 0.5, f"Restoring the MLP at layer {layer}, position {pos} recovers only "
           f"{float(mlp[layer, pos]):.2f}: check restore_hook (exercise 11.6).")
    resid = torch.as_tensor(recovered["resid"])
    expect(float(resid[:, filler_pos].abs().max()) < 0.1, f"Restoring the filler token recovers "
           f"{float(resid[:, filler_pos].max()):.2f}: it carries no subject information, so restore_hook may restore "
           "more than one position.")
    passed(f"MLP {layer} at position {pos} recovers {float(mlp[layer, pos]):.2f}; the filler under 0.1")


def check_edit_result(scores: Mapping[str, Mapping[str, float]], site: str, rank: int) -> None:
    """ROME at the located site: efficacy and specificity at least 0.95, rank one."""
    s = scores[site]
    expect(rank == 1, f"The update has rank {rank}, not 1 (exercise 11.8).")
    expect(s["efficacy"] >= 0.95 and s["specificity"] >= 0.95,
           f"The edit at {site} has efficacy {s['efficacy']:.2f} and specificity {s['specificity']:.2f}: check mean_key "
           "and rank_one_update (exercises 11.7-11.8).")
    passed(f"edit at {site}: efficacy {s['efficacy']:.2f}, paraphrase {s['paraphrase']:.2f}, specificity "
           f"{s['specificity']:.2f}, rank 1")


def check_dola_result(plain: float, contrast: float) -> None:
    """DoLa on the half-trained snapshot raises the accuracy on the rare facts (the lesson's finding)."""
    expect(0 <= plain <= 1 and 0 <= contrast <= 1, f"Accuracies {plain}, {contrast} are not in [0, 1].")
    expect(contrast > plain, f"On the rare facts DoLa gives {contrast:.3f} against {plain:.3f} without it: the contrast "
           "should raise it (the lesson finds 0.286 -> 0.429). Check js_divergence (which picks the premature layer) and "
           "dola_contrast (final minus premature, the filter on the final layer) (exercises 11.9-11.10).")
    passed(f"rare-object accuracy: {plain:.3f} without DoLa, {contrast:.3f} with it")
