"""Latency and load benchmarks for Candor (see benchmarks/README.md)."""

import platform
from pathlib import Path

# The recordings and photos the benchmarks play: the tests' media, inside the repository
# (tests/media/README.md: what each file is, its source and licence).
MEDIA_DIR = Path(__file__).resolve().parents[1] / "tests" / "media"


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
