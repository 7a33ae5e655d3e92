"""Plausible mistakes in lesson 12, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Reads each channel's spatial maximum instead of its mean.
    "ex12_1_solution": '''def read_pooled(host, images, layers):
    _, cache = hooks.run_with_cache(host, images, list(layers))
    return torch.cat([cache[name].flatten(2).amax(-1) for name in layers], -1).detach()
''',
    # Returns the pair in the wrong order (other drop first).
    "ex12_4_solution": '''def selectivity(host, layer, data, concept, gates):
    on = data.has(concept).to(data.images.device)
    with torch.no_grad():
        before = host(data.images).argmax(-1) == data.labels
        after = symbiote.run_gated(host, data.images, layer, gates).argmax(-1) == data.labels
    target = before[on].float().mean() - after[on].float().mean()
    other = before[~on].float().mean() - after[~on].float().mean()
    return float(other), float(target)
''',
    # Counts tied pairs as losses instead of halves.
    "ex12_6_solution": '''def auroc(scores, labels):
    y = labels.bool()
    pos, neg = scores[y].double()[:, None], scores[~y].double()[None, :]
    return float((pos > neg).double().mean())
''',
}
