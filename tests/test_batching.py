"""Cross-session batching (runtime/batching.py), batched silero-vad, and the ASR runner's priority queue."""

from __future__ import annotations

import asyncio
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import jiwer
import numpy as np
import pytest

from analyzers.asr import AsrRunner, PartialRequest
from analyzers.vad import VadAnalyzer, VadRunner, VadStream
from media.frames import CHUNK_SAMPLES, AudioChunk
from runtime.batching import Batcher, BatcherClosed, BatchStats
from runtime.runner import ModelRunner
from tests.helpers import load_audio
from tests.media_fixtures import AISHELL_WAV, HOTWORDS_MP3, JFK_FLAC, WENET_WAV


class Recorder(ModelRunner):
    """A runner whose batch function records every batch it was given."""

    name = "recorder"

    def __init__(self, fail_on: object = None, gate: threading.Event | None = None) -> None:
        super().__init__()
        self.batches: list[list[object]] = []
        self.threads: set[str] = set()
        self.fail_on = fail_on
        self.gate = gate

    def double(self, items: list[object]) -> list[object]:
        if self.gate is not None:
            self.gate.wait(5)
        self.threads.add(threading.current_thread().name)
        self.batches.append(list(items))
        if self.fail_on is not None and self.fail_on in items:
            raise ValueError(f"bad item {self.fail_on}")
        return [item * 2 for item in items]  # type: ignore[operator]


@pytest.fixture
def runner():
    recorder = Recorder()
    yield recorder
    recorder.close()


# -- Batcher -------------------------------------------------------------------


async def test_results_come_back_in_order_to_their_own_callers(runner: Recorder) -> None:
    batcher = Batcher(runner.double, call=runner.call, max_batch=32)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
    assert results == [2 * i for i in range(10)]
    assert runner.batches == [list(range(10))]  # one batch, in submission order
    assert runner.threads and all(name.startswith("runner-recorder") for name in runner.threads)
    assert threading.current_thread().name not in runner.threads  # never on the event loop


async def test_a_batch_holds_at_most_max_batch_items(runner: Recorder) -> None:
    batcher = Batcher(runner.double, call=runner.call, max_batch=4)
    results = await asyncio.gather(*(batcher.submit(i) for i in range(10)))
    assert results == [2 * i for i in range(10)]
    assert [len(b) for b in runner.batches] == [4, 4, 2]
    assert batcher.stats.batches == 3 and batcher.stats.largest == 4


async def test_requests_arriving_while_a_batch_runs_form_the_next_batch() -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    batcher = Batcher(recorder.double, call=recorder.call, max_batch=32)
    first = asyncio.ensure_future(batcher.submit(0))
    await asyncio.sleep(0.05)  # batch [0] is running, held at the gate
    later = [asyncio.ensure_future(batcher.submit(i)) for i in (1, 2, 3)]
    await asyncio.sleep(0.05)
    gate.set()
    assert await first == 0 and [await f for f in later] == [2, 4, 6]
    assert recorder.batches == [[0], [1, 2, 3]]
    recorder.close()


async def test_the_window_waits_for_more_requests_after_the_first(runner: Recorder) -> None:
    loop = asyncio.get_running_loop()
    batcher = Batcher(runner.double, call=runner.call, max_batch=8, max_wait_s=0.3)
    started = loop.time()
    done_at: dict[int, float] = {}

    async def submit(item: int, after: float) -> None:
        await asyncio.sleep(after)
        await batcher.submit(item)
        done_at[item] = loop.time() - started

    await asyncio.gather(submit(1, 0.0), submit(2, 0.05), submit(3, 0.6))
    assert runner.batches == [[1, 2], [3]]  # 2 joined 1's window; 3 came after it closed
    assert done_at[1] >= 0.29 and done_at[2] >= 0.29  # the window ran out from the first arrival
    assert done_at[3] >= 0.6 + 0.29


async def test_a_full_batch_does_not_wait_out_the_window(runner: Recorder) -> None:
    loop = asyncio.get_running_loop()
    batcher = Batcher(runner.double, call=runner.call, max_batch=3, max_wait_s=30.0)
    started = loop.time()
    assert await asyncio.gather(*(batcher.submit(i) for i in range(3))) == [0, 2, 4]
    assert loop.time() - started < 5.0


async def test_a_failure_reaches_every_caller_of_its_batch_and_only_them() -> None:
    recorder = Recorder(fail_on=3)
    batcher = Batcher(recorder.double, call=recorder.call, max_batch=4)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(6)), return_exceptions=True)
    assert all(isinstance(o, ValueError) for o in outcomes[:4])
    assert outcomes[4:] == [8, 10]  # the next batch ran as usual
    assert batcher.stats.failed_batches == 1
    recorder.close()


async def test_a_wrong_number_of_results_is_an_error(runner: Recorder) -> None:
    batcher = Batcher(lambda items: [0], call=runner.call, max_batch=4)
    outcomes = await asyncio.gather(*(batcher.submit(i) for i in range(2)), return_exceptions=True)
    assert all(isinstance(o, RuntimeError) and "returned 1 results" in str(o) for o in outcomes)


async def test_a_cancelled_caller_leaves_its_batch_alone() -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    batcher = Batcher(recorder.double, call=recorder.call, max_batch=32)
    running = [asyncio.ensure_future(batcher.submit(i)) for i in (0, 1)]
    await asyncio.sleep(0.05)  # batch [0, 1] is running
    queued = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3, 4)]
    await asyncio.sleep(0)
    running[1].cancel()  # cancelled while its batch runs: run, result discarded
    queued[1].cancel()  # cancelled before it was taken: never reaches the model
    gate.set()
    assert await running[0] == 0
    assert await queued[0] == 4 and await queued[2] == 8
    for cancelled in (running[1], queued[1]):
        with pytest.raises(asyncio.CancelledError):
            await cancelled
    assert recorder.batches == [[0, 1], [2, 4]]
    assert await batcher.submit(5) == 10  # and the batcher goes on
    recorder.close()


async def test_close_fails_pending_requests_and_refuses_new_ones() -> None:
    gate = threading.Event()
    recorder = Recorder(gate=gate)
    batcher = Batcher(recorder.double, call=recorder.call, max_batch=1, name="vad")
    running = asyncio.ensure_future(batcher.submit(1))
    await asyncio.sleep(0.05)
    pending = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3)]
    await asyncio.sleep(0)
    batcher.close()
    gate.set()
    assert await running == 2  # a batch already running delivers
    for future in pending:
        with pytest.raises(BatcherClosed, match="vad: closed before this request ran"):
            await future
    with pytest.raises(BatcherClosed):
        await batcher.submit(4)
    recorder.close()


async def test_without_a_runner_it_uses_the_loops_executor() -> None:
    seen: list[str] = []

    def fn(items: list[int]) -> list[int]:
        seen.append(threading.current_thread().name)
        return [-i for i in items]

    batcher = Batcher(fn)
    assert await asyncio.gather(*(batcher.submit(i) for i in range(3))) == [0, -1, -2]
    assert seen and seen[0] != threading.current_thread().name


def test_arguments_are_checked() -> None:
    with pytest.raises(ValueError):
        Batcher(lambda items: items, max_batch=0)
    with pytest.raises(ValueError):
        Batcher(lambda items: items, max_wait_s=-1)


# -- batched silero-vad on real speech ------------------------------------------


def _chunks(audio: np.ndarray) -> list[np.ndarray]:
    return [audio[i : i + CHUNK_SAMPLES] for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)]


@pytest.fixture(scope="module")
def speech() -> list[list[np.ndarray]]:
    clips = [JFK_FLAC, AISHELL_WAV, WENET_WAV]
    return [_chunks(load_audio(clip)) for clip in clips]


@pytest.fixture(scope="module")
def vad_runners():
    plain = VadRunner(batch=False)
    batched = VadRunner(batch=True, max_batch=32, max_wait_s=0.002)
    yield plain, batched
    plain.close()
    batched.close()


def _reference(plain: VadRunner, streams: list[list[np.ndarray]]) -> list[list[float]]:
    return [plain.probabilities(VadStream(), chunks) for chunks in streams]


@pytest.mark.parametrize("copies", [1, 3])
async def test_batched_vad_gives_the_unbatched_probabilities(vad_runners, speech, copies: int) -> None:
    """Several concurrent streams, each sending chunks in uneven groups, through one batched runner."""
    plain, batched = vad_runners
    streams = [chunks for chunks in speech for _ in range(copies)]  # 3 or 9 concurrent streams
    expected = _reference(plain, streams)
    rng = np.random.default_rng(7)

    async def run_stream(chunks: list[np.ndarray]) -> list[float]:
        state = VadStream()
        out: list[float] = []
        i = 0
        while i < len(chunks):
            group = int(rng.integers(1, 4))  # 1-3 chunks per request, as a backlog would give
            out += await batched.speech_probabilities(state, chunks[i : i + group])
            i += group
            await asyncio.sleep(0)
        return out

    before = batched.batcher.stats.largest
    got = await asyncio.gather(*(run_stream(chunks) for chunks in streams))
    for want, have in zip(expected, got):
        assert len(have) == len(want)
        np.testing.assert_allclose(have, want, rtol=0, atol=1e-6)
    assert max(max(p) for p in got) > 0.9  # it is speech
    if len(streams) > 1:
        assert batched.batcher.stats.largest > 1 or before > 1  # it really batched


def test_one_stream_twice_in_a_batch_keeps_its_order(vad_runners, speech) -> None:
    plain, batched = vad_runners
    chunks = speech[0][:40]
    expected = plain.probabilities(VadStream(), chunks)
    mine, other = VadStream(), VadStream()
    results = batched.probabilities_batch(
        [(mine, chunks[:10]), (other, speech[1][:5]), (mine, chunks[10:25]), (mine, chunks[25:])]
    )
    np.testing.assert_allclose(results[0] + results[2] + results[3], expected, rtol=0, atol=1e-6)
    np.testing.assert_allclose(results[1], plain.probabilities(VadStream(), speech[1][:5]), rtol=0, atol=1e-6)


async def test_unbatched_vad_runner_still_serves_streams(vad_runners, speech) -> None:
    plain, _ = vad_runners
    assert plain.batcher is None
    expected = plain.probabilities(VadStream(), speech[1])
    got = await plain.speech_probabilities(VadStream(), speech[1])
    np.testing.assert_allclose(got, expected, rtol=0, atol=0)


async def _turns(runner: VadRunner, audio: np.ndarray) -> list[tuple[str, float]]:
    """speech.start / speech.end of one session's VadAnalyzer, fed chunk by chunk."""
    vad = VadAnalyzer(runner)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    for i, chunk in enumerate(_chunks(audio)):
        vad.push(AudioChunk(chunk, i * CHUNK_SAMPLES / 16000))
        await asyncio.sleep(0)  # let the sessions interleave
        # Faster than real time, never faster than the VAD keeps up (and never stuck on a dead one).
        while vad.backlog > 16 and loop.time() < deadline:
            await asyncio.sleep(0.002)
    vad.end_input()
    events = [(event.type, round(event.media_time, 3)) async for event in vad]
    await vad.aclose()
    assert vad.dropped == 0
    return events


async def test_sessions_sharing_a_batched_vad_see_the_same_turns(vad_runners) -> None:
    plain, batched = vad_runners
    silence = np.zeros(16000, np.float32)
    clips = [
        np.concatenate([silence, load_audio(clip), silence])
        for clip in (JFK_FLAC, AISHELL_WAV, WENET_WAV)
    ]
    expected = [await _turns(plain, clip) for clip in clips]
    batched.batcher.stats = BatchStats()
    got = await asyncio.gather(*(_turns(batched, clip) for clip in clips))
    assert got == expected
    assert batched.batcher.stats.largest > 1  # the sessions really shared model calls
    assert all(any(kind == "speech.start" for kind, _ in turns) for turns in got)


# -- the ASR runner's priority queue ----------------------------------------------


@dataclass
class _Info:
    language: str = "en"
    language_probability: float = 0.99
    all_language_probs: tuple = (("en", 0.99),)


@dataclass
class _Segment:
    text: str
    no_speech_prob: float = 0.01
    avg_logprob: float = -0.2
    compression_ratio: float = 1.2
    words: tuple = ()


class BlockingWhisper:
    """Stands in for faster-whisper's model in a scheduling test: the text is the audio's marker.

    A call on marker 0 blocks until ``release`` is set, so the test can queue
    decodes behind it.
    """

    class model:
        is_multilingual = True

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Event()
        self.order: list[int] = []

    def transcribe(self, audio: np.ndarray, **kwargs: object):
        marker = int(audio[0])
        if marker == 0:
            self.started.set()
            assert self.release.wait(5)
        self.order.append(marker)
        return iter([_Segment(f"utterance {marker}")]), _Info()


@pytest.fixture
def asr():
    whisper = BlockingWhisper()
    runner = AsrRunner(whisper, model_name="fake", languages=("en",))
    yield runner, whisper
    runner.close()


def _tokens(text: str) -> list[str]:
    """Words for English, characters for Chinese; no case or punctuation."""
    text = re.sub(r"[^\w\s]", " ", text.lower())
    return re.sub(r"([\u4e00-\u9fff])", r" \1 ", text).split()


def _audio(marker: int) -> np.ndarray:
    return np.full(16000, marker, dtype=np.float32)


async def test_finals_run_before_partials_and_stale_partials_are_skipped(asr) -> None:
    runner, whisper = asr
    a, b, c = object(), object(), object()

    def decode(marker: int, final: bool, stream: object):
        fn = lambda: runner.recognize(_audio(marker), words=final)
        return asyncio.ensure_future(runner.final(fn, stream=stream) if final else runner.partial(fn, stream=stream))

    busy = decode(0, True, c)  # holds the worker
    await asyncio.to_thread(whisper.started.wait, 5)
    queued = {
        1: decode(1, False, a),  # stale: a newer partial of a is queued below
        2: decode(2, False, b),
        3: decode(3, True, c),
        4: decode(4, False, a),
        5: decode(5, True, b),
    }
    await asyncio.sleep(0.05)
    assert runner.queued == 5
    whisper.release.set()
    results = {marker: await future for marker, future in queued.items()}
    await busy
    assert whisper.order == [0, 3, 5, 2, 4]  # finals in arrival order, then partials oldest first
    assert results[1] is None and runner.skipped_partials == 1
    assert results[3].text == "utterance 3" and results[4].text == "utterance 4"


async def test_speculations_wait_for_finals_unless_promoted_and_a_cancelled_one_never_runs(asr) -> None:
    runner, whisper = asr
    a, b, c, d = object(), object(), object(), object()

    def decode(marker: int, kind: str, stream: object):
        fn = lambda: runner.recognize(_audio(marker), words=kind != "partial")
        return asyncio.ensure_future(getattr(runner, kind)(fn, stream=stream))

    busy = decode(0, "final", d)  # holds the worker
    await asyncio.to_thread(whisper.started.wait, 5)
    queued = {
        1: decode(1, "speculation", a),  # a's turn goes on: void, cancelled while queued
        2: decode(2, "partial", b),
        3: decode(3, "speculation", c),  # c's turn ends where it assumed: promoted
        4: decode(4, "final", b),
        5: decode(5, "speculation", b),
    }
    await asyncio.sleep(0.05)
    assert runner.promote(c)
    assert not runner.promote(object())  # a stream with nothing queued
    queued[1].cancel()
    await asyncio.sleep(0.05)
    whisper.release.set()
    await busy
    results = {m: await f for m, f in queued.items() if m != 1}
    # c's promoted speculation and b's final in arrival order, then b's speculation, then the partial
    assert whisper.order == [0, 3, 4, 5, 2]
    assert queued[1].cancelled() and 1 not in whisper.order
    assert results[3].text == "utterance 3"
    assert not runner.promote(c)  # nothing of c queued any more


async def test_with_two_workers_a_final_does_not_wait_for_a_decoding_partial() -> None:
    whisper = BlockingWhisper()
    runner = AsrRunner(whisper, model_name="fake", languages=("en",), workers=2)
    try:
        partial = asyncio.ensure_future(runner.partial(lambda: runner.recognize(_audio(0), words=False), stream="a"))
        await asyncio.to_thread(whisper.started.wait, 5)  # the partial holds one worker
        final = await asyncio.wait_for(runner.final(lambda: runner.recognize(_audio(1)), stream="b"), 5)
        assert final.text == "utterance 1"
        assert not partial.done() and whisper.order == [1]
        whisper.release.set()
        assert (await partial).text == "utterance 0"
    finally:
        whisper.release.set()
        runner.close()


async def test_with_one_worker_a_final_waits_for_the_decoding_partial(asr) -> None:
    runner, whisper = asr
    partial = asyncio.ensure_future(runner.partial(lambda: runner.recognize(_audio(0), words=False), stream="a"))
    await asyncio.to_thread(whisper.started.wait, 5)
    final = asyncio.ensure_future(runner.final(lambda: runner.recognize(_audio(1)), stream="b"))
    await asyncio.sleep(0.1)
    assert not final.done()
    whisper.release.set()
    await asyncio.gather(partial, final)
    assert whisper.order == [0, 1]


async def test_a_failed_decode_reaches_its_caller_and_the_worker_goes_on(asr) -> None:
    runner, whisper = asr
    whisper.release.set()

    def boom() -> None:
        raise ValueError("decoder fell over")

    with pytest.raises(ValueError, match="fell over"):
        await runner.final(boom, stream="s")
    rec = await runner.partial(lambda: runner.recognize(_audio(7), words=False), stream="s")
    assert rec is not None and rec.text == "utterance 7"


async def test_closing_the_asr_runner_fails_queued_decodes(asr) -> None:
    runner, whisper = asr
    busy = asyncio.ensure_future(runner.final(lambda: runner.recognize(_audio(0)), stream="s"))
    await asyncio.to_thread(whisper.started.wait, 5)
    waiting = asyncio.ensure_future(runner.partial(lambda: runner.recognize(_audio(1)), stream="t"))
    await asyncio.sleep(0.05)
    with ThreadPoolExecutor(1) as pool:  # close() from another thread, as at server shutdown
        pool.submit(runner.close).result()
    whisper.release.set()
    with pytest.raises(RuntimeError, match="closed before this decode ran"):
        await waiting
    assert (await busy).text == "utterance 0"
    with pytest.raises(RuntimeError, match="closed"):
        await runner.partial(lambda: None, stream="t")


async def test_partials_of_similar_length_from_many_sessions_share_one_decode(asr) -> None:
    runner, whisper = asr
    runner.partial_batch = 3
    batches: list[list[int]] = []

    def recognize_batch(requests):  # the scheduling is under test here, not the model
        batches.append([int(r.audio[0]) for r in requests])
        return [runner.recognize(r.audio, words=False) for r in requests]

    runner.recognize_batch = recognize_batch  # type: ignore[method-assign]
    busy = asyncio.ensure_future(runner.final(lambda: runner.recognize(_audio(0)), stream="busy"))
    await asyncio.to_thread(whisper.started.wait, 5)

    def partial(marker: int, seconds: float, stream: str):
        audio = np.full(int(seconds * 16000), marker, dtype=np.float32)
        return asyncio.ensure_future(runner.partial_recognition(audio, stream=stream, language="en"))

    queued = {
        1: partial(1, 3.0, "a"),
        2: partial(2, 20.0, "b"),  # far longer: not padded into 1's batch
        3: partial(3, 4.0, "c"),
        4: partial(4, 2.5, "d"),
        5: partial(5, 3.5, "e"),  # the batch of 1 is full (3): next time
        6: partial(6, 19.0, "f"),
    }
    await asyncio.sleep(0.05)
    whisper.release.set()
    results = {marker: await future for marker, future in queued.items()}
    await busy
    assert batches == [[1, 3, 4], [2, 6]]  # 5 ran alone, through the unbatched path
    assert whisper.order == [0, 1, 3, 4, 2, 6, 5]
    assert all(results[m].text == f"utterance {m}" for m in queued)
    assert runner.batched_partials == 5


@pytest.mark.slow
def test_batched_partials_read_the_same_words_as_one_at_a_time(models) -> None:
    """Utterances of one length share the window each would get alone: the same words, zh and en."""
    runner = models.asr
    jfk, aishell = load_audio(JFK_FLAC), load_audio(AISHELL_WAV)
    wenet, hotwords = load_audio(WENET_WAV), load_audio(HOTWORDS_MP3)
    four = 4 * 16000
    # wenet's last 4 s: its first 4 s are read as no words at all on some CPUs (int8 decoding differs between them)
    clips = [jfk[:four], jfk[5 * 16000 : 5 * 16000 + four], aishell[:four], wenet[-four:], hotwords[:four]]
    single = [runner.recognize(clip, words=False) for clip in clips]
    assert {s.language for s in single} == {"en", "zh"}
    for pinned in (False, True):
        batched = runner.recognize_batch(
            [PartialRequest(clip, s.language if pinned else None) for clip, s in zip(clips, single)]
        )
        for one, many in zip(single, batched):
            assert one.text and many.language == one.language
            assert _tokens(many.text) == _tokens(one.text), (one.text, many.text)


@pytest.mark.slow
def test_batched_partials_of_mixed_lengths_stay_close(models) -> None:
    """A batch pads every utterance to its longest one's window: words may shift a little, not more."""
    runner = models.asr
    jfk, aishell = load_audio(JFK_FLAC), load_audio(AISHELL_WAV)
    clips = [jfk, jfk[: 3 * 16000], aishell, np.zeros(2 * 16000, np.float32)]
    single = [runner.recognize(clip, words=False) for clip in clips]
    batched = runner.recognize_batch([PartialRequest(clip) for clip in clips])
    for one, many in zip(single[:3], batched[:3]):
        assert many.language == one.language
        assert jiwer.wer(" ".join(_tokens(one.text)), " ".join(_tokens(many.text))) <= 0.25, (one.text, many.text)
    assert single[3].text == "" and batched[3].text == ""  # silence stays silent
