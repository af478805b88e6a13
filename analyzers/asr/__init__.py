"""Streaming speech recognition with faster-whisper.

One :class:`AsrRunner` per process holds the Whisper model (CTranslate2);
each session's :class:`TranscriptAnalyzer` keeps a short ring of recent
audio, follows the VAD's ``speech.start``/``speech.end`` events, decodes the
growing utterance every ``partial_interval_s`` for ``transcript.partial``
(made stable with LocalAgreement) and the whole utterance on its end for
``transcript.final`` with word timings. Only speech regions are decoded;
silence and noise that slip past the VAD are rejected by Whisper's own
no-speech and log-probability signals and a list of known hallucinations.

The package:

* :mod:`.loading`: :func:`load_whisper`, the model from an installed package
  or a local directory, its encoder trimmed to the audio;
* :mod:`.options`: :class:`DecodeOptions`, every setting and threshold of a
  decode in one frozen object, with the token budget and the hallucinations;
* :mod:`.decode`: :class:`WhisperDecoder`, the decode path (one utterance, or
  several partials in one call) and what it returns (:class:`Recognition`);
* :mod:`.scheduler`: :class:`DecodeScheduler`, the worker pool and the priority
  queue that runs every session's decodes, finals first;
* :mod:`.runner`: :class:`AsrRunner`, the scheduler running the decoder's
  decodes, one per process;
* :mod:`.analyzer`: :class:`TranscriptAnalyzer`, one session's streaming
  analyzer, emitting the transcript events.
"""

from .analyzer import TranscriptAnalyzer
from .decode import PartialRequest, Recognition, WhisperDecoder, Word, without_replacement_chars
from .loading import load_whisper, trimmed_encode
from .options import (
    DEFAULT_TOKENS_PER_SECOND,
    FALLBACK_TEMPERATURES,
    HALLUCINATIONS,
    TOKEN_ALLOWANCE,
    TOKENS_PER_SECOND,
    WHISPER_MAX_LENGTH,
    DecodeOptions,
    generation_length,
    token_budget,
)
from .runner import AsrRunner
from .scheduler import FINAL, PARTIAL, SPECULATION, DecodeScheduler

__all__ = [
    "DEFAULT_TOKENS_PER_SECOND",
    "FALLBACK_TEMPERATURES",
    "FINAL",
    "HALLUCINATIONS",
    "PARTIAL",
    "SPECULATION",
    "TOKENS_PER_SECOND",
    "TOKEN_ALLOWANCE",
    "WHISPER_MAX_LENGTH",
    "AsrRunner",
    "DecodeOptions",
    "DecodeScheduler",
    "PartialRequest",
    "Recognition",
    "TranscriptAnalyzer",
    "WhisperDecoder",
    "Word",
    "generation_length",
    "load_whisper",
    "token_budget",
    "trimmed_encode",
    "without_replacement_chars",
]
