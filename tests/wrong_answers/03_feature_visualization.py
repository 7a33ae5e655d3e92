"""Plausible mistakes in lesson 3, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Forgets the sign: the render loop minimises, so this would *suppress* the unit.
    "ex3_1_solution": '''def channel_loss(acts: torch.Tensor, unit: int) -> torch.Tensor:
    """``acts`` [batch, channels, h, w] -> scalar: minus the mean of channel ``unit``."""
    return acts[:, unit].mean()
''',
    # Swaps the offsets: ox moves the rows, oy the columns.
    "ex3_3_solution": '''def jitter(images: torch.Tensor, d: int, ox: int, oy: int) -> torch.Tensor:
    """``images`` [batch, C, H, W] -> the [batch, C, H-d, W-d] window at column ``ox``, row ``oy``."""
    h, w = images.shape[-2:]
    return images[..., ox:h - d + ox, oy:w - d + oy]
''',
}
