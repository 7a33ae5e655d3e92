"""Checks of lesson 8 (induction heads). Each ``check_*`` compares a student's function with ``mi_tutor``'s.

Examples:
    >>> from mi_tutor.circuits_transformer import previous_token_score
    >>> check_previous_token_score(previous_token_score)
    ✓ previous_token_score matches the reference on 3 inputs
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial

import torch

from ..circuits_transformer import (
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
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, expect_tensor_like, passed
from .mistakes import expect_close_or_named

__all__ = [
    "CONTRACTS",
    "check_attention_pattern",
    "check_previous_token_score",
    "check_induction_score",
    "check_per_token_loss",
    "check_induction_scores_with_hooks",
    "check_full_ov_circuit",
    "check_copying_score",
    "check_composition_score",
    "check_logit_attribution",
    "check_run_with_head_ablated",
    "check_head_scores_result",
    "check_ov_circuit_result",
    "check_head_ablation_result",
    "check_repeated_loss_result",
    "check_phase_change_result",
    "check_composition_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every call.
# Every exercise leaves its arguments (tensors, the model's weights) as they were. The per-token loss is the loss
# language models are trained on, so it keeps the gradient to the logits; the copying score is a real number.
TENSOR = Contract(returns=torch.Tensor)
LOSS = Contract(returns=torch.Tensor, gradient="flows")
CIRCUIT = Contract(returns=(FactoredMatrix, torch.Tensor))        # "a FactoredMatrix or a dense tensor"
NUMBER = Contract(returns=(torch.Tensor, float))                  # "a real scalar tensor" (a float is accepted)
CONTRACTS = {"attention_pattern": TENSOR, "previous_token_score": TENSOR, "induction_score": TENSOR,
             "per_token_loss": LOSS, "scores_with_hooks": TENSOR, "full_ov_circuit": CIRCUIT,
             "copying_score": NUMBER, "composition_score": TENSOR, "logit_attribution": TENSOR,
             "run_with_head_ablated": TENSOR}


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
def _masked_softmax(scores: torch.Tensor) -> torch.Tensor:
    n = scores.shape[-1]
    future = torch.ones(n, n, dtype=torch.bool, device=scores.device).triu(1)
    return scores.masked_fill(future, float("-inf")).softmax(-1)


def check_attention_pattern(student_fn: Callable, seed: int = 0, batch: int = 2, pos: int = 6, heads: int = 3,
                            d_head: int = 4) -> None:
    """Exercise 8.1: ``attention_pattern(q, k)`` on random queries and keys."""
    g = _gen(seed)
    cases = [{"q": torch.randn(batch, pos, heads, d_head, generator=g), "k": torch.randn(batch, pos, heads, d_head, generator=g)}
             for _ in range(2)]

    def compare(got, want, ctx, mistakes):
        expect_tensor_like("attention_pattern(q, k)", got, want)
        g_ = got.detach().double()
        rows = g_.sum(-1)
        expect(torch.allclose(rows, torch.ones_like(rows), atol=1e-4),
               f"Your attention rows sum to values from {rows.min():.3g} to {rows.max():.3g}, not 1 {ctx}: "
               "did you take the softmax over the key axis (the last one)?")
        above = g_.triu(1).abs().max().item()
        expect(above < 1e-6, f"Your pattern puts {above:.3g} attention on a key after its query {ctx}: "
               "apply the causal mask (scores of future keys to -inf) before the softmax.")
        expect_close_or_named("attention_pattern(q, k)", got, want, context=ctx, mistakes=mistakes,
                              hint="divide the scores q . k by sqrt(d_head) before the softmax, and mask with -inf "
                                   "(not 0).")

    for case in cases:
        dots = torch.einsum("bqhd,bkhd->bhqk", case["q"], case["k"])
        mistakes = [(_masked_softmax(dots), "These are the attention weights of the UNscaled scores q . k: divide "
                                            "them by sqrt(d_head) before the softmax."),
                    (_masked_softmax(dots / d_head), f"You divided the scores by d_head = {d_head}; the scale is "
                                                     f"sqrt(d_head) = {math.sqrt(d_head):.3g}.")]
        compare_functions("attention_pattern", student_fn, attention_pattern, [case], contract=TENSOR,
                          compare=partial(compare, mistakes=mistakes))
    passed(f"attention_pattern matches the reference on {len(cases)} inputs")


# ------------------------------------------------------------------ exercises 2-3
def check_previous_token_score(student_fn: Callable, seed: int = 0, batch: int = 3, heads: int = 4, n: int = 9) -> None:
    """Exercise 8.2: ``previous_token_score(pattern)``."""
    for i in range(3):
        pattern = _random_patterns(seed + i, batch, heads, n)
        diag = pattern.diagonal(offset=-1, dim1=-2, dim2=-1)                   # [batch, head, n - 1]
        mistakes = [
            (pattern.diagonal(dim1=-2, dim2=-1).mean((0, -1)),
             "Your scores are the attention of each query to ITSELF (the main diagonal); the previous token is one "
             "below it (offset=-1)."),
            (diag.sum(-1).mean(0) / n,
             f"You divided by all {n} positions; query 0 has no previous token, so average over the {n - 1} queries "
             "q = 1 .. pos - 1."),
            (diag.mean(-1),
             f"Your result keeps the batch axis ({batch} prompts): average over the batch as well, so one score "
             "per head remains."),
        ]
        compare_functions(
            "previous_token_score", student_fn, previous_token_score, [{"pattern": pattern}], contract=TENSOR,
            compare=lambda got, want, ctx, mistakes=mistakes: expect_close_or_named(
                "previous_token_score(pattern)", got, want, context=ctx, mistakes=mistakes,
                hint="average pattern[:, h, q, q - 1] over the batch and the queries q = 1 .. pos - 1 "
                     "(torch.diagonal with offset=-1 on the last two axes)."))
    passed("previous_token_score matches the reference on 3 inputs")


def check_induction_score(student_fn: Callable, seed: int = 0, batch: int = 3, heads: int = 4, seq_len: int = 5) -> None:
    """Exercise 8.3: ``induction_score(pattern, seq_len)``."""
    for i in range(3):
        pattern = _random_patterns(seed + i, batch, heads, 1 + 2 * seq_len)
        mistakes = [
            (duplicate_token_score(pattern, seq_len),
             "Your score is the *duplicate-token* score (attention to the same token's first occurrence, key "
             "q - seq_len). An induction head attends to the token one position after it, key q - seq_len + 1."),
            (pattern.diagonal(offset=1 - seq_len, dim1=-2, dim2=-1).mean((0, -1)),
             "You averaged the whole diagonal, including queries of the first copy (and BOS): keep only its last "
             "seq_len entries, the queries of the second copy."),
        ]
        compare_functions(
            "induction_score", student_fn, induction_score, [{"pattern": pattern, "seq_len": seq_len}],
            contract=TENSOR,
            compare=lambda got, want, ctx, mistakes=mistakes: expect_close_or_named(
                "induction_score(pattern, seq_len)", got, want, context=ctx, mistakes=mistakes,
                hint="score only the queries of the second copy (q = seq_len + 1 .. 2 seq_len) against the keys "
                     "q - seq_len + 1."))
    passed("induction_score matches the reference on 3 inputs")


# ------------------------------------------------------------------ exercise 4
def check_per_token_loss(student_fn: Callable, seed: int = 0, batch: int = 3, pos: int = 7, d_vocab: int = 11,
                         scale: float = 3.0) -> None:
    """Exercise 8.4: ``per_token_loss(logits, tokens)``; a large ``scale`` makes a softmax-then-log underflow.

    The loss must keep its gradient: a backward pass from it reaches ``logits``.
    """
    g = _gen(seed)
    for _ in range(2):
        logits = (torch.randn(batch, pos, d_vocab, generator=g) * scale).requires_grad_(True)
        tokens = torch.randint(0, d_vocab, (batch, pos), generator=g)
        lp = logits.detach().log_softmax(-1)
        mistakes = [
            (-lp[:, 1:].gather(-1, tokens[:, :-1, None])[..., 0],
             "You scored the logits at position p + 1 against token p: it is the other way round, the logits at "
             "position p predict token p + 1 (logits[:, :-1] with tokens[:, 1:])."),
            (-lp.gather(-1, tokens[..., None])[..., 0],
             "You scored every position against its own token: the logits at position p predict the NEXT token, "
             "so drop the last position of the logits and the first token ([batch, pos - 1])."),
            (lp[:, :-1].gather(-1, tokens[:, 1:, None])[..., 0],
             "Your losses are negative: they are the log-probabilities themselves; the loss is MINUS the "
             "log-probability."),
        ]

        def compare(got, want, ctx, mistakes=mistakes):
            if bool(torch.isinf(got.detach()).any()) and not bool(torch.isinf(want).any()):
                raise CheckFailure(f"Some of your losses are infinite {ctx}: with large logits, softmax rounds small "
                                   "probabilities to 0 and log(0) = -inf. A log-softmax computes the same thing stably.")
            expect_close_or_named("per_token_loss(logits, tokens)", got, want, context=ctx, mistakes=mistakes,
                                  hint="the logits at position p predict tokens[:, p + 1]: use logits[:, :-1] with "
                                       "tokens[:, 1:], and take log_softmax over the vocabulary axis.")

        compare_functions("per_token_loss", student_fn, per_token_loss, [{"logits": logits, "tokens": tokens}],
                          compare=compare, contract=LOSS, grad_to=[logits])
    passed("per_token_loss matches the reference on 2 inputs, and its gradient reaches the logits")


# ------------------------------------------------------------------ exercise 5
def _reference_hook_scores(model: HookedTransformer, tokens: torch.Tensor, seq_len: int,
                           score_fn: Callable) -> torch.Tensor:
    _, cache = model.run_with_cache(tokens, names_filter=lambda n: n.endswith("hook_pattern"))
    return torch.stack([score_fn(cache["pattern", layer], seq_len) for layer in range(model.cfg.n_layers)])


def _previous_token_fn(pattern: torch.Tensor, seq_len: int) -> torch.Tensor:
    return previous_token_score(pattern)


def check_induction_scores_with_hooks(student_fn: Callable, seed: int = 0, batch: int = 4, seq_len: int = 8,
                                      model: HookedTransformer | None = None, score: str = "induction") -> None:
    """Exercise 8.5: ``scores_with_hooks(model, tokens, seq_len, score_fn) -> [n_layers, n_heads]``.

    The check passes the *reference* score function, so a mistake in exercise 8.3 costs nothing here.

    Args:
        score: ``"induction"``, ``"duplicate"`` or ``"previous"``: which score function is passed
            (another one than the visible test's catches a function that ignores ``score_fn``).
    """
    score_fn = {"induction": induction_score, "duplicate": duplicate_token_score, "previous": _previous_token_fn}[score]
    models = [model] if model is not None else [_small_model(seed), _small_model(seed + 1, n_layers=3)]
    for m in models:
        tokens = repeated_random_tokens(batch, seq_len, m.cfg.d_vocab, seed=seed, device=m.W_E.device)
        case = [{"model": m, "tokens": tokens, "seq_len": seq_len, "score_fn": score_fn}]

        def compare(got, want, ctx, m=m, case=case):
            if score != "induction":
                with torch.no_grad():
                    ind = _reference_hook_scores(m, case[0]["tokens"], seq_len, induction_score)
                if isinstance(got, torch.Tensor) and got.shape == ind.shape and torch.allclose(got.detach().cpu(), ind.cpu(), atol=1e-5):
                    raise CheckFailure(f"Given the {score}-token score function, your function still returned "
                                       "induction scores: call the `score_fn` argument in the hook, not a fixed "
                                       "function of the notebook.")
            expect_close("scores_with_hooks(...)", got, want, context=f"on a {m.cfg.n_layers}-layer model ({ctx})",
                         hint="stack one row per layer, in layer order: the hook's `hook.layer()` tells you the layer.")
        compare_functions("scores_with_hooks", student_fn, _reference_hook_scores, case, compare=compare,
                          describe=lambda c: f"on tokens of shape {tuple(c['tokens'].shape)}", contract=TENSOR)
        left = [name for name, hp in m.hook_dict.items() if hp.fwd_hooks]
        expect(not left, f"Hooks are still attached to {left} after your function returned: use "
               "model.run_with_hooks (or the model.hooks() context manager) so they are removed.")
    passed(f"scores_with_hooks matches the reference on {len(models)} model(s) with the {score} score "
           "and leaves no hooks behind")


# ------------------------------------------------------------------ exercises 6-7
def check_full_ov_circuit(student_fn: Callable, seed: int = 0, model: HookedTransformer | None = None,
                          n_layers: int = 2, heads: Sequence[tuple[int, int]] | None = None) -> None:
    """Exercise 8.6: ``full_ov_circuit(model, layer, head)``.

    Args:
        heads: ``(layer, head)`` pairs to ask for; default: two drawn at random.
    """
    model = model or _small_model(seed, n_layers=n_layers)
    if heads is None:
        g = _gen(seed)
        heads = [(int(torch.randint(model.cfg.n_layers, (1,), generator=g)),
                  int(torch.randint(model.cfg.n_heads, (1,), generator=g))) for _ in range(2)]
    for layer, head in heads:
        ctx = f"for layer {layer}, head {head}"
        with torch.no_grad():
            got = check_contract("full_ov_circuit", student_fn, CIRCUIT, model, layer, head, context=ctx)
            want = full_ov_circuit(model, layer, head).AB
            W_E, W_U = model.W_E, model.W_U
            mistakes = [(want.T, "Your matrix is the transpose of the full OV circuit: row i is the token the head "
                                 "attends to (W_E on the left), column j the logit it raises (W_U on the right)."),
                        (W_E @ model.W_Q[layer, head] @ model.W_K[layer, head].T @ W_E.T,
                         "That is the head's QK circuit (W_Q W_K^T: where it attends); the OV circuit (what it "
                         "writes) is W_V[layer, head] @ W_O[layer, head].")]
            if head < model.cfg.n_layers and layer < model.cfg.n_heads and head != layer:
                mistakes.append((W_E @ model.W_V[head, layer] @ model.W_O[head, layer] @ W_U,
                                 f"You took head {layer} of layer {head}: the weights are indexed "
                                 "[layer, head], layer first."))
        if isinstance(got, FactoredMatrix):
            got = got.AB
        expect_close_or_named(f"full_ov_circuit(model, {layer}, {head})", got, want, context=ctx, mistakes=mistakes,
                              hint="the full OV circuit is W_E @ W_V[layer, head] @ W_O[layer, head] @ W_U.",
                              rtol=1e-3, atol=1e-5)
    passed(f"full_ov_circuit matches the reference on {len(heads)} heads")


def check_copying_score(student_fn: Callable, seed: int = 0, n: int = 12, anti: bool = False) -> None:
    """Exercise 8.7: ``copying_score(matrix)``; ``anti`` adds a pure anti-copier (score -1) and a rotation."""
    g = _gen(seed)
    basis = torch.linalg.qr(torch.randn(n, n, generator=g))[0]
    cases = [{"matrix": torch.randn(n, n, generator=g)},
             {"matrix": basis @ torch.diag(torch.rand(n, generator=g) + 0.5) @ basis.T},  # pure copying: score 1
             {"matrix": torch.randn(n, n, generator=g) + 0.5 * torch.eye(n)}]
    if anti:
        cases += [{"matrix": -(basis @ torch.diag(torch.rand(n, generator=g) + 0.5) @ basis.T)},  # score -1
                  {"matrix": torch.linalg.matrix_exp(torch.randn(n, n, generator=g).triu(1) * 2
                                                     - (torch.randn(n, n, generator=g).triu(1) * 2).T)}]

    def compare(got, want, ctx):
        if isinstance(got, (float, int)):
            got = torch.tensor(float(got))
        if isinstance(got, torch.Tensor) and got.is_complex():
            raise CheckFailure(f"`copying_score` returned a complex tensor {ctx}: the score is real; keep the real "
                               "part of the eigenvalues' sum.")
        expect_tensor_like("copying_score(matrix)", got, want, check_device=False)
        expect_close("copying_score(matrix)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="sum the (complex) eigenvalues, take the real part, divide by the sum of their absolute values.")

    k = compare_functions("copying_score", student_fn, copying_score, cases, compare=compare,
                          describe=lambda c: f"on a {n}x{n} matrix", contract=NUMBER)
    passed(f"copying_score matches the reference on {k} matrices")


# ------------------------------------------------------------------ exercise 8
def check_composition_score(student_fn: Callable, seed: int = 0, d_model: int = 16, d_head: int = 4,
                            batch: tuple[int, ...] = (3,)) -> None:
    """Exercise 8.8: ``composition_score(W_A, W_B)`` on low-rank matrices with leading axes ``batch``."""
    g = _gen(seed)
    def low_rank(*batch):
        return torch.randn(*batch, d_model, d_head, generator=g) @ torch.randn(*batch, d_head, d_model, generator=g)
    cases = [{"W_A": low_rank(), "W_B": low_rank()}, {"W_A": low_rank(*batch), "W_B": low_rank(*batch)},
             {"W_A": torch.eye(d_model), "W_B": low_rank()},
             {"W_A": low_rank()[: max(1, d_model // 2)], "W_B": low_rank()}]          # a non-square W_A
    norm = torch.linalg.matrix_norm
    for case in cases:
        A, B = case["W_A"], case["W_B"]
        mistakes = [((A @ B).norm() / (A.norm() * B.norm()),
                     "You took each norm over every axis, so the leading (batch) axes were summed away: take "
                     "Frobenius norms over the last two axes only (torch.linalg.matrix_norm), one score per matrix."),
                    (norm(A @ B) / norm(A), "You divided by |W_A| only: divide by the product of both norms, "
                                            "|W_A| |W_B|."),
                    (norm(A @ B) / (norm(A) * norm(B)) ** 2, "You divided by the squared norms: the score is "
                                                              "|W_A W_B| / (|W_A| |W_B|), no squares.")]
        compare_functions(
            "composition_score", student_fn, composition_score, [case], contract=TENSOR,
            compare=lambda got, want, ctx, mistakes=mistakes: expect_close_or_named(
                "composition_score(W_A, W_B)", got, want, context=ctx, mistakes=mistakes, rtol=1e-4, atol=1e-6,
                hint="use Frobenius norms of the last two axes (torch.linalg.matrix_norm): |W_A W_B| / (|W_A| |W_B|)."))
    passed(f"composition_score matches the reference on {len(cases)} inputs")


# ------------------------------------------------------------------ exercise 9
def check_logit_attribution(student_fn: Callable, seed: int = 0, n_comp: int = 5, batch: int = 2, pos: int = 6,
                            d_model: int = 8, d_vocab: int = 13) -> None:
    """Exercise 8.9: ``logit_attribution(components, W_U, tokens)``."""
    g = _gen(seed)
    cases = [{"components": torch.randn(n_comp, batch, pos, d_model, generator=g),
              "W_U": torch.randn(d_model, d_vocab, generator=g),
              "tokens": torch.randint(0, d_vocab, (batch, pos), generator=g)} for _ in range(2)]
    for case in cases:
        comp, W_U, tokens = case["components"], case["W_U"], case["tokens"]
        want = logit_attribution(comp, W_U, tokens)
        mistakes = [(torch.einsum("cbpd,bpd->bpc", comp[:, :, :-1], W_U.T[tokens[:, :-1]]),
                     "You scored each position's own token: the component at position p writes to the logit of the "
                     "NEXT token, tokens[:, p + 1]."),
                    (torch.einsum("cbpd,bpd->bpc", comp[:, :, 1:], W_U.T[tokens[:, 1:]]),
                     "You dropped the FIRST position of the components: drop the last one, so that position p "
                     "lines up with the next token tokens[:, p + 1]."),
                    (want.permute(2, 0, 1), "Your axes are [component, batch, pos - 1]: put the component axis last, "
                                            "[batch, pos - 1, component].")]
        compare_functions(
            "logit_attribution", student_fn, logit_attribution, [case], contract=TENSOR,
            compare=lambda got, want, ctx, mistakes=mistakes: expect_close_or_named(
                "logit_attribution(components, W_U, tokens)", got, want, context=ctx, mistakes=mistakes,
                hint="the component at position p writes to the logit of the *next* token tokens[:, p + 1]; "
                     "drop the last position; the output is [batch, pos - 1, component]."))
    passed(f"logit_attribution matches the reference on {len(cases)} inputs")


# ------------------------------------------------------------------ exercise 10
def _reference_ablated(model: HookedTransformer, tokens: torch.Tensor, layer: int, head: int) -> torch.Tensor:
    def zero_head(z, hook):
        z = z.clone()
        z[:, :, head] = 0.0
        return z
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", zero_head)])


def check_run_with_head_ablated(student_fn: Callable, seed: int = 0, batch: int = 3, seq_len: int = 6,
                                n_layers: int = 2, heads: Sequence[tuple[int, int]] = ((0, 1),)) -> None:
    """Exercise 8.10: ``run_with_head_ablated(model, tokens, layer, head) -> logits [batch, pos, d_vocab]``."""
    m = _small_model(seed, n_layers=n_layers)
    tokens = repeated_random_tokens(batch, seq_len, m.cfg.d_vocab, seed=seed, device=m.W_E.device)
    with torch.no_grad():
        clean = m(tokens)
    for layer, head in heads:
        def compare(got, want, ctx, layer=layer, head=head):
            expect_tensor_like("run_with_head_ablated(...)", got, want)
            g = got.detach()
            if torch.allclose(g, clean, atol=1e-6):
                raise CheckFailure(f"Your logits equal the clean run's {ctx}: the ablation changed nothing. Does your "
                                   "hook return the edited activation, and is it attached to the head's hook point?")
            for other_layer in range(m.cfg.n_layers):
                if other_layer != layer and torch.allclose(g, _reference_ablated(m, tokens, other_layer, head), atol=1e-5):
                    raise CheckFailure(f"You ablated head {head} of layer {other_layer}, not of layer {layer} {ctx}.")
            if head < tokens.shape[1]:
                def zero_pos(z, hook):
                    z = z.clone()
                    z[:, head] = 0.0
                    return z
                with torch.no_grad():
                    wrong_axis = m.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z", zero_pos)])
                if torch.allclose(g, wrong_axis, atol=1e-5):
                    raise CheckFailure(f"You zeroed *position* {head}, not head {head} {ctx}: hook_z is "
                                       "[batch, pos, head, d_head], so the head is the third axis.")
            expect_close("run_with_head_ablated(...)", got, want, rtol=1e-4, atol=1e-5, context=ctx,
                         hint="zero exactly one head's output in one layer (all positions, all of d_head) and leave "
                              "every other head and layer alone.")
        compare_functions("run_with_head_ablated", student_fn, _reference_ablated,
                          [{"model": m, "tokens": tokens, "layer": layer, "head": head}], compare=compare,
                          describe=lambda c: f"(layer {c['layer']}, head {c['head']}, tokens {tuple(c['tokens'].shape)})",
                          contract=TENSOR)
        left = [name for name, hp in m.hook_dict.items() if hp.fwd_hooks]
        expect(not left, f"Hooks are still attached to {left} after your function returned: use "
               "model.run_with_hooks so they are removed.")
    passed(f"run_with_head_ablated matches the reference on {len(heads)} head(s) of a {n_layers}-layer model")


# ------------------------------------------------------------------ results behind the figures
def check_head_scores_result(scores_2l: Mapping[str, torch.Tensor], scores_1l: Mapping[str, torch.Tensor],
                             threshold: float = 0.4) -> None:
    """The head-score heatmaps: a previous-token head in layer 0 and an induction head in layer 1 of
    the 2-layer model, no induction head in the 1-layer model."""
    prev, ind = scores_2l["previous_token"], scores_2l["induction"]
    expect(prev[0].max() > threshold, f"No layer-0 head of the 2-layer model has a previous-token score above "
           f"{threshold} (best {prev[0].max():.2f}). These scores come from your `previous_token_score`: go back to "
           "Exercise 8.2 and check which diagonal it averages.")
    expect(ind[1].max() > threshold, f"No layer-1 head of the 2-layer model has an induction score above "
           f"{threshold} (best {ind[1].max():.2f}). These scores come from your `induction_score`: go back to "
           "Exercise 8.3 and check the offset of the key and which queries you score.")
    expect(scores_1l["induction"].max() < threshold, f"The 1-layer model has a head with induction score "
           f"{scores_1l['induction'].max():.2f}: a single attention layer cannot implement induction, so your "
           "`induction_score` (Exercise 8.3) probably scores other entries.")
    passed(f"2-layer model: previous-token head L0H{int(prev[0].argmax())} ({prev[0].max():.2f}), induction head "
           f"L1H{int(ind[1].argmax())} ({ind[1].max():.2f}); 1-layer model: best induction score "
           f"{scores_1l['induction'].max():.2f}")


def check_repeated_loss_result(loss_by_position: torch.Tensor, seq_len: int, ratio: float = 0.5,
                               chance: float = math.log(63), tol: float = 0.3) -> None:
    """The per-token loss figure: on ``[BOS] + r + r`` the first copy costs about chance, the second far less.

    Args:
        loss_by_position: Mean loss per position ``[2 seq_len]`` (position p predicts token p + 1).
        seq_len: Length of ``r``.
        ratio: The second half's loss must be below ``ratio`` times the first half's.
        chance: The loss of a uniform guess among the random tokens, in nats (the lesson's 63 non-BOS tokens:
            log 63 = 4.14); the first copy's mean loss must be within ``tol`` of it.
    """
    first = loss_by_position[:seq_len].mean().item()
    expect(abs(first - chance) <= tol, f"The loss on the first, random copy is {first:.2f}, but nothing can predict "
           f"random tokens: it should be about chance, {chance:.2f} nats (log 63). The curve comes from your "
           "`per_token_loss`: go back to Exercise 8.4 and check that it is minus the natural log (not log2) of the "
           "softmax probability of the next token, one value per position (not summed).")
    second = loss_by_position[seq_len:].mean().item()
    expect(second < ratio * first, f"The loss on the repeated half ({second:.2f}) is not far below the first half's "
           f"({first:.2f}). The curve comes from your `per_token_loss`: go back to Exercise 8.4 and check that "
           "position p is scored against token p + 1.")
    passed(f"loss on the first copy {first:.2f} nats, on the repeat {second:.2f} nats")


def check_phase_change_result(steps: Sequence[int], induction: Sequence[float], icl: Sequence[float]) -> None:
    """The phase-change figure: the induction score jumps, at the same checkpoint as the in-context-learning score."""
    ind, icl_t = torch.as_tensor(list(induction), dtype=torch.float64), torch.as_tensor(list(icl), dtype=torch.float64)
    expect(len(ind) == len(steps) == len(icl_t) and len(ind) >= 3, "give one induction and one ICL value per checkpoint")
    expect(ind[0] < 0.2 and ind[-1] > 0.4, f"The induction score should start low and end above 0.4 "
           f"(it goes from {ind[0]:.2f} to {ind[-1]:.2f}). It is computed with your `scores_with_hooks` and "
           "`induction_score` (Exercises 8.5 and 8.3).")
    jump_ind, jump_icl = int(ind.diff().argmax()), int(icl_t.diff().argmax())
    expect(abs(jump_ind - jump_icl) <= 1, f"The largest jump of the induction score (after step {steps[jump_ind + 1]}) "
           f"and of the ICL score (after step {steps[jump_icl + 1]}) should happen together.")
    passed(f"induction score and in-context-learning score jump together, around step {steps[jump_ind + 1]}")


def check_composition_result(k_scores: torch.Tensor, baseline: float, prev_head: int, induction_head: int,
                             factor: float = 1.5) -> None:
    """K-composition between the previous-token head and the induction head is well above the random baseline."""
    score = float(k_scores[prev_head, induction_head])
    expect(score > factor * baseline, f"K-composition L0H{prev_head} -> L1H{induction_head} is {score:.3f}, not well "
           f"above the random baseline {baseline:.3f}.")
    passed(f"K-composition L0H{prev_head} -> L1H{induction_head} = {score:.3f}, {score / baseline:.1f}x the random "
           f"baseline {baseline:.3f}")


def check_ov_circuit_result(ov_matrix: torch.Tensor, copying_scores: torch.Tensor, induction_head: int,
                            min_hits: float = 0.5, min_copying: float = 0.9) -> None:
    """The OV figure: the induction head's full OV circuit copies (copying score close to 1: 0.99 to 1.0 measured).

    Args:
        ov_matrix: The figure's full OV circuit ``[d_vocab, d_vocab]`` of the induction head.
        copying_scores: Copying score of every head of layer 1 ``[n_heads]``.
        induction_head: The induction head's index.
        min_hits: The diagonal must be its row's largest entry for at least this share of tokens.
        min_copying: The induction head's copying score must be at least this.
    """
    expect(ov_matrix.dim() == 2 and ov_matrix.shape[0] == ov_matrix.shape[1],
           f"The OV figure should show a square [d_vocab, d_vocab] matrix, not {tuple(ov_matrix.shape)}: "
           "go back to Exercise 8.6.")
    hits = (ov_matrix.argmax(-1) == torch.arange(len(ov_matrix), device=ov_matrix.device)).float().mean().item()
    expect(hits >= min_hits, f"The diagonal of the induction head's full OV circuit is its row's largest entry for "
           f"only {hits:.0%} of the tokens: a copying head should raise the logit of the token it attends to. The "
           "matrix comes from your `full_ov_circuit` (Exercise 8.6): check the order of the four factors.")
    score = float(copying_scores[induction_head])
    expect(score >= min_copying, f"The induction head's copying score is {score:.2f}, not close to 1 (at least "
           f"{min_copying}). It comes from your "
           "`copying_score` (Exercise 8.7) applied to your `full_ov_circuit` (Exercise 8.6).")
    passed(f"L1H{induction_head}'s full OV circuit copies: diagonal is the row maximum for {hits:.0%} of tokens, "
           f"copying score {score:.2f}")


def check_head_ablation_result(second_copy_loss: torch.Tensor, clean_loss: float, prev_head: int,
                               min_rise: float = 1.0, max_other_rise: float = 0.5) -> None:
    """The ablation figure: removing the previous-token head undoes induction, other layer-0 heads do not.

    Args:
        second_copy_loss: Mean loss on the second copy with each layer-0 head ablated ``[n_heads]``.
        clean_loss: The same loss without ablation.
        prev_head: The previous-token head.
    """
    rise = second_copy_loss - clean_loss
    expect(float(rise[prev_head]) > min_rise, f"Ablating the previous-token head L0H{prev_head} raises the loss on the "
           f"repeat by only {float(rise[prev_head]):.2f} nats. The numbers come from your `run_with_head_ablated` "
           "(Exercise 8.10) and `per_token_loss` (Exercise 8.4): does your hook zero that head?")
    others = [float(r) for h, r in enumerate(rise) if h != prev_head]
    expect(max(others) < max_other_rise, f"Ablating another layer-0 head raises the loss by {max(others):.2f} nats: "
           "only the previous-token head should matter this much. Check that your ablation touches one head only.")
    passed(f"ablating L0H{prev_head} raises the loss on the repeat by {float(rise[prev_head]):.2f} nats; the other "
           f"layer-0 heads by at most {max(others):.2f}")
