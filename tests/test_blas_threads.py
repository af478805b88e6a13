"""BLAS threads: the server caps numpy's and OpenCV's OpenBLAS once its models are loaded (runtime/runner.py)."""

from __future__ import annotations

import importlib

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from runtime.runner import limit_blas_threads
from server.settings import Settings

importlib.import_module("cv2")  # OpenCV (MediaPipe's) brings an OpenBLAS of its own: both must be capped


def blas_threads() -> dict[str, int]:
    """Threads per loaded BLAS library, by file: several may share a prefix (numpy's and scipy's libscipy_openblas)."""
    return {info["filepath"]: info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def test_every_blas_library_is_capped_and_zero_leaves_them() -> None:
    before = blas_threads()
    assert len(before) >= 2, before  # numpy's OpenBLAS and OpenCV's
    with threadpool_limits(limits=2, user_api="blas"):  # as on a 2-core box, whatever this one has; restored on exit
        assert limit_blas_threads(0) == []
        assert set(blas_threads().values()) == {2}

        capped = limit_blas_threads(1)
        assert set(blas_threads().values()) == {1}
        assert len(capped) == len(before) and all(line.endswith(": 1") for line in capped), capped
        # numpy still computes, on the calling thread
        a = np.random.default_rng(0).standard_normal((64, 64)).astype(np.float32)
        assert np.allclose(a @ np.eye(64, dtype=np.float32), a)
    assert blas_threads() == before


def test_the_server_caps_at_one_by_default() -> None:
    assert Settings(_env_file=None).blas_threads == 1
    assert Settings(_env_file=None, blas_threads=0).blas_threads == 0
