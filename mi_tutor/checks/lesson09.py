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
from .contracts import compare_functions
from .core import CheckFailure, call_student, expect, expect_close, expect_tensor_like, passed

__all__ = [
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

    def compare(got, want, ctx):
        expect_tensor_like("logit_diff(...)", got, want)
        expect_close("logit_diff(...)", got, want, context=ctx,
                     hint="read the logits at the LAST position, pick each prompt's own IO and S token "
                          "(one per row, not a [batch, batch] table), and return IO minus S, one value per prompt.")

    def reference(logits, io, s):
        return P.logit_diff(logits, io, s, reduce=False)

    n = compare_functions("logit_diff", student_fn, reference, cases, compare=compare)
    passed(f"logit_diff matches the reference on {n} inputs")


# ------------------------------------------------------------------ exercise 2
def check_normalized_metric(student_fn: Callable, seed: int = 0) -> None:
    """Exercise 9.2: ``normalized_metric(ld, clean_ld, corrupt_ld)``: 1 on clean, 0 on corrupt, linear between."""
    g = _gen(seed)
    clean, corrupt = 2.0 + torch.rand((), generator=g).item() * 5, -1.0 - torch.rand((), generator=g).item() * 5
    for value, want in ((clean, 1.0), (corrupt, 0.0), ((clean + corrupt) / 2, 0.5), (clean + (clean - corrupt), 2.0)):
        got = call_student("normalized_metric", student_fn, torch.tensor(value), clean, corrupt,
                           context=f"with ld={value:.3f}, clean_ld={clean:.3f}, corrupt_ld={corrupt:.3f}")
        expect(isinstance(got, (float, torch.Tensor)), f"`normalized_metric` should return a number, not {type(got).__name__}")
        got = float(got)
        expect(abs(got - want) < 1e-5,
               f"normalized_metric(ld={value:.3f}, clean_ld={clean:.3f}, corrupt_ld={corrupt:.3f}) returned {got:.4f}, "
               f"expected {want}: the metric is (ld - corrupt) / (clean - corrupt); a sign or order slip gives "
               "-1..0 or 1 - x.")
    many = torch.tensor([clean, corrupt])
    got = call_student("normalized_metric", student_fn, many, clean, corrupt, context="with a tensor of two values")
    expect(isinstance(got, torch.Tensor) and got.shape == (2,),
           "normalized_metric should work element-wise on a tensor of values (no .item() or float())")
    passed("normalized_metric gives 1 on clean, 0 on corrupt, 0.5 half-way, and works on tensors")


# ------------------------------------------------------------------ exercise 3
def _reference_ablate(model, tokens, layer, head, kind, reference):
    name = f"blocks.{layer}.attn.hook_z"
    if kind == "zero":
        values = torch.zeros(1)
    else:
        _, cache = model.run_with_cache(reference, names_filter=name)
        values = cache[name].mean(0, keepdim=True) if kind == "mean" else cache[name]
    with torch.no_grad():
        return model.run_with_hooks(tokens, fwd_hooks=[(name, P.replace_hook(values, heads=[head]))])


def check_ablate_head(student_fn: Callable, seed: int = 0, batch: int = 4, pos: int = 6,
                      kinds: tuple[str, ...] = ("zero", "mean", "resample"), heads=((0, 1), (1, 0))) -> None:
    """Exercise 9.3: ``ablate_head(model, tokens, layer, head, kind, reference) -> logits``."""
    model = _small_model(seed, n_ctx=pos)
    tokens, reference = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    for kind in kinds:
        for layer, head in heads:
            def compare(got, want, ctx, kind=kind, layer=layer, head=head):
                expect_tensor_like("ablate_head(...)", got, want)
                with torch.no_grad():
                    clean = model(tokens)
                expect(not torch.allclose(got, clean, atol=1e-6),
                       f"Your logits equal the un-ablated run's {ctx}: the ablation changed nothing. Does your hook "
                       "return the edited activation?")
                if kind == "mean":
                    wrong = _reference_ablate(model, tokens, layer, head, "resample", reference)
                    expect(not torch.allclose(got, wrong, atol=1e-5),
                           f"{ctx}: you replaced the head by the reference's activations row by row (resampling); "
                           "mean ablation uses their mean over the reference batch.")
                    wrong_all = P.ablate(model, tokens, f"blocks.{layer}.attn.hook_z", "mean", reference)
                    expect(not torch.allclose(got, wrong_all, atol=1e-5),
                           f"{ctx}: you mean-ablated every head of layer {layer}; only head {head} should change.")
                expect_close("ablate_head(...)", got, want, rtol=1e-4, atol=1e-5, context=ctx,
                             hint="hook blocks.{layer}.attn.hook_z; replace only head `head` (the third axis) by 0, by "
                                  "the reference's mean over its batch axis (keep the positions), or by the "
                                  "reference's own activation of the same row.")
            compare_functions("ablate_head", student_fn, _reference_ablate,
                              [{"model": model, "tokens": tokens, "layer": layer, "head": head, "kind": kind,
                                "reference": reference}], compare=compare,
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
        expect_type_tensor(got, "patch_residual_sweep")
        expect(tuple(got.shape) == tuple(want.shape),
               f"patch_residual_sweep returned shape {tuple(got.shape)}, expected {tuple(want.shape)} = [n_layers, pos]")
        noise = P.patch_residual(model, clean, corrupt, metric, direction="noise")
        expect(not torch.allclose(got.detach().float().cpu(), noise, atol=1e-4),
               f"{ctx}: you patched corrupt activations into the clean run (noising); this exercise denoises: run the "
               "CORRUPT prompts with one CLEAN activation patched in.")
        expect_close("patch_residual_sweep(...)", got.detach().float().cpu(), want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="for each layer L and position p: cache blocks.L.hook_resid_pre on the clean run, run the "
                          "corrupt prompts with only [:, p] of that hook replaced, and record metric(logits).")

    def reference(model, clean, corrupt, metric):
        return P.patch_residual(model, clean, corrupt, metric)

    compare_functions("patch_residual_sweep", student_fn, reference,
                      [{"model": model, "clean": clean, "corrupt": corrupt, "metric": metric}], compare=compare,
                      describe=lambda c: f"(a {n_layers}-layer model, prompts {tuple(c['clean'].shape)})")
    _no_hooks_left(model, "patch_residual_sweep")
    passed(f"patch_residual_sweep matches the reference on a {n_layers}-layer model")


def expect_type_tensor(got, name: str) -> None:
    if not isinstance(got, torch.Tensor):
        hint = " Did you forget a `return` statement?" if got is None else ""
        raise CheckFailure(f"`{name}` should return a torch.Tensor, not a {type(got).__name__}.{hint}")


# ------------------------------------------------------------------ exercise 5
def check_patch_head_sweep(student_fn: Callable, seed: int = 0, batch: int = 3, pos: int = 5, n_heads: int = 2) -> None:
    """Exercise 9.5: ``patch_head_sweep(model, clean, corrupt, metric) -> [n_layers, n_heads, pos]`` (hook_z)."""
    model = _small_model(seed, n_heads=n_heads, n_ctx=pos)
    clean, corrupt = _tokens(seed + 1, batch, pos), _tokens(seed + 2, batch, pos)
    metric = _metric_for(model, clean, corrupt)

    def compare(got, want, ctx):
        expect_type_tensor(got, "patch_head_sweep")
        expect(tuple(got.shape) == tuple(want.shape),
               f"patch_head_sweep returned shape {tuple(got.shape)}, expected {tuple(want.shape)} = [n_layers, n_heads, pos]")
        g = got.detach().float().cpu()
        if n_heads > 1:
            swapped = want.transpose(1, 2)
            expect(g.shape != swapped.shape or not torch.allclose(g, swapped, atol=1e-4),
                   f"{ctx}: heads and positions are swapped: hook_z is [batch, pos, head, d_head].")
        expect_close("patch_head_sweep(...)", g, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="patch blocks.L.attn.hook_z[:, p, h] only (one head at one position) from the clean cache into "
                          "the corrupt run; the head axis is the third one.")

    compare_functions("patch_head_sweep", student_fn,
                      lambda model, clean, corrupt, metric: P.patch_heads(model, clean, corrupt, metric, per_position=True),
                      [{"model": model, "clean": clean, "corrupt": corrupt, "metric": metric}], compare=compare,
                      describe=lambda c: f"({n_heads} heads per layer, prompts {tuple(c['clean'].shape)})")
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
        def compare(got, want, ctx, sender=sender, receiver=receiver, which=which, positions=positions):
            got_f = float(got)
            with torch.no_grad():
                direct = float(metric(P.patch(model, corrupt, clean, f"blocks.1.attn.hook_{which}", positions, [receiver])))
            expect(abs(got_f - direct) > 1e-6 or abs(float(want) - direct) < 1e-6,
                   f"{ctx}: your value equals patching the receiver's {which} straight from the CLEAN run. Path "
                   "patching only lets the sender's clean output through: compute the receiver's input on the "
                   "corrupt run with just the sender's hook_z replaced.")
            expect(abs(got_f - float(want)) < 1e-4,
                   f"path_patch_to returned {got_f:.5f}, expected {float(want):.5f} {ctx}. Step 1: clean cache of the "
                   "sender's hook_z; step 2: corrupt run with the sender's head (only) patched, record the receiver's "
                   "hook_{which}; step 3: corrupt run with only that head's hook_{which} at `positions` patched.")
        compare_functions("path_patch_to", student_fn, reference,
                          [{"model": model, "clean": clean, "corrupt": corrupt, "metric": metric, "sender_head": sender,
                            "receiver_head": receiver, "which": which, "positions": positions}], compare=compare,
                          describe=lambda c: f"(sender L0H{c['sender_head']} -> L1H{c['receiver_head']} "
                                             f"{c['which']} at {c['positions']})")
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

    def ref(model, tokens, reference, circuit, metric):
        return P.faithfulness(model, tokens, circuit, reference, metric).faithfulness

    for circuit in circuits:
        def compare(got, want, ctx, circuit=circuit):
            got_f = float(got)
            expect(abs(got_f - float(want)) < 1e-4,
                   f"circuit_faithfulness returned {got_f:.5f}, expected {float(want):.5f} {ctx}. Keep the circuit's "
                   "heads at their positions, replace every other (head, position) of hook_z by its mean over the "
                   "reference batch, and divide the metric by the metric of the untouched model.")
        compare_functions("circuit_faithfulness", student_fn, ref,
                          [{"model": model, "tokens": tokens, "reference": reference, "circuit": circuit,
                            "metric": metric}], compare=compare, describe=lambda c: f"(circuit {c['circuit']})")
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
        def compare(got, want, ctx):
            expect(abs(float(got) - float(want)) < 1e-4,
                   f"scrub_score returned {float(got):.5f}, expected {float(want):.5f} {ctx}. The score is "
                   "(F_scrubbed - F_random) / (F_model - F_random): F_scrubbed keeps the hypothesis' (head, position) "
                   "outputs and takes every other hook_z value from the resample run; F_random takes them all.")
        compare_functions("scrub_score", student_fn, ref,
                          [{"model": model, "tokens": tokens, "resample": resample, "keep": keep, "metric": metric}],
                          compare=compare, describe=lambda c: f"(hypothesis keeps {c['keep']})")
        _no_hooks_left(model, "scrub_score")
    passed(f"scrub_score matches the reference on {len(hypotheses)} hypotheses")


# ------------------------------------------------------------------ results behind the story (ungraded)
def check_task_numbers_result(numbers: Mapping[str, Mapping[str, float]]) -> None:
    """The shipped models solve the task; the flipped partners reverse the logit difference."""
    for name, row in numbers.items():
        expect(row["corrupt_ld"] < 0, f"{name}: the flipped prompts should have a negative logit difference, got "
                                      f"{row['corrupt_ld']:.2f}: check logit_diff's sign (IO minus S).")
        expect(row["clean_ld"] > 0, f"{name}: the clean logit difference should be positive, got {row['clean_ld']:.2f}")
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


def check_paths_result(paths: Mapping[str, float]) -> None:
    """Layer 0 reaches layer 1 through keys (and values) at S2, not through the query at END."""
    expect(paths["k"] > 3 * abs(paths["q"]),
           f"The key path at S2 ({paths['k']:.2f}) should dominate the query path at END ({paths['q']:.2f}).")
    passed(f"paths from layer 0 into layer 1: keys {paths['k']:.2f}, values {paths['v']:.2f}, query {paths['q']:.2f}")


def check_faithfulness_curve_result(sizes, found, random) -> None:
    """The found circuit beats random circuits of the same size and reaches a high faithfulness."""
    expect(max(found) >= 0.8, f"The largest found circuit keeps only {max(found):.2f} of the logit difference.")
    expect(float(found[-1]) > float(random[-1]) + 0.2,
           f"The found circuit ({float(found[-1]):.2f}) should clearly beat random circuits of the same size "
           f"({float(random[-1]):.2f}).")
    passed(f"found circuit of {sizes[-1]} (head, position) pairs: faithfulness {found[-1]:.2f}")


def check_scrub_result(scores: Mapping[str, float]) -> None:
    """The correct hypothesis recovers clearly more than the wrong one."""
    expect(scores["correct"] > scores["wrong"] + 0.3,
           f"The correct hypothesis ({scores['correct']:.2f}) should recover clearly more than the wrong one "
           f"({scores['wrong']:.2f}).")
    passed(f"scrubbing: correct hypothesis {scores['correct']:.2f}, wrong hypothesis {scores['wrong']:.2f}")
