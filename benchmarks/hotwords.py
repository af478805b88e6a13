"""Does passing a question's rubric terms to Whisper as hotwords help or harm?

``python -m benchmarks.hotwords [--model base]`` decodes each test clip (tests/media)
without hotwords and then with each shipped wealth-manager question's rubric
terms as hotwords, and flags a decode as harmed when it is empty, repeats a
word, character or term three times or more, repeats itself (compresses far
better than the plain decode), or contains a rubric term the plain decode
does not (text the speaker never said: it would raise content scores).
This is why ``CANDOR_ASR_HOTWORDS`` is off by default (benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import re
import zlib

import yaml

from analyzers.asr import AsrRunner, load_whisper
from benchmarks import MEDIA_DIR as MEDIA
from jobs.catalog import BANKS_DIR
from jobs.models import QuestionBank
from tests.helpers import load_audio

CLIPS = ("jfk.flac", "hotwords.mp3", "aishell-BAC009S0724W0121.wav", "wenet_mid.wav")


def harmed(plain: str, hinted: str, terms: list[str]) -> str | None:
    if plain.strip() and not hinted.strip():
        return "speech dropped"
    raw = hinted.encode("utf-8")
    if len(raw) > 24 and len(raw) / len(zlib.compress(raw)) > 1.8 > len(plain.encode()) / max(1, len(zlib.compress(plain.encode()))):
        return "repeats itself"
    tokens = re.findall(r"[A-Za-z']+|[\u4e00-\u9fff]", hinted)
    plain_tokens = re.findall(r"[A-Za-z']+|[\u4e00-\u9fff]", plain)
    for token in sorted(set(tokens)):
        if tokens.count(token) >= 3 and plain_tokens.count(token) < 3:
            return f"repeats {token!r}"
    for term in terms:
        if term and hinted.count(term) >= 2:
            return f"repeats {term!r}"
        if term and term in hinted and term not in plain:
            return f"inserts {term!r}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="base")
    args = parser.parse_args()
    data = yaml.safe_load((BANKS_DIR / "wealth_manager.yaml").read_text(encoding="utf-8"))
    bank = QuestionBank.model_validate(data["bank"])
    whisper = load_whisper(args.model, device="cpu", compute_type="int8", cpu_threads=0, window="trim")
    runner = AsrRunner(whisper, model_name=args.model, languages=("zh", "en"), beam_size=1)
    total = bad = 0
    print(f"whisper {args.model} int8, CPU; hotwords = each question's rubric terms")
    print("| clip | question | harm | text with hotwords |\n| --- | --- | --- | --- |")
    for clip in CLIPS:
        audio = load_audio(MEDIA / clip)
        plain = runner.recognize(audio, language=None, words=True).text
        print(f"| {clip} | (none) | | {plain[:70]} |")
        for question in bank.questions:
            if question.rubric is None:
                continue
            terms = question.rubric.terms()
            hinted = runner.recognize(audio, language=None, words=True, hotwords=" ".join(terms)).text
            harm = harmed(plain, hinted, terms)
            total += 1
            bad += harm is not None
            print(f"| {clip} | {question.id} | {harm or '-'} | {hinted[:70]} |")
    print(f"\nharmed: {bad} of {total} decodes")
    runner.close()


if __name__ == "__main__":
    main()
