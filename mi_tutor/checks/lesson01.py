"""Checks for lesson 1, "Networks as programs: hooks and activations"."""

from __future__ import annotations

import torch
from torch import nn

from ..edits import ablation_effect, channel_importance as ref_channel_importance, zero_channels
from ..hooks import HookContext, list_layers, run_with_cache
from ..vision.models import ConvNet, ConvNetConfig
from .core import CheckFailure, compare_functions, expect, expect_close, expect_type, passed

__all__ = [
    "check_capture_activations",
    "check_layer_table",
    "check_zero_channel_hook",
    "check_accuracy_after_ablation",
    "check_channel_importance",
    "check_importance_figure",
]


def _tiny_net(seed: int, n_classes: int = 4) -> nn.Module:
    torch.manual_seed(seed)
    return ConvNet(ConvNetConfig(channels=(4, 6, 8), kernel_size=3, n_classes=n_classes)).eval()


def _images(seed: int, batch: int, size: int = 16) -> torch.Tensor:
    return torch.rand(batch, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _n_hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) for m in model.modules())


def check_capture_activations(capture_activations, seed: int = 0, batch: int = 3) -> None:
    """``capture_activations(model, x, names)`` returns ``{name: output}`` and leaves no hook behind."""
    model = _tiny_net(seed)
    x = _images(seed, batch)
    for names in (["conv1"], ["relu2", "conv3", "fc"]):
        got = capture_activations(model, x, names)
        expect_type("capture_activations(...)", got, dict)
        expect(list(got) == names or set(got) == set(names),
               f"Your dict has keys {sorted(got)} but should have exactly the requested names {names}.")
        _, want = run_with_cache(model, x, names)
        for name in names:
            expect_close(f"activations[{name!r}]", got[name].detach(), want[name],
                         context=f"for a batch of {batch} images",
                         hint="store the module's *output* (the third argument of a forward hook).")
        left = _n_hooks(model)
        expect(left == 0, f"{left} forward hook(s) are still attached after your function returned: "
                          "keep the handles from register_forward_hook and call handle.remove() (use try/finally).")
    passed(f"capture_activations returns the right activations (batch of {batch}) and cleans up its hooks")


def check_layer_table(layer_table, seed: int = 0, batch: int = 2) -> None:
    """``layer_table(model, x)`` lists ``(name, n_params, output_shape)`` of every leaf module in order."""
    model = _tiny_net(seed)
    x = _images(seed, batch)
    got = layer_table(model, x)
    expect_type("layer_table(...)", got, list)
    want = [(row.name, row.n_params, row.output_shape) for row in list_layers(model, x)]
    expect(len(got) == len(want), f"Your table has {len(got)} rows but the network has {len(want)} leaf modules "
                                  f"({[w[0] for w in want]}). Skip the container (the model itself), keep leaves.")
    for i, (g, w) in enumerate(zip(got, want)):
        expect(len(g) == 3, f"Row {i} is {g!r}: each row should be a tuple (name, n_params, output_shape).")
        name, n_params, shape = g
        expect(name == w[0], f"Row {i} is named {name!r} but should be {w[0]!r}: list modules in execution order.")
        expect(int(n_params) == w[1], f"Layer {name!r} has {w[1]} parameters, your table says {n_params}: "
                                      "count every element of every parameter (weights and biases).")
        expect(tuple(shape) == w[2], f"Layer {name!r} outputs shape {w[2]} for a batch of {batch}, your table says "
                                     f"{tuple(shape)}.")
    passed(f"layer_table lists all {len(want)} layers with the right parameter counts and output shapes")


def check_zero_channel_hook(zero_channel_hook, seed: int = 0, channels: int = 5) -> None:
    """``zero_channel_hook(c)`` returns a hook that zeroes channel ``c`` and leaves the rest unchanged."""
    g = torch.Generator().manual_seed(seed)
    act = torch.randn(2, channels, 4, 4, generator=g)
    ctx = HookContext("layer", nn.Identity())
    for c in (0, channels - 1, channels // 2):
        hook = zero_channel_hook(c)
        expect(callable(hook), "zero_channel_hook(c) should *return a function* hook(activation, hook).")
        got = hook(act.clone(), ctx)
        expect_type(f"zero_channel_hook({c})(activation, hook)", got, torch.Tensor)
        want = zero_channels(c)(act.clone(), ctx)
        expect_close(f"the edited activation (channel {c})", got, want,
                     hint="zero only axis 1 index c: act[:, c] = 0, and return the activation.")
    passed("zero_channel_hook zeroes exactly the chosen channel")


def _most_disruptive_channel(model: nn.Module, x: torch.Tensor, labels: torch.Tensor, layer: str) -> int:
    n = run_with_cache(model, x[:1], [layer])[1][layer].shape[1]
    effects = [abs(ablation_effect(model, x, labels, layer, c)["accuracy_drop"]) for c in range(n)]
    return max(range(n), key=effects.__getitem__)


def check_accuracy_after_ablation(accuracy_after_ablation, seed: int = 0, batch: int = 64) -> None:
    """``accuracy_after_ablation(model, images, labels, layer, channel)`` matches the reference.

    Runs on the zoo's shape classifier, ablating in each layer the channel that
    changes accuracy most, so a hook that is not attached cannot pass.
    """
    from .. import zoo
    from ..vision.world import render_shapes

    model = zoo.load("convnet_shapes_s0", device="cpu")
    world = render_shapes(batch, seed=1000 + seed)
    x, labels = world.images, world.labels
    n_checked = 0
    for layer in ("relu1", "conv2", "relu3"):
        channel = _most_disruptive_channel(model, x, labels, layer)
        got = accuracy_after_ablation(model, x, labels, layer, channel)
        expect_type("accuracy_after_ablation(...)", got, (float, int))
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


def check_channel_importance(channel_importance, seed: int = 0, batch: int = 16) -> None:
    """``channel_importance(model, images, labels, layer)`` gives ``[channels]`` logit drops."""
    model = _tiny_net(seed)
    x = _images(seed, batch)
    labels = torch.randint(0, 4, (batch,), generator=torch.Generator().manual_seed(seed))

    def compare(got, want, ctx):
        expect_close("channel_importance(...)", got, want, rtol=1e-3, atol=1e-4, context=ctx,
                     hint="importance = mean over images of (clean correct-class logit - ablated one).")

    compare_functions("channel_importance", channel_importance, ref_channel_importance,
                      [dict(model=model, images=x, labels=labels, layer=layer) for layer in ("relu2", "relu3")],
                      compare=compare, describe=lambda c: f"for layer {c['layer']!r}")
    passed("channel_importance matches the reference")


def check_importance_figure(importance: torch.Tensor, n_channels: int) -> None:
    """The bar chart's data: one finite importance per channel, some channel matters."""
    expect_type("importance", importance, torch.Tensor)
    expect(importance.shape == (n_channels,), f"importance should have shape ({n_channels},), "
                                              f"has {tuple(importance.shape)}")
    expect(bool(torch.isfinite(importance).all()), "importance contains NaN or inf")
    top = importance.max().item()
    median = importance.median().item()
    expect(top > 2 * abs(median) + 1e-3,
           f"the most important channel costs {top:.3f} logits, barely more than the median {median:.3f}: "
           "is each channel ablated on its own?")
    passed(f"the importance profile is skewed: top channel {top:.2f} vs median {median:.2f} logits")
