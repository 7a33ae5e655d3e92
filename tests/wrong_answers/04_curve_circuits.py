"""Plausible mistakes in lesson 4, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Takes the orientation of the largest response instead of the response-weighted direction.
    "ex4_2_solution": '''def preferred_orientation(radial, orientations):
    return orientations[radial.argmax(-1)]
''',
    # Builds the rotation matrix for y pointing down: the images turn clockwise.
    "ex4_5_solution": '''def rotate_images(images, angle):
    n = images.shape[0]
    c, s = math.cos(angle), math.sin(angle)
    theta = torch.tensor([[c, s, 0.0], [-s, c, 0.0]], dtype=images.dtype, device=images.device)
    grid = F.affine_grid(theta.expand(n, 2, 3), list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)
''',
    # Sums the responses instead of averaging them: the more frequent pose wins.
    "ex4_12_solution": '''def pose_index(acts, facing):
    left, right = acts[facing < 0].sum(0), acts[facing > 0].sum(0)
    return (left - right) / (left + right).clamp_min(1e-8)
''',
}
