"""Plausible mistakes in lesson 9, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Reads the logits at the first position instead of END.
    "ex9_1_solution": '''def logit_diff(logits, io, s):
    first = logits[:, 0]
    rows = torch.arange(first.shape[0])
    return first[rows, io] - first[rows, s]
''',
    # Noising instead of denoising: patches the corrupt activation into the clean run.
    "ex9_4_solution": '''def patch_residual_sweep(model, clean, corrupt, metric):
    _, cache = model.run_with_cache(corrupt)
    out = torch.zeros(model.cfg.n_layers, clean.shape[1])
    for layer in range(model.cfg.n_layers):
        name = f"blocks.{layer}.hook_resid_pre"
        for p in range(clean.shape[1]):
            def hook(act, hook, p=p, name=name):
                act = act.clone()
                act[:, p] = cache[name][:, p]
                return act
            with torch.no_grad():
                out[layer, p] = float(metric(model.run_with_hooks(clean, fwd_hooks=[(name, hook)])))
    return out
''',
}
