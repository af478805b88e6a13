"""``python -m bias counterfactual``: the counterfactual checks' tables (bias/counterfactual.py)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "counterfactual":
        print("usage: python -m bias counterfactual [--clips N] [--json] [--skip-voice]", file=sys.stderr)
        return 2
    from .counterfactual import main as counterfactual

    return counterfactual(argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
