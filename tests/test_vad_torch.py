"""The VAD's torch backend (silero's TorchScript model) against its ONNX backend, on real speech.

Both backends run the same silero-vad v6 network; the torch backend calls the
JIT's stateless 16 kHz submodule with each stream's own state and context, as
the ONNX backend does. Measured on CPU torch (2.13): the largest difference
from ONNX over these clips is about 1.1e-5 (1.3e-5 over multilingual.mp3), so
``CPU_TOL`` = 1e-4. Losing the 64-sample context moves probabilities by 0.11-0.33
and mixing up the LSTM state by 0.65-0.95, so either bug fails these tests.

On CUDA, cuDNN convolutions may run in TF32 (torch's default): rounding the
convolutions' inputs and weights to TF32 on the CPU moved probabilities by up to
1.0e-2 (mean 4e-4), so the GPU test allows ``CUDA_TOL`` = 0.05 at most and 2e-3
on average (losing the context: mean 0.008-0.015).
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
import torch

from analyzers.vad import CONTEXT_SAMPLES, VadAnalyzer, VadRunner, VadStream
from media.frames import CHUNK_SAMPLES, SAMPLE_RATE, AudioChunk
from tests.helpers import load_audio
from tests.media_fixtures import AISHELL_WAV, JFK_FLAC, WENET_WAV

CPU_TOL = 1e-4
CUDA_TOL = 0.05
CUDA_MEAN_TOL = 2e-3
SPEECH = 0.5  # the speech / no-speech line the tests compare regions at


def _chunks(audio: np.ndarray) -> list[np.ndarray]:
    return [audio[i : i + CHUNK_SAMPLES] for i in range(0, len(audio) - CHUNK_SAMPLES + 1, CHUNK_SAMPLES)]


@pytest.fixture(scope="module")
def clips() -> list[np.ndarray]:
    """jfk (English), AISHELL and wenet (Mandarin), each with 1 s of silence before and after."""
    silence = np.zeros(SAMPLE_RATE, np.float32)
    return [
        np.concatenate([silence, load_audio(clip), silence])
        for clip in (JFK_FLAC, AISHELL_WAV, WENET_WAV)
    ]


@pytest.fixture(scope="module")
def speech(clips: list[np.ndarray]) -> list[list[np.ndarray]]:
    return [_chunks(clip) for clip in clips]


@pytest.fixture(scope="module")
def onnx_vad():
    runner = VadRunner(batch=False)
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def torch_vad():
    runner = VadRunner(batch=False, backend="torch")
    runner.warmup()
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def torch_batched():
    runner = VadRunner(batch=True, max_batch=8, max_wait_s=0.002, backend="torch")
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def reference(onnx_vad: VadRunner, speech: list[list[np.ndarray]]) -> list[np.ndarray]:
    """The ONNX backend's probabilities, one stream at a time."""
    return [np.asarray(onnx_vad.probabilities(VadStream(), chunks)) for chunks in speech]


def _assert_matches(got: list[float], want: np.ndarray, tol: float, mean_tol: float | None = None) -> None:
    have = np.asarray(got)
    assert have.shape == want.shape
    diff = np.abs(have - want)
    assert diff.max() <= tol, f"max |torch - onnx| = {diff.max():.2e} at chunk {int(diff.argmax())}"
    if mean_tol is not None:
        assert diff.mean() <= mean_tol, f"mean |torch - onnx| = {diff.mean():.2e}"
    # The speech regions agree wherever ONNX is clear of the line by more than the tolerance.
    clear = np.abs(want - SPEECH) > tol
    flips = np.flatnonzero(clear & ((have > SPEECH) != (want > SPEECH)))
    assert flips.size == 0, f"speech regions differ at chunks {flips[:10].tolist()}"


def test_the_reference_has_speech_and_silence(reference: list[np.ndarray]) -> None:
    """Otherwise the region checks below would compare nothing."""
    for probs in reference:
        assert (probs > 0.9).sum() >= 30 and (probs < 0.1).sum() >= 30


def test_torch_backend_gives_the_onnx_probabilities(torch_vad, speech, reference) -> None:
    assert torch_vad.backend == "torch" and torch_vad.device == "cpu"
    for chunks, want in zip(speech, reference):
        _assert_matches(torch_vad.probabilities(VadStream(), chunks), want, CPU_TOL)


def test_losing_the_context_would_fail_the_tolerance(torch_vad, speech, reference) -> None:
    """The check above can fail: a stream whose 64-sample context is dropped is far outside it."""
    stream = VadStream()
    broken = []
    for chunk in speech[0]:
        stream.context = np.zeros((1, CONTEXT_SAMPLES), np.float32)
        broken += torch_vad.probabilities(stream, [chunk])
    assert np.abs(np.asarray(broken) - reference[0]).max() > 100 * CPU_TOL


def _streams(speech: list[list[np.ndarray]], reference: list[np.ndarray]) -> tuple[list, list[np.ndarray]]:
    """Seven streams of different lengths: each clip whole, and cut at different places."""
    streams, want = [], []
    for k, stop in enumerate([None, None, None, 90, 40, 120, 7]):
        streams.append(speech[k % 3][:stop])
        want.append(reference[k % 3][:stop])
    assert len({len(s) for s in streams}) >= 6
    return streams, want


def test_batched_torch_steps_give_the_onnx_probabilities(torch_vad, speech, reference) -> None:
    """One probabilities_batch call: the batch shrinks as the shorter streams end; a stream twice keeps its order."""
    streams, want = _streams(speech, reference)
    states = [VadStream() for _ in streams]
    split = len(streams[0]) // 3
    requests = [(state, chunks) for state, chunks in zip(states, streams)]
    requests[0] = (states[0], streams[0][:split])
    requests.append((states[0], streams[0][split:]))  # the same stream again: runs after its first request
    results = torch_vad.probabilities_batch(requests)
    assert len(results) == len(requests)
    _assert_matches(results[0] + results[-1], want[0], CPU_TOL)
    for got, expected in zip(results[1:-1], want[1:]):
        _assert_matches(got, expected, CPU_TOL)


async def test_sessions_sharing_the_batched_torch_backend(torch_batched, speech, reference) -> None:
    """Concurrent streams through the Batcher, each sending chunks in uneven groups."""
    streams, want = _streams(speech, reference)
    rng = np.random.default_rng(11)

    async def run_stream(chunks: list[np.ndarray]) -> list[float]:
        state = VadStream()
        out: list[float] = []
        i = 0
        while i < len(chunks):
            group = int(rng.integers(1, 4))
            out += await torch_batched.speech_probabilities(state, chunks[i : i + group])
            i += group
            await asyncio.sleep(0)
        return out

    got = await asyncio.gather(*(run_stream(chunks) for chunks in streams))
    for have, expected in zip(got, want):
        _assert_matches(have, expected, CPU_TOL)
    assert torch_batched.batcher.stats.largest > 1  # it really batched


async def _turns(runner: VadRunner, audio: np.ndarray) -> list[tuple[str, float]]:
    vad = VadAnalyzer(runner)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 30
    for i, chunk in enumerate(_chunks(audio)):
        vad.push(AudioChunk(chunk, i * CHUNK_SAMPLES / SAMPLE_RATE))
        await asyncio.sleep(0)
        while vad.backlog > 16 and loop.time() < deadline:  # never stuck on a dead VAD
            await asyncio.sleep(0.002)
    vad.end_input()
    events = [(event.type, round(event.media_time, 3)) async for event in vad]
    await vad.aclose()
    assert vad.dropped == 0
    return events


async def test_the_torch_backend_gives_the_same_turns(onnx_vad, torch_batched, clips) -> None:
    for clip in clips:
        expected = await _turns(onnx_vad, clip)
        assert any(kind == "speech.start" for kind, _ in expected)
        assert await _turns(torch_batched, clip) == expected


@pytest.mark.slow  # loads silero-vad on torch
def test_on_the_cpu_the_torch_backend_runs_torch_on_one_thread() -> None:
    """As the ONNX backend does; torch's default pool made a step 3-4x slower from the runner's thread."""
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        runner = VadRunner(batch=False, backend="torch")
        runner.close()
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_backend_and_device_are_checked() -> None:
    with pytest.raises(ValueError, match="'onnx', 'torch'"):
        VadRunner(backend="tensorrt")
    with pytest.raises(ValueError, match="needs backend='torch'"):
        VadRunner(device="cuda")
    with pytest.raises(ValueError, match="unknown VAD device 'mps'"):
        VadRunner(backend="torch", device="mps")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available here")
def test_cuda_without_a_gpu_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="sees no CUDA device"):
        VadRunner(backend="torch", device="cuda")


# -- CUDA ----------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_batch_of_64_streams_gives_the_onnx_probabilities(speech, reference) -> None:
    threads = torch.get_num_threads()
    runner = VadRunner(batch=False, backend="torch", device="cuda", max_batch=64)
    try:
        runner.warmup()
        # 64 streams of different lengths: each clip from a different chunk on, the later ones cut short.
        streams = []
        for k in range(64):
            start = (k * 5) % 40
            streams.append(speech[k % 3][start : None if k < 32 else start + 20 + 3 * k])
        onnx = VadRunner(batch=False)
        want = [np.asarray(onnx.probabilities(VadStream(), chunks)) for chunks in streams]
        onnx.close()
        results = runner.probabilities_batch([(VadStream(), chunks) for chunks in streams])
        for got, expected in zip(results, want):
            _assert_matches(got, expected, CUDA_TOL, CUDA_MEAN_TOL)
        # And one stream on its own.
        _assert_matches(runner.probabilities(VadStream(), speech[0]), reference[0], CUDA_TOL, CUDA_MEAN_TOL)
        assert torch.get_num_threads() == threads  # on CUDA torch's settings are left alone
    finally:
        runner.close()


@pytest.mark.slow
def test_the_vad_settings_reach_the_runner() -> None:
    from runtime.models import ModelConfig, Models

    models = Models.load(
        ModelConfig(asr_model="tiny.en", face=False, scoring=False, emotion=False, vad_backend="torch", vad_max_batch=64)
    )
    try:
        assert models.vad.backend == "torch" and models.vad.device == "cpu" and models.vad.max_batch == 64
    finally:
        models.close()
