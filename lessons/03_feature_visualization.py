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
# # Lesson 3: Feature visualization
#
# **Central claim.** Robustness transforms and a Fourier parameterisation cut the high-frequency
# energy of visualizations several-fold; a visualization counts as evidence only when dataset examples
# agree.
#
# **Learning objectives**
#
# - Visualize a unit by gradient ascent on the input image, and explain why the naive result is
#   high-frequency noise.
# - Regularise with transformation robustness (pad, jitter, scale, rotate) and a Fourier parameterisation
#   with 1/f scaling and decorrelated colours; *measure* the drop in high-frequency energy.
# - Compose objectives: neuron, channel, direction, diversity; run DeepDream.
# - Check that visualizations agree with dataset examples, through the network rather than by eye: for the
#   curve detectors of an object-recognition net, and for its car and head units.
#
# **Prerequisites:** lesson 2 (dataset examples, the object world), the Fourier transform at the level of
# "an image is a sum of waves". Lesson 4 studies the curve family used here in depth; this lesson only
# borrows it.
#
# **Estimated time:** 2 hours (the notebook itself executes in about a minute on a laptop CPU).
#
# Dataset examples show what a unit responds to *among the images we happen to have*. They cannot separate
# causes that always appear together: does a unit fire on the car, or on the wheels that every car has, or on
# red strokes over a checkerboard? Feature visualization asks the network itself: starting from noise, change
# the image step by step to make the unit fire more. Whatever appears is, by construction, something the unit
# responds to. The catch is that "make the unit fire" has many solutions, most of them unnatural patterns that
# exploit the network, and most of the craft is in steering the optimisation towards images a human can read.
#
# The network is the zoo's `vgg_objects_s1`, a VGG-style CNN (`layer1` 64² → `layer2` 32² → `layer3` 16² →
# `layer4` 8² → `head`) trained **only to name the object** in 64 × 64 scenes of the course's object world
# (cars, carts, animal heads, clocks, signs, houses, ladders, fences, arches, drawn as thin strokes over
# textures). Nobody asked it for curves, yet many units of its `layer3` prefer arcs to straight lines (lesson 4
# measures them: 31 of 48 pass a lenient rule; only 15 a strict one, whose peaks leave a 90° gap, and no net
# of the zoo has a full strict family). We visualize eight of these curve-preferring units, and two object
# units of `layer4`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)
import math
from dataclasses import replace

import matplotlib.pyplot as plt
import torch

from mi_tutor import featvis
from mi_tutor import run_with_cache, zoo
from mi_tutor.checks import lesson03 as checks
from mi_tutor.circuits_vision import angle_difference
from mi_tutor.circuits_vision.findings import STIMULUS_STYLE, probe_tuning
from mi_tutor.circuits_vision.stages import receptive_field_centre
from mi_tutor.vision.tuning import find_curve_family
from mi_tutor.featvis.plots import plot_spectra, plot_vis_vs_examples, plot_visualizations
from mi_tutor.hooks import collect
from mi_tutor.vision.objects import object_names, render_objects
from mi_tutor.vision.plots import show_images

model = zoo.load("vgg_objects_s1", device=device)
data = render_objects(512, seed=1234)                       # 512 fresh scenes: the dataset examples
KINDS = object_names(data.config)
acts = collect(model, data.images, ["layer3", "layer4"])

# The curve family of layer3, measured with centred synthetic arcs over 16 orientations x 7 curvatures
# (the tool lesson 4 builds). We keep the strongest member in each 45-degree orientation bin.
tuning, tuning_orientations, tuning_curvatures = probe_tuning(model, "layer3")
family = find_curve_family(tuning, tuning_orientations, tuning_curvatures, min_separation=0.0)
best = {}
for unit, pref, peak in zip(family.channels, family.orientations.tolist(), family.curve_response.tolist()):
    b = round(math.degrees(pref) / 45) % 8
    if b not in best or peak > best[b][1]:
        best[b] = (unit, peak, pref)
UNITS = [best[b][0] for b in sorted(best)]
PREF = torch.tensor([best[b][2] for b in sorted(best)])
PEAK = tuning_orientations[tuning[UNITS, 1:].amax(1).argmax(1)]   # each unit's peak orientation (best arc)
print(f"layer3 curve family: {len(family)} units, largest gap {math.degrees(family.max_gap):.0f} degrees")
print("one unit per 45-degree bin:", {u: f"{math.degrees(p):.0f} deg" for u, p in zip(UNITS, PREF.tolist())})

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
# activation of channel `unit` over the batch and all positions. The render loop minimises it, so its
# gradient must reach `acts` (no `.item()`, `.detach()` or `torch.no_grad()`), and `acts` is left unchanged.
#
# <details><summary>Hint</summary>
#
# Index the channel axis, then `.mean()`; do not forget the sign.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_1_solution", "locked": false, "schema_version": 3, "solution": true}
def channel_loss(acts: torch.Tensor, unit: int) -> torch.Tensor:
    """``acts`` [batch, channels, h, w] -> scalar: minus the mean of channel ``unit``."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex3_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_channel_loss(channel_loss)

# %% nbgrader={"grade": true, "grade_id": "ex3_1_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 2. Naive gradient ascent
#
# The simplest render: the image's pixels (through a sigmoid, to stay in `(0, 1)`) are the parameters, and
# Adam follows the gradient of the objective. We visualize the eight curve units at once: image `i` of the
# batch maximises `UNITS[i]` (`featvis.channels`, with your `channel_loss` for each image). We optimise the
# **pre-ReLU** activations (`layer3.2.1`, the batch-norm output of the stage's last conv): after the ReLU a
# unit that is off has no gradient at all.
#
# A `layer3` unit sees a window of about 20 pixels (32 at most: two 3 × 3 convs at each of three
# resolutions). The net is fully convolutional up to its average-pooled head, so for `layer3` we render on a
# **32 × 32 canvas**: it holds a unit's whole receptive field, and costs a quarter of a 64 × 64 one.

# %%
LAYER3 = "layer3.2.1"          # pre-ReLU output of layer3
naive = featvis.render(model, featvis.channels(LAYER3, UNITS, loss_fn=channel_loss),   # your Exercise 3.1
                       param="pixel", transforms=None, steps=96, batch=len(UNITS), size=32, seed=0)
fig, naive_share = plot_visualizations({"naive": naive.images})
plt.show()
print(f"loss {naive.losses[0]:.2f} -> {naive.losses[-1]:.2f}; high-frequency share per image: "
      f"{[round(s, 2) for s in naive_share['naive'].tolist()]}")

# %% [markdown]
# **Figure.** Naive pixel-space visualizations of eight `layer3` units. Notice that they are colour noise
# with no stroke in sight, even though the optimisation worked: the printed loss fell from -0.10 to -3.93,
# and every image has between 0.67 and 0.78 of its spectral energy above the cutoff frequency.

# %% [markdown]
# The loss fell (the units fire), but the images are pixel-level colour noise. Nothing forbids the optimiser from
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
# of each channel first, compute the squared magnitude $\lvert \hat x \rvert^2$ of `rfft2`, sum over channels, then divide the energy above the cutoff by
# the total. The radial frequency of an `rfft2` entry is $\sqrt{f_x^2 + f_y^2}$ with $f_y$ (`fy`) from
# `torch.fft.fftfreq(H)` (rows) and $f_x$ (`fx`) from `torch.fft.rfftfreq(W)` (columns). Images need not be
# square ($H \ne W$), and `images` is left unchanged.
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
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex3_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_high_frequency_share(high_frequency_share)


# %% nbgrader={"grade": true, "grade_id": "ex3_2_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 3. Transformation robustness
#
# If a pattern only works at one exact pixel alignment it is an adversarial accident, not a feature. So at
# every step we show the network a randomly **padded, jittered, scaled and rotated** copy of the image
# (the list of lucid, scaled down to our 32-pixel canvas: pad 4, jitter 4, scale 0.9 to 1.1, rotate ±10°,
# jitter 2). Only patterns that survive all these excite the unit.
#
# ### Exercise 3.3: jitter
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★☆☆
#
# Write `jitter(images, d, ox, oy)`: crop a window `d` pixels smaller in each direction, starting at column
# `ox` and row `oy` ($0 \le o_x, o_y \le d$), so the output is `[batch, C, H - d, W - d]` (images need not be
# square). In the render loop the offsets are random at every step, and the gradient flows back through the
# crop to the image: keep it in the autograd graph, and leave `images` unchanged.
#
# <details><summary>Hint</summary>
#
# Plain slicing of the last two axes: rows `oy : H - d + oy`, columns `ox : W - d + ox`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_3_solution", "locked": false, "schema_version": 3, "solution": true}
def jitter(images: torch.Tensor, d: int, ox: int, oy: int) -> torch.Tensor:
    """``images`` [batch, C, H, W] -> the [batch, C, H-d, W-d] window at column ``ox``, row ``oy``."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex3_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_jitter(jitter)


# %% nbgrader={"grade": true, "grade_id": "ex3_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 4. A better basis: Fourier with 1/f scaling, decorrelated colours
#
# Gradient steps in pixel space treat every pixel alike, and since there are many more high-frequency
# directions than low-frequency ones, noise wins. Parameterising the image by its **Fourier spectrum**,
# with every coefficient scaled by $1/f$, makes all frequencies start with similar energy *in the image*
# and whitens the gradient steps: the optimiser is preconditioned towards natural-looking images, whose
# spectrum falls like $1/f$. The lowest frequency is clamped at $1/\max(H, W)$ to avoid dividing by zero.
# A fixed 3×3 matrix also maps decorrelated channels to RGB (a colour-decorrelated basis measured on
# natural images), so a step changes luminance and colour separately.
#
# ### Exercise 3.4: the 1/f scale
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `fft_scale(h, w)` -> `[h, w // 2 + 1]`: $1 / \max(f, 1/\max(h, w))$ for each entry of an `rfft2`
# spectrum (a tensor), `f` the radial frequency as in exercise 3.2; `h` and `w` need not be equal.
#
# <details><summary>Hint</summary>
#
# Build `f` as before, `clamp_min(1 / max(h, w))`, then invert.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex3_4_solution", "locked": false, "schema_version": 3, "solution": true}
def fft_scale(h: int, w: int) -> torch.Tensor:
    """-> [h, w // 2 + 1]: 1 / max(f, 1 / max(h, w)) for every rfft2 coefficient."""
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex3_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_fft_scale(fft_scale)


# %% nbgrader={"grade": true, "grade_id": "ex3_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Now the experiment the whole section builds to: the same eight units, the same number of steps, four
# ways. We keep the **pixel** and **Fourier** runs with and without transformation robustness (lucid's list,
# with your `jitter` doing the two random crops, your `fft_scale` scaling the Fourier basis and your
# `channel_loss` as the objective), and measure the share of energy above a quarter of a cycle
# per pixel (with your `high_frequency_share`), and the full radial spectra.

# %%
def random_jitter(d: int):
    """Your `jitter` at random offsets, drawn from the render loop's generator."""
    return lambda x, g: jitter(x, d, *torch.randint(0, d + 1, (2,), generator=g).tolist())


robust = featvis.compose([featvis.pad(4), random_jitter(4), featvis.random_scale([1 + (i - 5) / 50 for i in range(11)]),
                          featvis.random_rotate(list(range(-10, 11)) + 5 * [0]), random_jitter(2), featvis.resize(32)])
renders, final_loss = {"naive": naive.images}, {"naive": naive.losses[-1]}
fourier = lambda: featvis.FourierImage(len(UNITS), 32, 32, seed=0, scale_fn=fft_scale)   # your Exercise 3.4  # noqa: E731
for label, kwargs in {"transforms": dict(param="pixel", transforms=robust),
                      "fourier": dict(param=fourier(), transforms=None),
                      "transforms + fourier": dict(param=fourier(), transforms=robust)}.items():
    result = featvis.render(model, featvis.channels(LAYER3, UNITS, loss_fn=channel_loss), steps=96,
                            batch=len(UNITS), size=32, seed=0, **kwargs)
    renders[label], final_loss[label] = result.images, result.losses[-1]
fig, _ = plot_visualizations(renders, share_fn=high_frequency_share)                  # your Exercise 3.2
plt.show()
fig, spectra = plot_spectra({**renders, "dataset scenes": data.images[:64]})
plt.show()
shares = {label: high_frequency_share(images.cpu()) for label, images in renders.items()}   # your Exercise 3.2
shares["dataset scenes"] = high_frequency_share(data.images[:64])
for label, share in shares.items():
    loss = f"final loss {final_loss[label]:6.2f}" if label in final_loss else ""
    print(f"{label:>22}: high-frequency share {share.mean():.3f} (ratio to naive "
          f"{share.mean() / shares['naive'].mean():.2f})  {loss}")

# %% [markdown]
# **Figure.** The four renderings of the same units, then their power spectra beside the dataset scenes.
# Notice that the regularised images lose the fine checkerboard: the printed high-frequency share falls
# from 0.741 (naive) to 0.394 with transforms, 0.463 with the Fourier basis and 0.224 with both, while
# real scenes sit at 0.122.

# %% nbgrader={"grade": false, "grade_id": "fig3_hf", "locked": true, "schema_version": 3, "solution": false}
checks.check_hf_reduction_result(shares, "naive", "transforms + fourier", max_ratio=0.6,
                                 images={**renders, "dataset scenes": data.images[:64]})
checks.check_hf_reduction_result(shares, "naive", "transforms", max_ratio=0.8)

# %% [markdown]
# Read the printed ratios. Transformation robustness and the Fourier basis each cut the high-frequency share
# of the naive images; together they cut it most. The final losses tell the price: the regularised images
# excite their units less than the naive ones (a smaller `-loss`), because the optimiser is no longer free to
# use every pixel. The world's own scenes (thin strokes over textured backgrounds) carry less high-frequency
# energy still (the `dataset scenes` line): our renders are a compromise between "natural" and "maximally
# exciting", and the naive ones are far from natural. A channel objective
# rewards the unit firing at *every* position, so whatever the unit likes is tiled across the canvas.
#
# ## 5. Do the visualizations agree with the dataset examples?
#
# A visualization is only evidence if it tells the same story as the unit's behaviour on real data.
#
# ### 5.1 The curve units
#
# We render each curve unit with a **neuron** objective (your `channel_loss` on the centre position of its
# map only, so one pattern appears in the middle of the canvas), and cut its dataset examples out of the 512 scenes with
# `featvis.example_crops`: the 32 × 32 window around the position where the unit fires most, aligned so that the
# crop's centre unit is the one that fired. A visualization and a crop are then read by the same unit at
# the same place.

# %%
def centre(acts: torch.Tensor) -> torch.Tensor:
    """The [batch, channels, 1, 1] centre position of a map."""
    h, w = acts.shape[-2] // 2, acts.shape[-1] // 2
    return acts[..., h:h + 1, w:w + 1]


def centre_neurons(layer: str, units: list[int]) -> featvis.Objective:
    """Image i of the batch maximises units[i] at the centre of the map: your channel loss on the centre."""
    return featvis.Objective(lambda cache: sum(channel_loss(centre(cache[layer][i:i + 1]), u)   # Exercise 3.1
                                               for i, u in enumerate(units)), (layer,), f"centre neurons of {layer}")


vis = featvis.render(model, centre_neurons(LAYER3, UNITS), steps=96, batch=len(UNITS), size=32, seed=1).images
crops = [featvis.example_crops(acts["layer3"], data.images, u, k=5, size=32, stride=4)[0] for u in UNITS]
titles = [f"unit {u} ({math.degrees(p):.0f}°)" for u, p in zip(UNITS, PREF.tolist())]
fig, _ = plot_vis_vs_examples(vis, crops, titles)
plt.show()

# %% [markdown]
# **Figure.** Each row shows a unit's visualization next to crops of its top five dataset examples. By eye
# the match is loose. The cell below reads orientations off these images: a median error of 23° for the
# visualizations and 39° for the crops, with unit 46 read worst, about 150° off.

# %% [markdown]
# By eye, do you see arcs? Do not expect the clean arcs that InceptionV1's curve detectors paint at 224
# pixels: a 32-pixel canvas and a unit that sees 20 pixels leave little room. So we let the network judge. Lesson 4's family gives every curve unit a preferred
# orientation (the direction its arc bulges). The **population vector** of the family reads an orientation
# off any image: each member votes for its preferred orientation with its centre response (relative to its
# response to its best arc). We leave the visualized unit itself out of the vote, so the reading does not
# merely repeat what the image was optimised for. A random reading would miss by 90° on average.

# %%
read = lambda images, unit: featvis.decode_orientation(model, "layer3", family.channels, family.orientations,  # noqa: E731
                                                       family.curve_response, images, exclude=unit)
vis_error = angle_difference(read(vis, UNITS), PREF).rad2deg()
crop_error = torch.stack([angle_difference(featvis.circular_mean(read(c, u)), p)
                          for c, u, p in zip(crops, UNITS, PREF)]).rad2deg()
print(f"{'unit':>5} {'preferred':>9} {'vis read':>9} {'crops read':>10}")
for u, p, e1, e2 in zip(UNITS, PREF.rad2deg().tolist(), vis_error.tolist(), crop_error.tolist()):
    print(f"{u:>5} {p:>8.0f}° {p + e1:>8.0f}° {p + e2:>9.0f}°")
print(f"visualizations: median error {vis_error.abs().median():.0f}°, {int((vis_error.abs() < 45).sum())} of "
      f"{len(UNITS)} within 45°; dataset crops: median {crop_error.abs().median():.0f}°, "
      f"{int((crop_error.abs() < 45).sum())} within 45°; visualization vs crops: median "
      f"{angle_difference(vis_error.deg2rad(), crop_error.deg2rad()).rad2deg().abs().median():.0f}°")
worst = int(vis_error.abs().argmax())
print(f"worst-read unit {UNITS[worst]}: visualization off by {vis_error[worst]:.0f}°, its crops off by "
      f"{crop_error[worst]:.0f}°")

# %% nbgrader={"grade": false, "grade_id": "fig3_orientation", "locked": true, "schema_version": 3, "solution": false}
checks.check_orientation_reading_result(vis_error, max_median=60.0)

# %% [markdown]
# For most units the rest of the family reads the visualization as a curve bulging near the unit's own
# preferred orientation (the median error and the count within 45° are printed above; chance is 90°). Look at
# the worst-read unit and at its crops' reading: when the crops are read as far off as the visualization,
# the visualization and the data agree with each other, and what disagrees is the synthetic-arc measurement
# of the unit's preference (an arc at the centre of a grey canvas is not what the unit meets in scenes).
# Two independent views tell you which measurement to doubt.
#
# Two more measurements, neither of them through the rest of the family. **Drive:** feed the
# visualization back and compare the unit's centre activation with the most it ever reaches on the 512
# scenes; a visualization is supposed to find what the unit likes *best*. **Arc energy:** read the image
# itself, with no network: `featvis.arc_energy` correlates the visualization's grey levels with arcs of 24
# orientations drawn where the unit looks (the best of curvatures 4, 6 and 9 and of shifts up to 2 px), and
# we compare the orientation of the strongest arc with the unit's **peak** orientation (the orientation of
# its best arc in the tuning map).

# %%
h3 = collect(model, vis, ["layer3"])["layer3"]                               # [8, 48, 8, 8] on the 32-px canvas
drive = h3[torch.arange(len(UNITS)), UNITS, h3.shape[2] // 2, h3.shape[3] // 2].cpu() \
    / acts["layer3"][:, UNITS].amax(dim=(0, 2, 3)).cpu()
ARC_ORIENTATIONS = torch.arange(24) * (2 * math.pi / 24)
arc_style = replace(STIMULUS_STYLE, size=32, center=receptive_field_centre(model, "layer3", 32))
energy = featvis.arc_energy(vis, ARC_ORIENTATIONS, (4.0, 6.0, 9.0), arc_style)   # [8, 24]
arc_error = angle_difference(ARC_ORIENTATIONS[energy.argmax(1)], PEAK).rad2deg()
print("visualization's centre activation / dataset maximum:", [round(float(d), 2) for d in drive])
print("strongest arc in the visualization minus the unit's peak orientation (deg):",
      [round(float(e)) for e in arc_error], f"; median |error| {arc_error.abs().median():.0f}°, "
      f"{int((arc_error.abs() <= 45.01).sum())} of {len(UNITS)} within 45°")

# %% [markdown]
# The printed numbers say two things. The visualizations drive their units to between 0.76 and 1.48 times
# the most the units reach on the 512 scenes: about as hard as the best scenes, not far beyond them (two
# units stay below their dataset maximum), unlike the car and head units below (2.3x and 2.0x). And the
# strongest arc in an image lies within 45° of its unit's peak for 6 of the 8 units (median error 30°;
# chance is 90°), while for units 46 and 15 it is 90° or more off. Over other render seeds (the course's
# tests use seeds 2 and 3) the drive stays below 2x and the median arc error moves between 45° and 60°,
# with 3 to 5 of the 8 units within 45°. So these renders hold an arc near the preferred orientation for
# about half the units, and none is a superstimulus: the evidence a curve detector's visualization should
# give is weak here, as lesson 4's strict census of these units leads one to expect.
#
# A second check compares the images in the network's own terms: the `layer3` activation vector (spatial max
# of every channel) of unit `i`'s visualization against the mean vector of unit `j`'s crops. If the
# visualizations are faithful, the matrix of cosine similarities is diagonal-dominant.

# %%
agreement = featvis.vis_example_agreement(model, "layer3", vis, crops)
fig, ax = plt.subplots(figsize=(4, 3.5))
im = ax.imshow(agreement.numpy(), cmap="viridis")
ax.set_xlabel("dataset crops of unit"), ax.set_ylabel("visualization of unit")
ax.set_xticks(range(len(UNITS)), UNITS, fontsize=7), ax.set_yticks(range(len(UNITS)), UNITS, fontsize=7)
fig.colorbar(im)
plt.show()
print("rank of the target unit among all 48 of layer3 on its own visualization:",
      featvis.own_unit_rank(model, "layer3", vis, UNITS).tolist())

# %% [markdown]
# **Figure.** Cosine similarity between the `layer3` response to each unit's visualization (rows) and to
# each unit's dataset crops (columns). Notice the bright diagonal: the check below finds 88% of
# visualizations closest to their own unit's crops (mean cosine 0.94 on the diagonal, 0.80 off it), and
# the printed ranks show that the target unit is first or second of all 48 on its own image.

# %% nbgrader={"grade": false, "grade_id": "fig3_agreement", "locked": true, "schema_version": 3, "solution": false}
checks.check_vis_agreement_result(agreement, min_match=0.5)

# %% [markdown]
# ### 5.2 Object units of `layer4`
#
# The last conv stage holds units that answer to whole objects. We find, with the world's labels, the most
# **car**-selective and the most **head**-selective unit of `layer4` (the largest difference between its mean
# spatial-max activation on scenes of that kind and on the others, in standard deviations), and check with
# the object **masks** where it fires: is the position of its strongest response in its top scenes on the
# object itself? Then we visualize both on the full 64 × 64 canvas (`layer4`'s units see most of it).

# %%
sig4 = acts["layer4"].amax((-2, -1))                                     # [scenes, 64] spatial max
OBJECT_UNITS = {}
for kind in ("car", "head"):
    on = data.labels == KINDS.index(kind)
    d = (sig4[on].mean(0) - sig4[~on].mean(0)) / sig4.std(0).clamp_min(1e-6)
    unit = int(d.argmax())
    top = sig4[:, unit].topk(20).indices
    # Where does it fire in its 20 top scenes? The object's mask, max-pooled to the 8 x 8 map.
    mask = torch.nn.functional.max_pool2d(data.object_masks[kind][top, None].float(), 8)[:, 0]
    where = acts["layer4"][top, unit].flatten(1).argmax(1)
    on_object = mask.flatten(1)[torch.arange(20), where].mean().item()
    OBJECT_UNITS[kind] = unit
    print(f"{kind}: unit {unit} of layer4, selectivity {d[unit]:.2f} sd; {(data.labels[top] == KINDS.index(kind)).sum()} "
          f"of its 20 top scenes show a {kind}; its peak lies on the {kind}'s mask in {on_object:.0%} of them")

# %%
LAYER4 = "layer4.2.1"          # pre-ReLU output of layer4
units4 = list(OBJECT_UNITS.values())
vis4 = featvis.render(model, centre_neurons(LAYER4, units4), steps=128, batch=len(units4), size=64, seed=0).images
examples4 = [data.images[sig4[:, u].topk(5).indices] for u in units4]
fig, _ = plot_vis_vs_examples(vis4, examples4, [f"{k}: unit {u}" for k, u in OBJECT_UNITS.items()])
plt.show()
with torch.no_grad():
    probs = model(vis4.to(device)).softmax(-1).cpu()
kind_signature = torch.stack([sig4[data.labels == k].mean(0) for k in range(len(KINDS))])
similarity = torch.nn.functional.normalize(featvis.layer_signature(model, "layer4", vis4), dim=1) @ \
    torch.nn.functional.normalize(kind_signature, dim=1).T
response = featvis.layer_signature(model, "layer4", vis4)
object_report = {}
for i, (kind, u) in enumerate(OBJECT_UNITS.items()):
    object_report[kind] = dict(predicted=KINDS[int(probs[i].argmax())], nearest=KINDS[int(similarity[i].argmax())],
                               ratio=float(response[i, u] / sig4[:, u].max()))
    print(f"{kind} unit {u}: fires {object_report[kind]['ratio']:.1f}x its best scene; the net calls the "
          f"visualization '{object_report[kind]['predicted']}' (p = {probs[i].max():.2f}); its layer4 vector is "
          f"closest to the mean of '{object_report[kind]['nearest']}' scenes (cosine {similarity[i].max():.2f}; "
          f"next {similarity[i].topk(2).values[1]:.2f})")

# %% [markdown]
# **Figure.** Visualizations of the most car-selective and the most head-selective units of `layer4`,
# beside their top scenes. Notice that the network itself takes the canvases for the objects: the printed
# classifier probability is 1.00 in both cases, and the images drive their units 2.3 times (car) and 2.0
# times (head) harder than the unit's best scene.

# %% nbgrader={"grade": false, "grade_id": "fig3_object", "locked": true, "schema_version": 3, "solution": false}
checks.check_object_visualization_result(object_report)

# %% [markdown]
# The visualizations are **superstimuli**: each drives its unit harder than any scene of the dataset does
# (the printed ratio), and the whole network, not only the unit, takes them for the object: the classifier
# names the right kind, and the `layer4` vector is closest to the mean vector of scenes of that kind (both
# printed above). Look for parts in the canvases, and notice that shapes repeat: nothing in a neuron
# objective says "one car". The dataset examples, in
# contrast, show one object in a scene, in one colour, over one texture: which of those the unit needs is
# exactly what the examples alone cannot tell, and what lesson 4's circuits and lesson 2's dissection answer.

# %% [markdown]
# ## 6. Diversity
#
# One image shows one way to excite a unit. A unit that responds to several different things (a
# *polysemantic* unit) hides the others. Optimising a batch together with a **diversity** penalty pushes the
# images apart: the penalty is the average cosine similarity between the images' **Gram matrices**
# $G_i = A_i A_i^\top$ (channel-by-channel correlations of the layer's map, a summary of "style" that ignores
# position).
#
# ### Exercise 3.5: diversity loss
# **Difficulty:** ★★★☆☆  **Importance:** ★★☆☆☆
#
# Write `diversity_loss(acts)` for `acts` `[batch, channels, h, w]` (batch $\ge 2$): flatten each image's map to
# `A_i` `[channels, h*w]`, compute `G_i = A_i @ A_i.T`, flatten and normalise each `G_i` to unit length,
# and return $\sum_{i \ne j} \langle G_i, G_j \rangle$ (both orders) divided by the batch size, a scalar tensor.
# Like the channel objective it is minimised, so its gradient must reach `acts`; `acts` is left unchanged.
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
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex3_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_diversity_loss(diversity_loss)

# %% nbgrader={"grade": true, "grade_id": "ex3_5_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %%
strongest = int(family.curve_response.argmax())            # the family member that fires most on its arc
unit, pref = family.channels[strongest], family.orientations[strongest]

# Objectives from your Exercises 3.1 and 3.5. Your channel loss on the centre position alone is the neuron
# objective (so the family can read the centre, as in section 5); then the same plus twice the diversity penalty.
neuron_only = featvis.Objective(lambda cache: channel_loss(centre(cache[LAYER3]), unit), (LAYER3,), "neuron")
with_diversity = featvis.Objective(lambda cache: channel_loss(centre(cache[LAYER3]), unit)
                                   + 2.0 * diversity_loss(cache["layer3"]), (LAYER3, "layer3"), "neuron + diversity")
plain_batch = featvis.render(model, neuron_only, steps=96, batch=4, size=32, seed=2).images
diverse_batch = featvis.render(model, with_diversity, steps=96, batch=4, size=32, seed=2).images
fig, _ = show_images(torch.cat([plain_batch, diverse_batch]), ["neuron"] * 4 + ["neuron + diversity"] * 4,
                     ncols=4, scale=1.5)
plt.show()
with torch.no_grad():
    for label, batch in {"neuron": plain_batch, "neuron + diversity": diverse_batch}.items():
        layer3 = collect(model, batch, "layer3")["layer3"]
        error = angle_difference(read(batch, unit), pref).rad2deg()
        print(f"{label:>19}: diversity loss {diversity_loss(layer3).item():.3f}, unit {unit} centre activation "
              f"{centre(layer3)[:, unit].mean():.2f}; the family reads the images {[round(e) for e in error.tolist()]}° "
              f"off its {math.degrees(pref):.0f}° ({int((error.abs() < 45).sum())} of 4 within 45°)")

# %% [markdown]
# **Figure.** Diversity costs activation and buys variety (compare the two printed lines: a lower diversity loss, a
# lower activation of the unit). The family's reading of each image says whether the variants are still the
# same feature: compare how many images it reads within 45° of the unit's preferred orientation with and
# without diversity. Images read far away are *other* ways to excite this unit, found by the optimiser. Whether the unit ever meets them in scenes is a question for its dataset examples (lesson 4
# looks for polysemantic units with the world's masks). Diversity is a tool for finding such facets, and a
# reminder that one visualization shows one of them.
# (Directions work too: `featvis.direction(LAYER3, vector)` visualizes a non-basis direction, such as lesson 2's
# mass-mean directions.)
# Here the diversity loss falls from 2.869 to 1.472, the unit's centre activation from 13.94 to 11.05, and
# the family reads 3 of the 4 plain images but only 2 of the 4 diverse ones within 45°.

# %% [markdown]
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
# value, add `lr` times it to the image, clamp to `[0, 1]`, and return the result detached. The caller's
# image and the model are left as they were, and the gradient is computed whatever the caller set: a render
# loop may call the step under `torch.no_grad()`, so do the forward and backward pass in a
# `torch.enable_grad()` block.
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
    # YOUR CODE HERE
    raise NotImplementedError()

# %% nbgrader={"grade": true, "grade_id": "ex3_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_deepdream_step(deepdream_step)

# %% nbgrader={"grade": true, "grade_id": "ex3_6_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %%
start = data.images[:4].to(device)
dreams = {}
for layer in ("layer1", "layer3"):
    dream = start
    for _ in range(12):
        dream = deepdream_step(model, layer, dream, lr=0.02)     # your Exercise 3.6
    dreams[layer] = dream
fig, _ = show_images(torch.cat([start.cpu()] + [d.cpu() for d in dreams.values()]),
                     ["original"] * 4 + ["dream layer1"] * 4 + ["dream layer3"] * 4, ncols=4, scale=1.5)
plt.show()
with torch.no_grad():
    before = collect(model, start, ["layer1", "layer3"])
    for layer, dream in dreams.items():
        after = collect(model, dream, ["layer1", "layer3"])
        gain = {name: (after[name] ** 2).mean() / (before[name] ** 2).mean() for name in after}
        curves = after["layer3"][:, family.channels].mean() / before["layer3"][:, family.channels].mean()
        print(f"dream on {layer}: energy x{gain['layer1']:.2f} in layer1, x{gain['layer3']:.2f} in layer3; "
              f"curve family's mean activation x{curves:.2f}")

# %% [markdown]
# **Figure.** Each dream raises the energy of its own layer most (the printed factors): dreaming on `layer1` amplifies
# that layer's vocabulary (edges, colour contrasts), which `layer3` passes on only in part; dreaming on
# `layer3` amplifies `layer3`'s, and the curve family's activity rises more than under the `layer1` dream
# (compare the last factor of the two lines): the dream draws more of what those units like along the
# existing strokes.
# The printed gains: x14.94 in `layer1` for the `layer1` dream and x13.94 in `layer3` for the `layer3`
# dream; the curve family rises x1.55 under the first and x3.24 under the second.

# %% [markdown] nbgrader={"grade": true, "grade_id": "written3_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question.** Explain in your own words why naive gradient ascent on pixels produces
# high-frequency patterns, and why transformation robustness and the Fourier parameterisation each reduce
# them. Then name one thing these regularisers could *hide* about a unit, i.e. a way in which a regularised
# visualization may be less faithful than the naive one.
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("high-frequency share of the images: naive, transforms + Fourier",
       f"{float(shares['naive'].mean()):.3f}, {float(shares['transforms + fourier'].mean()):.3f}")
record("high-frequency share of dataset scenes", shares["dataset scenes"].mean())
record("median error reading a visualization's orientation (chance 90°)", vis_error.abs().median(), unit="°", digits=0)
record("car unit's activation on its visualization, relative to its best scene", object_report["car"]["ratio"],
       unit="×", digits=1)


# %% [markdown]
# ## Summary
#
# - Feature visualization optimises the input to excite a unit; objectives compose (neuron, channel,
#   direction, diversity) and DeepDream amplifies a whole layer.
# - Naive pixel ascent gives high-frequency patterns. Transformation robustness and a 1/f Fourier,
#   colour-decorrelated parameterisation cut the high-frequency share of the images by a large factor
#   (measured above, with your `high_frequency_share`), at the price of some activation.
# - A visualization is evidence only when it agrees with the unit's dataset examples. For the curve units of
#   an object-recognition net, the rest of the curve family reads the visualizations near the units'
#   preferred orientations, and their `layer3` vectors resemble the units' own dataset crops, but the
#   renders drive the units no harder than their best scenes, and hold an arc at the unit's peak
#   orientation for only about half of them; for the car
#   and head units of `layer4`, the visualizations are superstimuli that the whole network takes for cars and
#   heads. We checked it through the network's own representation, not only by eye.
#
# ## Further reading
#
# - Olah, Mordvintsev, Schubert, [Feature Visualization](https://distill.pub/2017/feature-visualization/) (Distill 2017).
# - Mordvintsev et al., [Differentiable Image Parameterizations](https://distill.pub/2018/differentiable-parameterizations/) (Distill 2018).
# - Mordvintsev, Olah, Tyka, [Inceptionism: Going Deeper into Neural Networks](https://research.google/blog/inceptionism-going-deeper-into-neural-networks/) (2015).
# - Nguyen, Yosinski, Clune, [Multifaceted Feature Visualization](https://arxiv.org/abs/1602.03616) (2016).
# - Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/) (2020).
# - Cammarata et al., [Curve Detectors](https://distill.pub/2020/circuits/curve-detectors/) (Distill 2020).
# - Borowski et al., [Exemplary Natural Images Explain CNN Activations Better than State-of-the-Art Feature Visualization](https://arxiv.org/abs/2010.12606) (2021): a sceptical look.
