"""Checks of lesson 7 (universality). Each ``check_*`` compares a student's function with ``mi_tutor.universality``.

Examples:
    >>> from mi_tutor import universality as U
    >>> check_linear_cka(lambda X, Y: U.linear_cka(X, Y))
    ✓ linear_cka matches the reference on 4 inputs, in feature space (no n x n matrix)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from .. import universality as U
from .contracts import Contract, check_contract
from .core import CheckFailure, expect, expect_close, expect_tensor_like, passed

__all__ = [
    "CONTRACTS",
    "check_cka_from_grams",
    "check_linear_cka",
    "check_debiased_cka",
    "check_match_units",
    "check_correspondence_map",
    "check_mutual_knn",
    "check_stitch_forward",
    "check_identification_result",
    "check_knn_ordering_result",
    "check_matching_by_layer_result",
    "check_census_result",
    "check_stitching_table_result",
    "check_alignment_result",
    "CENSUS_GAPS",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract.
NUMBER = Contract(returns=(float, int, torch.Tensor))          # a float (a 0-d tensor is accepted)
TENSOR = Contract(returns=torch.Tensor)
PAIR = Contract(returns=tuple)
STITCH = Contract(returns=torch.Tensor, gradient="flows")     # the gradient must reach `stitch`'s weights
CONTRACTS = {"cka_from_grams": NUMBER, "linear_cka": NUMBER, "debiased_cka": NUMBER, "correspondence_map": TENSOR,
             "match_units": PAIR, "mutual_knn": NUMBER, "stitch_forward": STITCH}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _number(name: str, got, context: str = "") -> float:
    if isinstance(got, torch.Tensor):
        expect(got.numel() == 1, f"`{name}` should return one number {context}, not a tensor of shape {tuple(got.shape)}.")
        return float(got)
    expect(isinstance(got, (float, int)), f"`{name}` should return a number (float or 0-d tensor), not "
                                          f"{type(got).__name__}{' (did you forget `return`?)' if got is None else ''}.")
    return float(got)


def _close_number(name: str, got, want: float, context: str, hint: str, tol: float = 1e-4) -> None:
    value = _number(name, got, context)
    expect(abs(value - want) <= tol, f"`{name}` returned {value:.6f} {context}, expected {want:.6f}.\nHint: {hint}")


def _correlated(seed: int, n: int, d_x: int, d_y: int, noise: float = 1.0, dtype=torch.float64):
    g = _gen(seed)
    X = torch.randn(n, d_x, generator=g, dtype=dtype) + 3.0    # an offset: centring matters
    Y = X[:, :min(d_x, d_y)] @ torch.randn(min(d_x, d_y), d_y, generator=g, dtype=dtype) \
        + noise * torch.randn(n, d_y, generator=g, dtype=dtype)
    return X, Y


# ------------------------------------------------------------------ exercise 1
def check_cka_from_grams(student_fn: Callable, seed: int = 0, n: int = 30) -> None:
    """Exercise 7.1: ``cka_from_grams(K, L) -> float``, CKA of two ``[n, n]`` Gram matrices (biased HSIC)."""
    cases = []
    for k in range(3):
        X, Y = _correlated(seed + k, n, 5 + k, 4)
        K, L = (U.gram_linear(X), U.gram_linear(Y)) if k != 1 else (U.gram_rbf(X, 0.5), U.gram_rbf(Y, 0.8))
        cases.append((K, L, "linear" if k != 1 else "RBF"))
    for K, L, kind in cases:
        want = U.cka_from_grams(K, L)
        got = check_contract("cka_from_grams", student_fn, NUMBER, K.clone(), L.clone(),
                             context=f"on {kind} Gram matrices of {n} examples")
        uncentred = float((K * L).sum() / (K.norm() * L.norm()))
        value = _number("cka_from_grams", got)
        if abs(value - uncentred) < 1e-6 and abs(uncentred - want) > 1e-4:
            raise CheckFailure(f"`cka_from_grams` returned {value:.4f}, the alignment of the UNcentred Gram matrices; "
                               "CKA centres both first with H = I - 11^T / n (HKH and HLH).")
        _close_number("cka_from_grams", got, want, f"on {kind} Gram matrices of {n} examples",
                      "CKA = HSIC(K, L) / sqrt(HSIC(K, K) HSIC(L, L)) with HSIC(K, L) = tr(K H L H) / (n-1)^2; the "
                      "(n-1)^2 cancels, the centring does not.")
    passed(f"cka_from_grams matches the reference on {len(cases)} pairs of Gram matrices")


# ------------------------------------------------------------------ exercise 2
class _SquareWatch(TorchFunctionMode):
    """Records any torch result with two axes of size ``n`` (an ``n x n`` matrix)."""

    def __init__(self, n: int):
        super().__init__()
        self.n, self.seen = n, []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if isinstance(t, torch.Tensor) and t.dim() >= 2 and list(t.shape).count(self.n) >= 2:
                self.seen.append(getattr(func, "__name__", str(func)))
        return out


def check_linear_cka(student_fn: Callable, seed: int = 0, n: int = 300) -> None:
    """Exercise 7.2: ``linear_cka(X, Y) -> float`` in the feature-space form (no ``n x n`` matrix)."""
    shapes = [(n, 6, 4), (n, 10, 10), (n + 7, 3, 12), (n, 40, 20)]
    for k, (m, dx, dy) in enumerate(shapes):
        X, Y = _correlated(seed + k, m, dx, dy)
        watch = _SquareWatch(m)
        with watch:
            got = check_contract("linear_cka", student_fn, NUMBER, X.clone(), Y.clone(),
                                 context=f"with X {tuple(X.shape)}, Y {tuple(Y.shape)}")
        ctx = f"with X {tuple(X.shape)} and Y {tuple(Y.shape)}"
        want = U.linear_cka(X, Y)
        value = _number("linear_cka", got, ctx)
        Xc, Yc = X, Y
        uncentred = float((Yc.T @ Xc).norm() ** 2 / ((Xc.T @ Xc).norm() * (Yc.T @ Yc).norm()))
        if abs(value - uncentred) < 1e-6 and abs(uncentred - want) > 1e-4:
            raise CheckFailure(f"`linear_cka` returned {value:.4f} {ctx}: that is the value without centring. "
                               "Subtract each feature's mean over the examples first.")
        _close_number("linear_cka", got, want, ctx,
                      "centre X and Y, then ||Y^T X||_F^2 / (||X^T X||_F ||Y^T Y||_F): the numerator is squared, "
                      "the two norms in the denominator are not.")
        if watch.seen:
            raise CheckFailure(f"`linear_cka` built an {m} x {m} matrix ({watch.seen[0]}) {ctx}: that is the Gram "
                               "form. Use the feature-space form: only d x d products such as X^T Y.")
    passed(f"linear_cka matches the reference on {len(shapes)} inputs, in feature space (no n x n matrix)")


# ------------------------------------------------------------------ exercise 3
def check_debiased_cka(student_fn: Callable, seed: int = 0, n: int = 25) -> None:
    """Exercise 7.3: ``debiased_cka(X, Y) -> float`` (unbiased HSIC), where biased CKA is inflated."""
    shapes = [(n, 60, 40), (n, 5, 5), (4 * n, 8, 30)]
    for k, (m, dx, dy) in enumerate(shapes):
        g = _gen(seed + 10 + k)
        if k == 0:    # unrelated and wider than n: biased CKA is large, debiased near 0
            X, Y = torch.randn(m, dx, generator=g, dtype=torch.float64), torch.randn(m, dy, generator=g, dtype=torch.float64)
        else:
            X, Y = _correlated(seed + 10 + k, m, dx, dy)
        ctx = f"with X {tuple(X.shape)} and Y {tuple(Y.shape)}"
        want = U.debiased_cka(X, Y)
        got = check_contract("debiased_cka", student_fn, NUMBER, X.clone(), Y.clone(), context=ctx)
        value = _number("debiased_cka", got, ctx)
        biased = U.linear_cka(X, Y)
        if abs(value - biased) < 1e-6 and abs(biased - want) > 1e-3:
            raise CheckFailure(f"`debiased_cka` returned {value:.4f} {ctx}, the biased (ordinary) linear CKA; the "
                               "debiased one zeroes the Gram diagonals and uses the unbiased centring.")
        _close_number("debiased_cka", got, want, ctx,
                      "zero the diagonal of each Gram matrix, subtract column means computed with n - 2 (corrected by "
                      "sum / (2 (n - 1))), zero the diagonal again, then the usual CKA ratio; do not clamp negatives.")
    passed(f"debiased_cka matches the reference on {len(shapes)} inputs (biased CKA would not)")


# ------------------------------------------------------------------ exercise 4
def check_match_units(student_fn: Callable, seed: int = 0, n: int = 400, units: int = 10) -> None:
    """Exercise 7.4: ``match_units(A, B) -> (cols [units_a] long, corr [units_a])``: Hungarian one-to-one matching."""
    g = _gen(seed)
    A = torch.randn(n, units, generator=g)
    perm = torch.randperm(units, generator=g)
    B = A[:, perm] * torch.rand(units, generator=g).add(0.5) + 0.6 * torch.randn(n, units, generator=g)
    A[:, 1] = A[:, 0] + 0.3 * torch.randn(n, generator=g)        # two look-alike units of A ...
    j0, j1 = int((perm == 0).nonzero()), int((perm == 1).nonzero())
    B[:, j0] = A[:, 0]                                              # ... both best matched by one unit of B,
    B[:, j1] = torch.randn(n, generator=g)                          # whose twin has no counterpart: greedy repeats
    cases = [{"A": A, "B": B}, {"A": A[:, : units - 3], "B": B}]
    for case in cases:
        ctx = f"with A {tuple(case['A'].shape)} and B {tuple(case['B'].shape)}"
        got = check_contract("match_units", student_fn, PAIR, case["A"].clone(), case["B"].clone(), context=ctx)
        expect(len(got) == 2,
               f"`match_units` should return a tuple (cols, corr) {ctx}, not {type(got).__name__}")
        cols, corr = got
        ref = U.match_units(case["A"], case["B"])
        want_cols = torch.full((case["A"].shape[1],), -1, dtype=torch.long)
        want_cols[ref.rows] = ref.cols
        expect_tensor_like("cols", cols, want_cols)
        expect(len(set(cols.tolist())) == len(cols),
               f"`cols` repeats a unit of B {ctx}: that is semi-matching (best partner per row). One-to-one matching "
               "uses each unit of B at most once: scipy.optimize.linear_sum_assignment.")
        full = U.unit_correlation(case["A"], case["B"])
        got_total = float(full[torch.arange(len(cols)), cols].sum())
        want_total = float(ref.correlations.sum())
        expect(abs(got_total - want_total) < 1e-4,
               f"Your matching's summed correlation is {got_total:.4f} {ctx}, the best one-to-one matching reaches "
               f"{want_total:.4f}. Maximise the correlation (linear_sum_assignment minimises: pass -corr, or "
               "maximize=True); correlate units (columns) over examples, not examples over units.")
        expect_close("corr", corr, ref.correlations[torch.argsort(ref.rows)].to(corr.dtype) if isinstance(corr, torch.Tensor)
                     else ref.correlations, context=ctx, hint="corr[i] is the Pearson correlation of A's unit i with "
                     "its partner cols[i]: centre each unit, divide by both norms.")
    passed(f"match_units finds the best one-to-one matching on {len(cases)} inputs (square and rectangular)")


# ------------------------------------------------------------------ exercise 5
def check_correspondence_map(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 7.5: ``correspondence_map(features_a, features_b, similarity) -> [len(a), len(b)]``."""
    g = _gen(seed)
    fa = {f"layer{i + 1}": torch.randn(50, 3 + i, generator=g) for i in range(3)}
    fb = {f"layer{i + 1}": torch.randn(50, 4 + 2 * i, generator=g) for i in range(4)}
    calls = []

    def sim(X, Y):
        calls.append((X.shape[1], Y.shape[1]))
        return U.linear_cka(X, Y)

    got = check_contract("correspondence_map", student_fn, TENSOR, fa, fb, sim, context="with 3 layers of A and 4 of B")
    want = U.correspondence_map(fa, fb, U.linear_cka).values
    if got.shape == want.T.shape and got.shape != want.shape:
        raise CheckFailure(f"Your map has shape {tuple(got.shape)}: rows must be the layers of A (3) and columns "
                           f"the layers of B (4), i.e. shape {tuple(want.shape)}.")
    expect(len(calls) == 12, f"`similarity` was called {len(calls)} times; a 3 x 4 map needs 12 calls, one per pair "
                             "(use the `similarity` argument, not a fixed function).")
    expect_close("correspondence_map(...)", got.double(), want, context="with 3 layers of A and 4 of B",
                 hint="entry [i, j] is similarity(features_a[layer i], features_b[layer j]), in the dicts' order.")
    passed("correspondence_map fills every (layer of A, layer of B) entry with the given similarity")


# ------------------------------------------------------------------ exercise 6
def check_mutual_knn(student_fn: Callable, seed: int = 0, n: int = 120, k: int = 10) -> None:
    """Exercise 6: ``mutual_knn(X, Y, k) -> float`` as Huh et al. define it."""
    g = _gen(seed)
    Z = torch.randn(n, 6, generator=g)
    X = Z @ torch.randn(6, 12, generator=g) + 0.5 * torch.randn(n, 12, generator=g)
    Y = Z @ torch.randn(6, 8, generator=g) + 0.5 * torch.randn(n, 8, generator=g)
    Y = Y * torch.rand(n, 1, generator=g).mul(5).add(0.2)              # row norms vary: normalising matters
    for kk in (k, 1, 3):
        ctx = f"with n={n}, k={kk}"
        want = U.mutual_knn_alignment(X, Y, kk)
        got = check_contract("mutual_knn", student_fn, NUMBER, X.clone(), Y.clone(), kk, context=ctx)
        value = _number("mutual_knn", got, ctx)
        unnorm = _knn_variant(X, Y, kk, normalize=False)
        with_self = _knn_variant(X, Y, kk, exclude_self=False)
        if abs(value - want) > 1e-6:
            if abs(value - with_self) < 1e-6:
                raise CheckFailure(f"`mutual_knn` returned {value:.4f} {ctx}: every example counted itself as its own "
                                   "nearest neighbour. Exclude the diagonal before taking the top k.")
            if abs(value - unnorm) < 1e-6:
                raise CheckFailure(f"`mutual_knn` returned {value:.4f} {ctx}: the features were not L2-normalised, so "
                                   "long vectors dominate the inner products. Normalise each row first.")
        _close_number("mutual_knn", got, want, ctx, "for each example, the k others with the largest inner product of "
                      "normalised features in X and in Y; the score is the mean of |shared| / k.", tol=1e-6)
    passed(f"mutual_knn matches the reference for k = {k}, 1 and 3")


def _knn_variant(X, Y, k, normalize=True, exclude_self=True):
    def idx(F):
        F = nn.functional.normalize(F, dim=1) if normalize else F
        s = F @ F.T
        if exclude_self:
            s.fill_diagonal_(-float("inf"))
        return s.topk(k, dim=1).indices

    a, b = idx(X), idx(Y)
    return float(sum(len(set(a[i].tolist()) & set(b[i].tolist())) for i in range(len(X))) / (k * len(X)))


# ------------------------------------------------------------------ exercise 7
class _Tiny(nn.Module):
    layer_names = ("layer1", "layer2")

    def __init__(self, seed: int, c=(4, 6)):
        super().__init__()
        torch.manual_seed(seed)
        self.layer1 = nn.Sequential(nn.Conv2d(3, c[0], 3, padding=1), nn.ReLU())
        self.layer2 = nn.Sequential(nn.Conv2d(c[0], c[1], 3, padding=1, stride=2), nn.ReLU())
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c[1], 3))

    def forward(self, x):
        return self.head(self.layer2(self.layer1(x)))


def _hooks_left(*nets: nn.Module) -> bool:
    return any(m._forward_hooks or m._forward_pre_hooks for net in nets for m in net.modules())


def check_stitch_forward(student_fn: Callable, seed: int = 0, batch: int = 3) -> None:
    """Exercise 7.7: ``stitch_forward(net_a, net_b, layer_a, layer_b, stitch, x) -> logits of B``."""
    with torch.random.fork_rng():
        a, b = _Tiny(seed).eval(), _Tiny(seed + 1, c=(5, 7)).eval()
        pairs = [("layer1", "layer1", 4, 5), ("layer2", "layer2", 6, 7)]
        x = torch.rand(batch, 3, 8, 8, generator=_gen(seed + 2))
        for la, lb, ca, cb in pairs:
            stitch = nn.Conv2d(ca, cb, 1)
            ref = U.StitchedNet(a, b, la, lb, image_size=8)
            ref.stitch.load_state_dict(stitch.state_dict())
            with torch.no_grad():
                want, plain_b = ref(x), b(x)
            ctx = f"stitching A.{la} into B.{lb}"

            def compare(got, la=la, lb=lb, want=want, plain_b=plain_b, ctx=ctx):
                got = got.detach()
                expect(not _hooks_left(a, b), "Hooks are still attached to the nets after `stitch_forward` returned: "
                                              "remove each handle (handle.remove(), in a `finally:`).")
                expect_tensor_like("stitch_forward(...)", got, want)
                expect(not torch.allclose(got, plain_b, atol=1e-6),
                       f"Your output equals net B's own output ({ctx}): B's layer was not replaced. "
                       "A forward hook that returns a tensor replaces the module's output.")
                expect_close("stitch_forward(...)", got, want, context=ctx,
                             hint="run A to get its layer_a output (a forward hook that stores it), apply `stitch`, "
                                  "and run B with a hook on layer_b that returns the stitched tensor instead of B's own.")

            check_contract("stitch_forward", student_fn, STITCH, a, b, la, lb, stitch, x.clone(), context=ctx,
                           grad_to=list(stitch.parameters()), compare=compare)
    passed(f"stitch_forward matches the reference on {len(pairs)} layer pairs and leaves no hooks behind")


# ------------------------------------------------------------------ results behind the story (ungraded)
def check_identification_result(accuracy: float, minimum: float = 0.9, control: float | None = None) -> None:
    """Linear CKA identifies the corresponding layer across seeds, and better than between two untrained nets.

    Args:
        accuracy: Fraction of layers identified across trained seeds.
        minimum: The least fraction the lesson's claim allows.
        control: The same fraction between two untrained nets of the architecture (must be lower).
    """
    expect(accuracy >= minimum, f"Layer identification across seeds is {accuracy:.0%}; with linear CKA it should be at "
                                f"least {minimum:.0%}. Check linear_cka and correspondence_map (rows = net A).")
    if control is not None:
        expect(accuracy > control, f"Two untrained nets identify {control:.0%} of their layers, the trained seeds "
                                   f"{accuracy:.0%}: the claim is that training makes the difference.")
    passed(f"linear CKA identifies {accuracy:.0%} of layers across seeds"
           + ("" if control is None else f" ({control:.0%} between two untrained nets)"))


def check_knn_ordering_result(same_arch: float, cross_arch: float, random_init: float) -> None:
    """Mutual kNN: seeds of one architecture > different architectures > a random-init net."""
    expect(same_arch > cross_arch > random_init,
           f"Expected same-architecture ({same_arch:.3f}) > cross-architecture ({cross_arch:.3f}) > random-init "
           f"({random_init:.3f}). Check mutual_knn (normalise rows, exclude the diagonal).")
    passed(f"mutual kNN: same architecture {same_arch:.3f} > other architecture {cross_arch:.3f} > "
           f"random init {random_init:.3f}")


#: The seed average of the mean matched correlation per layer that the lesson states (section 6).
MATCHED_BY_LAYER = {"layer1": 0.77, "layer2": 0.74, "layer3": 0.69, "layer4": 0.75}
#: The seeds' gain over two untrained plain nets (seeds 0 and 1) per layer that the lesson states (section 6).
MATCHED_GAIN = {"layer1": -0.02, "layer2": 0.04, "layer3": 0.03, "layer4": 0.14}


def check_matching_by_layer_result(by_layer: Mapping[str, float], stated: Mapping[str, float] | None = None,
                                   atol: float = 0.03, control: Mapping[str, float] | None = None) -> None:
    """Matched-unit correlations by layer: the lesson's numbers, and Li et al.'s shape (worst in the middle).

    Args:
        by_layer: Layer -> mean matched correlation (the seed pairs' average), layers in order of depth.
        stated: Layer -> the value the lesson states (default :data:`MATCHED_BY_LAYER`).
        atol: How far each value may be from the stated one (the text prints two decimals).
        control: Layer -> the same mean for two untrained nets; the seeds' gain over it must be the lesson's
            (:data:`MATCHED_GAIN`), largest in the last layer.
    """
    stated = MATCHED_BY_LAYER if stated is None else stated
    expect(all(-1 <= v <= 1 for v in by_layer.values()), f"Matched correlations must lie in [-1, 1]: {by_layer}")
    expect(list(by_layer) == list(stated), f"Give one value per layer, {list(stated)}; got {list(by_layer)}.")
    back = (" These come from your `match_units`: go back to Exercise 7.5 (Pearson, not cosine: centre each unit; "
            "a one-to-one matching, not each row's maximum).")
    off = {k: (v, stated[k]) for k, v in by_layer.items() if abs(v - stated[k]) > atol}
    expect(not off, "The mean matched correlation differs from the lesson's measurement: "
           + ", ".join(f"{k} {v:.2f} (lesson {w:.2f})" for k, (v, w) in off.items()) + "." + back)
    values = list(by_layer.values())
    expect(min(values[1:-1]) < min(values[0], values[-1]),
           "Matching should be worst in a middle layer and best at the two ends: "
           + ", ".join(f"{k} {v:.2f}" for k, v in by_layer.items()) + "." + back)
    if control is not None:
        gain = {k: v - control[k] for k, v in by_layer.items()}
        off = {k: (g, MATCHED_GAIN[k]) for k, g in gain.items() if k in MATCHED_GAIN and abs(g - MATCHED_GAIN[k]) > atol}
        expect(not off, "The seeds' gain over two untrained nets differs from the lesson's: "
               + ", ".join(f"{k} {g:+.2f} (lesson {w:+.2f})" for k, (g, w) in off.items()) + "." + back)
        last = list(gain)[-1]
        expect(max(gain, key=gain.get) == last and gain[last] > 2 * atol,
               "The lesson states that training adds to the matching mostly in the last layer; the gains over "
               "the untrained pair are " + ", ".join(f"{k} {g:+.2f}" for k, g in gain.items()) + "." + back)
    best = max(by_layer, key=by_layer.get)
    passed("mean matched correlation by layer: " + ", ".join(f"{k} {v:.2f}" for k, v in by_layer.items())
           + f" (highest: {best})")


#: What the lesson states about its census (section 9): the smallest largest-gap (degrees) of each net's curve
#: families, as ``(lowest, highest)`` over the trained nets and over the untrained ones.
CENSUS_GAPS = {"trained": (69.3, 184.7), "untrained": (81.2, 195.1)}


def check_census_result(rows, controls, stated: Mapping[str, tuple[float, float]] | None = None,
                        full_gap: float = 45.0, atol: float = 1.0) -> None:
    """The census says what the lesson says: edge units everywhere, no full curve family, trained like untrained.

    The claim tested: every net has orientation-tuned units in its first layer; no net, trained or
    untrained, has a full curve family (a family whose preferred orientations leave no gap above
    ``full_gap`` degrees); and the trained nets' best gaps lie in the range the lesson states, which
    overlaps the untrained nets' (the census does not tell trained nets from untrained ones).

    Args:
        rows: The :func:`~mi_tutor.universality.family_census` rows.
        controls: Names of the untrained nets.
        stated: ``{"trained": (lo, hi), "untrained": (lo, hi)}`` best gaps the text states
            (default :data:`CENSUS_GAPS`).
        full_gap: The largest gap a full family may leave (degrees).
        atol: How far (degrees) the measured ranges may be from the stated ones.
    """
    stated = CENSUS_GAPS if stated is None else stated
    nets = list(dict.fromkeys(r.net for r in rows))
    controls = set(controls)
    expect(controls & set(nets) and set(nets) - controls, "The census needs trained nets and untrained controls; "
                                                          f"got nets {nets} with controls {sorted(controls)}.")
    for net in nets:
        mine = [r for r in rows if r.net == net]
        expect(mine[0].edge_units >= 0 and all(r.edge_units == -1 for r in mine[1:]),
               f"{net}: the first row (and only it) must carry the edge census")
        expect(all(0 <= r.curve_units <= r.units for r in mine), f"{net}: a curve family larger than its layer")
        expect(mine[0].edge_units > 0, f"{net}: no orientation-tuned unit in its first layer ({mine[0].layer}); "
                                       "every net of the census, trained or not, has some.")
    best = {net: min(r.curve_max_gap for r in rows if r.net == net) for net in nets}
    full = {net: g for net, g in best.items() if g <= full_gap}
    expect(not full, f"A full curve family (no gap above {full_gap:.0f} degrees) in {full}: the lesson states that "
                     "no net of the census has one. Was the census run on the lesson's stimuli (64 pixels, 16 "
                     "orientations)?")
    for group in ("trained", "untrained"):
        gaps = [g for net, g in best.items() if (net in controls) == (group == "untrained")]
        lo, hi = stated[group]
        expect(abs(min(gaps) - lo) <= atol and abs(max(gaps) - hi) <= atol,
               f"The {group} nets' best gaps span {min(gaps):.1f} to {max(gaps):.1f} degrees; the lesson states "
               f"{lo:.1f} to {hi:.1f}.")
    trained = [g for net, g in best.items() if net not in controls]
    untrained = [g for net, g in best.items() if net in controls]
    expect(min(trained) <= max(untrained) and min(untrained) <= max(trained),
           "The trained and untrained nets' best gaps do not overlap: the census would tell them apart, "
           "against the lesson's statement.")
    passed(f"census of {len(nets)} nets, {len(rows)} layers: best gaps {min(trained):.0f}-{max(trained):.0f} degrees "
           f"trained, {min(untrained):.0f}-{max(untrained):.0f} untrained; no full family")


def check_stitching_table_result(table: Mapping[tuple[str, str], float], chance: float, target: float | None = None,
                                 control: Mapping[tuple[str, str], float] | None = None,
                                 works_from: str = "layer4", fraction: float = 0.9) -> None:
    """Least-squares stitches across seeds: where they reach the target net, and where they fail.

    The claim tested: stitches beat chance; a layer is best replaced by its own counterpart; the
    same-depth stitch reaches ``fraction`` of the target net's accuracy at ``works_from`` and deeper,
    and stays below it above; and it beats the same stitch from an untrained bottom net at every
    depth from ``layer2`` on.

    Args:
        table: ``{(layer_a, layer_b): accuracy}`` of the seed stitches.
        chance: Chance accuracy.
        target: Accuracy of the top net alone.
        control: ``{(layer, layer): accuracy}`` of stitches from an untrained bottom net.
        works_from: The shallowest layer where the lesson states that least squares reaches ``fraction``.
        fraction: The share of the target's accuracy that counts as "works".
    """
    same = {k: v for k, v in table.items() if k[0] == k[1]}
    expect(same and max(same.values()) > 2 * chance,
           f"Same-depth stitches reach at most {max(same.values()) if same else float('nan'):.2f}; expected more "
           f"than twice chance ({2 * chance:.2f}). Check stitch_forward.")
    if target is not None:
        wrong = {k: v for k, v in same.items() if (k[0] >= works_from) != (v >= fraction * target)}
        expect(not wrong, "The lesson states that least squares reaches "
               f"{fraction:.0%} of the target's accuracy ({target:.2f}) from {works_from} on and not above; got "
               + ", ".join(f"{a} {v:.2f}" for (a, _), v in wrong.items()) + ".")
    if control is not None:
        weak = {k: (v, control[k]) for k, v in same.items() if k in control and k[0] >= "layer2" and v <= control[k]}
        expect(not weak, "A stitch from an untrained net does as well as one from a trained seed at "
               + ", ".join(f"{a} ({c:.2f} vs {v:.2f})" for (a, _), (v, c) in weak.items()) + ".")
    for (la, lb), v in table.items():
        if la != lb and (lb, lb) in same:
            expect(same[(lb, lb)] > v, f"Stitching {lb} -> {lb} ({same[(lb, lb)]:.2f}) should beat {la} -> {lb} "
                                       f"({v:.2f}): a layer is best replaced by its own counterpart.")
    passed("stitched accuracy: " + ", ".join(f"{a}->{b} {v:.2f}" for (a, b), v in table.items()))


def check_alignment_result(score: float, shuffled_mean: float, shuffled_std: float,
                           bag_of_words: float | None = None, atol: float = 0.03) -> None:
    """Image-caption alignment lies above shuffled pairs, and no higher than a bag of words'.

    Args:
        score: The best layer's alignment with the caption model.
        shuffled_mean: Mean alignment with shuffled captions.
        shuffled_std: Its standard deviation.
        bag_of_words: The best layer's alignment with the captions' word counts; the lesson states that
            the caption model is within ``atol`` of it (it adds nothing to which words occur).
        atol: See ``bag_of_words``.
    """
    margin = score - shuffled_mean
    expect(margin > 3 * shuffled_std and margin > 0,
           f"Alignment {score:.3f} vs shuffled {shuffled_mean:.3f} ± {shuffled_std:.3f}: no clear margin. "
           "Check that images and captions are in the same order and mutual_knn excludes the diagonal.")
    if bag_of_words is not None:
        expect(abs(score - bag_of_words) <= atol,
               f"The caption model aligns {score:.3f}, a bag of words {bag_of_words:.3f}: the lesson states that the "
               f"two are within {atol}.")
    passed(f"image-caption alignment {score:.3f} vs shuffled {shuffled_mean:.3f} ± {shuffled_std:.3f} "
           f"(margin {margin:.3f})")
