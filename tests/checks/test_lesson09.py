"""Lesson 9's checks accept the reference and reject plausible mistakes with a message that names them."""

from __future__ import annotations

import pytest

from mi_tutor import patching as P


def test_lesson09_checks_accept_the_reference_and_reject_mistakes():
    from mi_tutor.checks import lesson09 as checks
    from mi_tutor.checks.core import CheckFailure

    checks.check_logit_diff(lambda logits, io, s: P.logit_diff(logits, io, s, reduce=False))
    with pytest.raises(CheckFailure, match="logit_diff"):
        checks.check_logit_diff(lambda logits, io, s: P.logit_diff(logits, s, io, reduce=False))  # S minus IO
    checks.check_normalized_metric(P.normalized_metric)
    with pytest.raises(CheckFailure, match="expected"):
        checks.check_normalized_metric(lambda ld, c, k: (ld - c) / (k - c))  # the -1..0 scale turned around
    checks.check_patch_residual_sweep(lambda m, c, k, f: P.patch_residual(m, c, k, f))
    with pytest.raises(CheckFailure, match="noising"):
        checks.check_patch_residual_sweep(lambda m, c, k, f: P.patch_residual(m, c, k, f, direction="noise"))
    checks.check_patch_head_sweep(lambda m, c, k, f: P.patch_heads(m, c, k, f, per_position=True))
    with pytest.raises(CheckFailure):
        checks.check_patch_head_sweep(lambda m, c, k, f: P.patch_heads(m, c, k, f, per_position=True, direction="noise"))
    checks.check_path_patch(lambda m, c, k, f, s, r, w, p: P.path_patch(m, k, c, f, (0, s), [P.Receiver(1, r, w, p)]))
    with pytest.raises(CheckFailure, match="straight from the CLEAN run"):
        checks.check_path_patch(lambda m, c, k, f, s, r, w, p: f(P.patch(m, k, c, f"blocks.1.attn.hook_{w}", p, [r])))
    checks.check_circuit_faithfulness(lambda m, t, r, c, f: P.faithfulness(m, t, c, r, f).faithfulness)
    with pytest.raises(CheckFailure):  # zero instead of mean knockout
        checks.check_circuit_faithfulness(lambda m, t, r, c, f: P.faithfulness(m, t, c, r * 0, f).faithfulness)
    checks.check_scrub_score(lambda m, t, r, k, f: P.causal_scrub(m, t, r, f, k).score)
    with pytest.raises(CheckFailure):
        checks.check_scrub_score(lambda m, t, r, k, f: P.causal_scrub(m, t, r, f, k).f_scrubbed)
    checks.check_ablation_table_result({"L0H0": {"zero": 9.0, "mean": 1.0, "resample": 0.0}}, 15.0)
    with pytest.raises(CheckFailure):
        checks.check_ablation_table_result({"L0H0": {"zero": 9.0, "mean": 8.8, "resample": 0.0}}, 15.0)
