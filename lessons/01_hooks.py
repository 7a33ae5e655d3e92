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
# # Lesson 1: Networks as programs: hooks and activations
#
# A trained network is a program that nobody wrote. Gradient descent "compiled" it into millions of
# numbers, and mechanistic interpretability is the craft of decompiling those numbers back into
# steps a person can read. Before we can read anything we need the two basic tools of every
# reverse engineer: a way to **watch** the program's intermediate state, and a way to **edit** it
# while it runs and see what breaks.
#
# **Central claim.** Hooks that watch and edit a network's activations by name turn a trained model
# into a program you can step through, and the logit drop of an ablation ranks what it actually uses.
#
# **Learning objectives.** After this lesson you can
#
# - explain why a trained network is a program, and why reading it is harder than reading source code;
# - capture any layer's activations by name with PyTorch forward hooks, and list a network's layers;
# - edit activations during a forward pass (zero or scale a channel) with a hook;
# - measure what an edit costs the network, and rank the channels of a layer by that cost.
#
# **Prerequisites.** Python, basic PyTorch (`nn.Module`, tensors, a forward pass) and what a
# convolution is. No interpretability background.
#
# **Estimated time.** 1.5-2 hours. The notebook itself runs in well under a minute on a laptop CPU.
#
# **How this works.** Exercises have a difficulty (★ easy to ★★★★★ hard), a hint you can unfold, a
# visible test you can run, and hidden tests the grader adds (other seeds and shapes). Write
# your code between the lines of the solution cells and replace `raise NotImplementedError()`.

# %% nbgrader={"grade": false, "grade_id": "setup", "locked": true, "schema_version": 3, "solution": false}
from mi_tutor.course.setup import setup_lesson

device = setup_lesson(seed=0)

import matplotlib.pyplot as plt
import torch
from torch import nn

from mi_tutor import zoo
from mi_tutor.checks import lesson01 as checks
from mi_tutor.patching import scale_sweep
from mi_tutor.hooks import run_with_cache, run_with_hooks
from mi_tutor.vision import SHAPE_KINDS, render_shapes
from mi_tutor.vision.plots import plot_bars, plot_curve, show_feature_maps, show_images

print(f"Running on {device}")

# %% [markdown]
# ## 1. The program we will read
#
# Our subject is a small convolutional network from the course's model zoo. It was trained to tell
# four shapes apart (a disk, a square, a triangle and a bar) in a procedural image world that the
# package draws on the fly: each image holds one shape with a random colour, size, position and
# rotation on a textured grey background. Because we generate the world, we know everything about
# every image, which is what makes it a good laboratory.

# %%
model = zoo.load("convnet_shapes_s0", device=device)
kinds = SHAPE_KINDS  # ("disk", "square", "triangle", "bar"): label i is kinds[i]
world = render_shapes(512, seed=1)
images, labels = world.images.to(device), world.labels.to(device)

fig, shown = show_images(world.images[:16], [kinds[i] for i in world.labels[:16]])
with torch.no_grad():
    clean_accuracy = (model(images).argmax(-1) == labels).float().mean().item()
print(f"Accuracy on 512 fresh images: {clean_accuracy:.1%}")
model

# %% [markdown]
# **Figure.** Sixteen scenes of the shape world, each titled with its label: one shape per image, with a
# random colour, size, position and rotation on a grey textured ground. The network names almost all of
# them correctly: the printed accuracy on 512 fresh images is 99.8%.

# %% [markdown]
# The analogy between a network and a compiled program is worth making precise, because the rest
# of the course leans on it:
#
# | A compiled program | A trained network |
# |---|---|
# | the binary's instructions | the learned parameters |
# | the virtual machine that runs it | the architecture (conv, ReLU, pooling, attention...) |
# | the program's variables and memory | activations, the residual stream |
# | a function or subroutine | a circuit: units and the weights that connect them |
# | a debugger's watch and breakpoints | hooks that capture and edit activations |
#
# Why not simply read the weights, since we can see every one of them? Because we cannot see what
# they *mean*. A linear regression of wages on age is transparent: one coefficient, one meaning.
# A deep network earns its accuracy through non-linearities that make each unit's effect depend on
# all the others, and through high-dimensional layers that can store features as directions that mix
# many channels. Looked at from outside, input in and prediction out, it is a *black box*: we know
# that it works, not how, which matters as soon as we must trust it, debug it or find where it
# will fail.
#
# Printing the model shows its *architecture*: the source code's control flow, if you like. What it
# does not show is the **program**: the learned weights that decide what each channel computes. A
# conventional decompiler can lean on the structure of the compiler that produced a binary; here
# the "compiler" is gradient descent, the instructions are continuous, every unit talks to every
# unit of the next layer through a non-linearity, and a layer with 64 channels lives in a
# 64-dimensional space whose directions need not line up with the channels at all. That is why
# we start by looking at the intermediate state directly.
#
# ## 2. Watching: forward hooks
#
# PyTorch lets you attach a function to any submodule that runs right after the module's forward
# pass: `module.register_forward_hook(fn)`, where `fn(module, inputs, output)` sees the output and
# may return a replacement. Registering returns a *handle*; `handle.remove()` detaches the hook.
# Submodules are addressed by the names of `model.named_modules()`. Like every CNN of the zoo, this
# one is laid out in stages: `layer1` (its conv `layer1.0`, its ReLU `layer1.1`), `layer2` (pooling
# `layer2.0`, conv `layer2.1`, ReLU `layer2.2`), `layer3`, then `head` (average pooling `head.0`,
# flatten, the linear readout `head.2`). A stage's output is its post-ReLU feature map.

# %% [markdown]
# ### Exercise 1.1: capture activations by name
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★★
#
# Write `capture_activations(model, x, names)` that runs `model(x)` once and returns a dict mapping
# each requested module name to the output that module produced (detached from the autograd graph).
# Every hook you add must be removed before the function returns, even if the forward pass fails, and
# the model and `x` are left as they were.
#
# <details><summary>Hint</summary>
#
# Two traps. A hook defined inside a `for` loop looks up the loop variable when it *runs*, not
# when it is defined, so every hook would store under the last name: bind the current value when
# you define the function (a default argument does it). And a forward pass can raise: put the clean-up
# where it runs whether or not the pass succeeded. `model.named_modules()` yields `(name, module)` pairs.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex1_1_solution", "locked": false, "schema_version": 3, "solution": true}
def capture_activations(model: nn.Module, x: torch.Tensor, names: list[str]) -> dict[str, torch.Tensor]:
    """Run ``model(x)`` and return ``{name: output of that module}`` for each name."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex1_1_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_capture_activations(capture_activations)

# %% nbgrader={"grade": true, "grade_id": "ex1_1_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# The package's own version of this tool is `mi_tutor.hooks.run_with_cache(model, x, names)`, named
# after TransformerLens, which we will meet in the transformer lessons. It returns
# `(output, cache)` and the cache tells you which names exist when you ask for one that does not.
# Here, captured by your function, are the 16 feature maps of the first convolution for one image:
# many are plainly edge detectors of one orientation, or colour detectors.

# %%
acts = capture_activations(model, images[:1], ["layer1.0", "layer3"])
fig, maps = show_feature_maps(acts["layer1.0"][0], title=f"layer1.0 (the first conv) on a {kinds[labels[0]]}")
print({name: tuple(act.shape) for name, act in acts.items()})

# %% [markdown]
# **Figure.** The 16 feature maps of the first convolution on one image. Notice that some maps fill the
# square and others trace its edges: the first layer already reacts to where the shape is. The printed
# shapes, (1, 16, 32, 32) for `layer1.0` and (1, 64, 8, 8) for `layer3`, say what each map grid holds: one
# 32 by 32 map per channel at full resolution.

# %% [markdown]
# ### Exercise 1.2: list the layers
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★☆☆
#
# Write `layer_table(model, x)` that returns a list with one row per **leaf** module (a module without
# children), in the order the forward pass runs them, each row a tuple
# `(name, number_of_parameters, output_shape)`, where `output_shape` is a tuple of ints for the batch `x`.
# It leaves the model and `x` unchanged, with no hook left behind.
#
# <details><summary>Hint</summary>
#
# A leaf is a module with no child modules. Dictionary order of `named_modules()` is definition
# order, which need not be the order the forward pass runs: let the hooks tell you the order by
# recording each row *when it fires*. Count every parameter of the module, weights and biases.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex1_2_solution", "locked": false, "schema_version": 3, "solution": true}
def layer_table(model: nn.Module, x: torch.Tensor) -> list[tuple[str, int, tuple[int, ...]]]:
    """One ``(name, n_params, output_shape)`` row per leaf module, in execution order."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex1_2_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_layer_table(layer_table)


# %% nbgrader={"grade": true, "grade_id": "ex1_2_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ## 3. Editing: interventions in the forward pass
#
# Watching tells us what is computed; it does not tell us what is **used**. For that we intervene:
# change an activation during the forward pass and see what the output loses. A hook that returns a
# tensor replaces the module's output with it. The simplest intervention is a *zero ablation*:
# set one channel to zero everywhere.
#
# In the course's convention (shared with TransformerLens) a hook function has the signature
# `hook_fn(activation, hook)`, where `hook.name` is the module's name, and it returns the new
# activation; `run_with_hooks(model, x, fwd_hooks=[(name, hook_fn)])` runs the model with it.

# %% [markdown]
# ### Exercise 1.3: a hook that zeroes a channel
# **Difficulty:** ★☆☆☆☆  **Importance:** ★★★★☆
#
# Write `zero_channel_hook(channel)` that **returns a function** `hook_fn(activation, hook)` which
# returns the activation `[batch, channels, height, width]` with channel `channel` set to zero and
# every other channel untouched, without modifying the tensor it receives.
#
# <details><summary>Hint</summary>
#
# A function that builds and returns another function (a closure). Clone the activation before
# editing it so the original is not modified.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex1_3_solution", "locked": false, "schema_version": 3, "solution": true}
def zero_channel_hook(channel: int):
    """Return ``hook_fn(activation, hook)`` that zeroes ``activation[:, channel]``."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex1_3_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_zero_channel_hook(zero_channel_hook)


# %% nbgrader={"grade": true, "grade_id": "ex1_3_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 1.4: what does one channel cost?
# **Difficulty:** ★★☆☆☆  **Importance:** ★★★★☆
#
# Write `accuracy_after_ablation(model, images, labels, layer, channel)` that returns the
# classification accuracy (a Python float in [0, 1], not a tensor) of `model` on `images` when
# `channel` of module `layer` is zeroed, leaving the model and the images unchanged. Use
# `run_with_hooks` and your hook from 1.3.
#
# <details><summary>Hint</summary>
#
# Pass `fwd_hooks=[(layer, your_hook)]` to `run_with_hooks`, then compare the predicted classes
# (`argmax` over the logit axis) with `labels`. No gradients are needed: use `torch.no_grad()`.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex1_4_solution", "locked": false, "schema_version": 3, "solution": true}
def accuracy_after_ablation(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                            layer: str, channel: int) -> float:
    """Accuracy of ``model`` on ``images`` with ``channel`` of ``layer`` zeroed."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex1_4_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_accuracy_after_ablation(accuracy_after_ablation)


# %% nbgrader={"grade": true, "grade_id": "ex1_4_hidden", "locked": true, "points": 1, "schema_version": 3, "solution": false}

# %% [markdown]
# ### Exercise 1.5: rank the channels of a layer
# **Difficulty:** ★★★☆☆  **Importance:** ★★★★☆
#
# Accuracy is a blunt instrument: it only changes when a prediction flips. A finer measure is the
# **logit drop**: the mean, over images, of the correct class's logit in the clean run minus the
# same logit with the channel zeroed. Write `channel_importance(model, images, labels, layer)`
# returning a tensor `[channels]` with the logit drop of zeroing each channel of `layer` alone (the
# model and the images are left unchanged).
#
# <details><summary>Hint</summary>
#
# You need the clean correct-class logits once, then one ablated run per channel. Selecting one
# entry per row (the label's logit) is a job for indexing along the class axis with the labels; a
# mean over *all* logits instead of the correct one is a common slip. How many channels does the
# layer have? Capture it once and look at axis 1.
#
# </details>

# %% nbgrader={"grade": false, "grade_id": "ex1_5_solution", "locked": false, "schema_version": 3, "solution": true}
def channel_importance(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, layer: str) -> torch.Tensor:
    """``[channels]`` mean drop of the correct-class logit when each channel of ``layer`` is zeroed."""
    # YOUR CODE HERE
    raise NotImplementedError()


# %% nbgrader={"grade": true, "grade_id": "ex1_5_visible", "locked": true, "points": 1, "schema_version": 3, "solution": false}
checks.check_channel_importance(channel_importance)

# %% nbgrader={"grade": true, "grade_id": "ex1_5_hidden", "locked": true, "points": 2, "schema_version": 3, "solution": false}

# %% [markdown]
# Now on the real model, with your function. The figure ranks the 64 channels of the last
# convolutional stage (`layer3`) by how many logits the correct class loses without them. The locked
# check under it reads the numbers behind the figure (it carries no points: Exercise 1.5 has its own
# tests, but a wrong answer shows here); the package's reference version,
# `mi_tutor.patching.channel_logit_drops`, gives the same figure if you want to compare.

# %%
# 256 of the images: 64 ablated runs of 256 images cost a third of 64 runs of 512, and the ranking
# they give is the same (see the figure's note).
importance = channel_importance(model, images[:256], labels[:256], "layer3")
top = int(importance.argmax())
fig, bars = plot_bars(importance, "channel of layer3", "correct-class logit drop",
                      "What each channel of layer3 is worth", highlight=top)
print(f"Most important channel: {top} (drop {importance[top]:.2f} logits); "
      f"median channel: {importance.median():.2f} logits")

# %% [markdown]
# **Figure.** The logit drop when each `layer3` channel is zeroed, with the largest bar highlighted.
# Notice how uneven the bars are: the printed top channel 14 costs 1.73 logits while the median channel
# costs 0.19, about nine times less. On six fresh batches of 256 images (`render_shapes(256, seed=s)`,
# s = 1 to 6) the top channel is 14 every time, its drop between 1.43 and 2.27 and the median between
# 0.17 and 0.22: which channel leads is a property of the model, the exact size of its drop is not.

# %% nbgrader={"grade": false, "grade_id": "fig1_importance", "locked": true, "schema_version": 3, "solution": false}
checks.check_importance_result(bars, n_channels=model.cfg.channels[-1])

# %% [markdown]
# A few channels carry much of the decision and most carry little: the program has structure we can
# find by intervening. Zeroing is one edit among many. Scaling the top channel up and down shows a
# smooth, roughly monotone dependence of the correct logit on that single number, which is the
# first hint that a channel can behave like a variable the rest of the program reads.

# %%
factors = [0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0]
sweep = scale_sweep(model, images, labels, "layer3", top, factors)
fig, (xs, ys) = plot_curve(factors, sweep, f"scale of layer3 channel {top}", "mean correct-class logit",
                           "Turning one channel up and down")

# %% [markdown]
# **Figure.** The mean correct-class logit as channel 14 of `layer3` is scaled from 0 to 3. The curve
# rises steadily with the scale; the check below prints its three landmarks, 13.35 when the channel is
# removed, 15.10 at its normal value and 18.62 at three times that.

# %% nbgrader={"grade": false, "grade_id": "fig1_sweep", "locked": true, "schema_version": 3, "solution": false}
checks.check_scale_sweep_result(ys, factors)

# %% [markdown] nbgrader={"grade": true, "grade_id": "written1_1", "locked": false, "points": 2, "schema_version": 3, "solution": true}
# **Written question (graded by hand).** In what sense is the trained network a program, and why is
# decompiling it harder than decompiling an ordinary binary? Name two obstacles, and say what your
# ablation results above tell you about whether the channels of `layer3` are a good "unit of reading".
#
# YOUR ANSWER HERE

# %% nbgrader={"grade": false, "grade_id": "results", "locked": true, "schema_version": 3, "solution": false}
# The numbers this lesson measured, for the table that ends its page on the course site.
from mi_tutor.course.results import record

record("accuracy of convnet_shapes_s0 on fresh images", 100 * clean_accuracy, unit="%", digits=1)
record(f"correct-class logit drop when layer3 channel {top} (the most important) is zeroed", importance[top],
       unit="logits", digits=2)
record("correct-class logit drop of the median layer3 channel", importance.median(), unit="logits", digits=2)
record(f"mean correct-class logit with channel {top} scaled by 0, 1 and 3",
       f"{float(ys[0]):.2f}, {float(ys[factors.index(1.0)]):.2f}, {float(ys[-1]):.2f}")


# %% [markdown]
# ## Summary
#
# - A network's weights are a program written by gradient descent; interpretability reads it.
# - Forward hooks **watch** (capture activations by name) and **edit** (return a replacement).
# - Interventions measure what is *used*, not just what is *computed*: the logit drop of an
#   ablation is finer than accuracy, and ranks channels.
# - The tools here, under their TransformerLens names `run_with_cache` and `run_with_hooks`, are the
#   ones every later lesson uses, on CNNs and on transformers alike.
#
# ## Further reading
#
# - Olah et al., [Zoom In: An Introduction to Circuits](https://distill.pub/2020/circuits/zoom-in/) (Distill, 2020).
# - Elhage et al., [A Mathematical Framework for Transformer Circuits](https://transformer-circuits.pub/2021/framework/index.html) (2021).
# - Meyes et al., [Ablation Studies in Artificial Neural Networks](https://arxiv.org/abs/1901.08644) (2019).
# - PyTorch documentation: [`register_forward_hook`](https://pytorch.org/docs/stable/generated/torch.nn.Module.html#torch.nn.Module.register_forward_hook).
