"""Lesson 1's checks: the reference passes, and each plausible mistake fails with words that name it
(the message a student reads).

Each mistake is a class of student error (wrong axis, off-by-one, side effect on the caller's
tensors, a stub called from another exercise, ...), and each test matches the part of the message
that tells the student what to fix.
"""

from __future__ import annotations

import pytest
import torch

from mi_tutor.checks import CheckFailure
from mi_tutor.checks import lesson01 as c1
from mi_tutor.patching import ablation_effect, channel_logit_drops, zero_channels
from mi_tutor.hooks import list_layers, run_with_cache, run_with_hooks


def fails(check, fn, match, **kwargs):
    with pytest.raises(CheckFailure, match=match):
        check(fn, **kwargs)


def capture_ok(model, x, names):
    return dict(run_with_cache(model, x, names)[1])


def capture_leaky(model, x, names):
    store = {}
    for n in names:
        dict(model.named_modules())[n].register_forward_hook(lambda m, i, o, n=n: store.__setitem__(n, o.detach()))
    model(x)
    return store


def test_lesson01_capture(capsys):
    c1.check_capture_activations(capture_ok)
    assert "\u2713" in capsys.readouterr().out
    with pytest.raises(CheckFailure, match="still attached"):
        c1.check_capture_activations(capture_leaky)
    with pytest.raises(CheckFailure, match="forget a `return`"):
        c1.check_capture_activations(lambda m, x, n: None)


def test_lesson01_layer_table():
    c1.check_layer_table(lambda m, x: [(r.name, r.n_params, r.output_shape) for r in list_layers(m, x)])
    with pytest.raises(CheckFailure, match="weights and biases"):  # forgot the biases
        c1.check_layer_table(lambda m, x: [
            (r.name, sum(p.numel() for n, p in m.get_submodule(r.name).named_parameters() if "bias" not in n),
             r.output_shape) for r in list_layers(m, x)])
    with pytest.raises(CheckFailure, match="rows but the network has"):
        c1.check_layer_table(lambda m, x: [(r.name, r.n_params, r.output_shape) for r in list_layers(m, x)][1:])


def test_lesson01_zero_channel_hook():
    c1.check_zero_channel_hook(lambda c: zero_channels(c))

    def wrong_axis(c):
        def hook(a, h):
            a = a.clone()
            a[:, :, c] = 0
            return a
        return hook

    with pytest.raises(CheckFailure, match="wrong values"):
        c1.check_zero_channel_hook(wrong_axis)
    with pytest.raises(CheckFailure, match="return a function"):
        c1.check_zero_channel_hook(lambda c: 0)


def test_lesson01_accuracy_after_ablation():
    c1.check_accuracy_after_ablation(
        lambda model, images, labels, layer, channel:
        ablation_effect(model, images, labels, layer, channel)["accuracy_ablated"])
    with pytest.raises(CheckFailure, match="should leave accuracy"):
        c1.check_accuracy_after_ablation(lambda model, images, labels, layer, channel: 1.0)
    with pytest.raises(CheckFailure, match="is the hook attached"):
        c1.check_accuracy_after_ablation(
            lambda model, images, labels, layer, channel: (model(images).argmax(-1) == labels).float().mean().item())


def test_lesson01_channel_importance():
    c1.check_channel_importance(channel_logit_drops)

    def accuracy_based(model, images, labels, layer):  # a plausible but different measure
        n = run_with_cache(model, images, [layer])[1][layer].shape[1]
        return torch.tensor([ablation_effect(model, images, labels, layer, c)["accuracy_drop"] for c in range(n)])

    with pytest.raises(CheckFailure, match="logit"):
        c1.check_channel_importance(accuracy_based)
    with pytest.raises(CheckFailure, match="not implemented"):
        c1.check_channel_importance(lambda *a: (_ for _ in ()).throw(NotImplementedError()))


def test_lesson01_importance_figure_data():
    c1.check_importance_result(torch.tensor([0.1, 3.0, 0.0, 0.2]), 4, top=3.0, median=0.1)
    with pytest.raises(CheckFailure, match="shape"):
        c1.check_importance_result(torch.zeros(3), 4)
    with pytest.raises(CheckFailure, match="barely more than the median"):
        c1.check_importance_result(torch.ones(4), 4)


def test_lesson01_importance_result_tests_the_stated_numbers():
    """The lesson's profile passes; a skewed profile of the wrong size (a drop in probabilities, not logits,
    or a sum over the images instead of a mean) used to pass the skew test alone and now fails (issue 27)."""
    right = torch.full((64,), c1.IMPORTANCE_MEDIAN)
    right[14] = c1.IMPORTANCE_TOP
    right[:20] -= 0.05                                   # below the median, which stays at the stated value
    c1.check_importance_result(right, 64)
    for wrong in (right * 0.2, right * 64):
        with pytest.raises(CheckFailure, match="the lesson measures 1.73 and 0.19"):
            c1.check_importance_result(wrong, 64)


def test_lesson01_scale_sweep_result_tests_the_stated_landmarks():
    """The lesson's sweep passes; the sweep of another (less important) channel, which only had to lower
    the logit when removed, now fails, and so does a curve that does not rise (issue 27)."""
    factors = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
    right = torch.tensor([13.35, 13.8, 14.2, 15.10, 16.2, 17.1, 18.62])
    c1.check_scale_sweep_result(right, factors)
    other_channel = torch.tensor([14.7, 14.8, 14.9, 15.10, 15.3, 15.5, 15.9])
    with pytest.raises(CheckFailure, match="a different channel was swept"):
        c1.check_scale_sweep_result(other_channel, factors)
    with pytest.raises(CheckFailure, match="should rise"):
        c1.check_scale_sweep_result(torch.tensor([13.35, 13.8, 14.2, 15.10, 15.0, 17.1, 18.62]), factors)

def test_lesson01_new_classes_of_mistake():
    def not_detached(model, x, names):
        store = {}
        handles = [dict(model.named_modules())[n].register_forward_hook(
            lambda m, i, o, n=n: store.__setitem__(n, o)) for n in names]
        model(x)
        for h in handles:
            h.remove()
        return store

    def no_finally(model, x, names):
        handles = [dict(model.named_modules())[n].register_forward_hook(lambda m, i, o: None) for n in names]
        out = capture_ok(model, x, names)
        model(x)                                       # raises on the bad input, before the clean-up
        for h in handles:
            h.remove()
        return out

    def late_binding(model, x, names):
        store, handles = {}, []
        for n in names:
            def hook(m, i, o):
                store[n] = o.detach()
            handles.append(dict(model.named_modules())[n].register_forward_hook(hook))
        with torch.no_grad():
            model(x)
        for h in handles:
            h.remove()
        return store

    with pytest.raises(CheckFailure, match="autograd graph"):
        c1.check_capture_activations(not_detached)
    c1.check_capture_activations(no_finally)                         # the visible test cannot tell ...
    with pytest.raises(CheckFailure, match="even if the forward pass fails"):
        c1.check_capture_activations(no_finally, failing=True)        # ... the hidden one can
    with pytest.raises(CheckFailure, match="bind the current name|should have exactly"):
        c1.check_capture_activations(late_binding)

    def definition_order(model, x):
        rows = [(n, sum(p.numel() for p in m.parameters()), None) for n, m in model.named_modules()
                if n and not list(m.children())]
        shapes = {r.name: r.output_shape for r in list_layers(model, x)}
        return [(n, k, shapes[n]) for n, k, _ in rows]
    c1.check_layer_table(definition_order)                            # same order in the course's nets ...
    with pytest.raises(CheckFailure, match="need not be the order they were defined in"):
        c1.check_layer_table(definition_order, out_of_order=True)

    def in_place(c):
        def hook(a, h):
            a[:, c] = 0.0
            return a
        return hook

    def wrong_spatial_axis(c):
        def hook(a, h):
            a = a.clone()
            a[:, :, :, c] = 0.0
            return a
        return hook

    with pytest.raises(CheckFailure, match="in place"):
        c1.check_zero_channel_hook(in_place)
    with pytest.raises(CheckFailure, match="wrong values"):
        c1.check_zero_channel_hook(wrong_spatial_axis, channels=9, height=3, width=7)


def test_lesson01_points_land_once():
    """A wrong Exercise 1.3 does not cost Exercise 1.4 or 1.5: their checks run with the reference hook."""
    def wrong_zero_channel_hook(c):                 # the student's wrong 1.3, a global of their notebook
        def hook(a, h):
            return a
        return hook

    def accuracy_after_ablation(model, images, labels, layer, channel):
        with torch.no_grad():
            logits = run_with_hooks(model, images, [(layer, zero_channel_hook(channel))])
        return (logits.argmax(-1) == labels).float().mean().item()

    def importance(model, images, labels, layer):
        with torch.no_grad():
            clean = model(images).gather(1, labels[:, None])[:, 0]
            n = run_with_cache(model, images[:1], [layer])[1][layer].shape[1]
            return torch.stack([(clean - run_with_hooks(model, images, [(layer, zero_channel_hook(k))])
                                 .gather(1, labels[:, None])[:, 0]).mean() for k in range(n)])

    globals()["zero_channel_hook"] = wrong_zero_channel_hook
    try:
        with pytest.raises(CheckFailure):
            c1.check_zero_channel_hook(wrong_zero_channel_hook)
        c1.check_accuracy_after_ablation(accuracy_after_ablation)
        c1.check_channel_importance(importance, batch=1, layers=("layer1",))
        assert globals()["zero_channel_hook"] is wrong_zero_channel_hook   # the student's own is put back
    finally:
        del globals()["zero_channel_hook"]


def test_lesson01_crash_names_the_students_line():
    def channel_importance(model, images, labels, layer):
        return torch.zeros(3)[labels]                  # the student's bug: an index out of range

    with pytest.raises(CheckFailure, match=r"raised IndexError(.|\n)*Your code failed at line \d+ of .*\(in channel_importance\)"):
        c1.check_channel_importance(channel_importance)
    with pytest.raises(CheckFailure, match="Exercise 1.5"):
        c1.check_scale_sweep_result(torch.tensor([2.0, 1.0, 1.0]), [0.0, 1.0, 2.0])


def test_lesson01_contracts():
    """Each exercise's promises besides its numbers, broken the way the text invites (issue 27)."""
    def accuracy_as_tensor(model, images, labels, layer, channel):   # forgot `.item()`
        with torch.no_grad():
            logits = run_with_hooks(model, images, [(layer, zero_channels(channel))])
        return (logits.argmax(-1) == labels).float().mean()

    with pytest.raises(CheckFailure, match=r"should return a float(.|\n)*\.item\(\)"):
        c1.check_accuracy_after_ablation(accuracy_as_tensor)

    def rows_as_lists(model, x):                                      # rows [name, n, shape], not tuples
        return [[r.name, r.n_params, r.output_shape] for r in list_layers(model, x)]

    with pytest.raises(CheckFailure, match="list of tuple"):
        c1.check_layer_table(rows_as_lists)

    def scales_the_input(model, x, names):                            # "normalises" the caller's images
        x /= x.max()
        return dict(run_with_cache(model, x, names)[1])

    with pytest.raises(CheckFailure, match=r"changed its argument `x` in place \(`x /= x.max\(\)`\)"):
        c1.check_capture_activations(scales_the_input)
