"""Checks of lesson 8 (induction heads). Each ``check_*`` compares a student's function with ``mi_tutor``'s.

Examples:
    >>> from mi_tutor.circuits import previous_token_score
    >>> check_previous_token_score(previous_token_score)
    ✓ previous_token_score matches the reference on 3 inputs
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from ..circuits import (
    FactoredMatrix,
    composition_score,
    copying_score,
    duplicate_token_score,
    full_ov_circuit,
    induction_score,
    logit_attribution,
    per_token_loss,
    previous_token_score,
)
from ..transformer import HookedTransformer, TransformerConfig, attention_pattern, repeated_random_tokens
from .core import CheckFailure, call_student, compare_functions, expect, expect_close, expect_tensor_like, passed

__all__ = [
    "check_attention_pattern",
    "check_previous_token_score",
    "check_induction_score",
    "check_per_token_loss",
    "check_induction_scores_with_hooks",
    "check_full_ov_circuit",
    "check_copying_score",
    "check_composition_score",
    "check_logit_attribution",
    "check_head_scores",
    "check_repeated_loss",
    "check_phase_change",
    "check_composition",
]


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _random_patterns(seed: int, batch: int, heads: int, n: int) -> torch.Tensor:
    scores = torch.randn(batch, heads, n, n, generator=_gen(seed)) * 2
    future = torch.ones(n, n, dtype=torch.bool).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(-1)


def _small_model(seed: int, n_layers: int = 2) -> HookedTransformer:
    cfg = TransformerConfig(n_layers=n_layers, d_model=32, n_heads=3, d_head=8, d_vocab=20, n_ctx=24,
                            init_range=0.3, seed=seed)
    return HookedTransformer(cfg).eval()


# ------------------------------------------------------------------ exercise 1
def check_attention_pattern(student_fn: Callable, seed: int = 0, batch: int = 2, pos: int = 6, heads: int = 3,
                            d_head: int = 4) -> None:
    """Exercise 8.1: ``attention_pattern(q, k)`` on random queries and keys."""
    g = _gen(seed)
    cases = [{"q": torch.randn(batch, pos, heads, d_head, generator=g), "k": torch.randn(batch, pos, heads, d_head, generator=g)}
             for _ in range(2)]

    def compare(got, want, ctx):
        expect_tensor_like("attention_pattern(q, k)", got, want)
        g_ = got.detach().double()
        rows = g_.sum(-1)
        expect(torch.allclose(rows, torch.ones_like(rows), atol=1e-4),
               f"Your attention rows sum to values from {rows.min():.3g} to {rows.max():.3g}, not 1 {ctx}: "
               "did you take the softmax over the key axis (the last one)?")
        above = g_.triu(1).abs().max().item()
        expect(above < 1e-6, f"Your pattern puts {above:.3g} attention on a key after its query {ctx}: "
               "apply the causal mask (scores of future keys to -inf) before the softmax.")
        expect_close("attention_pattern(q, k)", got, want, rtol=1e-4, atol=1e-5, context=ctx,
                     hint="divide the scores q . k by sqrt(d_head) before the softmax, and mask with -inf (not 0).")

    n = compare_functions("attention_pattern", student_fn, attention_pattern, cases, compare=compare)
    passed(f"attention_pattern matches the reference on {n} inputs")


# ------------------------------------------------------------------ exercises 2-3
def check_previous_token_score(student_fn: Callable, seed: int = 0, batch: int = 3, heads: int = 4, n: int = 9) -> None:
    """Exercise 8.2: ``previous_token_score(pattern)``."""
    cases = [{"pattern": _random_patterns(seed + i, batch, heads, n)} for i in range(3)]
    n_ok = compare_functions(
        "previous_token_score", student_fn, previous_token_score, cases,
        compare=lambda got, want, ctx: expect_close(
            "previous_token_score(pattern)", got, want, context=ctx,
            hint="average pattern[:, h, q, q - 1] over the batch and the queries q = 1 .. pos - 1 "
                 "(torch.diagonal with offset=-1 on the last two axes)."))
    passed(f"previous_token_score matches the reference on {n_ok} inputs")


def check_induction_score(student_fn: Callable, seed: int = 0, batch: int = 3, heads: int = 4, seq_len: int = 5) -> None:
    """Exercise 8.3: ``induction_score(pattern, seq_len)``."""
    cases = [{"pattern": _random_patterns(seed + i, batch, heads, 1 + 2 * seq_len), "seq_len": seq_len} for i in range(3)]

    def compare(got, want, ctx):
        expect_tensor_like("induction_score(pattern, seq_len)", got, want)
        case = cases[compare.i]
        compare.i += 1
        dup = duplicate_token_score(case["pattern"], seq_len)
        if not torch.allclose(want.double(), dup.double()) and torch.allclose(got.detach().double().cpu(), dup.double(), atol=1e-5):
            raise CheckFailure("Your score is the *duplicate-token* score (attention to the same token's first "
                               "occurrence). An induction head attends to the token one position after it.")
        expect_close("induction_score(pattern, seq_len)", got, want, context=ctx,
                     hint="score only the queries of the second copy (q = seq_len + 1 .. 2 seq_len) "
                          "against the keys q - seq_len + 1.")
    compare.i = 0
    n_ok = compare_functions("induction_score", student_fn, induction_score, cases, compare=compare)
    passed(f"induction_score matches the reference on {n_ok} inputs")


# ------------------------------------------------------------------ exercise 4
def check_per_token_loss(student_fn: Callable, seed: int = 0, batch: int = 3, pos: int = 7, d_vocab: int = 11) -> None:
    """Exercise 8.4: ``per_token_loss(logits, tokens)``."""
    g = _gen(seed)
    cases = [{"logits": torch.randn(batch, pos, d_vocab, generator=g) * 3,
              "tokens": torch.randint(0, d_vocab, (batch, pos), generator=g)} for _ in range(2)]

    def compare(got, want, ctx):
        expect_tensor_like("per_token_loss(logits, tokens)", got, want)
        if bool((got.detach() < -1e-6).any()):
            raise CheckFailure("Some of your losses are negative: the loss is minus the log-probability.")
        expect_close("per_token_loss(logits, tokens)", got, want, context=ctx,
                     hint="the logits at position p predict tokens[:, p + 1]: use logits[:, :-1] with tokens[:, 1:], "
                          "and take log_softmax over the vocabulary axis.")

    n = compare_functions("per_token_loss", student_fn, per_token_loss, cases, compare=compare)
    passed(f"per_token_loss matches the reference on {n} inputs")


# ------------------------------------------------------------------ exercise 5
def _reference_hook_scores(model: HookedTransformer, tokens: torch.Tensor, seq_len: int) -> torch.Tensor:
    _, cache = model.run_with_cache(tokens, names_filter=lambda n: n.endswith("hook_pattern"))
    return torch.stack([induction_score(cache["pattern", layer], seq_len) for layer in range(model.cfg.n_layers)])


def check_induction_scores_with_hooks(student_fn: Callable, seed: int = 0, batch: int = 4, seq_len: int = 8,
                                      model: HookedTransformer | None = None) -> None:
    """Exercise 8.5: ``induction_scores_with_hooks(model, tokens, seq_len) -> [n_layers, n_heads]``."""
    models = [model] if model is not None else [_small_model(seed), _small_model(seed + 1, n_layers=3)]
    for m in models:
        tokens = repeated_random_tokens(batch, seq_len, m.cfg.d_vocab, seed=seed, device=m.W_E.device)
        case = [{"model": m, "tokens": tokens, "seq_len": seq_len}]
        compare_functions(
            "induction_scores_with_hooks", student_fn, _reference_hook_scores, case,
            compare=lambda got, want, ctx: expect_close(
                "induction_scores_with_hooks(...)", got, want, context=f"on a {m.cfg.n_layers}-layer model",
                hint="stack one row per layer, in layer order: the hook's `hook.name` tells you the layer."),
            describe=lambda c: f"on tokens of shape {tuple(c['tokens'].shape)}")
        left = [name for name, hp in m.hook_dict.items() if hp._handles]
        expect(not left, f"Hooks are still attached to {left} after your function returned: use "
               "model.run_with_hooks (or the model.hooks() context manager) so they are removed.")
    passed(f"induction_scores_with_hooks matches the reference on {len(models)} model(s) and leaves no hooks behind")


# ------------------------------------------------------------------ exercises 6-7
def check_full_ov_circuit(student_fn: Callable, seed: int = 0, model: HookedTransformer | None = None) -> None:
    """Exercise 8.6: ``full_ov_circuit(model, layer, head)``."""
    model = model or _small_model(seed)
    g = _gen(seed)
    for _ in range(2):
        layer = int(torch.randint(model.cfg.n_layers, (1,), generator=g))
        head = int(torch.randint(model.cfg.n_heads, (1,), generator=g))
        with torch.no_grad():
            got = call_student("full_ov_circuit", student_fn, model, layer, head)
            want = full_ov_circuit(model, layer, head).AB
        if isinstance(got, FactoredMatrix):
            got = got.AB
        expect_close(f"full_ov_circuit(model, {layer}, {head})", got, want, rtol=1e-3, atol=1e-5,
                     hint="the full OV circuit is W_E @ W_V[layer, head] @ W_O[layer, head] @ W_U.")
    passed("full_ov_circuit matches the reference on 2 heads")


def check_copying_score(student_fn: Callable, seed: int = 0, n: int = 12) -> None:
    """Exercise 8.7: ``copying_score(matrix)``."""
    g = _gen(seed)
    basis = torch.linalg.qr(torch.randn(n, n, generator=g))[0]
    cases = [{"matrix": torch.randn(n, n, generator=g)},
             {"matrix": basis @ torch.diag(torch.rand(n, generator=g) + 0.5) @ basis.T},  # pure copying: score 1
             {"matrix": torch.randn(n, n, generator=g) + 0.5 * torch.eye(n)}]

    def compare(got, want, ctx):
        if isinstance(got, (float, int)):
            got = torch.tensor(float(got))
        expect_tensor_like("copying_score(matrix)", got, want, check_device=False)
        expect_close("copying_score(matrix)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="sum the (complex) eigenvalues, take the real part, divide by the sum of their absolute values.")

    k = compare_functions("copying_score", student_fn, copying_score, cases, compare=compare,
                          describe=lambda c: f"on a {n}x{n} matrix")
    passed(f"copying_score matches the reference on {k} matrices")


# ------------------------------------------------------------------ exercise 8
def check_composition_score(student_fn: Callable, seed: int = 0, d_model: int = 16, d_head: int = 4) -> None:
    """Exercise 8.8: ``composition_score(W_A, W_B)`` on low-rank and batched matrices."""
    g = _gen(seed)
    def low_rank(*batch):
        return torch.randn(*batch, d_model, d_head, generator=g) @ torch.randn(*batch, d_head, d_model, generator=g)
    cases = [{"W_A": low_rank(), "W_B": low_rank()}, {"W_A": low_rank(3), "W_B": low_rank(3)},
             {"W_A": torch.eye(d_model), "W_B": low_rank()}]
    n = compare_functions(
        "composition_score", student_fn, composition_score, cases,
        compare=lambda got, want, ctx: expect_close(
            "composition_score(W_A, W_B)", got, want, rtol=1e-4, atol=1e-6, context=ctx,
            hint="use Frobenius norms of the last two axes (torch.linalg.matrix_norm): |W_A W_B| / (|W_A| |W_B|)."))
    passed(f"composition_score matches the reference on {n} inputs")


# ------------------------------------------------------------------ exercise 9
def check_logit_attribution(student_fn: Callable, seed: int = 0, n_comp: int = 5, batch: int = 2, pos: int = 6,
                            d_model: int = 8, d_vocab: int = 13) -> None:
    """Exercise 8.9: ``logit_attribution(components, W_U, tokens)``."""
    g = _gen(seed)
    cases = [{"components": torch.randn(n_comp, batch, pos, d_model, generator=g),
              "W_U": torch.randn(d_model, d_vocab, generator=g),
              "tokens": torch.randint(0, d_vocab, (batch, pos), generator=g)} for _ in range(2)]
    n = compare_functions(
        "logit_attribution", student_fn, logit_attribution, cases,
        compare=lambda got, want, ctx: expect_close(
            "logit_attribution(components, W_U, tokens)", got, want, context=ctx,
            hint="the component at position p writes to the logit of the *next* token tokens[:, p + 1]; "
                 "drop the last position; the output is [batch, pos - 1, component]."))
    passed(f"logit_attribution matches the reference on {n} inputs")


# ------------------------------------------------------------------ results behind the figures
def check_head_scores(scores_2l: Mapping[str, torch.Tensor], scores_1l: Mapping[str, torch.Tensor],
                      threshold: float = 0.4) -> None:
    """The head-score heatmaps: a previous-token head in layer 0 and an induction head in layer 1 of
    the 2-layer model, no induction head in the 1-layer model."""
    prev, ind = scores_2l["previous_token"], scores_2l["induction"]
    expect(prev[0].max() > threshold, f"No layer-0 head of the 2-layer model has a previous-token score above "
           f"{threshold} (best {prev[0].max():.2f}): were the scores computed on repeated random tokens?")
    expect(ind[1].max() > threshold, f"No layer-1 head of the 2-layer model has an induction score above "
           f"{threshold} (best {ind[1].max():.2f}).")
    expect(scores_1l["induction"].max() < threshold, f"The 1-layer model has a head with induction score "
           f"{scores_1l['induction'].max():.2f}: a single attention layer cannot implement induction.")
    passed(f"2-layer model: previous-token head L0H{int(prev[0].argmax())} ({prev[0].max():.2f}), induction head "
           f"L1H{int(ind[1].argmax())} ({ind[1].max():.2f}); 1-layer model: best induction score "
           f"{scores_1l['induction'].max():.2f}")


def check_repeated_loss(loss_by_position: torch.Tensor, seq_len: int, ratio: float = 0.5) -> None:
    """The per-token loss figure: on ``[BOS] + r + r`` the second copy's loss is far below the first's.

    Args:
        loss_by_position: Mean loss per position ``[2 seq_len]`` (position p predicts token p + 1).
        seq_len: Length of ``r``.
        ratio: The second half's loss must be below ``ratio`` times the first half's.
    """
    first = loss_by_position[:seq_len].mean().item()
    second = loss_by_position[seq_len:].mean().item()
    expect(second < ratio * first, f"The loss on the repeated half ({second:.2f}) is not far below the first half's "
           f"({first:.2f}).")
    passed(f"loss on the first copy {first:.2f} nats, on the repeat {second:.2f} nats")


def check_phase_change(steps: Sequence[int], induction: Sequence[float], icl: Sequence[float]) -> None:
    """The phase-change figure: the induction score jumps, at the same checkpoint as the in-context-learning score."""
    ind, icl_t = torch.as_tensor(list(induction), dtype=torch.float64), torch.as_tensor(list(icl), dtype=torch.float64)
    expect(len(ind) == len(steps) == len(icl_t) and len(ind) >= 3, "give one induction and one ICL value per checkpoint")
    expect(ind[0] < 0.2 and ind[-1] > 0.4, f"The induction score should start low and end above 0.4 "
           f"(it goes from {ind[0]:.2f} to {ind[-1]:.2f}).")
    jump_ind, jump_icl = int(ind.diff().argmax()), int(icl_t.diff().argmax())
    expect(abs(jump_ind - jump_icl) <= 1, f"The largest jump of the induction score (after step {steps[jump_ind + 1]}) "
           f"and of the ICL score (after step {steps[jump_icl + 1]}) should happen together.")
    passed(f"induction score and in-context-learning score jump together, around step {steps[jump_ind + 1]}")


def check_composition(k_scores: torch.Tensor, baseline: float, prev_head: int, induction_head: int,
                      factor: float = 1.5) -> None:
    """K-composition between the previous-token head and the induction head is well above the random baseline."""
    score = float(k_scores[prev_head, induction_head])
    expect(score > factor * baseline, f"K-composition L0H{prev_head} -> L1H{induction_head} is {score:.3f}, not well "
           f"above the random baseline {baseline:.3f}.")
    passed(f"K-composition L0H{prev_head} -> L1H{induction_head} = {score:.3f}, {score / baseline:.1f}x the random "
           f"baseline {baseline:.3f}")
