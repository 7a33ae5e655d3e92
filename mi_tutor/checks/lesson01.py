"""Checks for lesson 1, "Networks as programs: hooks and activations"."""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ..patching.channels import ablation_effect, channel_logit_drops as ref_channel_importance, zero_channels
from ..hooks import HookContext, list_layers, run_with_cache, run_with_hooks
from ..vision.models import ConvNet, ConvNetConfig
from .contracts import Contract, check_contract, compare_functions
from .core import (
    CheckFailure,
    expect,
    expect_close,
    expect_type,
    passed,
    reference_helpers,
)

__all__ = [
    "CONTRACTS",
    "check_capture_activations",
    "check_layer_table",
    "check_zero_channel_hook",
    "check_accuracy_after_ablation",
    "check_channel_importance",
    "check_importance_result",
    "IMPORTANCE_TOP",
    "IMPORTANCE_MEDIAN",
    "SWEEP_LANDMARKS",
    "check_scale_sweep_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every call:
# every exercise leaves the model, the images and the activations it is given as they were.
CAPTURE = Contract(returns=dict)
TABLE = Contract(returns=list, items=tuple)
HOOK_FACTORY = Contract(returns=Callable)                   # zero_channel_hook(c) returns the hook
HOOK = Contract(returns=torch.Tensor)                       # the hook: a new tensor, its argument untouched
ACCURACY = Contract(returns=float)
IMPORTANCE = Contract(returns=torch.Tensor)
CONTRACTS = {"capture_activations": CAPTURE, "layer_table": TABLE, "zero_channel_hook": HOOK_FACTORY,
             "accuracy_after_ablation": ACCURACY, "channel_importance": IMPORTANCE}


def _tiny_net(seed: int, n_classes: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return ConvNet(ConvNetConfig(channels=(4, 6, 8), kernel_size=3, n_classes=n_classes)).eval()


def _images(seed: int, batch: int, size: int = 16) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _n_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


class _DefinedOutOfOrder(nn.Module):
    """A net whose modules are defined in another order than the forward pass runs them."""

    def __init__(self, seed: int):
        super().__init__()
        torch.manual_seed(seed)
        self.head = nn.Linear(6, 3)        # defined first, runs last
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.act = nn.ReLU()
        self.stem = nn.Conv2d(3, 6, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.pool(self.act(self.stem(x))).flatten(1))


def _reference_capture(model: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
    return dict(run_with_cache(model, x, names)[1])


def _reference_zero_channel_hook(channel: int):
    return zero_channels(channel)


def check_capture_activations(student_fn: Callable, seed: int = 0, batch: int = 3, failing: bool = False,
                              size: int = 16) -> None:
    """``capture_activations(model, x, names)`` returns ``{name: output}`` and leaves no hook behind.

    Args:
        failing: Also run it on an input the model rejects: it must raise and still remove its hooks
            ("even if the forward pass fails").
        size: Image side (the visible test uses 16).
    """
    model = _tiny_net(seed)
    for p in model.parameters():
        p.requires_grad_(True)
    x = _images(seed, batch, size)
    for names in (["layer1.0"], ["layer2", "layer3.1", "head.2"], ["head.2", "layer1.0"]):
        got = check_contract("capture_activations", student_fn, CAPTURE, model, x, names,
                             context=f"with names={names}")
        expect(list(got) == names or set(got) == set(names),
               f"Your dict has keys {sorted(got)} but should have exactly the requested names {names}.")
        _, want = run_with_cache(model, x, names)
        for name in names:
            expect_type(f"activations[{name!r}]", got[name], torch.Tensor)
            expect_close(f"activations[{name!r}]", got[name].detach(), want[name],
                         context=f"for a batch of {batch} images (names {names})",
                         hint="store the module's *output* (the third argument of a forward hook), under the "
                              "name of the module it came from: a hook defined in a loop must bind the current name.")
            expect(got[name].grad_fn is None and not got[name].requires_grad,
                   f"activations[{name!r}] is still part of the autograd graph (it has a grad_fn): the exercise asks "
                   "for detached outputs. Detach what you store (or run the model under torch.no_grad()).")
        left = _n_hooks(model)
        expect(left == 0, f"{left} forward hook(s) are still attached after your function returned: "
                          "keep the handles from register_forward_hook and call handle.remove() (use try/finally).")
    if failing:
        bad = torch.rand(batch, 5, size, size)          # 5 channels: the first convolution raises
        try:
            student_fn(model, bad, ["layer1.0", "layer1"])
        except NotImplementedError:
            raise CheckFailure("`capture_activations` is not implemented yet: replace `raise NotImplementedError()`.")
        except Exception:  # the forward pass failed, as it should
            pass
        left = _n_hooks(model)
        expect(left == 0, f"When the forward pass raised, your function left {left} hook(s) attached: the exercise "
                          "asks you to remove them even if the forward pass fails. Remove them in a `finally:` block.")
    passed(f"capture_activations returns the right activations (batch of {batch}) and cleans up its hooks"
           + (" even when the forward pass fails" if failing else ""))


def check_layer_table(student_fn: Callable, seed: int = 0, batch: int = 2, out_of_order: bool = False) -> None:
    """``layer_table(model, x)`` lists ``(name, n_params, output_shape)`` of every leaf module in order.

    Args:
        out_of_order: Use a net whose modules are defined in another order than they run, so
            that definition order (``named_modules()``) is not execution order.
    """
    model = _DefinedOutOfOrder(seed) if out_of_order else _tiny_net(seed)
    x = _images(seed, batch)
    got = check_contract("layer_table", student_fn, TABLE, model, x, context=f"on a batch of {batch}")
    want = [(row.name, row.n_params, row.output_shape) for row in list_layers(model, x)]
    expect(len(got) == len(want), f"Your table has {len(got)} rows but the network has {len(want)} leaf modules "
                                  f"({[w[0] for w in want]}). Skip the container (the model itself), keep leaves.")
    for i, (g, w) in enumerate(zip(got, want)):
        expect(len(g) == 3, f"Row {i} is {g!r}: each row should be a tuple (name, n_params, output_shape).")
        name, n_params, shape = g
        expect(name == w[0], f"Row {i} is named {name!r} but should be {w[0]!r}: list modules in the order the "
                             "forward pass runs them, which need not be the order they were defined in.")
        expect(int(n_params) == w[1], f"Layer {name!r} has {w[1]} parameters, your table says {n_params}: "
                                      "count every element of every parameter (weights and biases).")
        expect(tuple(shape) == w[2], f"Layer {name!r} outputs shape {w[2]} for a batch of {batch}, your table says "
                                     f"{tuple(shape)}.")
    left = _n_hooks(model)
    expect(left == 0, f"{left} forward hook(s) are still attached after layer_table returned: remove them.")
    passed(f"layer_table lists all {len(want)} layers with the right parameter counts and output shapes")


def check_zero_channel_hook(student_fn: Callable, seed: int = 0, channels: int = 5, height: int = 4,
                            width: int = 4, dtype: torch.dtype = torch.float32) -> None:
    """``zero_channel_hook(c)`` returns a hook that zeroes channel ``c``, leaves the rest and its input unchanged."""
    g = torch.Generator().manual_seed(seed)
    act = torch.randn(2, channels, height, width, generator=g).to(dtype)
    ctx = HookContext("layer", nn.Identity())
    for c in (0, channels - 1, channels // 2):
        hook = check_contract("zero_channel_hook", student_fn, HOOK_FACTORY, c,
                              context=f"with channel={c}: it should *return a function* hook(activation, hook)")
        want = zero_channels(c)(act.clone(), ctx)
        got = check_contract(f"zero_channel_hook({c})", hook, HOOK, act.clone(), ctx,
                             context=f"on an activation of shape {tuple(act.shape)}")
        expect_close(f"the edited activation (channel {c})", got, want,
                     context=f"on an activation of shape {tuple(act.shape)}",
                     hint="zero only the channel axis (axis 1) at index c, and return the activation.")
        expect(got.dtype == act.dtype, f"The hook returned dtype {got.dtype} for a {act.dtype} activation: keep the dtype.")
    passed(f"zero_channel_hook zeroes exactly the chosen channel of a {tuple(act.shape)} {act.dtype} activation "
           "and leaves its input alone")


@torch.no_grad()
def _most_disruptive_channel(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, layer: str,
                             candidates: int = 4) -> int:
    """The channel of ``layer`` whose zeroing changes accuracy most, among its most active ones.

    Only the ``candidates`` channels of largest mean absolute activation are tried (a forward each),
    and all of them when none of those changes the accuracy: the check needs a channel that
    moves accuracy (so a hook that is not attached cannot pass), not the best of them all.
    """
    logits, cache = run_with_cache(model, x, [layer])
    clean = (logits.argmax(-1) == labels).float().mean().item()  # the clean run once, not once per channel
    strength = cache[layer].abs().mean(dim=tuple(d for d in range(cache[layer].dim()) if d != 1))
    order = strength.argsort(descending=True).tolist()

    def effect(c: int) -> float:
        ablated = run_with_hooks(model, x, [(layer, zero_channels(c))])
        return abs(clean - (ablated.argmax(-1) == labels).float().mean().item())

    for pool in (order[:candidates], order[candidates:]):
        effects = {c: effect(c) for c in pool}
        best = max(effects, key=effects.__getitem__, default=None)
        if best is not None and effects[best] > 0:
            return best
    return order[0]


def check_accuracy_after_ablation(student_fn: Callable, seed: int = 0, batch: int = 64) -> None:
    """``accuracy_after_ablation(model, images, labels, layer, channel)`` matches the reference.

    Runs on the zoo's shape classifier, ablating in each layer the channel that
    changes accuracy most, so a hook that is not attached cannot pass. The
    student's function runs with the reference ``zero_channel_hook`` (a mistake
    in Exercise 1.3 costs its own points only).
    """
    from .. import zoo
    from ..vision.world import render_shapes

    model = zoo.load("convnet_shapes_s0", device="cpu")
    world = render_shapes(batch, seed=1000 + seed)
    x, labels = world.images, world.labels
    n_checked = 0
    for layer in ("layer1", "layer2.1", "layer3"):
        channel = _most_disruptive_channel(model, x, labels, layer)
        with reference_helpers(student_fn, zero_channel_hook=_reference_zero_channel_hook):
            got = check_contract("accuracy_after_ablation", student_fn, ACCURACY, model, x, labels, layer, channel,
                                 context=f"for channel {channel} of {layer!r}")
        want = ablation_effect(model, x, labels, layer, channel)["accuracy_ablated"]
        if abs(float(got) - want) > 1e-6:
            clean = ablation_effect(model, x, labels, layer, [])["accuracy_clean"]
            hint = (" You return the clean accuracy: is the hook attached during the forward pass?"
                    if abs(float(got) - clean) < 1e-6 else
                    " Do you compare argmax(logits) over the class axis with the labels?")
            raise CheckFailure(f"Ablating channel {channel} of {layer!r} should leave accuracy {want:.3f}, "
                               f"you return {float(got):.3f}.{hint}")
        n_checked += 1
    left = _n_hooks(model)
    expect(left == 0, f"{left} hook(s) are still attached to the model: remove them after the forward pass.")
    passed(f"accuracy_after_ablation matches the reference on {n_checked} layers")


def check_channel_importance(student_fn: Callable, seed: int = 0, batch: int = 16,
                             layers: tuple[str, ...] = ("layer2", "layer3")) -> None:
    """``channel_importance(model, images, labels, layer)`` gives ``[channels]`` logit drops.

    Runs with the reference ``zero_channel_hook`` and ``capture_activations``, so
    only this exercise's mistakes count.
    """
    model = _tiny_net(seed)
    x = _images(seed, batch)
    labels = torch.randint(0, 4, (batch,), generator=torch.Generator().manual_seed(seed))

    def compare(got, want, ctx):
        expect_close("channel_importance(...)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="importance = mean over images of (clean correct-class logit - ablated one).")

    with reference_helpers(student_fn, zero_channel_hook=_reference_zero_channel_hook,
                           capture_activations=_reference_capture):
        compare_functions("channel_importance", student_fn, ref_channel_importance,
                          [dict(model=model, images=x, labels=labels, layer=layer) for layer in layers],
                          compare=compare, describe=lambda c: f"for layer {c['layer']!r}, a batch of {batch}",
                          contract=IMPORTANCE)
    passed("channel_importance matches the reference")


#: What the lesson prints for ``layer3`` of its model (the figures' claims, checked within a tolerance):
#: the top channel's and the median channel's logit drop (on the lesson's first 256 images), and the
#: sweep's correct-class logit with the top channel removed, at its normal value and at three times it.
IMPORTANCE_TOP, IMPORTANCE_MEDIAN = 1.73, 0.19
SWEEP_LANDMARKS = {0.0: 13.35, 1.0: 15.10, 3.0: 18.62}


def check_importance_result(importance: torch.Tensor, n_channels: int, top: float = IMPORTANCE_TOP,
                            median: float = IMPORTANCE_MEDIAN, atol: float = 0.05) -> None:
    """The bar chart's data: one finite importance per channel, and the skewed profile the lesson states.

    Args:
        importance: ``[n_channels]`` logit drops from the student's ``channel_importance``.
        n_channels: Channels of the layer.
        top: The largest drop the lesson states (its model, its images).
        median: The median drop the lesson states.
        atol: How far each may be from the stated one (the text prints two decimals).
    """
    expect_type("importance", importance, torch.Tensor)
    expect(importance.shape == (n_channels,), f"importance should have shape ({n_channels},), "
                                              f"has {tuple(importance.shape)}")
    expect(bool(torch.isfinite(importance).all()), "importance contains NaN or inf")
    got_top = importance.max().item()
    got_median = importance.median().item()
    back = ("These numbers come from your `channel_importance`: go back to Exercise 1.5 (is each channel ablated "
            "on its own, is the drop clean minus ablated, on the correct class's logit, averaged over the images?).")
    expect(got_top > 2 * abs(got_median) + 1e-3,
           f"the most important channel costs {got_top:.3f} logits, barely more than the median {got_median:.3f}. "
           + back)
    expect(abs(got_top - top) <= atol and abs(got_median - median) <= atol,
           f"the most important channel costs {got_top:.3f} logits and the median one {got_median:.3f}; the lesson "
           f"measures {top:.2f} and {median:.2f} on this model and these images. " + back)
    passed(f"the importance profile is skewed: top channel {got_top:.2f} vs median {got_median:.2f} logits")


def check_scale_sweep_result(logits: torch.Tensor, factors: list[float],
                             landmarks: dict[float, float] | None = None, atol: float = 0.05) -> None:
    """The scaling figure: one mean logit per factor, rising with the scale, at the landmarks the lesson states.

    Args:
        logits: ``[len(factors)]`` mean correct-class logits.
        factors: The scales of the top channel (``0.0`` and ``1.0`` among them).
        landmarks: Factor -> the logit the lesson states (default :data:`SWEEP_LANDMARKS`); factors not
            swept are skipped.
        atol: How far each may be from the stated one.
    """
    expect(tuple(logits.shape) == (len(factors),), f"the sweep should give one mean logit per factor "
                                                   f"({len(factors)}), not shape {tuple(logits.shape)}")
    clean = float(logits[factors.index(1.0)])
    ablated = float(logits[factors.index(0.0)])
    back = " The channel comes from your `channel_importance`: go back to Exercise 1.5."
    expect(ablated < clean,
           f"removing the most important channel should lower the correct logit (ablated {ablated:.2f}, "
           f"clean {clean:.2f})." + back)
    order = sorted(range(len(factors)), key=factors.__getitem__)
    rising = all(float(logits[b]) > float(logits[a]) for a, b in zip(order, order[1:]))
    expect(rising, "the correct logit should rise with the channel's scale: "
                   + ", ".join(f"x{factors[i]:g} {float(logits[i]):.2f}" for i in order) + "." + back)
    for factor, want in (SWEEP_LANDMARKS if landmarks is None else landmarks).items():
        if factor in factors:
            got = float(logits[factors.index(factor)])
            expect(abs(got - want) <= atol,
                   f"at scale x{factor:g} the mean correct logit is {got:.2f}; the lesson measures {want:.2f} for "
                   "its top channel. A different value means a different channel was swept." + back)
    passed(f"correct-class logit: {ablated:.2f} ablated, {clean:.2f} clean, {float(logits[-1]):.2f} at "
           f"x{factors[-1]:g}")
