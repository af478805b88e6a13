"""Latency and load benchmarks for Candor (see benchmarks/README.md)."""

import platform
import subprocess
from importlib import metadata
from pathlib import Path

# The recordings and photos the benchmarks play: the tests' media, inside the repository
# (tests/media/README.md: what each file is, its source and licence).
REPO = Path(__file__).resolve().parents[1]
MEDIA_DIR = REPO / "tests" / "media"


def cpu_model() -> str:
    """The CPU's model name (/proc/cpuinfo), or what platform says."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str:
    """The repository's short commit, or "" outside a git checkout."""
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def versions(*names: str) -> dict[str, str | None]:
    """The installed version of each package (None where it is not installed)."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0-1) by linear interpolation; 0 for no values."""
    values = sorted(values)
    if not values:
        return 0.0
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)
