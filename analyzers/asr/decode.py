"""One utterance's decode: audio in, a :class:`Recognition` out (blocking).

:class:`WhisperDecoder` decodes with faster-whisper and keeps only what
Whisper itself believes is speech (:meth:`DecodeOptions.rejects`), in a
language the deployment takes, without a loop, U+FFFD or a known
hallucination, in simplified characters for Mandarin. Its two entries share
those steps and one :class:`~analyzers.asr.options.DecodeOptions`:

* :meth:`WhisperDecoder.recognize`: one utterance through faster-whisper's
  ``transcribe`` (a final with word timings, or a partial without);
* :meth:`WhisperDecoder.recognize_batch`: several partials in one CTranslate2
  encode and generate call (the partial batching prototype).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from media.frames import SAMPLE_RATE

from ..overlap import cut_repetition, find_repetition
from .options import HALLUCINATIONS, WHISPER_MAX_LENGTH, DecodeOptions, generation_length, token_budget


def without_replacement_chars(text: str) -> str:
    """``text`` without U+FFFD, the mark of a character whose bytes a decode left incomplete."""
    return text.replace("\ufffd", "") if "\ufffd" in text else text


@dataclass(frozen=True)
class Word:
    word: str
    start: float
    end: float
    probability: float


@dataclass(frozen=True)
class Recognition:
    text: str
    language: str
    language_probability: float
    words: tuple[Word, ...] = ()
    no_speech_prob: float = 0.0
    avg_logprob: float = 0.0
    all_language_probs: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class PartialRequest:
    """One partial's decode: what :meth:`WhisperDecoder.recognize_batch` takes."""

    audio: np.ndarray
    language: str | None = None
    hotwords: str | None = None


_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])\s+(?=[\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])")


def _normalise(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


class WhisperDecoder:
    """Decodes utterances with one Whisper model (faster-whisper), in the deployment's languages.

    ``languages``: the languages this deployment takes (an English-only model
    takes English alone); an utterance heard in another one is decoded again
    in the most likely allowed one.
    """

    def __init__(self, model: Any, *, languages: Sequence[str] = ("zh", "en"), options: DecodeOptions | None = None) -> None:
        self.model = model
        multilingual = bool(getattr(model.model, "is_multilingual", True))
        self.languages = tuple(languages) if multilingual else ("en",)
        self.options = options if options is not None else DecodeOptions()
        from opencc import OpenCC

        self._t2s = OpenCC("t2s")
        self.repetitions = 0  # finals decoded again because they looped

    def recognize(
        self,
        audio: np.ndarray,
        *,
        language: str | None = None,
        words: bool = True,
        hotwords: str | None = None,
    ) -> Recognition:
        """Transcribe one utterance (blocking; runs on the runner's thread)."""
        pinned = self._pinned(language)
        recognition = self._transcribe(audio, pinned, words, hotwords)
        if pinned is None and recognition.language not in self.languages:
            # Whisper heard a language this deployment does not take: decode
            # again in the most likely allowed language.
            pinned = self._best_allowed(recognition)
            recognition = self._transcribe(audio, pinned, words, hotwords)
        if find_repetition(recognition.text) is not None:
            if words:
                # A final stuck in a loop ("铺铺铺"): decode again, sampled warmer;
                # Whisper's own fallback missed it (too short a loop to compress badly).
                self.repetitions += 1
                retry = self._transcribe(
                    audio, pinned or recognition.language, words, hotwords, self.options.loop_temperatures
                )
                if find_repetition(retry.text) is None and retry.text:
                    return retry
            # Still looping, or a partial (a preview, never decoded twice): keep the text before the loop.
            text, kept = cut_repetition(recognition.text, recognition.words)
            recognition = dataclasses.replace(recognition, text=text, words=tuple(kept))
        return recognition

    def _pinned(self, language: str | None) -> str | None:
        """The language to decode in: the one given, the deployment's only one, or ``None`` (detect it)."""
        return language or (self.languages[0] if len(self.languages) == 1 else None)

    def _best_allowed(self, recognition: Recognition) -> str:
        probs = dict(recognition.all_language_probs)
        return max(self.languages, key=lambda lang: probs.get(lang, 0.0))

    def _max_new_tokens(self, seconds: float, language: str | None, words: bool, hotwords: str | None) -> int:
        """faster-whisper's ``max_new_tokens`` for a decode: the language's budget (all allowed ones while unknown)."""
        prompt = 3 if words else 4  # start of transcript, language, task (, no timestamps)
        if hotwords:  # the previous-text marker and the hotwords, as faster-whisper's get_prompt adds them
            hotword_tokens = self.model.hf_tokenizer.encode(" " + hotwords.strip(), add_special_tokens=False).ids
            prompt += 1 + min(len(hotword_tokens), WHISPER_MAX_LENGTH // 2 - 1)
        budget = token_budget(seconds, [language] if language else list(self.languages))
        return max(1, generation_length(budget, prompt) - prompt)

    def _transcribe(
        self,
        audio: np.ndarray,
        language: str | None,
        words: bool,
        hotwords: str | None,
        temperature: float | tuple[float, ...] | None = None,
    ) -> Recognition:
        seconds = len(audio) / SAMPLE_RATE
        if temperature is None:
            temperature = self.options.temperature(words)
        segments, info = self.model.transcribe(
            audio,
            language=language,
            word_timestamps=words,
            condition_on_previous_text=False,
            vad_filter=False,
            without_timestamps=not words,
            hotwords=hotwords,
            temperature=temperature,
            # A cap per decode that fits the language: a loop stops there
            # rather than at Whisper's limit, and real speech is never cut.
            max_new_tokens=self._max_new_tokens(seconds, language, words, hotwords),
            **self.options.transcribe_kwargs(),
        )
        kept_text: list[str] = []
        kept_words: list[Word] = []
        no_speech = []
        logprobs = []
        for segment in segments:  # drain the lazy generator here, on the worker thread
            no_speech.append(segment.no_speech_prob)
            logprobs.append(segment.avg_logprob)
            if self.options.rejects(segment.no_speech_prob, segment.avg_logprob, segment.compression_ratio):
                continue
            kept_text.append(segment.text)
            for w in segment.words or ():
                kept_words.append(Word(w.word, round(float(w.start), 3), round(float(w.end), 3), round(float(w.probability), 3)))
        text = "".join(kept_text).strip()
        lang = info.language
        text, kept_words = self._tidy(text, kept_words, lang)
        return Recognition(
            text=text,
            language=lang,
            language_probability=round(float(info.language_probability), 3),
            words=tuple(kept_words),
            no_speech_prob=round(max(no_speech, default=0.0), 3),
            avg_logprob=round(min(logprobs, default=0.0), 3),
            all_language_probs=tuple(info.all_language_probs or ()),
        )

    def _tidy(self, text: str, words: list[Word], lang: str) -> tuple[str, list[Word]]:
        """Simplified characters for Mandarin; known hallucinations become no text; never U+FFFD."""
        # A character whose bytes a decode left incomplete (cut by the token cap, or
        # sampled): drop the fragment rather than show a replacement character.
        text = without_replacement_chars(text)
        words = [dataclasses.replace(w, word=without_replacement_chars(w.word)) for w in words]
        words = [w for w in words if w.word.strip()]
        if lang == "zh":
            text = _CJK_GAP.sub("", self._t2s.convert(text))
            words = [Word(self._t2s.convert(w.word), w.start, w.end, w.probability) for w in words]
        if _normalise(text) in HALLUCINATIONS:
            return "", []
        return text, words

    def recognize_batch(self, requests: Sequence[PartialRequest]) -> list[Recognition]:
        """Decode several partials (no word timings, greedy, one temperature) in one model call (blocking).

        The same steps as :meth:`recognize` with ``words=False``, done by
        hand on CTranslate2 so the utterances share one encoder call and one
        generate call: features per utterance, zero-padded to a common window
        (trimmed to the longest utterance when the model's window is
        ``trim``), language detected on the encoder output where not given,
        one prompt per utterance (its language and hotwords), and the same
        filters on no-speech, log-probability, compression and known
        hallucinations.
        """
        from faster_whisper.audio import pad_or_trim
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_compression_ratio, get_suppressed_tokens

        if not requests:
            return []
        whisper = self.model
        multilingual = bool(getattr(whisper.model, "is_multilingual", True))
        features = []
        for request in requests:
            mel = whisper.feature_extractor(np.asarray(request.audio, dtype=np.float32))
            features.append(pad_or_trim(mel[..., :-1]))
        encoded = whisper.encode(np.stack(features))  # the trimmed window, when load_whisper(window="trim")

        languages: list[str] = []
        probabilities: list[tuple[float, tuple[tuple[str, float], ...]]] = []
        detected: list[list[tuple[str, float]]] | None = None
        for index, request in enumerate(requests):
            pinned = self._pinned(request.language)
            if pinned is not None or not multilingual:
                languages.append(pinned or "en")
                probabilities.append((1.0, ()))
                continue
            if detected is None:
                detected = [
                    [(token[2:-2], float(prob)) for token, prob in item]
                    for item in whisper.model.detect_language(encoded)
                ]
            ranked = detected[index]
            allowed = dict(ranked)
            best = (
                ranked[0][0]
                if ranked[0][0] in self.languages
                else max(self.languages, key=lambda lang: allowed.get(lang, 0.0))
            )
            languages.append(best)
            probabilities.append((ranked[0][1], tuple(ranked)))

        tokenizers = {
            lang: Tokenizer(whisper.hf_tokenizer, multilingual, task="transcribe", language=lang)
            for lang in set(languages)
        }
        prompts: list[list[int]] = []
        budgets: list[int] = []
        for request, lang in zip(requests, languages):
            prompts.append(whisper.get_prompt(tokenizers[lang], [], without_timestamps=True, hotwords=request.hotwords))
            budgets.append(token_budget(len(request.audio) / SAMPLE_RATE, [lang]))
        max_length = min(whisper.max_length, max(generation_length(b, len(p)) for p, b in zip(prompts, budgets)))
        options = self.options
        results = whisper.model.generate(
            encoded,
            prompts,
            beam_size=options.beam_size,
            max_length=max_length,
            return_scores=True,
            return_no_speech_prob=True,
            suppress_blank=options.suppress_blank,
            suppress_tokens=list(
                get_suppressed_tokens(next(iter(tokenizers.values())), list(options.suppress_tokens)) or []
            ),
        )

        out: list[Recognition] = []
        for result, lang, budget, (lang_prob, all_probs) in zip(results, languages, budgets, probabilities):
            tokens = list(result.sequences_ids[0])[:budget]
            avg_logprob = result.scores[0] * len(result.sequences_ids[0]) / (len(result.sequences_ids[0]) + 1)
            text = tokenizers[lang].decode(tokens).strip()
            no_speech = float(result.no_speech_prob)
            if options.rejects(no_speech, avg_logprob, get_compression_ratio(text)):
                text = ""
            text, _ = self._tidy(text, [], lang)
            text, _ = cut_repetition(text)
            out.append(
                Recognition(
                    text=text,
                    language=lang,
                    language_probability=round(float(lang_prob), 3),
                    no_speech_prob=round(no_speech, 3),
                    avg_logprob=round(float(avg_logprob), 3),
                    all_language_probs=all_probs,
                )
            )
        return out
