# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 2: Features: neurons, directions, probes, dissection
#
# **Central claim.** An object-trained CNN's units and directions carry colour early and parts and
# objects late; dataset examples, probes and dissection measure where, and a direction can beat every
# neuron.
#
# **Learning objectives**
#
# - Find the dataset examples that excite a unit most, using the spatial maximum of its feature map.
# - Train linear and mass-mean probes on every layer and watch what becomes linearly readable with depth.
# - Run network dissection: threshold each unit at its top 0.5% and score it against concept masks by IoU.
# - Read activations along a direction that is not a neuron, and test whether it beats the neurons it mixes.
# - Lay hundreds of activations out in 2-D as a small activation atlas.
#
# **Prerequisites:** lesson 1 (hooks and `run_with_cache`), basic PyTorch, logistic regression.
#
# **Estimated time:** 2 to 2.5 hours (the notebook itself executes in about a minute on a laptop CPU).
#
# A trained network is a program nobody wrote. The first step in reading it is finding its *variables*:
# the things it computes and passes on. The working hypothesis of the circuits line of research is that
# these variables, called **features**, are **directions** in activation space. Sometimes a direction is a
# single neuron (a channel of a conv layer) and then we can study that unit alone; sometimes a feature is
# spread over many neurons. The story told about vision networks is a **hierarchy**: early layers detect
# colours and edges, middle layers curves and parts, late layers whole objects. In this lesson you measure
# whether that story holds in a network of the course's model zoo, with four tools, and you will see where
# it holds and where it does not.
#
# The network, `vgg_objects_s1`, was trained on the course's **object world**: each 64 × 64 scene holds
# one object of nine kinds (car, cart, head, clock, sign, house, ladder, fence, arch), each built from
# **parts** (wheels, windows, eyes, rims, rungs, ...), drawn as thin coloured strokes over a textured
# background, with distractor strokes and sometimes a blurred region. The network only had to name the
# object: nothing in its training mentioned colours, parts or curves. We know everything about these
# scenes, down to which pixel belongs to which part, object, colour and texture, which lets us *check*
# each interpretability tool instead of trusting it.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)
import matplotlib.pyplot as plt
import torch

from mi_tutor import hooks, zoo
from mi_tutor import features
from mi_tutor.checks import lesson02 as checks
from mi_tutor.features.plots import (plot_atlas, plot_concept_types, plot_direction_comparison,
                                     plot_dissection_counts, plot_part_masks, plot_probe_accuracy)
from mi_tutor.vision.objects import CURVED_PARTS, ObjectWorldConfig, object_names, render_objects
from mi_tutor.vision.plots import show_images
from mi_tutor.vision.train import classifier_accuracy

model = zoo.load("vgg_objects_s1", device=device)
LAYERS = ["layer1", "layer2", "layer3", "layer4"]
data = render_objects(400, seed=1234)          # the held-out "dataset" of this lesson
names = object_names(data.config)
print(zoo.available()["vgg_objects_s1"])
print(f"held-out accuracy: {classifier_accuracy(model, data.images, data.labels):.1%}")

# %% [markdown]
# ## 1. The world and the model
#
# Every scene comes with its label (the object's kind) and with per-pixel **concept masks**, the ground
# truth dissection needs: one mask per **part** (`part:wheel`, `part:window`, ...), per object **kind**
# (`object:car`, ...), per stroke **colour** (`colour:red`, ...), per background **texture**
# (`texture:stripes`, ...), and the `blur` and `distractor` regions. Some parts are curved (wheels, heads,
# eyes, rims, snouts, arcs), the others straight, and two pairs of kinds differ only in curvature: the car
# has round wheels where the cart has square blocks, the clock a round rim where the sign has a square
# frame. The figure below draws a few scenes above their part masks, straight from the world's masks.
#
# The model is a small VGG-style net: four stages `layer1` (8 channels, 64 × 64), `layer2` (16, 32 × 32),
# `layer3` (48, 16 × 16) and `layer4` (64, 8 × 8), each two 3 × 3 conv-BN-ReLU blocks (after a 2 × 2
# max-pool from `layer2` on), then global average pooling and a linear readout of the nine kinds.

# %%
fig, _ = show_images(data.images[:16], [names[i] for i in data.labels[:16]], suptitle="the object world")
plt.show()
fig, part_figure = plot_part_masks(data.images, data.part_masks, range(6), [names[i] for i in data.labels[:6]])
plt.show()
masks = data.masks()
area = {name: m.float().mean().item() for name, m in masks.items()}
for kind in ["part", "object", "colour", "texture"]:
    values = [a for name, a in area.items() if features.concept_type(name) == kind]
    print(f"{kind:>8}: {len(values):2d} concepts, each covering {min(values):.2%} to {max(values):.2%} of the pixels")
print(f"curved parts: {', '.join(CURVED_PARTS)}")
acts = hooks.collect(model, data.images, ["input"] + LAYERS)
print({name: tuple(a.shape) for name, a in acts.items()})

# %% [markdown]
# **Figure.** Top: sixteen scenes of the object world with their kinds; bottom: six scenes with the part
# masks the world knows for them. Notice how small the parts are next to the textures: the printed areas
# put a part at 0.01% to 0.96% of the pixels and a texture at 21.54% to 24.42%.

# %% [markdown]
# ## 2. Dataset examples
#
# The simplest question about a unit: *which inputs make it fire most?* For a conv channel, an image's
# activation is the **maximum over positions** of its feature map (the unit fires wherever the pattern is;
# averaging would punish small patterns).
#
# ### Exercise 2.1: top-k dataset examples
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Write `top_k_examples(acts, unit, k)`: `acts` has shape `[n, units, h, w]`; return `(values, indices)`,
# both of shape `[k]`, the `k` largest spatial maxima of channel `unit` and the images they come from,
# largest first, as a tuple of two tensors. The maps need not be square, the activations may be negative
# (a layer before its ReLU), and `acts` is left unchanged.
#
# <details><summary>Hint</summary>
#
# Flatten the two spatial axes, take `amax` over them, then `torch.topk` over the images.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_1_solution", "locked": false, "schema_version": 3, "solution": true}
def top_k_examples(acts: torch.Tensor, unit: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``acts`` [n, units, h, w] -> (values [k], indices [k]) of the largest spatial maxima of ``unit``."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_top_k_examples(top_k_examples)

# %% nbgrader={"grade": true, "grade_id": "ex2_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# The units of each layer, by their top examples. Take every unit's top 9 images (your function from
# Exercise 2.1) and ask how much they have in common: the share of the nine that carry the most common
# **stroke colour** among them, and the share that show the most common **object kind** (1.0: all nine
# agree; by chance about 0.3 for the nine kinds and six colours here). The median over each layer's units:

# %%
colour = data.colour[:, 0]                      # the object's stroke colour (index into data.config.colours)
purity = {"colour": {}, "kind": {}}
for name in LAYERS:
    tops = [top_k_examples(acts[name], unit, 9)[1] for unit in range(acts[name].shape[1])]   # Exercise 2.1
    purity["colour"][name] = torch.tensor([features.majority_share(colour, t) for t in tops]).median().item()
    purity["kind"][name] = torch.tensor([features.majority_share(data.labels, t) for t in tops]).median().item()
    print(f"{name}: top-9 share one colour {purity['colour'][name]:.2f}, one kind {purity['kind'][name]:.2f}")

rows, titles = [], []
for name, unit in [("layer1", hooks.pool(acts["layer1"], "max").std(0).argmax().item()),
                   ("layer4", hooks.pool(acts["layer4"], "max").std(0).argmax().item())]:
    values, index = top_k_examples(acts[name], unit, 6)
    quilt = features.examples_by_quantile(acts[name], unit, (0.5, 0.9))
    rows += [data.images[i] for i in index.tolist() + quilt.tolist()]
    titles += [f"{name} u{unit} {names[data.labels[i]]}" for i in index.tolist()] + ["median", "90th pct"]
fig, _ = show_images(torch.stack(rows), titles, ncols=8, suptitle="top-6 examples, then a quilt (median, 90th pct)")
plt.show()

# %% [markdown]
# **Figure.** Below each row of top examples is a "quilt" across the range of the unit's activation (median and 90th
# percentile), which shows what the unit does *most of the time* and not only at its peak. The numbers
# printed above are the first sign of the hierarchy: a `layer1` unit's top examples mostly share a
# colour (median 0.78 of the nine) and rarely a kind (0.33, chance level); a `layer4` unit's top nine are
# typically all one kind (median 1.00) and no longer share a colour (0.33). The locked cell checks that
# your top-k examples show this turn.

# %% nbgrader={"grade": false, "grade_id": "fig2_top_k", "locked": true, "schema_version": 3, "solution": false}
checks.check_top_k_hierarchy_result(purity)

# %% [markdown]
# ## 3. Probes across depth
#
# A **probe** asks whether a concept can be read *linearly* from a layer. We pool every channel over
# positions (so a probe sees one number per channel) and fit a linear classifier on one half of the data,
# scoring it on the other half. Two flavours:
#
# - the **mass-mean probe**: the direction from the mean of the negatives to the mean of the positives,
#   with the boundary half-way (no training, hard to overfit);
# - the **logistic-regression probe**: trained with cross-entropy.
#
# ### Exercise 2.2: mass-mean probe
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# Write `mass_mean_probe(acts, labels)` for `acts` `[n, d]` and binary `labels` `[n]` (bools or 0/1):
# return `direction = mean(positives) - mean(negatives)` (shape `[d]`) and the scalar `bias` such that
# `acts @ direction + bias > 0` exactly when a point is closer to the positive side of the midpoint,
# as a tuple `(direction, bias)` of tensors, leaving `acts` and `labels` unchanged.
#
# <details><summary>Hint</summary>
#
# Write the condition "closer to the positive side of the midpoint" as an equation: the boundary
# point half-way between the two class means must score exactly zero. That one equation fixes the bias.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_2_solution", "locked": false, "schema_version": 3, "solution": true}
def mass_mean_probe(acts: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``acts`` [n, d], binary ``labels`` [n] -> (direction [d], bias [])."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mass_mean_probe(mass_mean_probe)


# %% nbgrader={"grade": true, "grade_id": "ex2_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 2.3: a logistic-regression probe
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Write `train_probe(acts, labels, n_classes)` that fits a multinomial logistic regression on `acts`
# `[n, d]` and returns a tuple `(weight [n_classes, d], bias [n_classes])` such that the logits are
# `acts @ weight.T + bias` **on the raw activations** (`acts` and `labels` are left unchanged). The check trains it on one half of some synthetic
# data and wants held-out accuracy within 5 points of the reference (full-batch Adam, lr 0.1, 200 steps,
# from zero weights, on standardised features, with a small L2 penalty).
#
# <details><summary>Hint</summary>
#
# The optimiser behaves well on standardised features, but the exercise wants a probe that reads
# the raw activations. Train on standardised data, then substitute the standardisation into the logits
# and collect what multiplies `acts` (the new weight) and what does not (the new bias). A zero std
# needs guarding.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_3_solution", "locked": false, "schema_version": 3, "solution": true}
def train_probe(acts: torch.Tensor, labels: torch.Tensor, n_classes: int,
                steps: int = 200, lr: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """``acts`` [n, d], ``labels`` [n] -> (weight [n_classes, d], bias [n_classes]) on raw activations."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_train_probe(train_probe)


# %% nbgrader={"grade": true, "grade_id": "ex2_3_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# Now the experiment: four concepts probed on every layer, each probe trained on the first half of the
# scenes and scored on the other half.
#
# - **object kind** (9 classes, the task), with your logistic probe;
# - **stroke colour** (6 classes, which the task does not need), with your logistic probe;
# - **"the object has a curved part"** (car, head, clock, arch against the five straight-edged kinds),
#   with your mass-mean probe;
# - **"round wheels or square blocks?"** on 240 extra scenes of cars and carts only: the two kinds share
#   every part but the wheels, so this probe asks for the curvature of one part. Mass-mean again.
#
# The input "layer" is the image itself, pooled: its mean colour per channel.

# %%
def probe_concept(pooled: dict, labels: torch.Tensor, n_classes: int | None = None) -> dict:
    """Held-out accuracy per layer: logistic probe (n_classes given) or mass-mean probe (binary labels)."""
    half, out = len(labels) // 2, {}
    for name, x in pooled.items():
        if n_classes is None:                                       # your probe from Exercise 2.2
            direction, offset = mass_mean_probe(x[:half], labels[:half])
            pred = x[half:] @ direction + offset > 0
            out[name] = (pred == labels[half:].bool()).float().mean().item()
        else:                                                       # your probe from Exercise 2.3
            weight, bias = train_probe(x[:half], labels[:half], n_classes)
            out[name] = ((x[half:] @ weight.T + bias).argmax(-1) == labels[half:]).float().mean().item()
    return out


pooled = {name: hooks.pool(a, "mean") for name, a in acts.items()}
has_curved = torch.stack([data.part_masks[p] for p in CURVED_PARTS]).flatten(2).any(-1).any(0)   # [n] bool
vehicles = render_objects(240, seed=4321, config=ObjectWorldConfig(kinds=("car", "cart")))
vehicle_pooled = hooks.collect(model, vehicles.images, ["input"] + LAYERS, pool="mean")
probe_acc = {"object kind (logistic)": probe_concept(pooled, data.labels, len(names)),
             "stroke colour (logistic)": probe_concept(pooled, colour, len(data.config.colours)),
             "has a curved part (mass-mean)": probe_concept(pooled, has_curved),
             "round wheels, car vs cart (mass-mean)": probe_concept(vehicle_pooled, vehicles.labels == 0)}
chance = {"object kind (logistic)": torch.bincount(data.labels).max().item() / len(data.labels),
          "stroke colour (logistic)": torch.bincount(colour).max().item() / len(colour),
          "has a curved part (mass-mean)": max(has_curved.float().mean().item(), 1 - has_curved.float().mean().item()),
          "round wheels, car vs cart (mass-mean)": max((vehicles.labels == 0).float().mean().item(),
                                                       (vehicles.labels == 1).float().mean().item())}
fig, probe_data = plot_probe_accuracy(probe_acc)
plt.show()
for kind, values in probe_data["accuracy"].items():
    print(f"{kind:>38}: " + ", ".join(f"{layer} {v:.2f}" for layer, v in zip(probe_data["layers"], values))
          + f"  (majority class {chance[kind]:.2f})")

# %% [markdown]
# **Figure.** Probe accuracy for four concepts, layer by layer. Notice the two lines that cross: object
# kind climbs from 0.13 at the input to 0.98 in `layer4`, while stroke colour falls from 0.87 to 0.22,
# near its majority class of 0.19.

# %% [markdown]
# Read the four lines. The **stroke colour** is best read from the input itself (its mean colour) and
# fades with depth, down to near its majority class in `layer4`: the network does not need it and does
# not keep it. The **object kind** goes the other way, from near chance in the input and `layer1` to
# almost every scene in `layer4`. Between them, the two part-level concepts: "has a curved part" climbs
# through `layer2` and `layer3`, and "round wheels or square blocks" stays near chance until `layer3`,
# the stage that holds the curve detectors of lesson 4 (Section 5 prints their number), where it jumps. The printed numbers above are
# what to quote, not this paragraph; the locked cell below checks the pattern in your numbers.

# %% nbgrader={"grade": false, "grade_id": "fig2_probe_depth", "locked": true, "schema_version": 3, "solution": false}
checks.check_probe_hierarchy_result(dict(zip(probe_data["layers"], probe_data["accuracy"]["object kind (logistic)"])),
                                    dict(zip(probe_data["layers"], probe_data["accuracy"]["stroke colour (logistic)"])),
                                    chance["object kind (logistic)"])

# %% [markdown]
# A caution worth repeating: a probe shows that information is *decodable*, not that the network *uses*
# it. A big enough probe decodes almost anything from almost anywhere. That is one reason to prefer
# simple probes (mass-mean, linear) and to compare against a control, such as the input layer here.
#
# ## 4. Network dissection
#
# Network dissection (Bau et al., 2017) turns "this unit looks like a curve detector" into a number:
#
# 1. for each unit `k`, the threshold `T_k` is its **top 0.5%** activation level over all images and
#    positions;
# 2. its feature maps are **upsampled** (bilinear) to the size of the concept masks and thresholded,
#    $M_k = A_k > T_k$;
# 3. for every concept `c`, the IoU is **accumulated over the dataset**:
#    $\mathrm{IoU}(k, c) = \sum \lvert M_k \cap L_c \rvert \,/\, \sum \lvert M_k \cup L_c \rvert$;
# 4. the unit is labelled with its best concept, and counts as a **detector** when that IoU is above 0.04.
#
# ### Exercise 2.4: per-unit thresholds
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `quantile_thresholds(acts, quantile)`: `acts` `[n, units, h, w]` -> `[units]`, the value that a
# fraction `quantile` of each unit's activations (over all images *and* positions) exceeds. Use linear
# interpolation between order statistics, as `torch.quantile` does, and leave `acts` unchanged.
#
# <details><summary>Hint</summary>
#
# The threshold is over every image *and* every position of a unit, so bring each unit's values
# together into one row before asking for a quantile. Which quantile: the value that a fraction
# `quantile` *exceeds* sits near the top, not the bottom.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_4_solution", "locked": false, "schema_version": 3, "solution": true}
def quantile_thresholds(acts: torch.Tensor, quantile: float = 0.005) -> torch.Tensor:
    """``acts`` [n, units, h, w] -> [units] thresholds exceeded by a fraction ``quantile`` of values."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_quantile_thresholds(quantile_thresholds)


# %% nbgrader={"grade": true, "grade_id": "ex2_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 2.5: dataset-wide IoU
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Write `dissection_iou(acts, masks, thresholds)`: `acts` `[n, units, h, w]`, boolean `masks`
# `[n, concepts, H, W]` and `thresholds` `[units]`; return the `[units, concepts]` IoU of step 3 above, a
# tensor. Maps and masks need not be square, and the inputs are left unchanged.
#
# <details><summary>Hint</summary>
#
# Three steps in order: bring the activation maps to the mask resolution (bilinear, as the text
# says), threshold each unit with its own value (broadcast the `[units]` thresholds over images and
# positions), then count overlaps. Summing the products of two 0/1 maps counts their intersection, and
# one contraction over images and pixels gives every unit-concept pair at once. Sum over the whole
# dataset *before* dividing: a mean of per-image IoUs is a different number.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_5_solution", "locked": false, "schema_version": 3, "solution": true}
def dissection_iou(acts: torch.Tensor, masks: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """``acts`` [n, units, h, w], ``masks`` [n, concepts, H, W] bool, ``thresholds`` [units] -> IoU [units, concepts]."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dissection_iou(dissection_iou)

# %% nbgrader={"grade": true, "grade_id": "ex2_5_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# Now we dissect all four layers with your two functions against every mask of the world (20 parts,
# 9 kinds, 6 colours, 4 textures, `blur` and `distractor`), name each unit after its best concept, and
# count the detectors by concept **type**.

# %%
stacked, concepts = features.stack_masks(masks)
dissections = {}
for name in LAYERS:
    thresholds = quantile_thresholds(acts[name], 0.005)                          # Exercise 2.4
    dissections[name] = features.label_units(dissection_iou(acts[name], stacked, thresholds), concepts, thresholds)  # 2.5
    print(f"{name}: {dissections[name].counts()}")
types = {name: features.type_counts(result) for name, result in dissections.items()}
fig, type_data = plot_concept_types(types, {name: acts[name].shape[1] for name in LAYERS})
plt.show()
for name in LAYERS:
    result = dissections[name]
    best = result.best_iou.topk(3).indices.tolist()
    print(f"{name} detectors by type {types[name]}; best units:",
          [(u, result.label[u], round(result.best_iou[u].item(), 3)) for u in best])
fig, dissection_counts = plot_dissection_counts(dissections["layer3"], title="layer3: detectors per concept")
plt.show()

# %% [markdown]
# **Figure.** First, the detectors of each layer by concept type; then the `layer3` detectors per concept.
# Notice the shift from colour to parts to objects: the printed counts are 7 colour detectors in `layer1`,
# 31 part detectors in `layer3` (wheels the most, 6) and 53 object detectors in `layer4`.

# %% nbgrader={"grade": false, "grade_id": "fig2_dissection", "locked": true, "schema_version": 3, "solution": false}
checks.check_dissection_counts_result(dissections["layer3"], dissection_counts, acts=acts["layer3"], masks=masks)
checks.check_dissection_hierarchy_result(type_data)

# %% [markdown]
# The hierarchy, measured: `layer1`'s detectors are all **colour** units, `layer4`'s are mostly whole
# **objects**, and **parts** peak in `layer3` (wheels, frames, rungs, arcs, doors, ...) before objects take
# over. `layer2` has hardly any detectors at all: its units respond to strokes and edges, concepts for
# which the world has no mask, and a unit that fires on the edges of every part overlaps each single part
# mask too little.
#
# What did **not** show is textures. They are a trap of the method, not (only) of the network: a
# background texture covers about a quarter of a scene's pixels, and a map thresholded at its top 0.5%
# can overlap at most 0.5 / 22, about 2%, of it, so its IoU can never pass 0.04. Dissection is blind to
# concepts much larger than its quantile. The fair test thresholds each unit at the concept's own area and
# compares with a map that knows nothing: a random map of area $q$ scores $qa / (q + a - qa)$ on a
# concept of area $a$.

# %%
big = {name: masks[name] for name in concepts if features.concept_type(name) == "texture" or name == "blur"}
q = sum(area[c] for c in big) / len(big)                     # one threshold at their mean area, about 22%
for name in LAYERS:
    fair = features.dissect(acts[name], big, quantile=q, thresholds_fn=quantile_thresholds,    # your 2.4
                            iou_fn=dissection_iou)                                           # and 2.5
    print(f"{name}: best unit at the {q:.0%} quantile: "
          + ", ".join(f"{c} {v:.3f}" for c, v in zip(fair.concepts, fair.iou.max(0).values.tolist())))
print(f"a random map of area {q:.0%}:          "
      + ", ".join(f"{c} {q * area[c] / (q + area[c] - q * area[c]):.3f}" for c in big))
texture_acc = probe_concept(pooled, data.texture, len(data.config.textures))
print("texture probe (logistic): " + ", ".join(f"{k} {v:.2f}" for k, v in texture_acc.items())
      + f"  (majority class {torch.bincount(data.texture).max().item() / len(data.texture):.2f})")

# %% [markdown]
# Even at that threshold the best units overlap a texture only a little more than a random map does: no
# unit of any layer *segments* a texture well. That does not mean the network ignores textures: the
# logistic probe reads the background texture from the pooled activations far above its majority class,
# best in the middle layers, and less again in `layer4`. Dissection sees what units localise, and only at
# the scale of its threshold; a probe sees what a layer holds, localised or not.
#
# ## 5. Directions that are not neurons
#
# Any direction $v$ in a layer's channel space defines a "unit": its activation at a position is the dot
# product of the channel vector there with $v / \lVert v \rVert$. We can dissect such a direction just like a neuron.
#
# ### Exercise 2.6: activation along a direction
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Write `direction_activation(acts, direction)`: `acts` `[n, channels, h, w]`, `direction` `[channels]`
# (any norm) -> `[n, h, w]`, the projection on the **normalised** direction at every position. The
# caller's `direction` is left as it was: normalise a copy, not the tensor you were given.
#
# <details><summary>Hint</summary>
#
# A projection on a direction is a dot product over the channel axis at every image and position.
# The exercise says *normalised*: a direction of norm 3 must give the same answer as its unit vector.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_6_solution", "locked": false, "schema_version": 3, "solution": true}
def direction_activation(acts: torch.Tensor, direction: torch.Tensor) -> torch.Tensor:
    """``acts`` [n, channels, h, w], ``direction`` [channels] -> [n, h, w]."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_direction_activation(direction_activation)

# %% nbgrader={"grade": true, "grade_id": "ex2_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Which direction? `layer3` holds the curve detectors of lesson 4: the zoo entry records the family
# measured on these weights (printed below), units that each prefer curves of one orientation. The concept "a curved stroke, any orientation" (the union of the masks of the
# curved parts: wheels, heads, eyes, snouts, rims, arcs) is then a natural candidate for a feature that no
# single neuron carries. We take the **mass-mean direction** of `layer3` positions covered by curved
# strokes against positions with none (your `mass_mean_probe`), fitted on the first half of the scenes, and
# dissect it on the second half next to the five neurons it weights most (and the best neuron of the whole
# layer), with your `direction_activation`, `quantile_thresholds` and `dissection_iou`.
#
# One honest complication first. Curved strokes cover under 2% of the pixels, and a map thresholded at
# its top 0.5% can overlap at most 0.5 / 1.7, under a third, of them: with dissection's standard quantile every map,
# neuron or direction, is capped and the comparison mostly measures who spends its 0.5% best. We therefore
# threshold every map at the concept's own area, for the direction and the neurons alike, and print the
# standard-quantile numbers too.

# %%
members, gap = zoo.info("vgg_objects_s1")["curve_family_layer3"]     # measured on these weights (lesson 4)
print(f"layer3 curve family of this net: {members} units, largest gap between preferred orientations {gap} deg")
half = len(data.images) // 2
concept = "curved stroke"
curved = torch.stack([data.part_masks[p] for p in CURVED_PARTS]).any(0)          # [n, 64, 64]
curved_area = curved.float().mean().item()
curve_direction = features.concept_direction(acts["layer3"][:half], curved[:half], probe_fn=mass_mean_probe)  # 2.2
test_masks = {concept: curved[half:]}
yours = dict(activation_fn=direction_activation, thresholds_fn=quantile_thresholds,   # your 2.6, 2.4
             iou_fn=dissection_iou)                                                   # and 2.5
comparison = features.compare_direction_to_neurons(acts["layer3"][half:], curve_direction, test_masks, concept, k=5,
                                                   quantile=curved_area, **yours)
standard = features.compare_direction_to_neurons(acts["layer3"][half:], curve_direction, test_masks, concept, k=5,
                                                 **yours)
fig, direction_data = plot_direction_comparison(comparison.direction_iou, comparison.neurons,
                                                comparison.neuron_iou, concept)
plt.show()
held_out = direction_activation(acts["layer3"][half:], curve_direction)          # your Exercise 2.6
print(f"your direction_activation agrees with the reference: "
      f"{torch.allclose(held_out, features.direction_activation(acts['layer3'][half:], curve_direction), atol=1e-5)}")
print(f"threshold at the concept's area ({curved_area:.3f}): direction {comparison.direction_iou:.3f}, best mixed "
      f"neuron {comparison.best_neuron_iou:.3f}, best neuron of the layer {comparison.best_any_iou:.3f} "
      f"(unit {comparison.best_any_neuron})")
print(f"standard 0.5% threshold: direction {standard.direction_iou:.3f}, best mixed neuron "
      f"{standard.best_neuron_iou:.3f}")
for other in ["part:wheel", "object:head"]:
    d = features.concept_direction(acts["layer3"][:half], masks[other][:half], probe_fn=mass_mean_probe)
    c = features.compare_direction_to_neurons(acts["layer3"][half:], d, {other: masks[other][half:]}, other,
                                              quantile=area[other], **yours)
    print(f"{other:>13}: direction {c.direction_iou:.3f} vs best neuron of the layer {c.best_any_iou:.3f}")

# %% [markdown]
# **Figure.** The fitted "curved stroke" direction against the single neurons of `layer3`, scored by IoU
# with the concept mask on held-out scenes. Notice that the direction beats every neuron here: the printed
# IoU is 0.224 for the direction and 0.168 for the best neuron of the layer. For `part:wheel` (0.129
# against 0.150) and `object:head` (0.023 against 0.084) a neuron wins instead.

# %% [markdown]
# For "a curved stroke of any orientation" the direction wins: it adds up the orientation-specific curve
# units, each of which covers only its own stretch of every curve. For a single part (`part:wheel`) or a
# kind (`object:head`) a neuron of `layer3` already does better than the fitted direction. Directions are
# not automatically better than neurons: they win when the concept is spread over several units.

# %% nbgrader={"grade": false, "grade_id": "fig2_direction", "locked": true, "schema_version": 3, "solution": false}
checks.check_direction_vs_neurons_result(comparison, concept)

# %% [markdown] nbgrader={"grade": true, "grade_id": "written2_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question.** The mass-mean "curved stroke" direction segments curves better than any neuron of
# `layer3`. Does this show that the network *represents* "a curve, any orientation" as a feature? Give one
# reason it might not, and describe an experiment (with the tools of lessons 1 and 2) that would tell the
# two stories apart.
#
# YOUR ANSWER HERE

# %% [markdown]
# ## 6. An activation atlas
#
# Looking at one unit at a time hides how the layer organises *all* inputs. An **activation atlas**
# (Carter et al., 2019) lays many activation vectors out in 2-D and shows what sits where. Here each image
# becomes one `layer1` vector and one `layer4` vector (the spatial max per channel), a PCA projection gives
# the layout, and every cell of a grid shows the image nearest to the cell's average (the atlas below
# averages the cells with your `grid_average`).
#
# ### Exercise 2.7: average on a grid
# **Difficulty:** ★★☆☆☆  **Importance:** ★★☆☆☆
#
# Write `grid_average(coords, values, n_cells)`: `coords` `[n, 2]`, `values` `[n, d]`. Split the bounding
# box of the points into `n_cells` × `n_cells` equal cells, the **row** following `coords[:, 1]` and the
# **column** following `coords[:, 0]` (cell index $\lfloor n_\text{cells} (c - \min) / (\max - \min) \rfloor$, clamped so
# the maximum falls in the last cell). Return `(cells [n_cells, n_cells, d], counts [n_cells, n_cells])`:
# the mean value of each cell's points (0 for empty cells) and how many points each cell holds, as a
# tuple, leaving `coords` and `values` unchanged.
#
# <details><summary>Hint</summary>
#
# Compute a flat cell index `row * n_cells + col` per point, then `index_add_` the values and `bincount`
# the points.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_7_solution", "locked": false, "schema_version": 3, "solution": true}
def grid_average(coords: torch.Tensor, values: torch.Tensor, n_cells: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``coords`` [n, 2], ``values`` [n, d] -> (cells [n_cells, n_cells, d], counts [n_cells, n_cells])."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex2_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_grid_average(grid_average)

# %% nbgrader={"grade": true, "grade_id": "ex2_7_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %%
atlases, atlas_purity = {}, {}
one_hot = torch.nn.functional.one_hot(data.labels, len(names)).float()
for name in ["layer1", "layer4"]:
    vectors = hooks.pool(acts[name], "max")
    atlases[name] = features.activation_atlas(vectors, n_cells=8, labels=data.labels,
                                              average_fn=grid_average)             # your Exercise 2.7
    fractions, counts = grid_average(atlases[name].coords, one_hot, 8)            # your Exercise 2.7
    atlas_purity[name] = features.cell_purity(fractions, counts)
    print(f"{name}: {int((counts > 0).sum())} of 64 cells occupied; a scene shares its cell's most common kind "
          f"{atlas_purity[name]:.0%} of the time")
fig, atlas_data = plot_atlas(atlases["layer4"], data.images, names)
plt.show()

# %% [markdown]
# **Figure.** The activation atlas of `layer4`: scenes laid out by their activation vectors on an 8 by 8
# grid. Notice that the kinds gather in regions of the grid; the printed purity backs it, 91% of scenes
# share their cell's most common kind in `layer4` against 30% in `layer1`.

# %% [markdown]
# In the `layer4` atlas the kinds sort themselves into regions: most scenes share their cell with scenes of
# the same kind, where in the `layer1` atlas (one vector of eight colour and edge units per scene) the cells
# mix the kinds. The cell purity printed above, computed with your `grid_average`, puts a number on it.

# %% nbgrader={"grade": false, "grade_id": "fig2_atlas", "locked": true, "schema_version": 3, "solution": false}
checks.check_atlas_purity_result(atlas_purity)

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("top-9 examples sharing one object kind, layer1 and layer4",
       f"{purity['kind']['layer1']:.2f} and {purity['kind']['layer4']:.2f}")
record("top-9 examples sharing one colour, layer1 and layer4",
       f"{purity['colour']['layer1']:.2f} and {purity['colour']['layer4']:.2f}")
_kind = probe_data["accuracy"]["object kind (logistic)"]
record("linear probe accuracy for the object kind, input and layer4", f"{float(_kind[0]):.2f} and {float(_kind[-1]):.2f}")
record("IoU of the curved-stroke direction and of the best layer3 neuron",
       f"{comparison.direction_iou:.3f} and {comparison.best_any_iou:.3f}")
record("activation atlas cell purity, layer1 and layer4", f"{atlas_purity['layer1']:.2f} and {atlas_purity['layer4']:.2f}")


# %% [markdown]
# ## Summary
#
# - Dataset examples (spatial max, top-k plus a quilt across the range) are the first look at a unit; the
#   top examples of `layer1` units share a colour, those of `layer4` units an object kind.
# - Linear and mass-mean probes show *what is decodable* where: the stroke colour fades with depth, part
#   curvature becomes readable in `layer3`, the object kind in `layer3` and `layer4`.
# - Network dissection scores units against concept masks (top-0.5% threshold, bilinear upsampling,
#   dataset-wide IoU, detectors above 0.04) and names them: colour units in `layer1`, part units peaking in
#   `layer3`, object units in `layer4`. It cannot see concepts much larger than its quantile (textures).
# - Features need not be neurons: a direction can beat every neuron it mixes (curved strokes in `layer3`),
#   which is evidence of a distributed representation, or of our own construct (see the written question).
# - An activation atlas shows how a layer organises many inputs at once.
#
# ## Further reading
#
# - Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/) (2020).
# - Bau et al., [Network Dissection](https://arxiv.org/abs/1704.05796) (CVPR 2017).
# - Alain and Bengio, [Understanding intermediate layers using linear classifier probes](https://arxiv.org/abs/1610.01644) (2016).
# - Hewitt and Liang, [Designing and Interpreting Probes with Control Tasks](https://arxiv.org/abs/1909.03368) (2019).
# - Marks and Tegmark, [The Geometry of Truth](https://arxiv.org/abs/2310.06824) (2023): mass-mean probes.
# - Carter et al., [Activation Atlas](https://distill.pub/2019/activation-atlas/) (2019).
# - Olah et al., [Feature Visualization](https://distill.pub/2017/feature-visualization/) (2017): dataset examples and their diversity.
