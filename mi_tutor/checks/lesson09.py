"""Checks of lesson 9 (causal interventions). Each ``check_*`` compares a student's function with ``mi_tutor.patching``.

Examples:
    >>> from mi_tutor import patching as P
    >>> check_logit_diff(lambda logits, io, s: P.logit_diff(logits, io, s, reduce=False))
    ✓ logit_diff matches the reference on 3 inputs
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from .. import patching as P
from ..transformer import HookedTransformer, TransformerConfig
from .contracts import Contract, check_contract, compare_functions
from .core import expect, expect_tensor_like, passed
from .mistakes import expect_close_or_named, expect_number_or_named

__all__ = [
    "CONTRACTS",
    "check_logit_diff",
    "check_normalized_metric",
    "check_ablate_head",
    "check_patch_residual_sweep",
    "check_patch_head_sweep",
    "check_path_patch",
    "check_circuit_faithfulness",
    "check_scrub_score",
    "check_task_numbers_result",
    "check_ablation_table_result",
    "check_patching_map_result",
    "check_paths_result",
    "check_faithfulness_curve_result",
    "check_scrub_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every call.
# Every exercise leaves its arguments (tensors, the model's weights) as they were. The logit difference, the
# normalised metric, the ablated logits and the two sweeps are tensors; path patching, faithfulness and the
# scrubbing score are one number each, a Python float (the story rounds and prints them).
TENSOR = Contract(returns=torch.Tensor)
FLOAT = Contract(returns=float)
CONTRACTS = {"logit_diff": TENSOR, "normalized_metric": TENSOR, "ablate_head": TENSOR, "patch_residual_sweep": TENSOR,
             "patch_head_sweep": TENSOR, "path_patch_to": FLOAT, "circuit_faithfulness": FLOAT, "scrub_score": FLOAT}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _small_model(seed: int, n_layers: int = 2, n_heads: int = 2, n_ctx: int = 7) -> HookedTransformer:
    cfg = TransformerConfig(n_layers=n_layers, d_model=24, n_heads=n_heads, d_head=8, d_vocab=14, n_ctx=n_ctx,
                            init_range=0.4, seed=seed)
    return HookedTransformer(cfg).eval()


def _tokens(seed: int, batch: int, pos: int, d_vocab: int = 14) -> torch.Tensor:
    return torch.randint(0, d_vocab, (batch, pos), generator=_gen(seed))


def _metric_for(model: HookedTransformer, clean: torch.Tensor, corrupt: torch.Tensor):
    """A normalised logit-difference metric between tokens 1 and 2 (fixed answers for the random models)."""
    io, s = torch.ones(clean.shape[0], dtype=torch.long), torch.full((clean.shape[0],), 2)
    with torch.no_grad():
        c, k = P.logit_diff(model(clean), io, s), P.logit_diff(model(corrupt), io, s)
    return lambda logits: P.normalized_metric(P.logit_diff(logits, io, s), c, k)


def _no_hooks_left(model: HookedTransformer, name: str) -> None:
    left = [n for n, hp in model.hook_dict.items() if hp.fwd_hooks]
    expect(not left, f"Hooks are still attached to {left} after `{name}` returned: use model.run_with_hooks "
                     "(or `with model.hooks(...)`) so they are removed.")


# ------------------------------------------------------------------ exercise 1
def check_logit_diff(student_fn: Callable, seed: int = 0, batch: int = 4, pos: int = 5, d_vocab: int = 9) -> None:
    """Exercise 9.1: ``logit_diff(logits, io, s) -> [batch]`` at the last position."""
    g = _gen(seed)
    cases = []
    for _ in range(3):
        io = torch.randint(0, d_vocab, (batch,), generator=g)
        s = (io + torch.randint(1, d_vocab, (batch,), generator=g)) % d_vocab
        cases.append({"logits": torch.randn(batch, pos, d_vocab, generator=g), "io": io, "s": s})

    def reference(logits, io, s):
        return P.logit_diff(logits, io, s, reduce=False)

    for case in cases:
        logits, io, s = case["logits"], case["io"], case["s"]
        last, rows = logits[:, -1], torch.arange(batch)
        want = reference(logits, io, s)
        mistakes = [(-want, "Your values have the wrong sign: the logit difference is IO minus S "
                            "(logit of the indirect object minus logit of the subject)."),
                    (logits[rows, 0, io] - logits[rows, 0, s],
                     "You read the logits at the FIRST position: the answer is predicted at the last one (END), "
                     "logits[:, -1]."),
                    (last[:, io] - last[:, s],
                     f"You built a [batch, batch] = {[batch, batch]} table (every prompt's logits at every prompt's "
                     "tokens): index rows and columns together, last[torch.arange(batch), io], one entry per prompt."),
                    (want.mean(), "You returned the mean over the prompts: return one logit difference per prompt, "
                                  "shape [batch] (the caller averages).")]
        compare_functions(
            "logit_diff", student_fn, reference, [case], contract=TENSOR,
            compare=lambda got, want, ctx, mistakes=mistakes: expect_close_or_named(
                "logit_diff(...)", got, want, context=ctx, mistakes=mistakes,
                hint="read the logits at the LAST position, pick each prompt's own IO and S token "
                     "(one per row, not a [batch, batch] table), and return IO minus S, one value per prompt."))
    passed(f"logit_diff matches the reference on {len(cases)} inputs")


# ------------------------------------------------------------------ exercise 2
def check_normalized_metric(student_fn: Callable, seed: int = 0, clean_below: bool = False) -> None:
    """Exercise 9.2: ``normalized_metric(ld, clean_ld, corrupt_ld)``: 1 on clean, 0 on corrupt, linear between.

    Args:
        clean_below: The clean value below the corrupt one (a metric that falls when the model works, such as a
            loss): code that orders the two ends by size fails.
    """
    g = _gen(seed)
    clean, corrupt = 2.0 + torch.rand((), generator=g).item() * 5, -1.0 - torch.rand((), generator=g).item() * 5
    if clean_below:
        clean, corrupt = corrupt, clean
    # a quarter of the way first: there the -1..0 scale (-0.75) and the swapped ends (0.75) differ
    for value, want in ((corrupt + (clean - corrupt) / 4, 0.25), (clean, 1.0), (corrupt, 0.0),
                        ((clean + corrupt) / 2, 0.5), (clean + (clean - corrupt), 2.0)):
        ctx = f"with ld={value:.3f}, clean_ld={clean:.3f}, corrupt_ld={corrupt:.3f}"
        got = check_contract("normalized_metric", student_fn, TENSOR, torch.tensor(value), clean, corrupt, context=ctx)
        expect(got.numel() == 1, f"`normalized_metric` returned a tensor of shape {tuple(got.shape)} for one value "
                                 f"{ctx}: it works element-wise, so one value in gives one value out.")
        swapped = "the two ends are swapped" + (" (here the clean value is the smaller one: take the ends as given, "
                                                "not ordered by size)" if clean_below else "")
        expect_number_or_named(
            "normalized_metric(ld, clean_ld, corrupt_ld)", float(got), want, context=ctx, tol=1e-5,
            mistakes=[(min(max(want, 0.0), 1.0), "Do not clamp to [0, 1]: a patch can overshoot the clean run "
                                                 "(2.0 here) or undershoot the corrupt one, and that is information."),
                      (want - 1, "That is ARENA's -1..0 scale, (ld - clean) / (clean - corrupt); this lesson's is 0 at "
                                 "the corrupt run and 1 at the clean one: (ld - corrupt) / (clean - corrupt)."),
                      (1 - want, f"Your metric is 1 at the corrupt run and 0 at the clean one: {swapped}.")],
            hint="the metric is (ld - corrupt) / (clean - corrupt): 1 at clean, 0 at corrupt.")
    many = torch.tensor([clean, corrupt])
    got = check_contract("normalized_metric", student_fn, TENSOR, many, clean, corrupt, context="with a tensor of two values")
    expect(got.shape == (2,), "normalized_metric should work element-wise on a tensor of values (no .item() or float()), "
                              f"but returned shape {tuple(got.shape)} for 2 values")
    passed("normalized_metric gives 1 on clean, 0 on corrupt, 0.5 half-way, and works on tensors")


# ------------------------------------------------------------------ exercise 3
def _ablate_with(model, tokens, layer, head, values):
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(f"blocks.{layer}.attn.hook_z",
                                                        P.replace_hook(values, heads=[head]))])


def _reference_ablate(model, tokens, layer, head, kind, reference):
    name = f"blocks.{layer}.attn.hook_z"
    if kind == "zero":
        values = torch.zeros(1)
    else:
        _, cache = model.run_with_cache(reference, names_filter=name)
        values = cache[name].mean(0, keepdim=True) if kind == "mean" else cache[name]
    return _ablate_with(model, tokens, layer, head, values)


def check_ablate_head(student_fn: Callable, seed: int = 0, batch: int = 4, pos: int = 6,
                      kinds: tuple[str, ...] = ("zero", "mean", "resample"), heads=((0, 1), (1, 0))) -> None:
    """Exercise 9.3: ``ablate_head(model, tokens, layer, head, kind, reference) -> logits``."""
    model = _small_model(seed, n_ctx=pos)
    tokens, reference = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    with torch.no_grad():
        clean = model(tokens)
        _, ref_cache = model.run_with_cache(reference)
    for kind in kinds:
        for layer, head in heads:
            z_ref = ref_cache[f"blocks.{layer}.attn.hook_z"]
            mistakes = {
                "mean": [(lambda: _reference_ablate(model, tokens, layer, head, "resample", reference),
                          "You replaced the head by the reference's activations row by row (resampling); mean "
                          "ablation uses their mean over the reference batch."),
                         (lambda: P.ablate(model, tokens, f"blocks.{layer}.attn.hook_z", "mean", reference),
                          f"You mean-ablated every head of layer {layer}; only head {head} should change."),
                         (lambda: _ablate_with(model, tokens, layer, head, z_ref.mean((0, 1), keepdim=True)),
                          "You averaged over the positions too: take the mean over the reference batch only "
                          "(mean(0, keepdim=True)), so position p gets the mean of position p.")],
                "resample": [(lambda: _reference_ablate(model, tokens, layer, head, "mean", reference),
                              "You replaced the head by the reference's MEAN; resampling gives prompt i the "
                              "activation of reference[i] itself.")],
                "zero": [],
            }[kind]

            def compare(got, want, ctx, mistakes=mistakes):
                expect_tensor_like("ablate_head(...)", got, want)
                expect(not torch.allclose(got, clean, atol=1e-6),
                       f"Your logits equal the un-ablated run's {ctx}: the ablation changed nothing. Does your hook "
                       "return the edited activation?")
                expect_close_or_named("ablate_head(...)", got, want, context=ctx, mistakes=mistakes,
                                      hint="hook blocks.{layer}.attn.hook_z; replace only head `head` (the third axis) "
                                           "by 0, by the reference's mean over its batch axis (keep the positions), or "
                                           "by the reference's own activation of the same row.")
            compare_functions("ablate_head", student_fn, _reference_ablate,
                              [{"model": model, "tokens": tokens, "layer": layer, "head": head, "kind": kind,
                                "reference": reference}], compare=compare, contract=TENSOR,
                              describe=lambda c: f"(kind {c['kind']!r}, layer {c['layer']}, head {c['head']})")
            _no_hooks_left(model, "ablate_head")
    passed(f"ablate_head matches the reference for {', '.join(kinds)} ablation of {len(heads)} heads")


# ------------------------------------------------------------------ exercise 4
def check_patch_residual_sweep(student_fn: Callable, seed: int = 0, batch: int = 3, pos: int = 6,
                               n_layers: int = 2) -> None:
    """Exercise 9.4: ``patch_residual_sweep(model, clean, corrupt, metric) -> [n_layers, pos]`` (denoising resid_pre)."""
    model = _small_model(seed, n_layers=n_layers, n_ctx=pos)
    clean, corrupt = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    metric = _metric_for(model, clean, corrupt)

    def compare(got, want, ctx):
        with torch.no_grad():
            restored = float(metric(model(clean)))
        expect_close_or_named(
            "patch_residual_sweep(...)", got.detach().float().cpu(), want, rtol=1e-3, atol=1e-4, context=ctx,
            mistakes=[(lambda: P.patch_residual(model, clean, corrupt, metric, direction="noise"),
                       "You patched corrupt activations into the clean run (noising); this exercise denoises: run the "
                       "CORRUPT prompts with one CLEAN activation patched in."),
                      (want.T, "Your map is [pos, n_layers]: rows must be the layers, columns the positions."),
                      (torch.full_like(want, restored),
                       f"Every entry is the clean run's metric ({restored:.3f}): you patched the whole of "
                       "hook_resid_pre (every position); patch only [:, p], one position per run.")],
            hint="for each layer L and position p: cache blocks.L.hook_resid_pre on the clean run, run the corrupt "
                 "prompts with only [:, p] of that hook replaced, and record metric(logits).")

    def reference(model, clean, corrupt, metric):
        return P.patch_residual(model, clean, corrupt, metric)

    compare_functions("patch_residual_sweep", student_fn, reference,
                      [{"model": model, "clean": clean, "corrupt": corrupt, "metric": metric}], compare=compare,
                      describe=lambda c: f"(a {n_layers}-layer model, prompts {tuple(c['clean'].shape)})",
                      contract=TENSOR)
    _no_hooks_left(model, "patch_residual_sweep")
    passed(f"patch_residual_sweep matches the reference on a {n_layers}-layer model")


# ------------------------------------------------------------------ exercise 5
def check_patch_head_sweep(student_fn: Callable, seed: int = 0, batch: int = 3, pos: int = 5, n_heads: int = 2) -> None:
    """Exercise 9.5: ``patch_head_sweep(model, clean, corrupt, metric) -> [n_layers, n_heads, pos]`` (hook_z)."""
    model = _small_model(seed, n_heads=n_heads, n_ctx=pos)
    clean, corrupt = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    metric = _metric_for(model, clean, corrupt)

    def every_head(want):
        out = torch.zeros_like(want)
        for L in range(model.cfg.n_layers):
            for p in range(pos):
                out[L, :, p] = float(metric(P.patch(model, corrupt, clean, f"blocks.{L}.attn.hook_z", [p])))
        return out

    def compare(got, want, ctx):
        expect_close_or_named(
            "patch_head_sweep(...)", got.detach().float().cpu(), want, rtol=1e-3, atol=1e-4, context=ctx,
            mistakes=[(want.transpose(1, 2), "Heads and positions are swapped: hook_z is [batch, pos, head, d_head], "
                                             "so z[:, p, h] is head h at position p; return [n_layers, n_heads, pos]."),
                      (lambda: every_head(want), "You patched every head of the layer at position p "
                                                 "(z[:, p]); patch one head at a time, z[:, p, h]."),
                      (lambda: P.patch_heads(model, clean, corrupt, metric),
                       "You patched each head at every position at once ([n_layers, n_heads]): one patch per "
                       "(head, position), [n_layers, n_heads, pos].")],
            hint="patch blocks.L.attn.hook_z[:, p, h] only (one head at one position) from the clean cache into "
                 "the corrupt run; the head axis is the third one.")

    compare_functions("patch_head_sweep", student_fn,
                      lambda model, clean, corrupt, metric: P.patch_heads(model, clean, corrupt, metric, per_position=True),
                      [{"model": model, "clean": clean, "corrupt": corrupt, "metric": metric}], compare=compare,
                      describe=lambda c: f"({n_heads} heads per layer, prompts {tuple(c['clean'].shape)})",
                      contract=TENSOR)
    _no_hooks_left(model, "patch_head_sweep")
    passed(f"patch_head_sweep matches the reference with {n_heads} heads per layer")


# ------------------------------------------------------------------ exercise 6
def check_path_patch(student_fn: Callable, seed: int = 0, batch: int = 3, pos: int = 6, n_heads: int = 2,
                     cases: tuple = ((0, 1, "k", [2]), (0, 0, "v", None), (0, 1, "q", [5]))) -> None:
    """Exercise 9.6: ``path_patch_to(model, clean, corrupt, metric, sender_head, receiver_head, which, positions)``."""
    model = _small_model(seed, n_heads=n_heads, n_ctx=pos)
    clean, corrupt = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    metric = _metric_for(model, clean, corrupt)

    def reference(model, clean, corrupt, metric, sender_head, receiver_head, which, positions):
        return P.path_patch(model, corrupt, clean, metric, sender=(0, sender_head),
                            receivers=[P.Receiver(1, receiver_head, which, positions)])

    for sender, receiver, which, positions in cases:
        mistakes = [
            (lambda which=which, receiver=receiver, positions=positions: metric(
                P.patch(model, corrupt, clean, f"blocks.1.attn.hook_{which}", positions, [receiver])),
             f"Your value equals patching the receiver's {which} straight from the CLEAN run. Path patching only "
             "lets the sender's clean output through: compute the receiver's input on the corrupt run with just "
             "the sender's hook_z replaced."),
            (lambda which=which, receiver=receiver, positions=positions, sender=sender: P.path_patch(
                model, clean, corrupt, metric, sender=(0, sender), receivers=[P.Receiver(1, receiver, which, positions)]),
             "You ran the CLEAN prompts with the sender's corrupt output (noising); this is denoising: the corrupt "
             "run receives the sender's clean output."),
            (lambda which=which, positions=positions, sender=sender: P.path_patch(
                model, corrupt, clean, metric, sender=(0, sender),
                receivers=[P.Receiver(1, h, which, positions) for h in range(n_heads)]),
             f"You patched the {which} of every head of layer 1: only the receiver head's input is patched "
             "(act[:, positions, receiver_head])."),
        ]

        def compare(got, want, ctx, which=which, mistakes=mistakes):
            expect_number_or_named(
                "path_patch_to(...)", float(got), float(want), context=ctx, mistakes=mistakes,
                hint="step 1: clean cache of the sender's hook_z; step 2: corrupt run with the sender's head (only) "
                     f"patched, record the receiver's hook_{which}; step 3: corrupt run with only that head's "
                     f"hook_{which} at `positions` patched.")
        compare_functions("path_patch_to", student_fn, reference,
                          [{"model": model, "clean": clean, "corrupt": corrupt, "metric": metric, "sender_head": sender,
                            "receiver_head": receiver, "which": which, "positions": positions}], compare=compare,
                          describe=lambda c: f"(sender L0H{c['sender_head']} -> L1H{c['receiver_head']} "
                                             f"{c['which']} at {c['positions']})", contract=FLOAT)
        _no_hooks_left(model, "path_patch_to")
    passed(f"path_patch_to matches the reference on {len(cases)} sender-receiver paths")


# ------------------------------------------------------------------ exercise 7
def check_circuit_faithfulness(student_fn: Callable, seed: int = 0, batch: int = 5, pos: int = 6,
                               circuits=({(1, 0): None, (0, 1): [2, 4]}, {(1, 1): [5]}, {})) -> None:
    """Exercise 9.7: ``circuit_faithfulness(model, tokens, reference, circuit, metric) -> F(C) / F(M)``."""
    model = _small_model(seed, n_ctx=pos)
    tokens, reference = _tokens(seed + 1, batch, pos), _tokens(seed + 2, 3 * batch, pos)
    io, s = torch.ones(batch, dtype=torch.long), torch.full((batch,), 2)
    metric = lambda logits: P.logit_diff(logits, io, s)  # noqa: E731
    zeros = {f"blocks.{L}.attn.hook_z": torch.zeros(1) for L in range(model.cfg.n_layers)}

    def ref(model, tokens, reference, circuit, metric):
        return P.faithfulness(model, tokens, circuit, reference, metric).faithfulness

    for circuit in circuits:
        scores = P.faithfulness(model, tokens, circuit, reference, metric)
        mistakes = [(scores.f_model / scores.f_circuit if scores.f_circuit else float("nan"),
                     "Your ratio is upside down: F(C) / F(M), the knocked-out model's metric over the untouched one's."),
                    (scores.f_circuit, "You returned F(C), the knocked-out model's metric: divide it by F(M), the "
                                       "metric of the untouched model."),
                    (lambda circuit=circuit: P.knockout_metric(model, tokens, circuit, reference, metric, means=zeros)
                     / scores.f_model,
                     "You zero-ablated the heads outside the circuit: replace them by their MEAN over `reference` "
                     "(per position), not by 0."),
                    (scores.f_empty / scores.f_model, "You knocked out every head, the circuit's too: keep the "
                                                      "circuit's heads at their positions (a keep mask over [pos, head]).")]

        def compare(got, want, ctx, mistakes=mistakes):
            expect_number_or_named(
                "circuit_faithfulness(...)", float(got), float(want), context=ctx, mistakes=mistakes,
                hint="keep the circuit's heads at their positions, replace every other (head, position) of hook_z by "
                     "its mean over the reference batch, and divide the metric by the metric of the untouched model.")
        compare_functions("circuit_faithfulness", student_fn, ref,
                          [{"model": model, "tokens": tokens, "reference": reference, "circuit": circuit,
                            "metric": metric}], compare=compare, describe=lambda c: f"(circuit {c['circuit']})",
                          contract=FLOAT)
        _no_hooks_left(model, "circuit_faithfulness")
    passed(f"circuit_faithfulness matches the reference on {len(circuits)} circuits")


# ------------------------------------------------------------------ exercise 8
def check_scrub_score(student_fn: Callable, seed: int = 0, batch: int = 5, pos: int = 6,
                      hypotheses=({(1, 0): [5], (1, 1): [5], (0, 0): [1, 3]}, {(0, 1): None})) -> None:
    """Exercise 9.8: ``scrub_score(model, tokens, resample, keep, metric) -> fraction recovered``."""
    model = _small_model(seed, n_ctx=pos)
    tokens, resample = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    io, s = torch.ones(batch, dtype=torch.long), torch.full((batch,), 2)
    metric = lambda logits: P.logit_diff(logits, io, s)  # noqa: E731

    def ref(model, tokens, resample, keep, metric):
        return P.causal_scrub(model, tokens, resample, metric, keep).score

    for keep in hypotheses:
        r = P.causal_scrub(model, tokens, resample, metric, keep)
        mistakes = [(r.f_scrubbed, "You returned F_scrubbed, the metric of the scrubbed run: the score is the "
                                   "fraction recovered, (F_scrubbed - F_random) / (F_model - F_random)."),
                    (r.f_scrubbed / r.f_model, "You divided F_scrubbed by F_model: subtract the all-resampled "
                                               "baseline F_random from both first."),
                    (1 - r.score, "You returned the fraction LOST, (F_model - F_scrubbed) / (F_model - F_random): "
                                  "the score is the fraction recovered.")]

        def compare(got, want, ctx, mistakes=mistakes):
            expect_number_or_named(
                "scrub_score(...)", float(got), float(want), context=ctx, mistakes=mistakes,
                hint="the score is (F_scrubbed - F_random) / (F_model - F_random): F_scrubbed keeps the hypothesis' "
                     "(head, position) outputs and takes every other hook_z value from the resample run; F_random "
                     "takes them all.")
        compare_functions("scrub_score", student_fn, ref,
                          [{"model": model, "tokens": tokens, "resample": resample, "keep": keep, "metric": metric}],
                          compare=compare, describe=lambda c: f"(hypothesis keeps {c['keep']})", contract=FLOAT)
        _no_hooks_left(model, "scrub_score")
    passed(f"scrub_score matches the reference on {len(hypotheses)} hypotheses")


# ------------------------------------------------------------------ results behind the story (ungraded)
def check_task_numbers_result(numbers: Mapping[str, Mapping[str, float]], min_clean: float = 1.0,
                              min_reversal: float = 0.5) -> None:
    """The shipped models solve the task; the flipped partners reverse the logit difference.

    Each model's clean logit difference is clearly positive (at least ``min_clean``: the lesson measures 3.7 to
    15.3), the flipped prompts' is negative and at least ``min_reversal`` times as large (-5.4 to -15.3: the
    preference reverses, it does not just weaken), and the ABC prompts (no answer), where given, lie between.
    """
    for name, row in numbers.items():
        clean, corrupt = row["clean_ld"], row["corrupt_ld"]
        expect(clean >= min_clean, f"{name}: the clean logit difference is {clean:.2f}; a model that solves the task "
                                   f"prefers the IO by at least {min_clean} (the lesson's models by 3.7 to 15.3). Check "
                                   "logit_diff (Exercise 9.1): IO minus S at the last position, one value per prompt "
                                   "(not a [batch, batch] table).")
        expect(corrupt <= -min_reversal * clean,
               f"{name}: the flipped prompts' logit difference is {corrupt:.2f} against {clean:.2f} on the clean ones: "
               "flipping S2 to the IO should reverse the preference about as strongly. Check logit_diff's sign "
               "(IO minus S) and that it reads the last position.")
        if "abc_ld" in row:
            expect(corrupt < row["abc_ld"] < clean, f"{name}: the ABC prompts (no answer) give {row['abc_ld']:.2f}, "
                                                    f"not between the flipped ({corrupt:.2f}) and clean ({clean:.2f}) ones.")
    passed("every model prefers the IO on clean prompts and the S on flipped ones")


def check_ablation_table_result(table: Mapping[str, Mapping[str, float]], base: float) -> None:
    """Zero and mean ablation disagree strongly for at least one head (zero ablation misleads)."""
    gaps = {head: row["zero"] - row["mean"] for head, row in table.items()}
    head = max(gaps, key=lambda h: abs(gaps[h]))
    expect(abs(gaps[head]) >= 0.25 * abs(base),
           f"The largest zero-vs-mean gap is {gaps[head]:.2f} (head {head}) against a logit difference of {base:.2f}; "
           "expected a head where they differ by at least a quarter of it. Check ablate_head's 'zero' and 'mean'.")
    passed(f"{head}: zero ablation leaves {table[head]['zero']:.2f}, mean ablation {table[head]['mean']:.2f} "
           f"(no ablation {base:.2f})")


def check_patching_map_result(resid: torch.Tensor, attn_out: torch.Tensor, pos: Mapping[str, int]) -> None:
    """The (layer, position) map locates a layer-0 component at S2 and the final layer at END."""
    s2, end = pos["S2"], pos["END"]
    controls = [p for p in range(attn_out.shape[1]) if p not in (s2, end)]
    l0_s2, top_end = float(attn_out[0, s2]), float(attn_out[-1, end])
    worst = float(attn_out[:, controls].abs().max())
    expect(l0_s2 >= 3 * worst and top_end >= 3 * worst,
           f"Layer 0 at S2 ({l0_s2:.2f}) and the last layer at END ({top_end:.2f}) should each be at least 3x any "
           f"other position ({worst:.2f}); check your sweep against the library's mi_tutor.patching.patch_residual.")
    expect(abs(float(resid[0, s2]) - 1) < 1e-3, "Patching resid_pre of layer 0 at S2 restores the clean token itself: "
                                               f"expected 1.00, got {float(resid[0, s2]):.3f}")
    passed(f"layer 0 at S2: {l0_s2:.2f}, last layer at END: {top_end:.2f}, every other position <= {worst:.2f}")


def check_paths_result(paths: Mapping[str, float], stated: Mapping[str, float] | None = None,
                       tol: float = 0.05) -> None:
    """Layer 0 reaches layer 1 through keys and values at S2, not through the query at END.

    Args:
        paths: The normalised metric of each path, ``{"k": ..., "v": ..., "q": ...}``.
        stated: The numbers the lesson's text states (default: keys 0.10, values 0.26, query 0.00); each path
            must be within ``tol`` of its own. Patching the receiver's input straight from the clean run still
            ranks the paths the same way (keys 0.60, values 0.28), so only the numbers tell it apart.
    """
    stated = stated or {"k": 0.10, "v": 0.26, "q": 0.0}
    for which in ("k", "v"):
        expect(paths[which] > 3 * abs(paths["q"]),
               f"The {'key' if which == 'k' else 'value'} path at S2 ({paths[which]:.2f}) should dominate the query "
               f"path at END ({paths['q']:.2f}).")
    off = {w: paths[w] for w in stated if abs(paths[w] - stated[w]) > tol}
    expect(not off, "Path patching gives " + ", ".join(f"{w} {v:.2f} (the lesson measures {stated[w]:.2f})"
                                                      for w, v in off.items())
           + ". Check path_patch_to (Exercise 9.6): the receiver's input is recorded on the CORRUPT run with only "
             "the sender's head patched, not taken straight from the clean run.")
    passed(f"paths from layer 0 into layer 1: keys {paths['k']:.2f}, values {paths['v']:.2f}, query {paths['q']:.2f}")


def check_faithfulness_curve_result(sizes, found, random, tol: float = 0.15, margin: float = 0.4) -> None:
    """The full found circuit keeps the logit difference (F(C) / F(M) within ``tol`` of 1, the lesson: 1.03) and
    random circuits of its size keep clearly less (at least ``margin`` below it; the lesson: 0.43)."""
    last, rand = float(found[-1]), float(random[-1])
    expect(abs(last - 1) <= tol, f"The found circuit of {sizes[-1]} (head, position) pairs has faithfulness {last:.2f}; "
           f"it keeps the logit difference, so F(C) / F(M) should be within {tol} of 1. Check circuit_faithfulness "
           "(Exercise 9.7): the ratio of the two metrics, with the heads outside the circuit MEAN-ablated.")
    expect(rand <= last - margin,
           f"The found circuit ({last:.2f}) should clearly beat random circuits of the same size ({rand:.2f}).")
    passed(f"found circuit of {sizes[-1]} (head, position) pairs: faithfulness {found[-1]:.2f}")


def check_scrub_result(scores: Mapping[str, float], tol: float = 0.25) -> None:
    """The correct hypothesis recovers about all of the metric (within ``tol`` of 1; the lesson: 1.07), the wrong
    one less than nothing (below 0; the lesson: -0.57)."""
    expect(abs(scores["correct"] - 1) <= tol,
           f"The correct hypothesis recovers {scores['correct']:.2f} of the logit difference; it explains the "
           f"behaviour, so its score should be within {tol} of 1. Check scrub_score (Exercise 9.8): the fraction "
           "recovered, (F_scrubbed - F_random) / (F_model - F_random), not a raw metric.")
    expect(scores["wrong"] < 0 and scores["correct"] > scores["wrong"] + 0.3,
           f"The wrong hypothesis recovers {scores['wrong']:.2f} against {scores['correct']:.2f} for the correct one: "
           "resampling layer 0 everywhere but at S1 should leave less than nothing (below 0).")
    passed(f"scrubbing: correct hypothesis {scores['correct']:.2f}, wrong hypothesis {scores['wrong']:.2f}")
