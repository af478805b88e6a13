"""What analyzers/ and scoring/ both need to run models, and neither owns.

* :mod:`runtime.runner`: :class:`~runtime.runner.ModelRunner`, a model loaded
  once per process and run on its own worker threads, never on the event loop.
* :mod:`runtime.batching`: :class:`~runtime.batching.Batcher`, one model's
  requests gathered into batches across sessions.
* :mod:`runtime.models`: :class:`~runtime.models.ModelConfig` and
  :class:`~runtime.models.Models`, the process's shared runners, loaded by the
  composition root :meth:`~runtime.models.Models.load` (which alone imports
  both analyzers and scoring, inside the function).
"""
