"""Checks for lesson 2, "Features: neurons, directions, probes, dissection"."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch

from ..features import atlas, dissection, directions, examples, probes
from .contracts import Contract, check_contract, compare_functions
from .core import CheckFailure, expect, expect_close, expect_tensor_like, expect_type, passed, with_square_hint

__all__ = [
    "CONTRACTS",
    "check_top_k_examples",
    "check_mass_mean_probe",
    "check_train_probe",
    "check_quantile_thresholds",
    "check_dissection_iou",
    "check_direction_activation",
    "check_grid_average",
    "check_top_k_hierarchy_result",
    "check_probe_depth_result",
    "check_probe_hierarchy_result",
    "check_dissection_counts_result",
    "check_dissection_hierarchy_result",
    "check_atlas_purity_result",
    "check_direction_vs_neurons_result",
]


# What each exercise promises besides its numbers (stated in its text), tested by check_contract on every
# call: every exercise leaves the activations, labels, masks and directions it is given as they were.
PAIR = Contract(returns=tuple)                 # "return (values, indices)", "(direction, bias)", ...
TENSOR = Contract(returns=torch.Tensor)
CONTRACTS = {"top_k_examples": PAIR, "mass_mean_probe": PAIR, "train_probe": PAIR,
             "quantile_thresholds": TENSOR, "dissection_iou": TENSOR, "direction_activation": TENSOR,
             "grid_average": PAIR}


def _gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _acts(seed: int, n: int, c: int, h: int, w: int, signed: bool = False) -> torch.Tensor:
    acts = torch.randn(n, c, h, w, generator=_gen(seed))
    return acts - 3.0 if signed else torch.relu(acts)


def _call(name: str, fn, *args, context: str = ""):
    return check_contract(name, fn, CONTRACTS[name], *args, context=context)


def _pair(name: str, got, n: int) -> tuple:
    expect(isinstance(got, tuple) and len(got) == n,
           f"`{name}` should return a tuple of {n} tensors but returned {type(got).__name__}"
           + (f" of length {len(got)}" if isinstance(got, tuple) else "") + ".")
    return got


def check_top_k_examples(student_fn: Callable, seed: int = 0, n: int = 20, channels: int = 6, k: int = 4,
                         height: int = 5, width: int = 5, signed: bool = False) -> None:
    """``top_k_examples(acts, unit, k)`` -> ``(values [k], indices [k])`` of the largest spatial maxima.

    Args:
        height, width: The maps' size (a non-square one catches code that uses one side for both).
        signed: Pre-ReLU maps, every value negative: a maximum started at 0 (or values clamped at 0)
            gives ties and wrong values.
    """
    with_square_hint(_check_top_k_examples, student_fn, (height, width), {"width": height}, seed=seed, n=n,
                     channels=channels, k=k, height=height, width=width, signed=signed)


def _check_top_k_examples(student_fn: Callable, seed: int, n: int, channels: int, k: int, height: int, width: int,
                          signed: bool) -> None:
    acts = _acts(seed, n, channels, height, width, signed)
    context = f"on maps of shape {tuple(acts.shape)}" + (", all negative (pre-ReLU)" if signed else "")
    for unit in (0, channels - 1):
        got = _pair("top_k_examples(...)", _call("top_k_examples", student_fn, acts.clone(), unit, k,
                                                 context=f"for unit {unit} {context}"), 2)
        want_values, want_indices = examples.top_activating(acts, unit, k)
        means = acts.flatten(2).mean(-1)[:, unit].topk(k).indices
        hint = ("these are the images with the largest *mean* activation: take the maximum over positions "
                "(`acts.flatten(2).amax(-1)`)." if torch.equal(got[1].long().cpu(), means) else
                "take the maximum over the two spatial axes of channel `unit`, then `topk` over the images.")
        if signed and isinstance(got[0], torch.Tensor) and got[0].shape == want_values.shape \
                and bool((got[0] >= 0).all()):
            hint = ("every activation here is negative (a pre-ReLU layer) and yours are not: do not clamp the "
                    "activations at 0 or start a running maximum at 0; `amax` over the positions needs neither.")
        expect_close("values", got[0], want_values, hint=hint, context=f"for unit {unit} {context}")
        expect(torch.equal(got[1].long().cpu(), want_indices),
               f"Your indices {got[1].tolist()} differ from the expected {want_indices.tolist()} for unit {unit} "
               f"{context}: return the image indices in decreasing order of activation.")
    passed(f"top_k_examples finds the top {k} images of {n} by spatial max"
           + (f" ({height}x{width} maps{', all negative' if signed else ''})" if signed or height != width else ""))


def check_mass_mean_probe(student_fn: Callable, seed: int = 0, n: int = 40, d: int = 6) -> None:
    """``mass_mean_probe(acts, labels)`` -> ``(direction [d], bias [])``."""
    g = _gen(seed)
    labels = torch.arange(n) % 2 == 0
    labels = labels[torch.randperm(n, generator=g)]
    acts = torch.randn(n, d, generator=g) + 2.0 * labels[:, None].float() * torch.randn(d, generator=g)
    for lab in (labels, labels.long()):
        got = _pair("mass_mean_probe(...)", _call("mass_mean_probe", student_fn, acts.clone(), lab.clone(),
                                                            context=f"with labels of dtype {lab.dtype}"), 2)
        want = probes.mass_mean_probe(acts, lab)
        if isinstance(got[0], torch.Tensor) and got[0].shape == want[0].shape and torch.allclose(got[0], -want[0]):
            raise CheckFailure("Your direction points the wrong way: it should be mean(positives) - mean(negatives).")
        expect_close("direction", got[0], want[0], hint="direction = mean of the label-1 rows minus mean of the "
                                                           "label-0 rows.")
        expect_type("bias", got[1], torch.Tensor)
        expect_close("bias", got[1].reshape(()), want[1],
                     hint="the bias puts the boundary half-way between the two means: "
                          "-direction . (mu_pos + mu_neg) / 2.")
    passed(f"mass_mean_probe matches the reference on {n} examples of dimension {d}")


def _clusters(seed: int, n: int, d: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = _gen(seed)
    centres = 1.2 * torch.randn(k, d, generator=g)
    labels = torch.randint(k, (n,), generator=g)
    scales = torch.rand(d, generator=g) * 5 + 0.2  # features on very different scales
    return (centres[labels] + torch.randn(n, d, generator=g)) * scales + 3.0, labels


def check_train_probe(student_fn: Callable, seed: int = 0, d: int = 12, n_classes: int = 4) -> None:
    """``train_probe(acts, labels, n_classes)`` -> ``(weight [n_classes, d], bias [n_classes])`` whose
    held-out accuracy is within 5 points of the reference probe's."""
    x, y = _clusters(seed, 800, d, n_classes)
    train_x, train_y, test_x, test_y = x[:400], y[:400], x[400:], y[400:]
    got = _pair("train_probe(...)", _call("train_probe", student_fn, train_x.clone(), train_y.clone(), n_classes,
                                                    context=f"on {len(train_x)} points, {n_classes} classes"), 2)
    weight, bias = got
    expect_type("weight", weight, torch.Tensor)
    expect_type("bias", bias, torch.Tensor)
    expect(tuple(weight.shape) == (n_classes, d),
           f"`weight` has shape {tuple(weight.shape)} but should be (n_classes, d) = {(n_classes, d)}.")
    expect(tuple(bias.shape) == (n_classes,), f"`bias` has shape {tuple(bias.shape)}, wanted ({n_classes},).")
    acc = ((test_x @ weight.detach().T + bias.detach()).argmax(-1) == test_y).float().mean().item()
    ref = probes.probe_accuracy(probes.train_linear_probe(train_x, train_y, n_classes), test_x, test_y)
    expect(acc >= ref - 0.05,
           f"Your probe reaches {acc:.1%} held-out accuracy, the reference {ref:.1%}. Check that your logits are "
           "`acts @ weight.T + bias` on the raw activations (fold any standardisation into weight and bias), "
           "that you minimise cross-entropy, and that you train long enough (features here have very "
           "different scales: standardising them first helps a lot).")
    passed(f"train_probe reaches {acc:.1%} held-out accuracy (reference {ref:.1%})")


def check_quantile_thresholds(student_fn: Callable, seed: int = 0, n: int = 10, channels: int = 5,
                              quantile: float = 0.005) -> None:
    """``quantile_thresholds(acts, quantile)`` -> ``[channels]``."""
    acts = torch.randn(n, channels, 6, 7, generator=_gen(seed)) * torch.arange(1, channels + 1)[None, :, None, None]

    def compare(got, want, ctx):
        low = dissection.quantile_thresholds(acts, 1 - quantile)
        hint = ("these are the *lowest* values: the threshold leaves a fraction `quantile` of values above it, "
                "so use the (1 - quantile) quantile." if isinstance(got, torch.Tensor) and got.shape == low.shape
                and torch.allclose(got, low, atol=1e-4) else
                "flatten images and positions of each channel together (`acts.transpose(0, 1).flatten(1)`).")
        expect_close("quantile_thresholds(...)", got, want, hint=hint, context=ctx, rtol=1e-4, atol=1e-4)

    compare_functions("quantile_thresholds", student_fn, dissection.quantile_thresholds,
                      [{"acts": acts, "quantile": quantile}, {"acts": acts[:3], "quantile": 0.1}], compare=compare,
                      contract=TENSOR)
    passed(f"quantile_thresholds matches the reference on {n} images x {channels} channels")


def check_dissection_iou(student_fn: Callable, seed: int = 0, n: int = 6, channels: int = 4, concepts: int = 3,
                         size: int | tuple[int, int] = 16, act_size: int | tuple[int, int] = 8) -> None:
    """``dissection_iou(acts, masks, thresholds)`` -> ``[channels, concepts]`` dataset-wide IoU.

    Args:
        size, act_size: The masks' and the maps' ``(height, width)`` (an int for a square); a
            non-square pair catches code that upsamples to a square.
    """
    size = (size, size) if isinstance(size, int) else tuple(size)
    act_size = (act_size, act_size) if isinstance(act_size, int) else tuple(act_size)
    with_square_hint(_check_dissection_iou, student_fn, size, {"size": (size[0],) * 2, "act_size": (act_size[0],) * 2},
                     seed=seed, n=n, channels=channels, concepts=concepts, size=size, act_size=act_size)


def _check_dissection_iou(student_fn: Callable, seed: int, n: int, channels: int, concepts: int,
                          size: tuple[int, int], act_size: tuple[int, int]) -> None:
    g = _gen(seed)
    masks = torch.rand(n, concepts, *size, generator=g) > 0.7
    acts = torch.randn(n, channels, *act_size, generator=g)
    acts[:, 0] += 3 * torch.nn.functional.adaptive_avg_pool2d(masks[:, :1].float(), act_size)[:, 0]
    thresholds = dissection.quantile_thresholds(acts, 0.2)
    got = _call("dissection_iou", student_fn, acts.clone(), masks.clone(), thresholds.clone(),
                context=f"on {n} images, maps {act_size[0]}x{act_size[1]}, masks {size[0]}x{size[1]}")
    want = dissection.dissection_iou(acts, masks, thresholds)
    nearest = torch.nn.functional.interpolate(acts, size=size, mode="nearest")
    on = nearest > thresholds[None, :, None, None]
    alt = torch.einsum("nuhw,nchw->uc", on.float(), masks.float())
    alt = alt / (on.float().sum((0, 2, 3))[:, None] + masks.float().sum((0, 2, 3))[None] - alt)
    per_image = None
    if isinstance(got, torch.Tensor) and got.shape == want.shape and torch.allclose(got.float(), alt, atol=1e-4):
        hint = "you upsampled with nearest neighbours: use bilinear interpolation (`mode='bilinear'`)."
    else:
        up = torch.nn.functional.interpolate(acts, size=size, mode="bilinear", align_corners=False)
        on = (up > thresholds[None, :, None, None]).float()
        inter = torch.einsum("nuhw,nchw->nuc", on, masks.float())
        union = on.sum((2, 3))[:, :, None] + masks.float().sum((2, 3))[:, None] - inter
        per_image = (inter / union.clamp_min(1e-10)).mean(0)
        hint = ("upsample each unit's map to the mask size (bilinear), threshold it, and sum intersections and "
                "unions over *all* images before dividing.")
    if per_image is not None and isinstance(got, torch.Tensor) and got.shape == want.shape \
            and torch.allclose(got.float(), per_image, atol=1e-4):
        hint = ("you averaged per-image IoUs: accumulate the intersection and the union over the whole dataset "
                "and divide once (that is network dissection's IoU).")
    expect_close("dissection_iou(...)", got, want, hint=hint, rtol=1e-4, atol=1e-4,
                 context=f"on {n} images, maps {act_size[0]}x{act_size[1]}, masks {size[0]}x{size[1]}")
    passed(f"dissection_iou matches the reference ({channels} units x {concepts} concepts)")


def check_direction_activation(student_fn: Callable, seed: int = 0, n: int = 3, channels: int = 5) -> None:
    """``direction_activation(acts, direction)`` -> ``[n, h, w]`` projection on the unit direction."""
    g = _gen(seed)
    cases = [{"acts": torch.randn(n, channels, 4, 5, generator=g), "direction": 3 * torch.randn(channels, generator=g)},
             {"acts": torch.randn(1, channels, 2, 2, generator=g), "direction": torch.eye(channels)[1] * 7}]
    compare_functions("direction_activation", student_fn, directions.direction_activation, cases, contract=TENSOR,
                      compare=lambda got, want, ctx: expect_close(
                          "direction_activation(...)", got, want, context=ctx,
                          hint="normalise the direction to unit length, then take the dot product over the "
                               "channel axis at every position (einsum 'nchw,c->nhw')."))
    passed("direction_activation projects every position on the normalised direction")


def check_grid_average(student_fn: Callable, seed: int = 0, n: int = 50, d: int = 3, n_cells: int = 4) -> None:
    """``grid_average(coords, values, n_cells)`` -> ``(cells [n_cells, n_cells, d], counts [n_cells, n_cells])``."""
    g = _gen(seed)
    coords = torch.randn(n, 2, generator=g)
    values = torch.randn(n, d, generator=g)
    got = _pair("grid_average(...)", _call("grid_average", student_fn, coords.clone(), values.clone(), n_cells,
                                                       context=f"on {n} points, {n_cells}x{n_cells} cells"), 2)
    want = atlas.grid_average(coords, values, n_cells)
    expect_tensor_like("counts", got[1], want[1], check_device=False)
    expect(int(got[1].sum()) == n, f"Your counts add up to {int(got[1].sum())} but there are {n} points: the point "
                                   "with the largest coordinate must fall in the last cell (clamp the index).")
    if torch.equal(got[1].long(), want[1].T.long()) and not torch.equal(got[1].long(), want[1].long()):
        raise CheckFailure("Your grid is transposed: rows follow coords[:, 1] (y), columns follow coords[:, 0] (x).")
    expect(torch.equal(got[1].long(), want[1].long()),
           f"Your counts differ from the expected ones:\n{got[1].tolist()}\nvs\n{want[1].tolist()}\n"
           "Cell index = floor((coord - min) / (max - min) * n_cells), clamped to n_cells - 1.")
    expect_close("cells", got[0], want[0], hint="each cell holds the mean of its points' values (0 when empty).")
    passed(f"grid_average bins {n} points into a {n_cells}x{n_cells} grid correctly")


def check_probe_depth_result(accuracy: Mapping[str, float], chance: float, margin: float = 0.15) -> None:
    """The probe accuracies (``layer -> accuracy``, input first) rise with depth and end well above chance."""
    names, values = list(accuracy), list(accuracy.values())
    expect(len(values) >= 3, "Give the accuracy of at least three layers, in order of depth.")
    expect(values[-1] >= values[0] + margin,
           f"The deepest layer's probe ({values[-1]:.1%}) should beat the input's ({values[0]:.1%}) by "
           f"{margin:.0%}. The probes are yours: go back to Exercise 2.3.")
    drops = [(a, b) for a, b in zip(names, names[1:]) if accuracy[b] < accuracy[a] - 0.03]
    if drops:
        raise CheckFailure(f"Accuracy falls from {drops[0][0]} ({accuracy[drops[0][0]]:.1%}) to {drops[0][1]} "
                           f"({accuracy[drops[0][1]]:.1%}): it should rise with depth.")
    expect(values[-1] > chance + margin, f"The deepest probe ({values[-1]:.1%}) is barely above chance ({chance:.1%}). "
           "The probes are yours: go back to Exercise 2.3 (are the weights folded back onto raw activations?).")
    passed("probe accuracy rises with depth: " + ", ".join(f"{k} {v:.0%}" for k, v in accuracy.items()))


def check_top_k_hierarchy_result(purity: Mapping[str, Mapping[str, float]], margin: float = 0.2) -> None:
    """Top examples of the first layer's units share a colour more than the last layer's; the last layer's
    share a kind more than the first layer's (``purity[colour|kind][layer]``, layers in order of depth)."""
    for key in ("colour", "kind"):
        expect(key in purity and len(purity[key]) >= 2, f"`purity` needs a {key!r} entry with two or more layers.")
    colour, kind = purity["colour"], purity["kind"]
    first, last = list(colour)[0], list(colour)[-1]
    expect(colour[first] >= colour[last] + margin,
           f"The top-9 examples of {first} units share a colour {colour[first]:.2f} of the time, those of {last} "
           f"units {colour[last]:.2f}: the early layer should be the colour one. Your top_k_examples is used "
           "here: go back to Exercise 2.1.")
    expect(kind[last] >= kind[first] + margin,
           f"The top-9 examples of {last} units share a kind {kind[last]:.2f} of the time, those of {first} units "
           f"{kind[first]:.2f}: the late layer should be the object one. Go back to Exercise 2.1.")
    passed(f"top examples: colour share {colour[first]:.2f} -> {colour[last]:.2f}, kind share "
           f"{kind[first]:.2f} -> {kind[last]:.2f} from {first} to {last}")


def check_probe_hierarchy_result(kind: Mapping[str, float], colour: Mapping[str, float], chance: float,
                                 margin: float = 0.15) -> None:
    """The object-kind probe rises with depth far above chance; the colour probe ends lower than it starts."""
    check_probe_depth_result(kind, chance, margin)
    names, values = list(colour), list(colour.values())
    expect(values[0] >= values[-1] + margin,
           f"The colour probe reads {values[0]:.1%} at {names[0]} and {values[-1]:.1%} at {names[-1]}: the colour "
           "should be easier to read early than late. The probes are yours: go back to Exercise 2.3.")
    passed(f"colour fades from {values[0]:.0%} ({names[0]}) to {values[-1]:.0%} ({names[-1]})")


def check_dissection_counts_result(result: dissection.Dissection, counts: Mapping[str, int],
                                   threshold: float = dissection.IOU_THRESHOLD, acts: torch.Tensor | None = None,
                                   masks: Mapping[str, torch.Tensor] | None = None,
                                   quantile: float = dissection.QUANTILE) -> None:
    """The plotted counts are the units whose best IoU exceeds the threshold, per best concept, and (given the
    layer's ``acts`` and the concept ``masks`` it was dissected against) the IoUs are the reference dissection's."""
    if acts is not None and masks is not None:
        want = dissection.dissect(acts, masks, quantile)
        expect(list(result.concepts) == list(want.concepts) and tuple(result.iou.shape) == tuple(want.iou.shape),
               f"The dissection has {tuple(result.iou.shape)} IoUs over {len(result.concepts)} concepts; the "
               f"layer and the masks give {tuple(want.iou.shape)} over {len(want.concepts)}.")
        err = (result.iou.float().cpu() - want.iou.float().cpu()).abs()
        if float(err.max()) > 1e-3:
            unit, concept = divmod(int(err.argmax()), err.shape[1])
            raise CheckFailure(
                f"The IoU of unit {unit} with {want.concepts[concept]!r} is {float(result.iou[unit, concept]):.4f}; "
                f"dissection gives {float(want.iou[unit, concept]):.4f} on this layer. These IoUs come from your "
                "`quantile_thresholds` and `dissection_iou`: go back to Exercises 2.4 and 2.5 (the top "
                f"{quantile:.1%} over images and positions; bilinear upsampling; sums over the dataset before "
                "dividing).")
    best, idx = result.iou.max(-1)
    recount: dict[str, int] = {}
    for value, i in zip(best.tolist(), idx.tolist()):
        if value > threshold:
            recount[result.concepts[i]] = recount.get(result.concepts[i], 0) + 1
    expect(dict(counts) == recount, f"The figure's counts {dict(counts)} differ from a recount {recount}.")
    expect(sum(recount.values()) > 0, f"No unit reaches IoU {threshold}: dissection found no detectors.")
    passed(f"{sum(recount.values())} of {len(best)} units are detectors (IoU > {threshold}): "
           + ", ".join(f"{k} {v}" for k, v in recount.items()))


def check_dissection_hierarchy_result(type_data: Mapping, first: str = "colour", last: str = "object",
                                      middle: str = "part") -> None:
    """Per layer (``type_data`` from ``plot_concept_types``): the first layer's detectors are mostly
    ``first`` concepts, the last layer's mostly ``last`` ones, and ``middle`` peaks in between."""
    layers, counts = type_data["layers"], type_data["counts"]
    expect(len(layers) >= 3, "Dissect at least three layers, in order of depth.")
    total = [sum(c[i] for c in counts.values()) for i in range(len(layers))]
    expect(total[0] > 0 and total[-1] > 0,
           f"No detectors in {layers[0] if total[0] == 0 else layers[-1]}: are your thresholds the *top* 0.5% "
           "(Exercise 2.4) and your IoU accumulated over the dataset (Exercise 2.5)?")
    get = lambda t: counts.get(t, [0] * len(layers))  # noqa: E731
    expect(get(first)[0] > total[0] / 2,
           f"Only {get(first)[0]} of {layers[0]}'s {total[0]} detectors are {first} units: go back to Exercises 2.4 "
           "and 2.5.")
    expect(get(last)[-1] > total[-1] / 2,
           f"Only {get(last)[-1]} of {layers[-1]}'s {total[-1]} detectors are {last} units: go back to Exercises "
           "2.4 and 2.5.")
    peak = max(range(len(layers)), key=lambda i: get(middle)[i])
    expect(0 < peak < len(layers) - 1,
           f"The {middle} detectors peak in {layers[peak]} ({get(middle)}), not in a middle layer.")
    passed(f"{layers[0]}: {get(first)[0]} of {total[0]} detectors are {first}; {middle} peaks in {layers[peak]} "
           f"({get(middle)[peak]}); {layers[-1]}: {get(last)[-1]} of {total[-1]} are {last}")


def check_atlas_purity_result(purity: Mapping[str, float], margin: float = 0.2) -> None:
    """The last layer's atlas cells hold one kind more often than the first layer's."""
    names = list(purity)
    expect(len(names) >= 2, "Give the cell purity of two layers, early first.")
    expect(purity[names[-1]] >= purity[names[0]] + margin,
           f"Cell purity {purity[names[0]]:.2f} in {names[0]} and {purity[names[-1]]:.2f} in {names[-1]}: the late "
           "layer's atlas should sort the kinds. Your grid_average is used here: go back to Exercise 2.7.")
    passed(f"atlas cell purity {purity[names[0]]:.2f} ({names[0]}) -> {purity[names[-1]]:.2f} ({names[-1]})")


def check_direction_vs_neurons_result(comparison: directions.DirectionComparison, concept: str) -> None:
    """The held-out IoU of the concept direction beats every neuron it mixes, and every neuron of the layer."""
    expect(comparison.direction_iou > comparison.best_neuron_iou,
           f"The direction's IoU with {concept!r} ({comparison.direction_iou:.3f}) does not beat its best neuron "
           f"({comparison.best_neuron_iou:.3f}).")
    expect(comparison.direction_iou > comparison.best_any_iou,
           f"The direction's IoU with {concept!r} ({comparison.direction_iou:.3f}) does not beat unit "
           f"{comparison.best_any_neuron} ({comparison.best_any_iou:.3f}).")
    passed(f"direction IoU {comparison.direction_iou:.3f} > best mixed neuron {comparison.best_neuron_iou:.3f} "
           f"and best neuron of the layer {comparison.best_any_iou:.3f} for {concept!r}")
