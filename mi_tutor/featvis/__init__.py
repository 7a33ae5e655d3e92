"""Feature visualization: objectives, transforms, parameterisations, render loop, DeepDream.

Reference implementations for lesson 3.

Examples:
    >>> from mi_tutor.featvis import channel, render
"""

from .objectives import (Objective, channel, channel_loss, channels, deepdream, direction, direction_loss, diversity,
                         diversity_loss, neuron, neuron_loss)
from .param import COLOR_CORRELATION, FourierImage, PixelImage, decorrelate_colors, fft_frequencies, fft_scale, \
    spectrum_to_image
from .agreement import layer_signature, own_unit_rank, vis_example_agreement
from .compare import arc_energy, circular_mean, decode_orientation, example_crops
from .render import RenderResult, deepdream_step, high_frequency_share, radial_spectrum, render, run_deepdream
from .transforms import compose, jitter, pad, random_jitter, random_rotate, random_scale, resize, standard_transforms

__all__ = [
    "Objective", "channel", "channel_loss", "channels", "deepdream", "direction", "direction_loss", "diversity",
    "diversity_loss", "neuron", "neuron_loss",
    "COLOR_CORRELATION", "FourierImage", "PixelImage", "decorrelate_colors", "fft_frequencies", "fft_scale",
    "spectrum_to_image",
    "layer_signature", "own_unit_rank", "vis_example_agreement",
    "arc_energy", "circular_mean", "decode_orientation", "example_crops",
    "RenderResult", "deepdream_step", "high_frequency_share", "radial_spectrum", "render", "run_deepdream",
    "compose", "jitter", "pad", "random_jitter", "random_rotate", "random_scale", "resize", "standard_transforms",
]
