"""``python -m benchmarks COMMAND [options]``.

Commands:
    cluster          1 node against 3: the load ramp against a local cluster (PostgreSQL, Redis, nodes) of each size,
                     placement's overhead and correctness (benchmarks/cluster.py)
    automation       a screened batch invited by a rule: scheduled -> enqueued -> e-mail received, invites per minute,
                     event-loop lag, against the outbox alone (benchmarks/automation.py)
    churn            candidates killed mid-answer, then new ones at capacity: how long a dead slot stays held, and
                     when idle sessions let go of their analyzers (benchmarks/churn.py)
    load             N concurrent candidates, ramped in steps, capacity against targets (benchmarks/load.py)
    plot             re-draw the PNG of a load report (benchmarks/plot.py)
    resumes          resume parsing: field accuracy on generated resumes, resumes per minute (benchmarks/resumes.py)
                     (--held-out: on the hand-written resumes in tests/media/resumes/)
    screening        parse and screen resumes against the shipped jobs: resumes per minute, score vs truth (benchmarks/screening.py)
    speech_latency   one candidate, end of speech -> final (also ``python -m benchmarks.speech_latency``)
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if args else 2
    command, rest = args[0], args[1:]
    if command == "automation":
        from .automation import main as automation

        return automation(rest)
    if command == "cluster":
        from .cluster import main as cluster

        return cluster(rest)
    if command == "churn":
        from .churn import main as churn

        return churn(rest)
    if command == "load":
        from .load import main as load

        return load(rest)
    if command == "plot":
        from .plot import main as plot

        return plot(rest)
    if command == "resumes":
        from .resumes import main as resumes

        return resumes(rest)
    if command == "screening":
        from .screening import main as screening

        return screening(rest)
    if command in ("speech_latency", "speech-latency"):
        from . import speech_latency

        sys.argv = ["python -m benchmarks.speech_latency", *rest]
        speech_latency.main()
        return 0
    print(f"unknown command {command!r}\n\n{__doc__.strip()}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
