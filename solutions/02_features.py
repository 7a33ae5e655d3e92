# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Lesson 2: Features: neurons, directions, probes, dissection
#
# **Learning objectives**
#
# - Find the dataset examples that excite a unit most, using the spatial maximum of its feature map.
# - Train linear and mass-mean probes on every layer and watch what becomes linearly readable with depth.
# - Run network dissection: threshold each unit at its top 0.5% and score it against concept masks by IoU.
# - Read activations along a direction that is not a neuron, and test whether it beats the neurons it mixes.
# - Lay thousands of activations out in 2-D as a small activation atlas.
#
# **Prerequisites:** lesson 1 (hooks and `run_with_cache`), basic PyTorch, logistic regression.
#
# **Estimated time:** 2 to 2.5 hours (the notebook itself executes in about a minute on a laptop CPU).
#
# A trained network is a program nobody wrote. The first step in reading it is finding its *variables*:
# the things it computes and passes on. The working hypothesis of the circuits line of research is that
# these variables, called **features**, are **directions** in activation space. Sometimes a direction is a
# single neuron (a channel of a conv layer) and then we can study that unit alone; sometimes a feature is
# spread over many neurons. Early layers of vision networks detect edges and colours, middle layers
# combine them into curves and textures, later layers into parts and objects.
#
# This lesson works with a small CNN from the course's model zoo, trained on the **curve world**: every
# image holds a thin arc (or only a straight line), maybe a distracting line and a small shape, over a
# textured background, and the network must name the direction the arc bulges towards (8 bins of 45°) or
# answer "line". We know everything about these images, down to which pixel belongs to which concept,
# which lets us *check* each interpretability tool instead of trusting it.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)
import matplotlib.pyplot as plt
import torch

from mi_tutor import zoo
from mi_tutor import features as F
from mi_tutor.checks import lesson02 as checks
from mi_tutor.features.plots import (plot_atlas, plot_direction_comparison, plot_dissection_counts,
                                     plot_probe_accuracy, show_images)
from mi_tutor.vision.curves import label_names, render_world
from mi_tutor.vision.train import accuracy

model = zoo.load("plainnet_curves_s0", device=device)
LAYERS = ["layer1", "layer2", "layer3"]
data = render_world(1500, seed=1234)          # the held-out "dataset" of this lesson
names = label_names(data.config)
print(zoo.available()["plainnet_curves_s0"])
print(f"held-out accuracy: {accuracy(model, data.images, data.labels):.1%}")

# %% [markdown]
# ## 1. The world and the model
#
# Each image has a label (the arc's orientation bin, or `line`) and per-pixel **concept masks**: `curve`,
# `line` and `shape` pixels, the arc's pixels per orientation (`curve_0`, `curve_45`, ...), stroke colours
# and background textures. The model is a plain conv net: `layer1` (16 channels, 32×32), `layer2`
# (32 channels, 16×16) and `layer3` (64 channels, 8×8), each a conv, batch norm and ReLU, then global average
# pooling and a linear layer.

# %%
fig, _ = show_images(data.images[:16], [names[i] for i in data.labels[:16]], suptitle="the curve world")
plt.show()
acts = F.collect_activations(model, data.images, ["input"] + LAYERS)
print({name: tuple(a.shape) for name, a in acts.items()})

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
# largest first.
#
# <details><summary>Hint</summary>
#
# Flatten the two spatial axes, take `amax` over them, then `torch.topk` over the images.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex2_1_solution", "locked": false, "schema_version": 3, "solution": true}
def top_k_examples(acts: torch.Tensor, unit: int, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``acts`` [n, units, h, w] -> (values [k], indices [k]) of the largest spatial maxima of ``unit``."""
    ### BEGIN SOLUTION
    peak = acts[:, unit].flatten(1).amax(-1)
    return peak.topk(k)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_top_k_examples(top_k_examples)

# %% nbgrader={"grade": true, "grade_id": "ex2_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 33 images and 9 channels with k = 7, and a single image with k = 1 (edge sizes).
checks.check_top_k_examples(top_k_examples, seed=5, n=33, channels=9, k=7)
checks.check_top_k_examples(top_k_examples, seed=9, n=4, channels=2, k=1)
### END HIDDEN TESTS

# %% [markdown]
# Here are the top examples of a few `layer3` units. Look for what they share: orientation of an arc?
# Colour? Texture? Below each row is a "quilt" across the range of the unit's activation (median, 90th,
# 99th percentile, maximum), which shows what the unit does *most of the time* and not only at its peak.

# %%
stats = F.activation_stats(acts["layer3"])
print(f"layer3: {int(stats.dead.sum())} dead units; fraction of images firing, median over units: "
      f"{stats.frac_active.median():.2f}")
show_units = F.spatial_max(acts["layer3"]).std(0).topk(4).indices.tolist()
rows, titles = [], []
for unit in show_units:
    values, index = top_k_examples(acts["layer3"], unit, 6)          # your function from Exercise 2.1
    quilt = F.examples_by_quantile(acts["layer3"], unit, (0.5, 0.9))
    rows += [data.images[i] for i in index.tolist() + quilt.tolist()]
    titles += [f"u{unit} {names[data.labels[i]]}" for i in index.tolist()] + ["median", "90th pct"]
fig, _ = show_images(torch.stack(rows), titles, ncols=8, suptitle="layer3: top-6 examples, then a quilt")
plt.show()

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
# `acts @ direction + bias > 0` exactly when a point is closer to the positive side of the midpoint.
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
    ### BEGIN SOLUTION
    positive = labels.bool()
    mu_pos, mu_neg = acts[positive].mean(0), acts[~positive].mean(0)
    direction = mu_pos - mu_neg
    return direction, -direction @ (mu_pos + mu_neg) / 2
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_mass_mean_probe(mass_mean_probe)

# %% nbgrader={"grade": true, "grade_id": "ex2_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 101 points of dimension 17: an odd count, labels as bools and as 0/1.
checks.check_mass_mean_probe(mass_mean_probe, seed=3, n=101, d=17)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2.3: a logistic-regression probe
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Write `train_probe(acts, labels, n_classes)` that fits a multinomial logistic regression on `acts`
# `[n, d]` and returns `(weight [n_classes, d], bias [n_classes])` such that the logits are
# `acts @ weight.T + bias` **on the raw activations**. The check trains it on one half of some synthetic
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
    ### BEGIN SOLUTION
    mean, std = acts.mean(0), acts.std(0).clamp_min(1e-6)
    x = (acts - mean) / std
    weight = torch.zeros(n_classes, acts.shape[1], device=acts.device, requires_grad=True)
    bias = torch.zeros(n_classes, device=acts.device, requires_grad=True)
    opt = torch.optim.Adam([weight, bias], lr=lr)
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(x @ weight.T + bias, labels) + 1e-3 * (weight**2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    w = weight.detach() / std
    return w, bias.detach() - w @ mean
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_train_probe(train_probe)

# %% nbgrader={"grade": true, "grade_id": "ex2_3_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 6 classes in 20 dimensions and a binary problem in 5: n_classes must be used, not assumed.
checks.check_train_probe(train_probe, seed=4, d=20, n_classes=6)
checks.check_train_probe(train_probe, seed=8, d=5, n_classes=2)
### END HIDDEN TESTS

# %% [markdown]
# Now the experiment. We probe two concepts on every layer, training on the first 750 images and testing on
# the last 750:
#
# - the **task label** (9 classes: the arc's orientation bin, or line), with the logistic probe;
# - **"is there an arc?"** (binary), with the mass-mean probe.
#
# The input "layer" is the image itself, pooled: its mean colour, which says nothing about arcs.

# %%
half = len(data.images) // 2
pooled = {name: F.pool_features(a) for name, a in acts.items()}
task_acc, curve_acc = {}, {}
for name, x in pooled.items():                                      # your probes from Exercises 2.2 and 2.3
    weight, bias = train_probe(x[:half], data.labels[:half], len(names))
    task_acc[name] = ((x[half:] @ weight.T + bias).argmax(-1) == data.labels[half:]).float().mean().item()
    direction, offset = mass_mean_probe(x[:half], data.has_curve[:half])
    pred = x[half:] @ direction + offset > 0
    curve_acc[name] = (pred == data.has_curve[half:].bool()).float().mean().item()
fig, probe_data = plot_probe_accuracy({"task label (logistic)": task_acc, "has an arc (mass-mean)": curve_acc})
plt.show()
print({k: [round(v, 3) for v in vals] for k, vals in probe_data["accuracy"].items()})

# %% [markdown]
# The figure's numbers, computed with your probes, are checked in a locked cell (not graded: Exercises
# 2.2 and 2.3 have their own tests, but a wrong probe shows here): the task-label probe should rise with
# depth and end far above chance (the most frequent class is about 20% of the images).

# %% nbgrader={"grade": false, "grade_id": "probe_depth_result", "locked": true, "schema_version": 3, "solution": false}
chance = torch.bincount(data.labels).max().item() / len(data.labels)
checks.check_probe_depth(dict(zip(probe_data["layers"], probe_data["accuracy"]["task label (logistic)"])), chance)

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
#    `M_k = A_k > T_k`;
# 3. for every concept `c`, the IoU is **accumulated over the dataset**:
#    `IoU(k, c) = Σ|M_k ∩ L_c| / Σ|M_k ∪ L_c|`;
# 4. the unit is labelled with its best concept, and counts as a **detector** when that IoU is above 0.04.
#
# ### Exercise 2.4: per-unit thresholds
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `quantile_thresholds(acts, quantile)`: `acts` `[n, units, h, w]` -> `[units]`, the value that a
# fraction `quantile` of each unit's activations (over all images *and* positions) exceeds. Use linear
# interpolation between order statistics, as `torch.quantile` does.
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
    ### BEGIN SOLUTION
    return torch.quantile(acts.transpose(0, 1).flatten(1), 1 - quantile, dim=1)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_quantile_thresholds(quantile_thresholds)

# %% nbgrader={"grade": true, "grade_id": "ex2_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# Another quantile (1%) on 3 channels: the quantile argument must be used.
checks.check_quantile_thresholds(quantile_thresholds, seed=2, n=30, channels=3, quantile=0.01)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 2.5: dataset-wide IoU
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Write `dissection_iou(acts, masks, thresholds)`: `acts` `[n, units, h, w]`, boolean `masks`
# `[n, concepts, H, W]` and `thresholds` `[units]`; return the `[units, concepts]` IoU of step 3 above.
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
    ### BEGIN SOLUTION
    up = torch.nn.functional.interpolate(acts, size=masks.shape[-2:], mode="bilinear", align_corners=False)
    on = (up > thresholds[None, :, None, None]).float()
    lab = masks.float()
    inter = torch.einsum("nuhw,nchw->uc", on, lab)
    union = on.sum((0, 2, 3))[:, None] + lab.sum((0, 2, 3))[None, :] - inter
    return inter / (union + 1e-10)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_dissection_iou(dissection_iou)

# %% nbgrader={"grade": true, "grade_id": "ex2_5_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 5 units, 4 concepts, 6x6 maps upsampled to 12x12 masks: sizes must come from the inputs.
checks.check_dissection_iou(dissection_iou, seed=6, n=9, channels=5, concepts=4, size=12, act_size=6)
### END HIDDEN TESTS

# %% [markdown]
# Now we dissect all three layers with the reference implementation (`mi_tutor.features.dissect`) and count
# the detectors per concept.

# %%
dissections = {name: F.dissect(acts[name], data.masks) for name in LAYERS}
for name, result in dissections.items():
    print(f"{name}: {result.counts()}")
fig, dissection_counts = plot_dissection_counts(dissections["layer3"], title="layer3: detectors per concept")
plt.show()
best = dissections["layer3"].best_iou.topk(6).indices.tolist()
print("best-labelled layer3 units:",
      [(u, dissections["layer3"].label[u], round(dissections["layer3"].best_iou[u].item(), 3)) for u in best])

# %% nbgrader={"grade": false, "grade_id": "dissection_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_dissection_counts(dissections["layer3"], dissection_counts)

# %% [markdown]
# Read the counts layer by layer: which concepts have detectors early, which only later? Note that IoU
# rewards units whose *thresholded map* overlaps the concept's pixels, so it favours concepts that cover
# many pixels (textures) and units with compact maps; a perfect curve detector that fires on the inside
# of the arc would still get a modest IoU with the thin stroke.
#
# ## 5. Directions that are not neurons
#
# Any direction `v` in a layer's channel space defines a "unit": its activation at a position is the dot
# product of the channel vector there with `v / |v|`. We can dissect such a direction just like a neuron.
#
# ### Exercise 2.6: activation along a direction
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Write `direction_activation(acts, direction)`: `acts` `[n, channels, h, w]`, `direction` `[channels]`
# (any norm) -> `[n, h, w]`, the projection on the **normalised** direction at every position.
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
    ### BEGIN SOLUTION
    return torch.einsum("nchw,c->nhw", acts, direction / direction.norm())
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_direction_activation(direction_activation)

# %% nbgrader={"grade": true, "grade_id": "ex2_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 11 channels and a batch of 2; the caller's direction must not be normalised in place.
checks.check_direction_activation(direction_activation, seed=7, n=2, channels=11)
### END HIDDEN TESTS

# %% [markdown]
# Which direction? The network must find arcs of *every* orientation, and dissection labels units with one
# orientation each (`curve_90`, ...). The concept "arc, any orientation" (`curve`) is a natural candidate
# for a feature that no single neuron carries. We take the **mass-mean direction** of `layer3` positions
# covered by arc pixels against positions with none, fitted on the first half of the images, and dissect it
# on the second half next to the five neurons it weights most (and the best neuron of the whole layer).
#
# One honest complication first. Arcs cover about 3% of the pixels, and a map thresholded at its top 0.5%
# can overlap at most a sixth of them: with dissection's standard quantile *every* map, neuron or
# direction, is capped near IoU 0.17 and the comparison mostly measures who spends its 0.5% best. We
# therefore threshold every map at the concept's own area, for the direction and the neurons alike, and
# print the standard-quantile numbers too.

# %%
concept = "curve"
area = data.masks[concept].float().mean().item()
curve_direction = F.concept_direction(acts["layer3"][:half], data.masks[concept][:half])
test_masks = {concept: data.masks[concept][half:]}
comparison = F.compare_direction_to_neurons(acts["layer3"][half:], curve_direction, test_masks, concept, k=5,
                                            quantile=area)
standard = F.compare_direction_to_neurons(acts["layer3"][half:], curve_direction, test_masks, concept, k=5)
fig, direction_data = plot_direction_comparison(comparison.direction_iou, comparison.neurons,
                                                comparison.neuron_iou, concept)
plt.show()
print(f"threshold at the concept's area ({area:.3f}): direction {comparison.direction_iou:.3f}, best mixed neuron "
      f"{comparison.best_neuron_iou:.3f}, best neuron of the layer {comparison.best_any_iou:.3f} "
      f"(unit {comparison.best_any_neuron})")
print(f"standard 0.5% threshold: direction {standard.direction_iou:.3f}, best mixed neuron "
      f"{standard.best_neuron_iou:.3f}")
for other in ["curve_90", "line"]:
    d = F.concept_direction(acts["layer3"][:half], data.masks[other][:half])
    c = F.compare_direction_to_neurons(acts["layer3"][half:], d, {other: data.masks[other][half:]}, other,
                                       quantile=data.masks[other].float().mean().item())
    print(f"{other:>9}: direction {c.direction_iou:.3f} vs best neuron of the layer {c.best_any_iou:.3f}")

# %% [markdown]
# For "an arc of any orientation" the direction wins clearly: it adds up the orientation-specific curve
# units, each of which covers only its own arcs. For a single orientation (`curve_90`) a neuron already
# *is* the feature and the direction does not beat it; for straight lines, which the task only needs in
# order to ignore them, `layer3` has no good direction at all. Directions are not automatically better
# than neurons: they win when the concept is spread over several units.

# %% nbgrader={"grade": false, "grade_id": "direction_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_direction_vs_neurons(comparison, concept)

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question.** The mass-mean "curve" direction segments arcs better than any neuron it mixes.
# Does this show that the network *represents* "an arc, any orientation" as a feature? Give one reason it
# might not, and describe an experiment (with the tools of lessons 1 and 2) that would tell the two stories
# apart.
#
# ### BEGIN SOLUTION
# Not by itself. The direction was *fitted* to the concept: a weighted sum of several orientation-specific
# curve detectors will segment "arc of any orientation" better than any one of them even if the network
# never combines them, just as a probe can decode information the network does not use. The network's
# task does not need "any arc" as one variable (it needs the orientation), so the direction may be our
# construct. Tests: (1) causal — ablate or add the direction in `layer3` with a hook and see whether the
# logits change in a concept-specific way (e.g. adding it makes "line" images less likely to be called
# "line"), compared with random directions of the same norm; (2) check whether the downstream weights
# (`fc` after pooling) read this direction (project the fc weights on it); (3) see if the direction is
# stable across seeds and architectures (lesson 7); (4) look at its dataset examples across the activation
# range, not only its top ones, to see whether it is monosemantic.
# ### END SOLUTION

# %% [markdown]
# ## 6. An activation atlas
#
# Looking at one unit at a time hides how the layer organises *all* inputs. An **activation atlas**
# (Carter et al., 2019) lays many activation vectors out in 2-D and shows what sits where. Here each image
# becomes one `layer3` vector (the spatial max per channel), a PCA projection gives the layout, and every
# cell of a grid shows the image nearest to the cell's average.
#
# ### Exercise 2.7: average on a grid
# **Difficulty:** ★★☆☆☆  **Importance:** ★★☆☆☆
#
# Write `grid_average(coords, values, n_cells)`: `coords` `[n, 2]`, `values` `[n, d]`. Split the bounding
# box of the points into `n_cells × n_cells` equal cells, the **row** following `coords[:, 1]` and the
# **column** following `coords[:, 0]` (cell index = floor((c - min) / (max - min) · n_cells), clamped so
# the maximum falls in the last cell). Return `(cells [n_cells, n_cells, d], counts [n_cells, n_cells])`:
# the mean value of each cell's points (0 for empty cells) and how many points each cell holds.
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
    ### BEGIN SOLUTION
    lo, hi = coords.min(0).values, coords.max(0).values
    idx = ((coords - lo) / (hi - lo) * n_cells).floor().long().clamp(0, n_cells - 1)
    flat = idx[:, 1] * n_cells + idx[:, 0]
    sums = torch.zeros(n_cells * n_cells, values.shape[1], device=values.device).index_add_(0, flat, values)
    counts = torch.bincount(flat, minlength=n_cells * n_cells)
    cells = sums / counts.clamp_min(1)[:, None]
    return cells.reshape(n_cells, n_cells, -1), counts.reshape(n_cells, n_cells)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex2_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_grid_average(grid_average)

# %% nbgrader={"grade": true, "grade_id": "ex2_7_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A 7x7 grid over 200 points of dimension 5: empty cells and the maximum coordinate.
checks.check_grid_average(grid_average, seed=3, n=200, d=5, n_cells=7)
### END HIDDEN TESTS

# %%
vectors = F.spatial_max(acts["layer3"])
atlas = F.activation_atlas(vectors, n_cells=8, labels=data.labels)
fig, atlas_data = plot_atlas(atlas, data.images, names)
plt.show()
print(f"{int((atlas_data['counts'] > 0).sum())} of 64 cells are occupied")

# %% [markdown]
# Orientation classes should form a ring or arcs in the layout: the network's representation of arc
# orientation is itself circular, with neighbouring orientations close together.
#
# ## Summary
#
# - Dataset examples (spatial max, top-k plus a quilt across the range) are the first look at a unit.
# - Linear and mass-mean probes show *what is decodable* where; here the task label becomes decodable with
#   depth, the input's mean colour says nothing.
# - Network dissection scores units against concept masks (top-0.5% threshold, bilinear upsampling,
#   dataset-wide IoU, detectors above 0.04) and names them.
# - Features need not be neurons: a direction can beat every neuron it mixes, which is evidence of a
#   distributed representation, or of our own construct (see the written question).
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
