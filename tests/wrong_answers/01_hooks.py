"""Plausible mistakes in lesson 1, for the fake cohort's "wrong" student."""

REPLACEMENTS = {
    # Forgets to remove the hooks: the activations are right, the clean-up test fails.
    "ex1_1_solution": '''def capture_activations(model, x, names):
    modules = dict(model.named_modules())
    store = {}
    for name in names:
        def hook(module, inputs, output, name=name):
            store[name] = output.detach()
        modules[name].register_forward_hook(hook)
    with torch.no_grad():
        model(x)
    return store
''',
    # Zeroes the wrong axis (a spatial row instead of a channel).
    "ex1_3_solution": '''def zero_channel_hook(channel):
    def hook_fn(activation, hook):
        activation = activation.clone()
        activation[:, :, channel] = 0.0
        return activation
    return hook_fn
''',
}
