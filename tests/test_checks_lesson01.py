"""Lesson 1's checks accept the reference and reject plausible mistakes with useful words."""

from __future__ import annotations

import pytest
import torch

from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson01 as checks
from mi_tutor.edits import ablation_effect, channel_importance, zero_channels
from mi_tutor.hooks import list_layers, run_with_cache, run_with_hooks


def capture_ok(model, x, names):
    return dict(run_with_cache(model, x, names)[1])


def capture_leaky(model, x, names):
    store = {}
    for n in names:
        dict(model.named_modules())[n].register_forward_hook(lambda m, i, o, n=n: store.__setitem__(n, o))
    model(x)
    return store


def test_capture(capsys):
    checks.check_capture_activations(capture_ok)
    assert "\u2713" in capsys.readouterr().out
    with pytest.raises(CheckFailure, match="still attached"):
        checks.check_capture_activations(capture_leaky)
    with pytest.raises(CheckFailure, match="forget a `return`"):
        checks.check_capture_activations(lambda m, x, n: None)


def test_layer_table():
    checks.check_layer_table(lambda m, x: [(r.name, r.n_params, r.output_shape) for r in list_layers(m, x)])
    with pytest.raises(CheckFailure, match="weights and biases"):  # forgot the biases
        checks.check_layer_table(lambda m, x: [
            (r.name, sum(p.numel() for n, p in m.get_submodule(r.name).named_parameters() if "bias" not in n),
             r.output_shape) for r in list_layers(m, x)])
    with pytest.raises(CheckFailure, match="rows but the network has"):
        checks.check_layer_table(lambda m, x: [(r.name, r.n_params, r.output_shape) for r in list_layers(m, x)][1:])


def test_zero_channel_hook():
    checks.check_zero_channel_hook(lambda c: zero_channels(c))

    def wrong_axis(c):
        def hook(a, h):
            a = a.clone()
            a[:, :, c] = 0
            return a
        return hook

    with pytest.raises(CheckFailure, match="wrong values"):
        checks.check_zero_channel_hook(wrong_axis)
    with pytest.raises(CheckFailure, match="return a function"):
        checks.check_zero_channel_hook(lambda c: 0)


def test_accuracy_after_ablation():
    checks.check_accuracy_after_ablation(
        lambda model, images, labels, layer, channel:
        ablation_effect(model, images, labels, layer, channel)["accuracy_ablated"])
    with pytest.raises(CheckFailure, match="should leave accuracy"):
        checks.check_accuracy_after_ablation(lambda model, images, labels, layer, channel: 1.0)
    with pytest.raises(CheckFailure, match="is the hook attached"):
        checks.check_accuracy_after_ablation(
            lambda model, images, labels, layer, channel: (model(images).argmax(-1) == labels).float().mean().item())


def test_channel_importance():
    checks.check_channel_importance(channel_importance)

    def accuracy_based(model, images, labels, layer):  # a plausible but different measure
        n = run_with_cache(model, images, [layer])[1][layer].shape[1]
        return torch.tensor([ablation_effect(model, images, labels, layer, c)["accuracy_drop"] for c in range(n)])

    with pytest.raises(CheckFailure, match="logit"):
        checks.check_channel_importance(accuracy_based)
    with pytest.raises(CheckFailure, match="not implemented"):
        checks.check_channel_importance(lambda *a: (_ for _ in ()).throw(NotImplementedError()))


def test_importance_figure_data():
    checks.check_importance_figure(torch.tensor([0.1, 3.0, 0.0, 0.2]), 4)
    with pytest.raises(CheckFailure, match="shape"):
        checks.check_importance_figure(torch.zeros(3), 4)
    with pytest.raises(CheckFailure, match="barely more than the median"):
        checks.check_importance_figure(torch.ones(4), 4)
