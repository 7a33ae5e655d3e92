"""Plausible mistakes in lesson 2, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Takes the *lowest* 0.5% instead of the top 0.5% (quantile instead of 1 - quantile).
    "ex2_4_solution": '''def quantile_thresholds(acts: torch.Tensor, quantile: float = 0.005) -> torch.Tensor:
    """``acts`` [n, units, h, w] -> [units] thresholds exceeded by a fraction ``quantile`` of values."""
    return torch.quantile(acts.transpose(0, 1).flatten(1), quantile, dim=1)
''',
    # Averages per-image IoUs instead of accumulating intersections and unions over the dataset.
    "ex2_5_solution": '''def dissection_iou(acts: torch.Tensor, masks: torch.Tensor, thresholds: torch.Tensor) -> torch.Tensor:
    """``acts`` [n, units, h, w], ``masks`` [n, concepts, H, W] bool, ``thresholds`` [units] -> IoU [units, concepts]."""
    up = torch.nn.functional.interpolate(acts, size=masks.shape[-2:], mode="bilinear", align_corners=False)
    on = (up > thresholds[None, :, None, None]).float()
    lab = masks.float()
    inter = torch.einsum("nuhw,nchw->nuc", on, lab)
    union = on.sum((2, 3))[:, :, None] + lab.sum((2, 3))[:, None, :] - inter
    return (inter / union.clamp_min(1e-10)).mean(0)
''',
}
