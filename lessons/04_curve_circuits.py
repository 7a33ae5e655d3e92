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
# # Lesson 4: Circuits in vision: curve detectors
#
# In 2020 the Circuits thread on Distill made an unusually strong claim about a dozen neurons of
# InceptionV1: they are **curve detectors**, and we understand them well enough to write their
# weights by hand. The claim rested on seven separate lines of evidence, from feature
# visualisation to a hand-built replica. In this lesson you gather those lines of evidence
# yourself, on a small CNN of the course's model zoo trained on a world of arcs and lines, and
# you decide how far the claim holds there.
#
# **Learning objectives.** After this lesson you can
#
# - render controlled stimuli (arcs over orientation and curvature, lines, angles) and measure a
#   unit's tuning map and radial tuning curve;
# - search a layer for a *family* of curve detectors whose preferred orientations tile the circle,
#   and test that each member prefers curves to straight lines;
# - rotate dataset examples and watch activation pass from one family member to the next;
# - read the weights into a curve detector: kernels, expanded weights, how much positive weight
#   follows the curve's tangent, and whether the circuit is rotation-equivariant;
# - write a curve detector's weights by hand from the network's own edge units and compare its
#   tuning with a learned detector's;
# - find polysemantic units with concept masks.
#
# **Prerequisites.** Lessons 1 (hooks) and 2 (features, dataset examples, dissection); lesson 3
# (feature visualisation) helps. Convolutions as cross-correlations, `atan2`, least squares.
#
# **Estimated time.** 2.5-3 hours. The notebook itself runs in about a minute on a laptop CPU.
#
# **Conventions.** Images span $[-1, 1]$ in both directions ("half-widths"), $x$ points right,
# $y$ points **up** and angles run counter-clockwise. An arc's **orientation** is the direction its
# convex side faces, its **curvature** is $1/\text{radius}$, and curvature 0 is the straight line
# tangent to the arc at its midpoint: "the line of the same orientation".

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)

import math

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from torch import nn

from mi_tutor import circuits_vision as cv
from mi_tutor import zoo
from mi_tutor.checks import lesson04 as checks
from mi_tutor.circuits_vision import plots
from mi_tutor.vision.stimuli import StimulusStyle, render_curves
from mi_tutor.circuits_vision.weights import arc_normal_field
from mi_tutor.hooks import run_with_cache
from mi_tutor.vision.curves import render_world
from mi_tutor.vision.pretrained import MIXED3B, ResizedInput, pretrained_weights_path

MODEL_NAME = "convnet_curves_s1"  # the zoo's plain ConvNet trained on the curve world
LAYER = "layer3"                    # where we look for curve detectors
print(f"Running on {device}")

# %% [markdown]
# ## 1. The network and its world
#
# The zoo model `convnet_curves_s1` is a plain three-stage ConvNet (`layer1 → layer2 → layer3 →
# head`, each stage `[pool →] conv → ReLU`, the head average pooling and the linear readout `head.2`) trained on the course's **curve world**: each image holds a
# thin arc of random orientation, curvature, colour and position over a textured background,
# often with a straight line or a small shape as a distractor. The label is the arc's orientation
# (eight 45° bins) or "line" when there is no arc. Telling curves from lines, whatever their
# colour, is exactly the job curve detectors would do, so if the network grew them anywhere it is
# here.

# %%
model = zoo.load(MODEL_NAME, device=device)
world = render_world(3000, seed=4)
with torch.no_grad():
    logits = torch.cat([model(world.images[i:i + 500].to(device)) for i in range(0, 3000, 500)])
accuracy = (logits.argmax(-1).cpu() == world.labels).float().mean().item()
fig, _ = plots.plot_stimuli(world.images[:16], [world.label_names[i] for i in world.labels[:16]])
print(f"accuracy on 3000 fresh images: {accuracy:.1%}")

# %% [markdown]
# ## 2. Synthetic stimuli and tuning maps
#
# Dataset examples mix many things at once. Synthetic stimuli change **one** property at a time:
# `cv.render_curves(orientations, curvatures, style)` draws one arc per pair with its midpoint at
# the image centre, `cv.render_lines` and `cv.render_angles` draw the straight and the polygonal
# cousins, and a `StimulusStyle` changes what should not matter (stroke width, colour,
# background).

# %%
th = torch.arange(8) * (2 * math.pi / 8)
demo = torch.cat([
    render_curves(th, 3.0),
    render_curves(torch.zeros(8), torch.linspace(0, 5, 8)),
    cv.render_angles(th, math.pi / 2),
    torch.cat([render_curves(torch.tensor([math.pi / 4]), 3.0, s) for s in cv.cosmetic_variants().values()]
              + [cv.render_lines(torch.tensor([math.pi / 4]))]),
])
titles = ([f"{round(math.degrees(t))}°" for t in th] + [f"κ={k:.1f}" for k in torch.linspace(0, 5, 8)]
          + ["angle"] * 8 + list(cv.cosmetic_variants()) + ["line"])
fig, shown = plots.plot_stimuli(demo, titles)

# %% [markdown]
# ### Exercise 4.1: a unit's tuning map
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Write `tuning_grid(model, layer, channel, orientations, curvatures)` returning a tensor
# `[n_curv, n_orient]` whose entry `[c, o]` is the activation of `channel` of `layer` **at the centre
# of its map** (`[h // 2, w // 2]`) for the arc of curvature `curvatures[c]` and orientation
# `orientations[o]`, drawn by `render_curves` with the default style. Create the images on the
# model's device and run the model once.
#
# <details><summary>Hint</summary>
#
# List every (curvature, orientation) pair in the order the output rows and columns need:
# curvature changes slowest. Render all of them as one batch, run the model once, read the centre
# position of the channel's map, and reshape. Do the images live on the same device as the model?
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_1_solution", "locked": false, "schema_version": 3, "solution": true}
def tuning_grid(model: nn.Module, layer: str, channel: int, orientations: torch.Tensor,
                curvatures: torch.Tensor) -> torch.Tensor:
    """Centre activation of ``channel`` for each (curvature, orientation) arc: ``[n_curv, n_orient]``."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_tuning_grid(tuning_grid)

# %% nbgrader={"grade": true, "grade_id": "ex4_1_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The package version, `cv.tuning_map(model, layer, channels, n_orientations, curvatures)`, does
# this for many channels at once on an evenly spaced grid. We measure every channel of `layer3`
# over 24 orientations and 7 curvatures (the first row, curvature 0, holds the lines).

# %%
CURVATURES = [0.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0]
tuning, grid = cv.tuning_map(model, LAYER, n_orientations=24, curvatures=CURVATURES)
print("tuning maps:", tuple(tuning.shape), "= [channel, curvature, orientation]")

# %% [markdown]
# ## 3. Radial tuning curves and preferred orientations
#
# A tuning map is easier to compare across units as a **radial tuning curve**: the maximum over
# curvature at each orientation, drawn on polar axes (`cv.radial_tuning`). Its direction is the
# unit's **preferred orientation**.
#
# ### Exercise 4.2: preferred orientation
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Write `preferred_orientation(radial, orientations)`: for radial curves `[n_units, n_orient]`,
# clip the responses at 0, add up the unit vectors $(\cos\theta, \sin\theta)$ of the orientations
# weighted by the clipped responses, and return the direction of the sum in $[0, 2\pi)$, shape
# `[n_units]`.
#
# <details><summary>Hint</summary>
#
# `torch.atan2(y, x)` returns angles in $(-\pi, \pi]$; `torch.remainder(a, 2 * math.pi)` wraps them.
# Why not `argmax`? It can only return a grid orientation and jumps between two lobes of almost
# equal height.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_2_solution", "locked": false, "schema_version": 3, "solution": true}
def preferred_orientation(radial: torch.Tensor, orientations: torch.Tensor) -> torch.Tensor:
    """Direction of the response-weighted sum of orientation vectors, ``[n_units]`` in [0, 2 pi)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_preferred_orientation(preferred_orientation)


# %% nbgrader={"grade": true, "grade_id": "ex4_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 4. Curves, not lines: selectivity
#
# A unit that fires on an arc may simply like its tangent line. The first row of every tuning map
# holds exactly those lines, so we can compare a unit's response to its best curve with its
# response to the line of the same orientation.
#
# ### Exercise 4.3: curve-versus-line selectivity
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Write `curve_line_selectivity(curve_response, line_response)` returning $(c - l)/(c + l)$ of the
# responses clipped at 0, elementwise, and 0 where both are 0. It is 1 for a unit that ignores
# the line, 0 for no preference and 1/3 when the curve gets twice the line's activation.
#
# <details><summary>Hint</summary>
#
# Clip both responses at zero first. The denominator can be zero only where the numerator is
# zero too, so a tiny lower bound on the denominator gives 0 there without a branch.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_3_solution", "locked": false, "schema_version": 3, "solution": true}
def curve_line_selectivity(curve_response: torch.Tensor, line_response: torch.Tensor) -> torch.Tensor:
    """``(c - l) / (c + l)`` of the rectified responses (0 where neither fires)."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_curve_line_selectivity(curve_line_selectivity)


# %% nbgrader={"grade": true, "grade_id": "ex4_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 5. A family that tiles the circle
#
# A single curve detector is a curiosity; the Circuits claim is about **families**: units that
# detect the same curve rotated, with preferred orientations spread around the whole circle. To
# say "spread around the whole circle" with a number we use the largest gap between neighbouring
# preferred orientations.
#
# ### Exercise 4.4: the largest gap around the circle
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `max_circular_gap(angles)` for a 1-d tensor of angles in radians (any range, any order):
# the largest angular distance between neighbours around the circle, as a float; $2\pi$ for a
# single angle.
#
# <details><summary>Hint</summary>
#
# Wrap into $[0, 2\pi)$, sort, take the differences of neighbours, and add the gap from the last
# angle back round to the first one plus $2\pi$.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_4_solution", "locked": false, "schema_version": 3, "solution": true}
def max_circular_gap(angles: torch.Tensor) -> float:
    """Largest gap (radians) between neighbouring angles around the circle."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_max_circular_gap(max_circular_gap)

# %% nbgrader={"grade": true, "grade_id": "ex4_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# `cv.find_curve_family` puts the pieces together. A unit joins the family when it fires at least
# twice as much on its best curve as on the line of the same orientation (selectivity ≥ 1/3) and
# its radial tuning curve has one clear lobe; members are then taken greedily, the most selective
# first, at least 20° apart. We ask for units that fire at least a tenth as much as the layer's
# strongest unit, so that nearly silent units do not count.

# %%
min_response = 0.1 * float(tuning[:, 1:].amax())
family = cv.find_curve_family(tuning, grid.orientations, grid.curvatures, min_response=min_response)
print(family.summary())
members = [f"ch {c} ({math.degrees(o):.0f}°)" for c, o in zip(family.channels, family.orientations)]
fam_tuning = tuning[family.channels].cpu()
fig, radial_data = plots.plot_radial_tuning(cv.radial_tuning(fam_tuning), grid.orientations, members,
                                            title=f"the curve family of {LAYER}")
fig, heat = plots.plot_tuning_heatmaps(fam_tuning, grid.orientations, grid.curvatures, members)

# %% [markdown]
# The check below re-measures every member from the model: at least six members, each firing at
# least twice as much on its curve as on its line, orientations leaving no gap above 90°.

# %% nbgrader={"grade": false, "grade_id": "family_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_curve_family(family, model, LAYER)

# %% [markdown]
# Two more synthetic tests from the Circuits article. **Cosmetic variation**: a curve detector
# should not care about stroke width, colour or background, so its radial tuning curve should
# keep its shape (high correlation with the base style). **Angles**: two straight arms meeting
# at the preferred orientation are a crude curve and should excite the unit too.

# %%
for name, style in cv.cosmetic_variants().items():
    t_var, _ = cv.tuning_map(model, LAYER, family.channels, n_orientations=24, curvatures=CURVATURES, style=style)
    r = cv.tuning_correlation(cv.radial_tuning(t_var.cpu()), cv.radial_tuning(fam_tuning))
    print(f"{name:>18}: radial tuning correlation with the base style, median over the family {r.median():.2f}")
angle_resp = cv.unit_responses(model, LAYER, cv.render_angles(family.orientations, math.pi / 2).to(device),
                               family.channels, "center").diagonal().cpu()
print("90° angles pointing at each member's orientation, response / best-curve response:",
      [round(float(a), 2) for a in angle_resp / family.curve_response])

# %% [markdown]
# ## 6. Rotating dataset examples: the hand-off
#
# If the family really detects one curve at many orientations, rotating a dataset example should
# hand its activation from one member to the next, each member peaking when the example's
# orientation passes through its own.
#
# ### Exercise 4.5: rotate images
# **Difficulty:** ★★★☆☆  **Importance:** ★★★☆☆
#
# Write `rotate_images(images, angle)` that turns a batch `[n, C, H, W]` **counter-clockwise**
# (with $y$ up) by `angle` radians about the image centre, with bilinear interpolation, so that an
# arc of orientation $t$ becomes an arc of orientation $t + \text{angle}$.
#
# <details><summary>Hint</summary>
#
# PyTorch's sampling grid says, for every *output* pixel, where to read the *input*: that is the
# inverse of the rotation you want. Its y axis points down while the exercise's points up, which flips
# the sign of the angle once more. Build one 2x3 affine matrix per image, keep `align_corners` the same
# in both calls, and test the direction on a single bright pixel before trusting it.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_5_solution", "locked": false, "schema_version": 3, "solution": true}
def rotate_images(images: torch.Tensor, angle: float) -> torch.Tensor:
    """Rotate ``[n, C, H, W]`` images counter-clockwise (y up) by ``angle`` radians."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_rotate_images(rotate_images)

# %% nbgrader={"grade": true, "grade_id": "ex4_5_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# Now the experiment, with the package's `cv.rotate_images`. For each member we take the eight
# clean dataset images (an arc, no line distractor) that excite it most, shift each so its arc
# sits at the centre (`cv.center_examples`), rotate them through 36 angles and record the whole
# family. The first figure shows each member's two favourite examples (another line of evidence:
# they should all be arcs facing the member's orientation); the second, the family's responses
# as the first member's examples turn. `cv.handoff` then estimates the examples' own orientation and asks whether each member
# peaks where its preferred orientation predicts.

# %%
clean = world.has_curve & ~world.has_line
examples = cv.center_examples(world.images[clean], world.masks["curve"][clean])
ex_resp = cv.unit_responses(model, LAYER, examples, family.channels, "center")
rot_angles = torch.arange(36) * (2 * math.pi / 36)
handoffs = []
for u in range(len(family)):
    top = ex_resp[:, u].topk(8).indices
    rotated = torch.cat([rotate_images(examples[top], float(a)) for a in rot_angles])   # your Exercise 4.5
    rot = cv.unit_responses(model, LAYER, rotated, family.channels, "center").reshape(len(rot_angles), 8, -1).mean(1)
    handoffs.append(cv.handoff(rot.cpu(), rot_angles, family.orientations))
print("mean peak error per experiment (degrees):", [round(math.degrees(h.mean_abs_error)) for h in handoffs])
top_examples = torch.cat([examples[ex_resp[:, u].topk(2).indices] for u in range(len(family))])
fig, top_shown = plots.plot_stimuli(top_examples, [m for m in members for _ in range(2)], ncols=10)
fig, rot_data = plots.plot_handoff(handoffs[0], members)

# %% nbgrader={"grade": false, "grade_id": "handoff_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_handoff_result(handoffs)

# %% [markdown]
# ## 7. Reading the weights
#
# Why does a member fire on its curve? `layer3` is computed by `layer3.1` from `layer3.0`, the pooled
# output of `layer2`, and `layer2` contains **edge and line units**: `cv.find_edge_units` measures
# each channel's preferred line orientation (orientations of lines are *axial*: $t$ and $t+\pi$ are
# the same line). Below are the kernels of `layer3.1` from the most orientation-selective edge units
# into each family member, red positive and blue negative, each multiplied by the edge unit's
# typical response so that loud and quiet units are comparable.

# %%
edges = cv.find_edge_units(model, "layer2")
order = edges.selectivity.argsort(descending=True)[:8]
kernels = cv.conv_weights(model, "layer3.1", family.channels, [edges.channels[i] for i in order]).cpu()
kernels = kernels * edges.scale[order][None, :, None, None]      # weight x typical response of the edge unit
fig, kernel_data = plots.plot_kernels(kernels, members,
                                      [f"edge {math.degrees(edges.orientations[i]):.0f}°" for i in order],
                                      title="layer3.1 kernels: edge units of layer2 (columns) into the family (rows)")
print(f"{len(edges.channels)} orientation-tuned units in layer2")

# %% [markdown]
# One kernel position of `layer3.1` reads `layer3.0` at a distance of 4 input pixels, i.e.
# `step = 2 / 32 * 4 = 0.25` half-widths. `arc_normal_field(k, step, orientation, curvature)`
# returns, for every kernel position, how close the unit's preferred arc passes (`near`, a
# Gaussian of the distance) and the arc's normal direction there (`normal`). The Circuits
# observation is that positive weight sits **along the curve, from edge units aligned with its
# tangent**.
#
# ### Exercise 4.6: tangent alignment
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Write `tangent_alignment(kernels, pre_orientations, orientation, curvature, step)` with
# `kernels` `[n_pre, k, k]` (weights from lower unit $i$ at position $p$) and axial
# `pre_orientations` $\varphi_i$:
#
# $$\frac{\sum_{i,p} w^+_{i,p}\,\text{near}(p)\,\cos\big(2(\varphi_i - \text{normal}(p))\big)}{\sum_{i,p} w^+_{i,p}}$$
#
# where $w^+$ is the positive part of the weights. Return a float (0.0 if there is no positive
# weight).
#
# <details><summary>Hint</summary>
#
# The package's `arc_normal_field` gives, for every kernel position, how near it is to the arc and
# the arc's normal direction there. The angle difference between each lower unit's orientation and
# the normal must broadcast over units and positions: add the missing axes so shapes `[n_pre]` and
# `[k, k]` meet in `[n_pre, k, k]`. Keep only the positive weights in both sums, and guard the case
# with none.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_6_solution", "locked": false, "schema_version": 3, "solution": true}
def tangent_alignment(kernels: torch.Tensor, pre_orientations: torch.Tensor, orientation: float,
                      curvature: float, step: float) -> float:
    """Share of positive weight on the curve from units aligned with its tangent, in [-1, 1]."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_6_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_tangent_alignment(tangent_alignment)

# %% nbgrader={"grade": true, "grade_id": "ex4_6_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# Alone, an alignment of, say, 0.1 means little. The control is to **shuffle** which orientation
# belongs to which edge unit: the same weights, the same geometry, but no relation between an
# edge unit's orientation and where its weight sits. We weight each edge unit's kernel by its
# typical response (`edges.scale`) so that loud and quiet units count fairly, average the
# alignment over the family, and compare with 200 shuffles.

# %%
STEP = 2 / 32 * 4
all_kernels = cv.conv_weights(model, "layer3.1", family.channels, edges.channels).cpu() * edges.scale[None, :, None, None]
best_curv = [float(grid.curvatures[fam_tuning[i].amax(-1).argmax()]) for i in range(len(family))]
align = [float(tangent_alignment(all_kernels[i], edges.orientations, float(family.orientations[i]), best_curv[i],
                                 STEP)) for i in range(len(family))]                  # your Exercise 4.6
null = torch.stack([cv.shuffled_alignment(all_kernels[i], edges.orientations, float(family.orientations[i]),
                                          best_curv[i], STEP, n_shuffles=200, seed=1) for i in range(len(family))])
family_alignment, family_null = sum(align) / len(align), null.mean(0)
print("tangent alignment per member:", [round(a, 2) for a in align])
print(f"family mean {family_alignment:.3f}; shuffled: mean {family_null.mean():.3f}, "
      f"95th percentile {family_null.quantile(0.95):.3f}")

# %% nbgrader={"grade": false, "grade_id": "alignment_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_alignment_result(family_alignment, family_null)

# %% [markdown]
# ### Exercise 4.7: equivariance
# **Difficulty:** ★★★☆☆  **Importance:** ★★★☆☆
#
# In an **equivariant** circuit, rotating both ends of a connection leaves its weight unchanged:
# the weight from input unit $i$ to output unit $o$ depends only on the difference of their
# orientations $d = \varphi_i - \theta_o$. Write `equivariance_score(weights, out_orientations,
# in_orientations)` for scalar weights `[n_out, n_in]`: fit
# $W_{oi} \approx a_0 + \sum_{k=1}^{2} a_k\cos(k d) + b_k\sin(k d)$ by least squares and return
# $R^2 = 1 - \text{SS}_\text{res}/\text{SS}_\text{tot}$ (about the mean), as a float; 0.0 when the
# weights are constant.
#
# <details><summary>Hint</summary>
#
# Each weight is one data point; its predictor is the angle difference between its input and
# output unit. Build a design matrix with one column per basis function (the constant and two
# harmonics of cosine and sine) and solve the least-squares problem with a `torch.linalg` solver.
# Float64 avoids a noisy R²; constant weights have zero total variance.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_7_solution", "locked": false, "schema_version": 3, "solution": true}
def equivariance_score(weights: torch.Tensor, out_orientations: torch.Tensor,
                       in_orientations: torch.Tensor) -> float:
    """R^2 of weights explained by a 2-harmonic function of the orientation difference."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_7_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_equivariance_score(equivariance_score)

# %% nbgrader={"grade": true, "grade_id": "ex4_7_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# In the Circuits article the symmetry shows most clearly between two **curve families** in
# consecutive layers (mixed3a into mixed3b): a curve unit excites the next layer's curve units of
# similar orientation and inhibits those of the opposite one. `layer2` has a curve family of its
# own, so we score the weights of `layer3.1` between the two families (each kernel summed, times the
# lower member's peak response) with the package's `cv.equivariance_score`, against 200 shuffles
# of the upper family's orientations. The package version also accepts whole kernels: it turns
# each kernel into its output unit's frame first, then fits every position.

# %%
tuning2, _ = cv.tuning_map(model, "layer2", n_orientations=24, curvatures=CURVATURES)
family2 = cv.find_curve_family(tuning2, grid.orientations, grid.curvatures,
                               min_response=0.1 * float(tuning2[:, 1:].amax()))
between = cv.conv_weights(model, "layer3.1", family.channels, family2.channels).cpu()
between = between * family2.curve_response[None, :, None, None]
g = torch.Generator().manual_seed(0)
shuffles = [torch.randperm(len(family), generator=g) for _ in range(200)]
# Summed kernels are scalar weights: your `equivariance_score` (Exercise 4.7) scores them; the library's
# version also handles whole kernels.
for name, w, score in (("summed kernels", between.sum((2, 3)), equivariance_score),
                       ("whole kernels", between, cv.equivariance_score)):
    real = float(score(w, family.orientations, family2.orientations))
    null_equi = torch.tensor([float(score(w, family.orientations[p], family2.orientations)) for p in shuffles])
    print(f"layer2 family ({len(family2)} units) -> layer3 family, {name}: R² {real:.3f}; shuffled mean "
          f"{null_equi.mean():.3f}, fraction of shuffles at least as high {(null_equi >= real).float().mean():.2f}")

# %% [markdown]
# **Expanded weights.** Between `layer2.0` and `layer3` sit two convolutions. Replacing the ReLU by the
# identity and max-pooling by average pooling turns that path into one linear map, whose gradient
# gives an effective kernel from every `layer2.0` channel (mostly edge and colour units of `layer1.0`)
# to our curve unit: `cv.expanded_weights(model, ["layer2.1", "layer2.2", "layer3.0", "layer3.1"], channel,
# linearize=True)`. It is an approximation here (the path has a ReLU); in networks with a linear
# bottleneck or a residual stream it is exact. Summed over input channels, the map of the first
# member shows the shape of its curve.

# %%
expanded = cv.expanded_weights(model, ["layer2.1", "layer2.2", "layer3.0", "layer3.1"], family.channels[0], size=16,
                               linearize=True).cpu()
edges1 = cv.find_edge_units(model, "layer1")
strongest = expanded[edges1.channels].abs().sum((1, 2)).argsort(descending=True)[:5]
panel = torch.cat([expanded.sum(0, keepdim=True), expanded[[edges1.channels[i] for i in strongest]]])[None]
fig, expanded_data = plots.plot_kernels(panel, [members[0]], ["sum"] + [f"ch {edges1.channels[i]}" for i in strongest],
                                        title="expanded weights from layer2.0 (16 x 16 positions) into a curve unit")

# %% [markdown]
# **The next layer uses the curves.** After `layer3` comes global average pooling and `head.2`, the
# classifier over orientation bins. If the family members are curve detectors, each should
# feed most strongly the class whose orientation matches its own.

# %%
fc = model.head[2].weight.detach().cpu()[:8, family.channels]            # [8 orientation classes, members]
class_angles = torch.arange(8) * (2 * math.pi / 8)
favourite = class_angles[fc.argmax(0)]
err = cv.angle_difference(favourite, family.orientations).abs()
print("class each member feeds most, minus its own orientation (degrees):",
      [round(math.degrees(e)) for e in cv.angle_difference(favourite, family.orientations)])
print(f"median mismatch {math.degrees(err.median()):.0f}° (45° bins; random would be about 90°)")

# %% [markdown]
# ## 8. A curve detector built by hand
#
# The strongest evidence: write the weights yourself. Our recipe reads the **edge units of
# `layer2`** (measured above) and, for an arc of orientation $\theta$ and curvature $\kappa$, gives
# edge unit $i$ at kernel position $p$ the weight
#
# $$w_{i,p} = \text{near}(p)\Big(\max(0, m)^2 - 0.5\max(0, -m)\Big) - 0.05\,(1 - \text{near}(p)),
# \qquad m = \cos\big(2(\varphi_i - \text{normal}(p))\big)$$
#
# (excite edges along the tangent, inhibit edges across it, a weak surround), divided by each edge
# unit's typical response. The detector runs on `layer2`'s map (one kernel position = 2 input
# pixels, `step = 0.125`) with a ReLU after it.
#
# ### Exercise 4.8: write the kernel
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★★
#
# Write `handbuilt_kernel(pre_orientations, orientation, curvature, step, kernel_size)` returning
# the kernel `[n_pre, k, k]` above (without the division by the scale, which we do outside).
#
# <details><summary>Hint</summary>
#
# Same ingredients as Exercise 4.6: the nearness and normal field of the arc, and the cosine of
# twice the angle between each lower unit and the normal, as a `[n_pre, k, k]` tensor. Then apply the
# formula term by term: the positive part squared, the negative part halved, the surround outside the arc.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_8_solution", "locked": false, "schema_version": 3, "solution": true}
def handbuilt_kernel(pre_orientations: torch.Tensor, orientation: float, curvature: float, step: float,
                     kernel_size: int) -> torch.Tensor:
    """Hand-written curve-detector kernel ``[n_pre, k, k]`` from axial edge orientations."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_8_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_handbuilt_kernel(handbuilt_kernel)

# %% nbgrader={"grade": true, "grade_id": "ex4_8_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# We now build one hand-made detector per family member, at the member's orientation and best
# curvature, with the package's `cv.build_curve_detectors` (the same kernel as yours), and measure
# its tuning on the same stimuli as the learned unit. We report every member and show the
# best-matched pair.

# %%
HB_CONFIG = cv.HandBuiltConfig(kernel_size=9)
correlations, built_maps = [], []
for i in range(len(family)):
    detector = cv.build_curve_detectors(model, edges, family.orientations[i:i + 1], best_curv[i], 0.125, HB_CONFIG)
    built, _ = cv.tuning_map(detector, "relu", grid=grid)
    built_maps.append(built[0].cpu())
    correlations.append(float(cv.tuning_correlation(cv.radial_tuning(built[0].cpu()), cv.radial_tuning(fam_tuning[i]))))
best = max(range(len(family)), key=correlations.__getitem__)
print("radial tuning correlation, hand-built vs learned, per member:", [round(c, 2) for c in correlations])
print(f"median {torch.tensor(correlations).median():.2f}; best: {members[best]} at r = {correlations[best]:.2f}")
fig, hb_data = plots.plot_handbuilt_vs_learned(fam_tuning[best], built_maps[best], grid.orientations,
                                               grid.curvatures, (f"learned {members[best]}", "hand-built"))

# %% nbgrader={"grade": false, "grade_id": "handbuilt_result", "locked": true, "schema_version": 3, "solution": false}
checks.check_handbuilt_result(hb_data["learned"], hb_data["built"])

# %% [markdown]
# ## 9. Polysemantic units
#
# Not every unit is as tidy as a curve detector. The curve world draws **concept masks** for each
# image: the arc, its orientation bin (`curve_0` ... `curve_315`), lines, shapes, stroke colours
# and background textures. Scoring every unit on every concept finds units that respond to two
# concepts that have nothing to do with each other.
#
# ### Exercise 4.9: concept scores
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `concept_scores(acts, masks)` for activations `[n, C, h, w]` and a dict of boolean masks
# `[n, H, W]` (image resolution): shrink each mask to `(h, w)` with
# `F.adaptive_avg_pool2d` (coverage fractions), count a position as showing the concept when its
# fraction is above 0.5, and return `[C, n_concepts]` (in the dict's order) with
# `(mean activation on the concept's positions - mean activation) / std of activation`, mean and
# std of each unit taken over images and positions.
#
# <details><summary>Hint</summary>
#
# Shrink each mask by average pooling to the activation size, then threshold the coverage. For the
# mean on the concept's positions, you want, for every channel, the activations at the positions where
# the `[n, h, w]` mask is true: move the channel axis out of the way so one boolean index selects them.
# The mean and std of each unit are over images and positions together.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex4_9_solution", "locked": false, "schema_version": 3, "solution": true}
def concept_scores(acts: torch.Tensor, masks: dict[str, torch.Tensor]) -> torch.Tensor:
    """Standardised mean activation of each unit on each concept, ``[C, n_concepts]``."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex4_9_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_concept_scores(concept_scores)

# %% nbgrader={"grade": true, "grade_id": "ex4_9_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# Two concepts are **unrelated** when they belong to different groups (strokes, i.e. curves and
# lines; colours; textures; shapes) and their masks hardly overlap, and no third concept that the
# unit likes contains them both (the red pixels may be red curves). `cv.find_polysemantic` lists
# the units with two unrelated concepts above one standard deviation.

# %%
_, cache = run_with_cache(model, world.images[:1500].to(device), [LAYER])
sub_masks = {k: v[:1500] for k, v in world.masks.items()}
scores = concept_scores(cache[LAYER], sub_masks)                   # your Exercise 4.9
poly = cv.find_polysemantic(scores, list(sub_masks), cv.concept_overlap(sub_masks), threshold=1.0)
print(f"{len(poly)} of {scores.shape[0]} units of {LAYER} fire on two unrelated concepts, e.g.:")
for unit in poly[:5]:
    print(f"  channel {unit.channel}: {unit.concepts[0]} ({unit.scores[0]:.1f} sd) and {unit.concepts[1]} "
          f"({unit.scores[1]:.1f} sd)")
shown_units = [u.channel for u in poly[:6]] or list(range(6))
fig, score_data = plots.plot_concept_scores(scores[shown_units], list(sub_masks), shown_units)

# %% [markdown]
# ## 10. The original: mixed3b of ImageNet GoogLeNet (optional)
#
# With torchvision's ImageNet GoogLeNet weights on this machine (a local file; nothing is
# downloaded), the same family search runs on `inception3b`, the Circuits article's mixed3b.

# %%
if pretrained_weights_path("googlenet") is None:
    print("No local GoogLeNet ImageNet weights (set MI_TUTOR_GOOGLENET_WEIGHTS), so the mixed3b analysis is skipped.")
else:
    inception = ResizedInput(zoo.load("googlenet_imagenet", device=device), size=112)
    style = StimulusStyle(length=0.9, width=0.05)
    t3b, g3b = cv.tuning_map(inception, MIXED3B, n_orientations=16, curvatures=[0.0, 2.0, 3.0, 4.0], style=style)
    fam3b = cv.find_curve_family(t3b, g3b.orientations, g3b.curvatures, min_response=0.1 * float(t3b.amax()))
    print(f"mixed3b: {len(fam3b)} curve-family members\n{fam3b.summary()}")

# %% [markdown] nbgrader={"grade": true, "grade_id": "written_1", "locked": false, "points": 3, "schema_version": 3, "solution": true}
# **Written question.** The Circuits article gives seven lines of evidence for curve detectors:
# feature visualisation, dataset examples, synthetic stimuli, the joint tuning of a family under
# rotation, the weights (tangent alignment and equivariance), the next layer's use of curves,
# and a hand-built replica. For the family you found: which of these did you check here, which
# came out convincing and which weak (quote your numbers)? Which single result, had it come out
# differently, would have made you drop the claim "these units are curve detectors"? In a few
# sentences, what does the existence of polysemantic units in the same layer mean for how far
# the claim generalises to the rest of the layer?
#
# YOUR ANSWER HERE

# %% [markdown]
# ## Summary
#
# - Controlled stimuli turn "this unit likes curves" into numbers: a tuning map over orientation
#   and curvature, a radial tuning curve, a preferred orientation, and a curve-versus-line ratio.
# - A **family** is several units detecting the same feature rotated; its preferred orientations
#   tile the circle, and rotating an example hands activation from member to member.
# - Weights can be read when the units at both ends are understood: positive weight from edge units
#   follows the curve's tangent, and weights between two curve families depend on the members'
#   orientation difference. Both effects are small in absolute terms; their shuffled controls are
#   what turn them into evidence.
# - A detector whose weights we wrote from that reading reproduces a learned detector's tuning:
#   the strongest evidence that we understand the mechanism, and a clear measure of how much we
#   still miss where it does not.
# - Many units of the same layer are polysemantic: clean circuits are islands.
#
# ## Further reading
#
# - Cammarata et al., [Curve Detectors](https://distill.pub/2020/circuits/curve-detectors/) (Distill, 2020).
# - Cammarata et al., [Curve Circuits](https://distill.pub/2020/circuits/curve-circuits/) (Distill, 2021).
# - Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/) (Distill, 2020),
#   including the pose-invariant dog-head and car circuits.
# - Olah et al., [Naturally Occurring Equivariance in Neural Networks](https://distill.pub/2020/circuits/equivariance/)
#   (Distill, 2020).
# - Olah et al., [An Overview of Early Vision in InceptionV1](https://distill.pub/2020/circuits/early-vision/)
#   (Distill, 2020).
# - Voss et al., [Visualizing Weights](https://distill.pub/2020/circuits/visualizing-weights/) (Distill, 2021),
#   on expanded weights.
