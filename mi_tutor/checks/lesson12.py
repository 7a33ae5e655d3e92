"""Checks of lesson 12 (a symbiote that reads and inhibits a host CNN). Each ``check_*`` compares a
student's function with ``mi_tutor.symbiote`` on fresh small hosts and inputs.

Examples:
    >>> from mi_tutor import symbiote as S
    >>> check_l0_penalty(S.l0_penalty)
    ✓ l0_penalty matches the reference on 3 inputs and is differentiable in log_alpha
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
from torch import nn

from .. import hooks as H
from .. import symbiote as S
from ..symbiote.gates import BETA, GAMMA, ZETA
from ..vision.architectures import TinyNetConfig, build_tiny_net
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, expect_tensor_like, passed
from .mistakes import expect_close_or_named

__all__ = [
    "check_ranking_control_result",
    "CONTRACTS",
    "check_read_pooled",
    "check_gate_hook",
    "check_l0_penalty",
    "check_selectivity",
    "check_compare_with_dissection",
    "check_auroc",
    "check_tcav_score",
    "check_host_numbers_result",
    "check_gates_vs_iou_result",
    "check_selectivity_bars_result",
    "check_auroc_bars_result",
    "check_inhibition_examples_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every case;
# every exercise leaves its arguments (the host, the images, the data, the gates) as they were.
READING = Contract(returns=torch.Tensor, gradient="none")   # 12.1: the symbiote reads detached activations
HOOK = Contract(returns=Callable)                           # 12.2: a hook; its output follows GATED
GATED = Contract(returns=torch.Tensor, gradient="flows")    # ... the gated activation: the gradient reaches the gates
L0 = Contract(returns=torch.Tensor, gradient="flows")       # 12.3: a loss, optimised through log_alpha
PAIR = Contract(returns=tuple, items=(float, int))          # 12.4: (target_drop, other_drop), two Python floats
TABLE = Contract(returns=dict)                              # 12.5
NUMBER = Contract(returns=(float, torch.Tensor))            # 12.6: a float (a 0-d tensor is accepted)
# Exercise 12.7's text: the gradient is computed even if the caller disabled it (so the check calls it under
# torch.no_grad()), the host and the inputs are left as they were, and the result is a number.
TCAV = Contract(returns=(float, torch.Tensor), under_no_grad=True)
CONTRACTS = {"read_pooled": READING, "gate_hook": HOOK, "l0_penalty": L0, "selectivity": PAIR,
             "compare_with_dissection": TABLE, "auroc": NUMBER, "tcav_score": TCAV}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _small_host(seed: int, channels=(4, 6, 8), n_classes: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    host = build_tiny_net("plainnet", TinyNetConfig(channels=tuple(channels), n_classes=n_classes)).eval()
    with torch.no_grad():   # random BN statistics, so that channels differ in scale
        for m in host.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.normal_(0, 0.1, generator=_gen(seed + 7))
                m.running_var.uniform_(0.5, 2.0, generator=_gen(seed + 8))
        fc = [m for m in host.modules() if isinstance(m, nn.Linear)][-1]
        fc.weight.normal_(0, 300.0, generator=_gen(seed + 9))   # random pooled features vary little: predictions that vary
    return host


def _images(seed: int, n: int, size: int = 16) -> torch.Tensor:
    g = _gen(seed)   # noise around a colour of its own per image, so that images differ in their statistics
    return (0.4 * torch.rand(n, 3, size, size, generator=g) + 0.6 * torch.rand(n, 3, 1, 1, generator=g)).clamp(0, 1)


def _data(seed: int, n: int, size: int = 16, n_classes: int = 3) -> S.ConceptData:
    images = _images(seed, n, size)
    g = _gen(seed + 100)
    masks = {"spot": torch.rand(n, size, size, generator=g) > 0.97, "edge": torch.rand(n, size, size, generator=g) > 0.6}
    masks["spot"][: n // 3] = False      # a third of the images lack the concept
    return S.ConceptData(images, torch.randint(0, n_classes, (n,), generator=g), masks)


# ------------------------------------------------------------------ exercise 1
def check_read_pooled(student_fn: Callable, seed: int = 0, n: int = 5, size: int = 16,
                      layers=(("layer2",), ("layer1", "layer3"))) -> None:
    """Exercise 12.1: ``read_pooled(host, images, layers) -> [n, sum of channels]`` (spatial means, concatenated)."""
    host = _small_host(seed)
    images = _images(seed + 1, n, size)
    for names in layers:
        names = list(names)

        def reference(host, images, layers):
            pooled = H.collect(host, images, layers, pool="mean")
            return torch.cat([pooled[k] for k in layers], -1)

        def compare(got, want, ctx, names=names):
            expect_tensor_like("read_pooled(...)", got, want)
            maxed = H.collect(host, images, names, pool="max")
            pooled = H.collect(host, images, names, pool="mean")
            run_order = sorted(names, key=[m for m, _ in host.named_modules()].index)
            expect_close_or_named(
                "read_pooled(...)", got, want, context=ctx,
                mistakes=[(torch.cat([maxed[k] for k in names], -1),
                           "You took each channel's spatial maximum; the symbiote reads the spatial MEAN."),
                          (torch.cat([pooled[k] for k in run_order], -1),
                           f"Your layers are concatenated in the order the host ran them ({run_order}), not in the "
                           f"order of `layers` ({names}).")],
                hint="cache the outputs of the named layers with mi_tutor.hooks.run_with_cache, average "
                     "each over its two spatial axes and concatenate the layers in the order given.")
        compare_functions("read_pooled", student_fn, reference, [{"host": host, "images": images, "layers": names}],
                          compare=compare, describe=lambda c: f"(layers {c['layers']}, images {tuple(c['images'].shape)})",
                          contract=READING)
    passed(f"read_pooled matches the reference on {len(layers)} sets of layers")


# ------------------------------------------------------------------ exercise 2
def check_gate_hook(student_fn: Callable, seed: int = 0, n: int = 4, layer: str = "layer2",
                    per_image: bool = False) -> None:
    """Exercise 12.2: ``gate_hook(gates)`` returns a hook that multiplies the layer's channels by ``gates``."""
    host = _small_host(seed)
    images = _images(seed + 1, n)
    width = S.layer_width(host, layer, images)
    g = _gen(seed + 2)
    gates = torch.rand((n, width) if per_image else (width,), generator=g)
    gates[..., 0] = 0.0
    leaf = gates.clone().requires_grad_(True)   # the gradient must reach the gates (the symbiote learns them)
    ctx = f"with gates of shape {tuple(gates.shape)}"
    hook = check_contract("gate_hook", student_fn, HOOK, leaf, context=ctx)
    act = torch.rand(n, width, 5, 5, generator=g)
    want = S.gate_hook(gates)(act, None)

    def compare(out):
        expect_tensor_like("hook(act, ...)", out, want)
        expect_close("hook(act, ...)", out, want, context=f"(gates {tuple(gates.shape)}, activation {tuple(act.shape)})",
                     hint="gate c multiplies the whole map of channel c: give the gates the shape [1 or batch, C, 1, 1] "
                          "so they broadcast over the two spatial axes, not over the last axis.")
    check_contract("the hook returned by gate_hook", hook, GATED, act, H.HookContext(layer, nn.Identity()),
                   context=f"on an activation of shape {tuple(act.shape)}, {ctx}", grad_to=[leaf], compare=compare)
    with torch.no_grad():
        ref = S.run_gated(host, images, layer, gates)
        got = H.run_with_hooks(host, images, [(layer, check_contract("gate_hook", student_fn, HOOK, gates.clone(),
                                                                     context=ctx))])
    expect_close("the gated host's logits", got, ref, rtol=1e-4, atol=1e-5, context=f"(host gated at {layer!r})")
    leaf = gates.clone().requires_grad_(True)
    out = H.run_with_hooks(host, images, [(layer, check_contract("gate_hook", student_fn, HOOK, leaf, context=ctx))])
    out.sum().backward()
    expect(leaf.grad is not None and leaf.grad.abs().sum() > 0,
           "No gradient reached the gates through your hook: the symbiote learns its gates through the host's "
           "output, so keep them in the graph (no .detach(), .item() or torch.no_grad inside the hook).")
    passed(f"gate_hook gates a host layer like the reference ({'per-image' if per_image else 'shared'} gates)")


# ------------------------------------------------------------------ exercise 3
def check_l0_penalty(student_fn: Callable, seed: int = 0, shapes=((4, 6), (1, 3), (7,))) -> None:
    """Exercise 12.3: ``l0_penalty(log_alpha)``: expected number of touched channels per image."""
    g = _gen(seed)
    cases = [torch.randn(*s, generator=g) * 3 for s in shapes]

    def compare(got, want, ctx, log_alpha):
        expect(got.dim() == 0, f"`l0_penalty` should return a scalar tensor {ctx} (got shape {tuple(got.shape)}).")
        p = torch.sigmoid(log_alpha - BETA * math.log(-GAMMA / ZETA))
        per_image = p.sum(-1)
        expect_close_or_named(
            "l0_penalty(...)", got.reshape(()), want.reshape(()), rtol=1e-4, atol=1e-5, context=ctx,
            mistakes=[(torch.sigmoid(log_alpha).sum(-1).mean(), "A plain sigmoid(log_alpha) forgets the "
                       "stretch: P(z > 0) = sigmoid(log_alpha - BETA * log(-GAMMA / ZETA))."),
                      (p.mean(-1).mean(), "You averaged over the channels: the penalty is the expected "
                                                    "NUMBER of touched channels, a sum over the last axis."),
                      (per_image.sum(), "You summed over the images too: average the per-image counts "
                                                  "over the images.")],
            hint="P(z > 0) = sigmoid(log_alpha - BETA * log(-GAMMA / ZETA)); sum it over channels (the "
                 "last axis) and average over images.")

    for log_alpha in cases:   # a leaf that requires grad: the penalty must stay differentiable in log_alpha
        ctx = f"with log_alpha of shape {tuple(log_alpha.shape)}"
        leaf = log_alpha.clone().requires_grad_(True)
        want = S.l0_penalty(log_alpha)
        check_contract("l0_penalty", student_fn, L0, leaf, context=ctx, grad_to=[leaf],
                       compare=lambda got, want=want, ctx=ctx, la=log_alpha: compare(got, want, ctx, la))
    passed(f"l0_penalty matches the reference on {len(cases)} inputs and is differentiable in log_alpha")


# ------------------------------------------------------------------ exercise 4
def check_selectivity(student_fn: Callable, seed: int = 0, n: int = 60, per_image: bool = False) -> None:
    """Exercise 12.4: ``selectivity(host, layer, data, concept, gates) -> (target_drop, other_drop)``."""
    host = _small_host(seed, n_classes=3)
    data = _data(seed + 1, n)
    with torch.no_grad():
        data.labels = host(data.images).argmax(-1)          # the host is right everywhere before gating
        data.labels[::4] = (data.labels[::4] + 1) % 3       # ... except on a quarter of the images
    width = S.layer_width(host, "layer3", data.images)
    g = _gen(seed + 3)
    for _ in range(50):   # gates whose two drops differ, so that a swapped pair shows
        gates = (torch.rand((n, width) if per_image else (width,), generator=g) > 0.5).float()
        ref = S.selectivity(host, "layer3", data, "spot", gates)
        if abs(ref.target_drop - ref.other_drop) > 0.02:
            break

    def reference(host, layer, data, concept, gates):
        s = S.selectivity(host, layer, data, concept, gates)
        return torch.tensor([s.target_drop, s.other_drop])

    def compare(got, want, ctx):
        expect(len(got) == 2, f"`selectivity` should return a pair (target_drop, other_drop) {ctx}, not {len(got)} values")
        t, o = float(got[0]), float(got[1])
        w_t, w_o = float(want[0]), float(want[1])
        if abs(t - w_t) < 1e-6 and abs(o - w_o) < 1e-6:
            return
        numbers = f"selectivity returned ({t:.4f}, {o:.4f}), expected ({w_t:.4f}, {w_o:.4f}) {ctx}."
        same = lambda a, b: abs(a - b) < 1e-6  # noqa: E731
        if same(t, w_o) and same(o, w_t):
            raise CheckFailure(f"{numbers}\nYour pair is (other_drop, target_drop): the first value is the drop on the "
                               "images that HOLD the concept.")
        if same(t, -w_t) and same(o, -w_o):
            raise CheckFailure(f"{numbers}\nYour drops have the wrong sign: a drop is the accuracy before gating "
                               "minus the accuracy after (positive when the gates cost accuracy).")
        raise CheckFailure(f"{numbers}\nSplit the images by whether the concept's mask is non-empty; on each group "
                           "compute the host's accuracy without and with the gates, and return before minus after "
                           "(a drop is positive).")

    compare_functions("selectivity", student_fn, reference,
                      [{"host": host, "layer": "layer3", "data": data, "concept": "spot", "gates": gates}],
                      compare=compare, describe=lambda c: f"(gates {tuple(c['gates'].shape)}, {n} images)",
                      contract=PAIR)
    passed(f"selectivity matches the reference ({'per-image' if per_image else 'shared'} gates)")


# ------------------------------------------------------------------ exercise 5
def check_compare_with_dissection(student_fn: Callable, seed: int = 0, width: int = 12, k: int = 3) -> None:
    """Exercise 12.5: ``compare_with_dissection(importance, iou, k, planted) -> dict``."""
    g = _gen(seed)
    importance, iou = torch.rand(width, generator=g), torch.rand(width, generator=g) * 0.2
    iou = 0.5 * iou + 0.5 * importance * 0.2            # correlated, not identical
    planted = int(torch.randint(0, width, (), generator=g))
    ref = S.agreement(importance, iou, k, planted)
    got = check_contract("compare_with_dissection", student_fn, TABLE, importance.clone(), iou.clone(), k, planted,
                         context=f"with {width} channels, k={k}, planted={planted}")
    for key in ("spearman", "precision_at_k", "planted_rank"):
        expect(key in got, f"the dict lacks the key {key!r}")
    expect(abs(float(got["spearman"]) - ref.spearman) < 1e-4,
           f"spearman is {float(got['spearman']):.4f}, expected {ref.spearman:.4f}: a RANK correlation (scipy.stats."
           "spearmanr or Pearson on ranks), not the Pearson correlation of the raw values.")
    expect(abs(float(got["precision_at_k"]) - ref.precision_at_k) < 1e-6,
           f"precision_at_k is {float(got['precision_at_k']):.4f}, expected {ref.precision_at_k:.4f}: the fraction "
           f"of the {k} most important channels that are also among the {k} channels of highest IoU.")
    expect(int(got["planted_rank"]) == ref.planted_rank,
           f"planted_rank is {got['planted_rank']}, expected {ref.planted_rank}: the planted channel's position when "
           "channels are sorted by DECREASING importance, counting from 0.")
    passed(f"compare_with_dissection matches the reference ({width} channels, k={k})")


# ------------------------------------------------------------------ exercise 6
def check_auroc(student_fn: Callable, seed: int = 0, n: int = 50, ties: bool = False) -> None:
    """Exercise 12.6: ``auroc(scores, labels) -> float``."""
    g = _gen(seed)
    cases = []
    for _ in range(3):
        s = torch.randn(n, generator=g)
        if ties:
            s = s.round()
        y = torch.rand(n, generator=g) > 0.6
        y[0], y[1] = True, False
        cases.append({"scores": s, "labels": y})

    def compare(got, want, ctx):
        if isinstance(got, torch.Tensor):
            expect(got.numel() == 1, f"`auroc` should return one number {ctx}, not a tensor of shape {tuple(got.shape)}.")
        expect(abs(float(got) - want) < 1e-6,
               f"auroc returned {float(got):.5f}, expected {want:.5f} {ctx}. The AUROC is the fraction of "
               "(positive, negative) pairs in which the positive scores higher; tied pairs count one half"
               + (" (this input has ties)." if ties else "."))

    k = compare_functions("auroc", student_fn, S.auroc, cases, compare=compare, contract=NUMBER)
    flipped = check_contract("auroc", student_fn, NUMBER, -cases[0]["scores"], cases[0]["labels"].clone(),
                             context="with the scores negated")
    expect(abs(float(flipped) - (1 - S.auroc(cases[0]["scores"], cases[0]["labels"]))) < 1e-6,
           "Negating the scores should give 1 - AUROC: check the direction of your comparison.")
    passed(f"auroc matches the reference on {k} inputs" + (" with ties" if ties else ""))


# ------------------------------------------------------------------ exercise 7
def check_tcav_score(student_fn: Callable, seed: int = 0, n: int = 12, layer: str = "layer2", class_idx: int = 1) -> None:
    """Exercise 12.7: ``tcav_score(host, layer, images, class_idx, cav) -> float``."""
    host = _small_host(seed)
    images = _images(seed + 1, n)
    width = S.layer_width(host, layer, images)
    cav = torch.randn(width, generator=_gen(seed + 2))
    cav = cav / cav.norm()
    ref = S.tcav_score(host, layer, images, class_idx, cav)
    got = check_contract("tcav_score", student_fn, TCAV, host, layer, images.clone(), class_idx, cav.clone(),
                         context=f"(layer {layer!r}, class {class_idx}, {n} images, called under torch.no_grad())")
    back = S.tcav_score(host, layer, images, class_idx, -cav)
    expect(abs(float(got) - ref) < 1e-6,
           f"tcav_score returned {float(got):.4f}, expected {ref:.4f}. Take the gradient of the class logit with "
           "respect to the layer's activation (a hook that returns a leaf that requires grad), apply the CAV to "
           "each position's channel vector and sum over positions; the score is the fraction of images whose "
           f"derivative is positive." + (" (Your value is the score along -cav: a sign slip?)"
                                           if abs(float(got) - back) < 1e-6 and abs(back - ref) > 1e-6 else ""))
    left = [m for m in host.modules() if m._forward_hooks]
    expect(not left, "A hook is still attached to the host after tcav_score returned: use mi_tutor.hooks.run_with_hooks "
                     "or `with hooks(...)` so it is removed.")
    passed(f"tcav_score matches the reference ({n} images, layer {layer!r})")


# ------------------------------------------------------------------ results behind the story (ungraded)
def check_host_numbers_result(accuracy: float, planted_iou_rank: int) -> None:
    """The planted host classifies well and its planted channel is dissection's top unit for the concept."""
    expect(accuracy > 0.7, f"The planted host's accuracy is {accuracy:.3f}: expected above 0.7 (is the zoo model loaded?)")
    expect(planted_iou_rank == 0, f"The planted channel ranks {planted_iou_rank} by dissection IoU; expected first.")
    passed(f"host accuracy {accuracy:.3f}; dissection ranks the planted channel first")


def check_gates_vs_iou_result(result: Mapping, importance: torch.Tensor, iou: torch.Tensor, k: int,
                              planted: int) -> None:
    """The numbers behind the gates-vs-IoU figure are those of the reference comparison."""
    ref = S.agreement(importance, iou, k, planted)
    expect(int(result["planted_rank"]) == ref.planted_rank and abs(float(result["precision_at_k"]) - ref.precision_at_k) < 1e-6,
           f"Your comparison gives planted rank {result['planted_rank']} and precision@{k} {result['precision_at_k']}; "
           f"the reference gives {ref.planted_rank} and {ref.precision_at_k}. Check compare_with_dissection.")
    passed(f"planted channel ranked {ref.planted_rank} by the symbiote (0 = first); Spearman with IoU "
           f"{ref.spearman:.2f}, precision@{k} {ref.precision_at_k:.2f}")


def check_ranking_control_result(planted: torch.Tensor, control: torch.Tensor, min_ratio: float = 1.3) -> None:
    """The symbiote singles out one channel on the planted host and none on the unplanted control.

    Args:
        planted: ``[C]`` importance (mean ``1 - gate`` on wheel scenes) on the planted host.
        control: ``[C]`` importance of the same recipe on a trained host without a planted channel.
        min_ratio: The first/second ratio above which a ranking singles out one channel.
    """
    def ratio(imp: torch.Tensor) -> float:
        top = imp.detach().float().cpu().sort(descending=True).values
        return float(top[0] / top[1].clamp_min(1e-12))

    rp, rc = ratio(planted), ratio(control)
    expect(float(control.max()) > 0.1, f"The control symbiote closes no channel (largest importance "
                                       f"{float(control.max()):.3f}): an empty control shows nothing.")
    expect(rp >= min_ratio, f"On the planted host the first channel is only {rp:.2f} times the second; the lesson "
                            f"states that it stands out (at least {min_ratio}).")
    expect(rc < min_ratio, f"On the unplanted host the first channel is {rc:.2f} times the second: the control "
                           "singles out a channel too, so a standing-out channel would not mean a planted one.")
    passed(f"first/second importance: planted host {rp:.2f}, unplanted control {rc:.2f}")


def check_selectivity_bars_result(table: Mapping[str, tuple[float, float]], min_target: float = 0.35,
                                  max_other: float = 0.05) -> None:
    """Gates are selective; random channels are not."""
    t, o = table["symbiote"]
    expect(t >= min_target and o <= max_other,
           f"The symbiote's gates drop the target accuracy by {t:.2f} and the others by {o:.2f}; expected at least "
           f"{min_target} and at most {max_other}. Check selectivity (target = images holding the concept).")
    rt, ro = table["random"]
    expect(rt - ro < 0.5 * (t - o), f"Random channels look selective ({rt:.2f} vs {ro:.2f}): check the random draw.")
    passed("selective gates: " + ", ".join(f"{k} {a:.2f}/{b:.2f}" for k, (a, b) in table.items()))


def check_auroc_bars_result(values: Mapping[str, float], margin: float = 0.05) -> None:
    """The symbiote reads the concept about as well as the probe and far better than on a random host."""
    s, p, r = values["symbiote"], values["probe"], values["random host"]
    expect(abs(s - p) <= margin, f"Symbiote AUROC {s:.3f} vs probe {p:.3f}: expected within {margin}.")
    expect(s - r >= 0.1, f"Symbiote AUROC {s:.3f} should be far above the random host's {r:.3f}.")
    expect(all(0 <= v <= 1 for v in values.values()), "AUROCs lie in [0, 1]: check auroc.")
    passed(", ".join(f"{k} {v:.3f}" for k, v in values.items()))


def check_inhibition_examples_result(before: torch.Tensor, after: torch.Tensor, labels: torch.Tensor,
                                     has_concept: torch.Tensor) -> None:
    """Inhibition flips most concept images' predictions and leaves the others'."""
    flipped = (before == labels) & (after != labels)
    on = has_concept.bool()
    right = on & (before == labels)
    expect(right.any(), "The host gets none of the concept images right before inhibition: is the zoo model loaded?")
    expect(flipped[right].float().mean() >= 0.5, f"Only {flipped[right].float().mean():.2f} of the concept images the "
                                                 "host got right lost their answer under inhibition; expected at "
                                                 "least half. Check gate_hook.")
    expect((before[~on] != after[~on]).float().mean() <= 0.1,
           "More than a tenth of the other images changed their prediction under inhibition.")
    passed(f"{int(flipped[right].sum())} of the {int(right.sum())} concept images the host got right lose their answer; "
           f"{int((before[~on] != after[~on]).sum())} of {int((~on).sum())} others change")
