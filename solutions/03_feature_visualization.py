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
# # Lesson 3: Feature visualization
#
# **Learning objectives**
#
# - Visualize a unit by gradient ascent on the input image, and explain why the naive result is
#   high-frequency noise.
# - Regularise with transformation robustness (pad, jitter, scale, rotate) and a Fourier parameterisation
#   with 1/f scaling and decorrelated colours; *measure* the drop in high-frequency energy.
# - Compose objectives: neuron, channel, direction, diversity; run DeepDream.
# - Check that visualizations agree with dataset examples and dissection labels, through the network
#   rather than by eye.
#
# **Prerequisites:** lesson 2 (dataset examples, dissection), the Fourier transform at the level of
# "an image is a sum of waves".
#
# **Estimated time:** 2 hours (the notebook itself executes in about a minute on a laptop CPU).
#
# Dataset examples show what a unit responds to *among the images we happen to have*. They cannot separate
# causes that always appear together: does a unit fire on the arc, or on arcs drawn in red over stripes?
# Feature visualization asks the network itself: starting from noise, change the image step by step to make
# the unit fire more. Whatever appears is, by construction, something the unit responds to. The catch is
# that "make the unit fire" has many solutions, most of them unnatural patterns that exploit the network,
# and most of the craft is in steering the optimisation towards images a human can read.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)
import math

import matplotlib.pyplot as plt
import torch

from mi_tutor import featvis as V
from mi_tutor import features as F
from mi_tutor import run_with_cache, zoo
from mi_tutor.checks import lesson03 as checks
from mi_tutor.featvis.plots import plot_spectra, plot_vis_vs_examples, plot_visualizations
from mi_tutor.features.plots import show_images
from mi_tutor.vision.curves import label_names, render_world
from mi_tutor.vision.tuning import find_curve_family, tuning_map

model = zoo.load("plainnet_curves_s0", device=device)
data = render_world(1500, seed=1234)
names = label_names(data.config)
acts3 = F.collect_activations(model, data.images, ["layer3"])["layer3"]

# One curve unit of layer3 per 45-degree orientation bin: the curve family that the package's tuning
# tools (`mi_tutor.vision.tuning`, the ones lesson 4 has you write) find with centred synthetic arcs.
tuning, grid = tuning_map(model, "layer3", n_orientations=24, curvatures=(0.0, 1.8, 2.6, 3.6))
family = find_curve_family(tuning, grid.orientations, grid.curvatures)
best_per_bin = {}
for unit, pref, sel in zip(family.channels, family.orientations.tolist(), family.selectivity.tolist()):
    b = round(math.degrees(pref) / 45) % 8
    if b not in best_per_bin or sel > best_per_bin[b][1]:
        best_per_bin[b] = (unit, sel)
UNITS = [best_per_bin[b][0] for b in sorted(best_per_bin)]
print("curve units of layer3, one per orientation bin:", UNITS)

# %% [markdown]
# ## 1. Objectives
#
# The render loop *minimises* a loss, so an objective is written as minus what we want to maximise. The
# basic objectives read the activations `acts` `[batch, channels, h, w]` of one layer:
#
# - **neuron**: one channel at one position (the centre), `-acts[:, c, h//2, w//2].mean()`;
# - **channel**: one channel everywhere, `-acts[:, c].mean()`;
# - **direction**: the projection of every position's channel vector on a direction;
# - **diversity**: a penalty that pushes the images of a batch apart (section 5).
#
# They compose: in `mi_tutor.featvis`, `channel("layer3", 5) + 0.5 * diversity("layer3")` is an objective.
#
# ### Exercise 3.1: the channel objective
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Write `channel_loss(acts, unit)`: `acts` `[batch, channels, h, w]` -> a scalar tensor, minus the mean
# activation of channel `unit` over the batch and all positions.
#
# <details><summary>Hint</summary>
#
# Index the channel axis, then `.mean()`; do not forget the sign.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_1_solution", "locked": false, "schema_version": 3, "solution": true}
def channel_loss(acts: torch.Tensor, unit: int) -> torch.Tensor:
    """``acts`` [batch, channels, h, w] -> scalar: minus the mean of channel ``unit``."""
    ### BEGIN SOLUTION
    return -acts[:, unit].mean()
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_channel_loss(channel_loss)

# %% nbgrader={"grade": true, "grade_id": "ex3_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 9 channels and a batch of 3 (the loss averages the batch, not sums it); inputs left unchanged.
checks.check_channel_loss(channel_loss, seed=4, batch=3, channels=9)
### END HIDDEN TESTS

# %% [markdown]
# ## 2. Naive gradient ascent
#
# The simplest render: the image's pixels (through a sigmoid, to stay in `(0, 1)`) are the parameters, and
# Adam follows the gradient of the objective. We visualize the eight curve units at once: image `i` of the
# batch maximises `UNITS[i]` (`V.channels`). We optimise the **pre-ReLU** activations (`layer3.1`, the
# batch-norm output): after the ReLU a unit that is off has no gradient at all.

# %%
naive = V.render(model, V.channels("layer3.1", UNITS), param="pixel", transforms=None, steps=128,
                 batch=len(UNITS), seed=0)
fig, naive_share = plot_visualizations({"naive": naive.images})
plt.show()
print(f"final loss {naive.losses[-1]:.1f}; high-frequency share per image: {naive_share['naive'].tolist()}")

# %% [markdown]
# There are arcs in there, but drowned in pixel-level colour noise. Nothing forbids the optimiser from
# using the highest frequencies: each pixel is an independent knob, a checkerboard of tiny strokes
# excites the conv filters as much as a clean curve, and the gradient of a strided, pooled network is
# itself full of high-frequency structure (the checkerboard artefacts of strided layers). We need a number
# for "noisy" to make progress measurable.
#
# ### Exercise 3.2: high-frequency share
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Write `high_frequency_share(images, cutoff=0.25)`: `images` `[batch, C, H, W]` -> `[batch]`, the fraction
# of each image's spectral energy at radial frequencies above `cutoff` (cycles per pixel). Remove the mean
# of each channel first, compute `|rfft2|^2`, sum over channels, then divide the energy above the cutoff by
# the total. The radial frequency of an `rfft2` entry is `sqrt(fx^2 + fy^2)` with `fy` from
# `torch.fft.fftfreq(H)` (rows) and `fx` from `torch.fft.rfftfreq(W)` (columns).
#
# <details><summary>Hint</summary>
#
# The radial frequency of entry `(row, col)` combines the row frequency (a full FFT axis, so it
# has negative frequencies) and the column frequency (an `rfft` axis: only the non-negative half).
# Build both 1-d frequency vectors with the matching `torch.fft` helpers and broadcast them into a grid
# the shape of the spectrum. Remember to remove each channel's mean first, or the zero frequency
# dominates the total.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_2_solution", "locked": false, "schema_version": 3, "solution": true}
def high_frequency_share(images: torch.Tensor, cutoff: float = 0.25) -> torch.Tensor:
    """``images`` [batch, C, H, W] -> [batch] share of spectral energy above ``cutoff`` cycles/pixel."""
    ### BEGIN SOLUTION
    x = images - images.mean((-2, -1), keepdim=True)
    power = torch.fft.rfft2(x).abs().pow(2).sum(1)
    h, w = images.shape[-2:]
    freq = torch.sqrt(torch.fft.rfftfreq(w)[None, :] ** 2 + torch.fft.fftfreq(h)[:, None] ** 2)
    high = (freq > cutoff).to(images.device)
    return (power * high).flatten(1).sum(-1) / power.flatten(1).sum(-1)
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_high_frequency_share(high_frequency_share)

# %% nbgrader={"grade": true, "grade_id": "ex3_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 24x24 images and a batch of 2: the frequency grid must follow the image size.
checks.check_high_frequency_share(high_frequency_share, seed=3, batch=2, size=24)
### END HIDDEN TESTS

# %% [markdown]
# ## 3. Transformation robustness
#
# If a pattern only works at one exact pixel alignment it is an adversarial accident, not a feature. So at
# every step we show the network a randomly **padded, jittered, scaled and rotated** copy of the image
# (the list of lucid, scaled down to 32-pixel images: pad 4, jitter 4, scale 0.9 to 1.1, rotate ±10°,
# jitter 2). Only patterns that survive all these excite the unit.
#
# ### Exercise 3.3: jitter
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# Write `jitter(images, d, ox, oy)`: crop a window `d` pixels smaller in each direction, starting at column
# `ox` and row `oy` (`0 <= ox, oy <= d`), so the output is `[batch, C, H - d, W - d]`. In the render loop the
# offsets are random at every step.
#
# <details><summary>Hint</summary>
#
# Plain slicing of the last two axes: rows `oy : H - d + oy`, columns `ox : W - d + ox`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_3_solution", "locked": false, "schema_version": 3, "solution": true}
def jitter(images: torch.Tensor, d: int, ox: int, oy: int) -> torch.Tensor:
    """``images`` [batch, C, H, W] -> the [batch, C, H-d, W-d] window at column ``ox``, row ``oy``."""
    ### BEGIN SOLUTION
    h, w = images.shape[-2:]
    return images[..., oy:h - d + oy, ox:w - d + ox]
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_jitter(jitter)

# %% nbgrader={"grade": true, "grade_id": "ex3_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A larger offset range (d = 5) on 13x14 images: rows and columns must not be swapped.
checks.check_jitter(jitter, seed=2, size=13, d=5)
### END HIDDEN TESTS

# %% [markdown]
# ## 4. A better basis: Fourier with 1/f scaling, decorrelated colours
#
# Gradient steps in pixel space treat every pixel alike, and since there are many more high-frequency
# directions than low-frequency ones, noise wins. Parameterising the image by its **Fourier spectrum**,
# with every coefficient scaled by `1 / f`, makes all frequencies start with similar energy *in the image*
# and whitens the gradient steps: the optimiser is preconditioned towards natural-looking images, whose
# spectrum falls like `1/f`. The lowest frequency is clamped at `1 / max(H, W)` to avoid dividing by zero.
# A fixed 3×3 matrix also maps decorrelated channels to RGB (a colour-decorrelated basis measured on
# natural images), so a step changes luminance and colour separately.
#
# ### Exercise 3.4: the 1/f scale
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `fft_scale(h, w)` -> `[h, w // 2 + 1]`: `1 / max(f, 1 / max(h, w))` for each entry of an `rfft2`
# spectrum, `f` the radial frequency as in exercise 3.2.
#
# <details><summary>Hint</summary>
#
# Build `f` as before, `clamp_min(1 / max(h, w))`, then invert.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_4_solution", "locked": false, "schema_version": 3, "solution": true}
def fft_scale(h: int, w: int) -> torch.Tensor:
    """-> [h, w // 2 + 1]: 1 / max(f, 1 / max(h, w)) for every rfft2 coefficient."""
    ### BEGIN SOLUTION
    freq = torch.sqrt(torch.fft.rfftfreq(w)[None, :] ** 2 + torch.fft.fftfreq(h)[:, None] ** 2)
    return 1.0 / freq.clamp_min(1.0 / max(h, w))
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_fft_scale(fft_scale)

# %% nbgrader={"grade": true, "grade_id": "ex3_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A tall 9x5 grid (odd sizes, h > w) and a square one: the frequency axes must not be swapped.
checks.check_fft_scale(fft_scale, h=9, w=5)
checks.check_fft_scale(fft_scale, h=16, w=16)
### END HIDDEN TESTS

# %% [markdown]
# Now the experiment the whole section builds to: the same eight units, the same number of steps, four
# ways. We keep the **pixel** and **Fourier** runs with and without transformation robustness, and measure
# the share of energy above a quarter of a cycle per pixel (with your `high_frequency_share`), and the full
# radial spectra.

# %%
renders = {"naive": naive.images}
for label, kwargs in {"transforms": dict(param="pixel"), "fourier": dict(param="fourier", transforms=None),
                      "transforms + fourier": dict(param="fourier")}.items():
    renders[label] = V.render(model, V.channels("layer3.1", UNITS), steps=128, batch=len(UNITS), seed=0,
                              **kwargs).images
fig, _ = plot_visualizations(renders)
plt.show()
fig, spectra = plot_spectra({**renders, "dataset": data.images[:64]})
plt.show()
shares = {label: high_frequency_share(images.cpu()) for label, images in renders.items()}   # your Exercise 3.2
for label, share in shares.items():
    print(f"{label:>22}: high-frequency share {share.mean():.3f}  (ratio to naive {share.mean() / shares['naive'].mean():.2f})")

# %% nbgrader={"grade": false, "grade_id": "hf_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_hf_reduction(shares, "naive", "transforms + fourier", max_ratio=0.6)
checks.check_hf_reduction(shares, "naive", "transforms", max_ratio=0.8)

# %% [markdown]
# The regularised images carry far less high-frequency energy, and what is left is readable: arcs, all
# bulging the same way within an image, tiled across it (a *channel* objective rewards the unit firing at
# every position). The dataset's own images are smoother still; our renders are a compromise between
# "natural" and "maximally exciting". On these small images transformation robustness does most of the
# work; the Fourier basis alone removes less (compare the `fourier` row), but together they do best.
#
# ## 5. Do the visualizations agree with the dataset examples?
#
# A visualization is only evidence if it tells the same story as the unit's behaviour on real data. We put
# each unit's visualization (here with a **neuron** objective: only the centre position, so one arc
# appears) next to its top dataset examples and its dissection label from lesson 2.

# %%
neuron_obj = V.Objective(lambda cache: sum(V.neuron_loss(cache["layer3.1"][i:i + 1], u) for i, u in enumerate(UNITS)),
                         ("layer3.1",), "centre neurons")
vis = V.render(model, neuron_obj, steps=160, batch=len(UNITS), seed=1).images
dissection = F.dissect(acts3, data.masks)
top_examples = [data.images[F.top_activating(acts3, u, k=5)[1]] for u in UNITS]
titles = [f"unit {u}: {dissection.label[u]} ({dissection.best_iou[u]:.2f})" for u in UNITS]
fig, _ = plot_vis_vs_examples(vis, top_examples, titles)
plt.show()

# %% [markdown]
# By eye, each visualization shows an arc bulging the way the dataset examples' arcs do, and the way the
# dissection label says. To check it *through the data*, we compare images in the network's own terms:
# the `layer3` activation vector (spatial max of every channel) of unit `i`'s visualization against the
# mean vector of unit `j`'s dataset examples. If the visualizations are faithful, the matrix of cosine
# similarities is diagonal-dominant.

# %%
agreement = V.vis_example_agreement(model, "layer3", vis, top_examples)
fig, ax = plt.subplots(figsize=(4, 3.5))
im = ax.imshow(agreement.numpy(), cmap="viridis")
ax.set_xlabel("dataset examples of unit"), ax.set_ylabel("visualization of unit")
ax.set_xticks(range(len(UNITS)), UNITS, fontsize=7), ax.set_yticks(range(len(UNITS)), UNITS, fontsize=7)
fig.colorbar(im)
plt.show()
print("rank of the target unit among all 64 on its own visualization:", V.own_unit_rank(model, "layer3", vis, UNITS).tolist())

# %% nbgrader={"grade": false, "grade_id": "agreement_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_vis_agreement(agreement, min_match=0.5)

# %% [markdown]
# ## 6. Diversity
#
# One image shows one way to excite a unit. A unit that responds to several different things (a
# *polysemantic* unit) hides the others. Optimising a batch together with a **diversity** penalty pushes the
# images apart: the penalty is the average cosine similarity between the images' **Gram matrices**
# `G_i = A_i A_i^T` (channel-by-channel correlations of the layer's map, a summary of "style" that ignores
# position).
#
# ### Exercise 3.5: diversity loss
# **Difficulty:** ★★★☆☆  **Importance:** ★★☆☆☆
#
# Write `diversity_loss(acts)` for `acts` `[batch, channels, h, w]` (batch ≥ 2): flatten each image's map to
# `A_i` `[channels, h*w]`, compute `G_i = A_i @ A_i.T`, flatten and normalise each `G_i` to unit length,
# and return `sum over pairs i != j of <G_i, G_j>` (both orders) divided by the batch size.
#
# <details><summary>Hint</summary>
#
# A Gram matrix compares every channel with every other over positions: after flattening space,
# that is a batched product of the map with its own transpose. Once each Gram matrix is a unit vector,
# one matrix product of the stack with itself holds every pairwise cosine; the diagonal (an image with
# itself) must not count.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_5_solution", "locked": false, "schema_version": 3, "solution": true}
def diversity_loss(acts: torch.Tensor) -> torch.Tensor:
    """``acts`` [batch, channels, h, w] -> scalar: summed pairwise Gram cosine similarity / batch."""
    ### BEGIN SOLUTION
    flat = acts.flatten(2)
    grams = torch.einsum("bcp,bdp->bcd", flat, flat).flatten(1)
    grams = grams / grams.norm(dim=1, keepdim=True)
    sims = grams @ grams.T
    return (sims.sum() - sims.diagonal().sum()) / acts.shape[0]
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_diversity_loss(diversity_loss)

# %% nbgrader={"grade": true, "grade_id": "ex3_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# 5 images and 7 channels: every ordered pair counts, the diagonal does not.
checks.check_diversity_loss(diversity_loss, seed=6, batch=5, channels=7)
### END HIDDEN TESTS

# %%
unit = UNITS[0]
plain_batch = V.render(model, V.channel("layer3.1", unit), steps=96, batch=4, seed=2).images
diverse_batch = V.render(model, V.channel("layer3.1", unit) + 2.0 * V.diversity("layer3"), steps=96,
                         batch=4, seed=2).images
fig, _ = show_images(torch.cat([plain_batch, diverse_batch]), ["channel"] * 4 + ["channel + diversity"] * 4,
                     ncols=4, scale=1.5)
plt.show()
with torch.no_grad():
    for label, batch in {"channel": plain_batch, "channel + diversity": diverse_batch}.items():
        layer3 = F.collect_activations(model, batch, ["layer3"])["layer3"]
        print(f"{label:>20}: diversity loss {V.diversity_loss(layer3).item():.3f}, "
              f"unit {unit} mean activation {layer3[:, unit].mean():.2f}")

# %% [markdown]
# Diversity costs some activation and buys variety. For a curve unit the variants are arcs of different
# curvature, position and colour, all bulging the same way: the unit is monosemantic with respect to
# orientation. (Directions work too: `V.direction("layer3.1", vector)` visualizes a non-basis direction,
# such as lesson 2's mass-mean "curve" direction.)
#
# ## 7. DeepDream
#
# DeepDream turns the question around: instead of one unit from noise, start from a real image and amplify
# *whatever the layer already sees*, by ascending the mean squared activation of the whole layer. The
# gradient is normalised by its mean absolute value so the step size means "average change per pixel".
#
# ### Exercise 3.6: a DeepDream step
# **Difficulty:** ★★☆☆☆  **Importance:** ★★☆☆☆
#
# Write `deepdream_step(model, layer, image, lr)`: `image` `[batch, 3, H, W]` in `[0, 1]`. Compute the
# gradient of `mean(acts ** 2)` of module `layer` with respect to the image, divide it by its mean absolute
# value, add `lr` times it to the image, clamp to `[0, 1]`, and return the result detached.
#
# <details><summary>Hint</summary>
#
# The gradient must flow from the layer's activations back to the pixels, so the image needs
# `requires_grad` and the activations must keep their graph (the package's caching helper detaches by
# default: look at its arguments). Work on a copy of the image, never on the caller's tensor, and return
# a result that is detached.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_6_solution", "locked": false, "schema_version": 3, "solution": true}
def deepdream_step(model: torch.nn.Module, layer: str, image: torch.Tensor, lr: float = 0.02) -> torch.Tensor:
    """One normalised gradient-ascent step on mean(acts ** 2) of ``layer``; returns [batch, 3, H, W]."""
    ### BEGIN SOLUTION
    x = image.detach().clone().requires_grad_(True)
    _, cache = run_with_cache(model, x, [layer], detach=False)
    (cache[layer] ** 2).mean().backward()
    grad = x.grad
    return (image + lr * grad / grad.abs().mean()).clamp(0, 1).detach()
    ### END SOLUTION

# %% nbgrader={"grade": true, "grade_id": "ex3_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_deepdream_step(deepdream_step)

# %% nbgrader={"grade": true, "grade_id": "ex3_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}
### BEGIN HIDDEN TESTS
# A batch of 3 and a smaller step; the caller's image must be left unchanged (no in-place ascent).
checks.check_deepdream_step(deepdream_step, seed=5, batch=3, lr=0.01)
### END HIDDEN TESTS

# %%
start = data.images[:4].to(device)
dreams = {layer: V.run_deepdream(model, layer, start, steps=12, lr=0.02) for layer in ("layer1", "layer3")}
fig, _ = show_images(torch.cat([start.cpu()] + [d.cpu() for d in dreams.values()]),
                     ["original"] * 4 + ["dream layer1"] * 4 + ["dream layer3"] * 4, ncols=4, scale=1.5)
plt.show()

# %% [markdown]
# Dreaming on `layer1` sharpens edges and colour contrasts; dreaming on `layer3` grows extra arcs along
# existing strokes. Each layer amplifies its own vocabulary.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question.** Explain in your own words why naive gradient ascent on pixels produces
# high-frequency patterns, and why transformation robustness and the Fourier parameterisation each reduce
# them. Then name one thing these regularisers could *hide* about a unit, i.e. a way in which a regularised
# visualization may be less faithful than the naive one.
#
# ### BEGIN SOLUTION
# The unit's activation is a function of all pixels; pixel space has far more high-frequency directions
# than low ones and each pixel is a free parameter, so the steepest direction mixes in many small,
# alternating patterns that excite the conv filters locally (and that strided/pooled layers' gradients
# contain as checkerboard artefacts). Nothing in the objective penalises them. Transformation robustness
# averages the objective over small shifts, scales and rotations: a pattern that relies on exact pixel
# alignment gets no consistent gradient and is washed out, while larger structures survive. The 1/f
# Fourier parameterisation changes the geometry of the steps (a preconditioner): the same step size moves
# low frequencies much more than high ones, so the optimiser reaches large, smooth structures first;
# decorrelating colours separates luminance from colour changes. What they can hide: the unit may
# genuinely respond to high-frequency texture or to an exact position/scale/orientation (e.g. an
# orientation-specific unit is blurred by rotation jitter; a position-sensitive neuron by jitter); the
# prior makes images look natural even where the unit is driven by something unnatural, so the picture
# reflects our prior as much as the unit. Checking against dataset examples (as in section 5) guards
# against this.
# ### END SOLUTION

# %% [markdown]
# ## Summary
#
# - Feature visualization optimises the input to excite a unit; objectives compose (neuron, channel,
#   direction, diversity) and DeepDream amplifies a whole layer.
# - Naive pixel ascent gives high-frequency patterns. Transformation robustness and a 1/f Fourier,
#   colour-decorrelated parameterisation cut the high-frequency share of the images by a large factor
#   (measured above), and make them readable.
# - A visualization is evidence only when it agrees with the unit's dataset examples and dissection labels;
#   we checked that through the network's own representation, not only by eye.
#
# ## Further reading
#
# - Olah, Mordvintsev, Schubert, [Feature Visualization](https://distill.pub/2017/feature-visualization/) (Distill 2017).
# - Mordvintsev et al., [Differentiable Image Parameterizations](https://distill.pub/2018/differentiable-parameterizations/) (Distill 2018).
# - Mordvintsev, Olah, Tyka, [Inceptionism: Going Deeper into Neural Networks](https://research.google/blog/inceptionism-going-deeper-into-neural-networks/) (2015).
# - Nguyen, Yosinski, Clune, [Multifaceted Feature Visualization](https://arxiv.org/abs/1602.03616) (2016).
# - Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/) (2020).
# - Borowski et al., [Exemplary Natural Images Explain CNN Activations Better than State-of-the-Art Feature Visualization](https://arxiv.org/abs/2010.12606) (2021): a sceptical look.
