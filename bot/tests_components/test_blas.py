"""bankbot_blas.py: the Rasa server's BLAS runs on the calling thread only."""

from __future__ import annotations

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import bankbot_blas


def test_every_blas_library_is_limited_to_one_thread_and_products_are_unchanged() -> None:
    a, b = np.random.default_rng(1).random((64, 384)), np.random.default_rng(2).random((384, 77))
    with threadpool_limits(limits=2, user_api="blas"):  # as a fresh process on two cores starts
        before = a @ b
    assert bankbot_blas.install() is True
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas and all(pool["num_threads"] == 1 for pool in blas)
    assert np.array_equal(a @ b, before)
