"""Every setting of a Whisper decode, in one place.

:class:`DecodeOptions` (after faster-whisper's ``TranscriptionOptions``) holds
the beam, the temperatures and the thresholds on Whisper's own signals that
say a decode was not speech: both the single decode (faster-whisper's
``transcribe``, which also falls back to a warmer temperature on them) and the
batched partials' decode (CTranslate2's ``generate``) read them from here.
The token budget (how many new tokens a second of speech may take) and the
known hallucinations are here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# Phrases Whisper is known to produce from silence and noise (subtitle
# credits from its training data). Compared after removing punctuation.
HALLUCINATIONS = {
    "thank you",
    "thanks for watching",
    "thank you for watching",
    "please subscribe",
    "subtitles by the amaraorg community",
    "you",
    "bye",
    "谢谢观看",
    "谢谢大家",
    "谢谢",
    "请不吝点赞订阅转发打赏支持明镜与点点栏目",
    "字幕由amaraorg社区提供",
    "字幕by索兰娅",
    "明镜与点点栏目",
    "中文字幕志愿者",
    "优优独播剧场youyoutvseries",
}


# How many tokens a second of speech may take, by language, with room to
# spare: the cap on a decode is there to stop a decode stuck in a loop and
# must never cut real speech. Whisper's byte-level BPE spends one to three
# tokens on a CJK character (about 1.3 on the banks' Mandarin answers), and
# a final's decode carries timestamp tokens besides: measured on the answers_zh
# recordings, 5.2-6.0 tokens a second, 7.7-8.5 sped up 1.4x (about 7
# characters a second, a fast speaker). English runs at about 4 tokens a
# second (3 words).
TOKENS_PER_SECOND = {"zh": 14.0, "yue": 14.0, "ja": 14.0, "ko": 12.0}
DEFAULT_TOKENS_PER_SECOND = 8.0
TOKEN_ALLOWANCE = 16  # a short utterance's punctuation and timestamps
WHISPER_MAX_LENGTH = 448  # Whisper's text context: prompt and new tokens together
# A final that loops is decoded again at these temperatures (sampled).
FALLBACK_TEMPERATURES = (0.2, 0.4, 0.6)


def token_budget(seconds: float, languages: Sequence[str | None]) -> int:
    """New tokens ``seconds`` of speech may need in any of ``languages`` (the most generous of them)."""
    rate = max(
        (TOKENS_PER_SECOND.get(lang or "", DEFAULT_TOKENS_PER_SECOND) for lang in languages),
        default=DEFAULT_TOKENS_PER_SECOND,
    )
    return int(seconds * rate) + TOKEN_ALLOWANCE


def generation_length(budget: int, prompt_tokens: int, max_length: int = WHISPER_MAX_LENGTH) -> int:
    """The ``max_length`` to hand CTranslate2's Whisper so that it may generate ``budget`` new tokens.

    CTranslate2 (4.x, ``WhisperReplica::generate``) decodes at most
    ``min(max_length / 2, max_length - prompt)`` new tokens: half of what
    faster-whisper's ``max_new_tokens`` (``max_length = prompt + max_new_tokens``)
    promises (CTranslate2 issue #1856). A cap of 8 tokens a second became 4,
    fewer than Mandarin speech takes: decodes stopped in the middle of a
    character's bytes (U+FFFD) and faster-whisper decoded the rest of the
    window again from the last word, where short leftovers looped ("铺铺铺").
    Never more than Whisper's 448 positions (so never more than 224 new tokens
    in one decode; a final's timestamped decode goes on in the next window).
    """
    return min(max_length, max(2 * budget, budget + prompt_tokens))


@dataclass(frozen=True)
class DecodeOptions:
    """How Whisper decodes an utterance and when its result counts as no speech.

    The thresholds are faster-whisper's defaults, given to ``transcribe``
    explicitly (its temperature fallback and no-speech skip use them) and
    applied again to every decoded segment by :meth:`rejects`, with one
    stricter bound of our own: a segment that Whisper thinks is probably not
    speech (``no_speech_prob`` above ``no_speech_threshold``) is dropped when
    its average log-probability is below ``no_speech_log_prob_threshold``
    (-0.7), not only below ``log_prob_threshold`` (-1.0).
    """

    beam_size: int = 1
    # Finals may retry warmer when greedy decoding looks wrong to Whisper;
    # partials (no word timings) are previews and never pay for a retry.
    final_temperatures: tuple[float, ...] = (0.0, 0.2, 0.4)
    partial_temperature: float = 0.0
    # A final that loops ("铺铺铺") is decoded again at these (Whisper's own
    # fallback misses a loop too short to compress badly).
    loop_temperatures: tuple[float, ...] = FALLBACK_TEMPERATURES
    no_speech_threshold: float = 0.6
    no_speech_log_prob_threshold: float = -0.7
    log_prob_threshold: float = -1.0
    compression_ratio_threshold: float = 2.4
    suppress_blank: bool = True
    suppress_tokens: tuple[int, ...] = (-1,)  # -1: Whisper's non-speech tokens

    def temperature(self, words: bool) -> float | tuple[float, ...]:
        """A final's temperatures (with word timings), or a partial's one."""
        return self.final_temperatures if words else self.partial_temperature

    def rejects(self, no_speech_prob: float, avg_logprob: float, compression_ratio: float) -> bool:
        """Whisper's own signals say this decode is not speech, or junk (a loop, a guess)."""
        if no_speech_prob > self.no_speech_threshold and avg_logprob < self.no_speech_log_prob_threshold:
            return True  # Whisper's own "this was not speech"
        return avg_logprob < self.log_prob_threshold or compression_ratio > self.compression_ratio_threshold

    def transcribe_kwargs(self) -> dict[str, Any]:
        """What faster-whisper's ``transcribe`` takes from these options (besides the temperature)."""
        return {
            "beam_size": self.beam_size,
            "no_speech_threshold": self.no_speech_threshold,
            "log_prob_threshold": self.log_prob_threshold,
            "compression_ratio_threshold": self.compression_ratio_threshold,
            "suppress_blank": self.suppress_blank,
            "suppress_tokens": list(self.suppress_tokens),
        }
