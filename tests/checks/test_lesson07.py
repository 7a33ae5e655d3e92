"""Lesson 7's checks accept the reference and reject plausible mistakes with a message that names them."""

from __future__ import annotations

import pytest

from mi_tutor import universality as U


def _rejects(check, fn, pattern):
    from mi_tutor.checks.core import CheckFailure

    with pytest.raises(CheckFailure, match=pattern):
        check(fn)


def test_lesson07_checks_accept_reference_and_reject_mistakes():
    from mi_tutor.checks import lesson07 as C

    C.check_cka_from_grams(U.cka_from_grams)
    _rejects(C.check_cka_from_grams, lambda K, L: float((K * L).sum() / (K.norm() * L.norm())), "UNcentred")
    C.check_linear_cka(U.linear_cka)
    _rejects(C.check_linear_cka, lambda X, Y: U.cka_from_grams(U.gram_linear(X), U.gram_linear(Y)), "Gram form")
    C.check_debiased_cka(U.debiased_cka)
    _rejects(C.check_debiased_cka, U.linear_cka, "biased")

    def hungarian(A, B):
        m = U.match_units(A, B)
        return m.cols, m.correlations

    def semi(A, B):
        m = U.semi_match(A, B)
        return m.cols, m.correlations

    C.check_match_units(hungarian)
    _rejects(C.check_match_units, semi, "semi-matching")
    C.check_correspondence_map(lambda a, b, sim: U.correspondence_map(a, b, sim).values)
    _rejects(C.check_correspondence_map, lambda a, b, sim: U.correspondence_map(b, a, sim).values, "rows must be")
    C.check_mutual_knn(U.mutual_knn_alignment)
    _rejects(C.check_mutual_knn, lambda X, Y, k: C._knn_variant(X, Y, k, exclude_self=False), "own nearest")
    _rejects(C.check_mutual_knn, lambda X, Y, k: C._knn_variant(X, Y, k, normalize=False), "normalised")

    def stitched(a, b, la, lb, stitch, x):
        net = U.StitchedNet(a, b, la, lb, image_size=x.shape[-1])
        net.stitch = stitch
        return net(x)

    C.check_stitch_forward(stitched)
    _rejects(C.check_stitch_forward, lambda a, b, la, lb, stitch, x: b(x), "not replaced")
