"""Latency and load benchmarks for Candor (see benchmarks/README.md)."""

from pathlib import Path

# The recordings and photos the benchmarks play: the tests' media, inside the repository
# (tests/media/README.md: what each file is, its source and licence).
MEDIA_DIR = Path(__file__).resolve().parents[1] / "tests" / "media"
