"""Automation: how fast the invites of a screened batch go out by e-mail, and whether the server stays responsive.

``make bench-automation`` (``python -m benchmarks automation [--n 200]``)
builds the real app (``create_app``, no models: screening is not what is
measured) on a fresh SQLite file, with the real Outbox, AutomationEngine and
EmailChannel sending to a real aiosmtpd server on loopback, in a process of
its own (so its work does not share the server's GIL). The job
(wealth_manager) gets one rule through the HTTP API::

    on: screened, if: band == "advance", do: invite(channel: email)

Then N applications arrive as a batch upload would keep them: each resume
(generated text with a unique e-mail address) is parsed by intake on a
worker thread, as the upload route does, and kept with ``applications.service.keep`` (its timeline: a
``receive`` and a ``screen`` entry with outcome advance; the store's hooks
schedule the rule in that transaction) and its contacts stored, one after
the other on the store's thread. Per application it reads back:

* scheduled: the action row's ``created_at`` (in the keeping transaction);
* enqueued: the e-mail's outbox row's ``created_at`` (in the transaction that
  ends the action: session made, application invited, message enqueued,
  timeline noted);
* received: when the SMTP server accepted the DATA (its own clock, same host).

Baseline, in the same run: the same N invite e-mails (the shipped ``invite``
template, same size) enqueued straight into the outbox
(``Outbox.enqueue_to``, one transaction each), no automation, on a fresh
database: what the outbox and SMTP cost alone.

In both phases a ``LoopLagMonitor`` (server/admission.py) samples the event
loop's lag every 100 ms, and an HR request (``GET /v1/jobs/wealth_manager``,
through the ASGI app, so through the store's thread) is timed every 200 ms.

``--gc-freeze`` is an experiment, not Candor's behaviour: ``gc.freeze()``
after the imports and one parsed resume, so full collections of the garbage
collector skip what start-up loaded (the loop's stalls are those collections).

Writes ``benchmarks/data/automation-<date>[-label].json`` and prints the Markdown
table benchmarks/README.md carries; :func:`markdown_table` renders it from
the JSON (tests/test_bench_automation.py holds the two equal).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import gc
import json
import multiprocessing as mp
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import cpu_model, git_commit, pct as _pct, versions

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "benchmarks" / "data"
HR_TOKEN = "bench-hr-token-0123456789abcdef"
HR = {"Authorization": f"Bearer {HR_TOKEN}"}
JOB = "wealth_manager"
MAIL_FROM = "Example Bank HR <hr@bank.example>"
RULES_YAML = """
enabled: true
rules:
  - id: invite_strong
    on: screened
    if: band == "advance"
    do: "invite(channel: email)"
"""
STAGES = ("scheduled_to_enqueued", "enqueued_to_received", "scheduled_to_received")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"


# -- the SMTP server, in a process of its own -----------------------------------------------
def _smtp_main(port: int, out: str, ready: Any) -> None:
    """aiosmtpd on 127.0.0.1:port; one line per accepted message: ``<time.time()> <Message-ID>``."""
    import signal
    from email.parser import BytesHeaderParser

    from aiosmtpd.controller import Controller

    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})  # before the controller's thread starts
    sink = open(out, "a", buffering=1, encoding="ascii")
    parser = BytesHeaderParser()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd's name)
            at = time.time()
            message_id = parser.parsebytes(envelope.original_content or envelope.content).get("Message-ID", "")
            sink.write(f"{at:.6f} {message_id.strip()}\n")
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    signal.sigwait({signal.SIGTERM})  # the parent ends it (SIGTERM is blocked here, so sigwait takes it)
    controller.stop()
    sink.close()


class SmtpProcess:
    """The loopback SMTP server as a child process; ``received()`` reads what it accepted so far."""

    def __init__(self, folder: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.path = folder / "smtp-received.txt"
        self.path.touch()
        ctx = mp.get_context("spawn")
        ready = ctx.Event()
        self.process = ctx.Process(target=_smtp_main, args=(self.port, str(self.path), ready), daemon=True)
        self.process.start()
        if not ready.wait(30):
            raise RuntimeError("the SMTP server did not start")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def received(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.path.read_text(encoding="ascii").splitlines():
            at, _, mid = line.partition(" ")
            if mid:
                out.setdefault(mid.strip("<>").split("@", 1)[0], float(at))
        return out

    def count(self) -> int:
        with self.path.open("rb") as fh:
            return sum(1 for _ in fh)

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(10)


# -- inputs ---------------------------------------------------------------------------------
def resume_text(i: int) -> str:
    """A short resume with a unique phone and e-mail (a batch never holds one person twice)."""
    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i // len(SURNAMES)) % len(GIVEN)] + GIVEN[(i * 7) % len(GIVEN)]
    return (
        f"{name}\n手机：139{i:08d}\n邮箱：candidate{i:05d}@mail.example.com\n"
        "教育背景\n2016.09-2020.06 复旦大学 金融学 本科\n"
        "工作经历\n2020.07-至今 招商银行 客户经理\n负责高净值客户关系维护与资产配置方案，管户资产3亿元。\n"
        "技能证书\n基金从业资格 证券从业资格 CET-6\n"
    )


def _summary_ms(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(_pct(ms, 0.5), 1), "p90_ms": round(_pct(ms, 0.9), 1), "p99_ms": round(_pct(ms, 0.99), 1),
            "max_ms": round(max(ms) if ms else 0.0, 1)}


def _thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process's threads by name: the event loop's, the store's, the rest."""
    import threading

    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: dict[str, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            fields = Path(f"/proc/self/task/{tid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        name = names.get(int(tid), "other")
        group = "loop" if name == "MainThread" else "store" if name.startswith("store") else "other"
        out[group] = out.get(group, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def _process_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _epoch(value: dt.datetime) -> float:
    return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()


# -- one phase ------------------------------------------------------------------------------
async def _phase(kind: str, n: int, smtp: SmtpProcess, folder: Path, timeout_s: float, *, backlog: bool = False) -> dict[str, Any]:
    """``kind`` automation or baseline; ``backlog``: keep all N first with the worker stopped, then start it."""
    import httpx
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from applications import service
    from automation import templates as tpl
    from db.automation import ActionRow
    from runtime.models import Models
    from screening.match import ScreeningResult
    from server.admission import LoopLagMonitor
    from server.app import create_app
    from server.routes.applications import contact_key
    from server.settings import Settings
    from sinks.outbox import DeliveryRow

    settings = Settings(
        _env_file=None, host="127.0.0.1", port=0, database_url=f"sqlite:///{folder}/{kind}{'-backlog' if backlog else ''}.db", hr_token=HR_TOKEN,
        secret_key="bench-secret-key", contact_key="bench-contact-key", org_name="示例银行",
        smtp_url=f"{smtp.url}?timeout=30", mail_from=MAIL_FROM, automation=(kind == "automation"),
    )
    models = Models(vad=None, asr=None, face=None, encoder=None)
    models.warm = True
    app = create_app(settings, models=models, load_models=False)
    ctx = app.state.candor
    store, outbox = ctx.store, ctx.outbox
    service.read_resume(None, text=resume_text(n))  # warm-up, not timed: jieba's dictionary loads on the first text
    invite = tpl.render(tpl.merged(None), "invite", "zh", {
        **tpl.sample_variables("zh"), "org": "示例银行", "invite_link": "http://127.0.0.1:8000/i/xxxxxxxx#code=" + "x" * 43})
    base_count = smtp.count()
    lags: list[tuple[float, float]] = []
    probes: list[float] = []

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            if kind == "automation":
                saved = await http.put(f"/v1/jobs/{JOB}/automation", content=RULES_YAML.encode(),
                                       headers={**HR, "Content-Type": "application/yaml"})
                if saved.status_code != 200:
                    raise RuntimeError(f"the rule was refused: {saved.status_code} {saved.text}")
            job = await store.run(store.store.get_job, JOB)
            assert job is not None
            key = contact_key(settings)  # as the upload route has it
            result = ScreeningResult(score=85.0, decision="advance", rows=(), advance_at=70.0, pool_below=50.0)
            stop = asyncio.Event()

            async def probe() -> None:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    r = await http.get(f"/v1/jobs/{JOB}", headers=HR)
                    probes.append(time.perf_counter() - t0)
                    assert r.status_code == 200
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), 0.2)

            tag = "backlog" if backlog else "arriving"

            def enqueue(i: int) -> str:
                with Session(outbox.engine) as db, db.begin():
                    return outbox.enqueue_to(db, "email", "message.invite", f"bench-{tag}-{i:05d}", 1, {
                        "to": [f"candidate{i:05d}@mail.example.com"], "subject": invite.subject,
                        "text": invite.text, "html": invite.html})

            pauses: list[tuple[int, float]] = []  # the cyclic GC's collections: (generation, seconds)
            gc_started = [0.0]

            def on_gc(phase: str, info: dict[str, int]) -> None:
                if phase == "start":
                    gc_started[0] = time.perf_counter()
                else:
                    pauses.append((info["generation"], time.perf_counter() - gc_started[0]))

            gc.callbacks.append(on_gc)
            monitor = LoopLagMonitor(window_s=1e9, observe=lambda lag: lags.append((time.time(), lag)))
            monitor.start()
            probing = asyncio.get_running_loop().create_task(probe())
            if backlog:
                await (ctx.automation.close() if kind == "automation" else outbox.close())
            started = time.time()
            cpu0, smtp0 = _thread_cpu(), _process_cpu(smtp.process.pid)
            ids: list[str] = []
            for i in range(n):
                if kind == "automation":
                    # read on a worker thread as the upload route does (one at a time: nothing piles up in memory)
                    read = await asyncio.to_thread(service.read_resume, None, text=resume_text(i))
                    assert read.parsed.personal.email and read.parsed.personal.email.value, "a resume without an e-mail"
                    record, created = await store.run(
                        service.keep, store.store, job=job, read=read, result=result, contact_key=key,
                        source="campus", external_id=f"bench-{i:05d}", actor="hr")
                    assert created
                    await store.run(store.store.contacts_from_resume, record.id, record.parsed)
                    ids.append(record.id)
                else:
                    ids.append(await store.run(enqueue, i))
            kept = time.time()
            cpu_kept, smtp_kept = _thread_cpu(), _process_cpu(smtp.process.pid)
            if backlog:
                await (ctx.automation.start() if kind == "automation" else outbox.start())
            deadline = time.monotonic() + timeout_s
            while smtp.count() - base_count < n and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            finished = time.time()
            cpu1, smtp1 = _thread_cpu(), _process_cpu(smtp.process.pid)
            gc.callbacks.remove(on_gc)
            stop.set()
            await probing
            await monitor.stop()

            def rows() -> list[dict[str, Any]]:
                out = []
                with Session(outbox.engine) as db:
                    if kind == "automation":
                        for a in db.scalars(select(ActionRow).where(ActionRow.application_id.in_(ids))):
                            delivery = (a.result or {}).get("deliveries", [None])[0]
                            d = db.get(DeliveryRow, delivery) if delivery else None
                            out.append({"application": a.application_id, "state": a.state, "delivery": delivery,
                                        "scheduled": _epoch(a.created_at), "done": _epoch(a.updated_at),
                                        "enqueued": _epoch(d.created_at) if d else None,
                                        "delivered": _epoch(d.delivered_at) if d and d.delivered_at else None,
                                        "attempts": d.total_attempts if d else 0})
                    else:
                        for d in db.scalars(select(DeliveryRow).where(DeliveryRow.id.in_(ids))):
                            out.append({"application": None, "state": "done", "delivery": d.id,
                                        "scheduled": _epoch(d.created_at), "done": _epoch(d.created_at),
                                        "enqueued": _epoch(d.created_at),
                                        "delivered": _epoch(d.delivered_at) if d.delivered_at else None,
                                        "attempts": d.total_attempts})
                return out

            table = await store.run(rows)
    received = smtp.received()
    for r in table:
        r["received"] = received.get(r["delivery"] or "")
    done = [r for r in table if r["received"] is not None and r["enqueued"] is not None]
    first = min(r["scheduled"] for r in table) if table else started
    released = kept if backlog else first  # a backlog's clock starts when the worker does
    base, smtp_base, since = (cpu_kept, smtp_kept, kept) if backlog else (cpu0, smtp0, started)
    if backlog:  # its stages too: the wait while the worker was stopped is the benchmark's, not Candor's
        for r in table:
            r["scheduled"] = max(r["scheduled"], kept)
            if r["enqueued"] is not None:
                r["enqueued"] = max(r["enqueued"], kept)
    last = max((r["received"] for r in done), default=finished)
    stages = {
        "scheduled_to_enqueued": [r["enqueued"] - r["scheduled"] for r in done],
        "enqueued_to_received": [r["received"] - r["enqueued"] for r in done],
        "scheduled_to_received": [r["received"] - r["scheduled"] for r in done],
    }
    return {
        "kind": kind,
        "backlog": backlog,
        "n": n,
        "received": len(done),
        "states": {s: sum(r["state"] == s for r in table) for s in sorted({r["state"] for r in table})},
        "attempts_over_1": sum(r["attempts"] > 1 for r in table),
        "keep_s": round(kept - started, 3),
        "kept_per_minute": round(n / (kept - started) * 60, 1) if kept > started else None,
        "first_to_last_s": round(last - released, 3),
        "invites_per_minute": round(len(done) / (last - released) * 60, 1) if last > released else None,
        "stages": {name: _summary_ms(v) for name, v in stages.items()},
        # CPU over the phase (arriving: keeping and sending together) or over the drain alone (backlog)
        "cpu_s": {**{k: round(cpu1.get(k, 0.0) - base.get(k, 0.0), 3) for k in ("loop", "store", "other")},
                  "smtp_server": round(smtp1 - smtp_base, 3), "wall_s": round(finished - since, 3)},
        "cpu_busy": {**{k: round((cpu1.get(k, 0.0) - base.get(k, 0.0)) / (finished - since), 3) for k in ("loop", "store", "other")},
                     "smtp_server": round((smtp1 - smtp_base) / (finished - since), 3), "wall_s": round(finished - since, 2)},
        "keep_cpu_s": {k: round(cpu_kept.get(k, 0.0) - cpu0.get(k, 0.0), 3) for k in ("loop", "store", "other")},
        "loop_lag": {**_summary_ms([lag for _, lag in lags]), "samples": len(lags)},
        "gc": {f"gen{g}": {"collections": sum(1 for x, _ in pauses if x == g),
                           "max_ms": round(max((t for x, t in pauses if x == g), default=0.0) * 1000, 1),
                           "total_ms": round(sum(t for x, t in pauses if x == g) * 1000, 1)} for g in (0, 1, 2)},
        "loop_lag_over_20ms": [[round(at - first, 2), round(lag * 1000, 1)] for at, lag in lags if lag > 0.02],
        "hr_request": {**_summary_ms(probes), "samples": len(probes)},
        "rows": [{k: (round(v - first, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in table],
    }


def machine() -> dict[str, Any]:
    commit = git_commit()
    found = versions("SQLAlchemy", "aiosmtplib", "aiosmtpd", "starlette", "httpx")
    return {
        "cpu": cpu_model(), "cores": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "sqlite": sqlite3.sqlite_version, "commit": commit,
        "versions": found, "load_avg_before": [round(x, 2) for x in os.getloadavg()],
    }


def run(n: int, timeout_s: float, *, gc_freeze: bool = False) -> dict[str, Any]:
    """``gc_freeze``: an experiment, not Candor's behaviour: after the imports and one parsed resume (jieba's
    dictionary), ``gc.freeze()`` moves everything alive to the permanent generation, so full collections skip it."""
    import logging

    candor_log = logging.getLogger("candor")
    level = candor_log.level
    candor_log.setLevel(logging.WARNING)  # a line per invite would be measured too; put back afterwards
    try:
        return _run(n, timeout_s, gc_freeze=gc_freeze)
    finally:
        candor_log.setLevel(level)


def _run(n: int, timeout_s: float, *, gc_freeze: bool = False) -> dict[str, Any]:
    info = machine()
    if gc_freeze:
        from applications import service
        from server.app import create_app  # noqa: F401 (the app's modules, as a started server has them)

        service.read_resume(None, text=resume_text(0))
        gc.collect()
        gc.freeze()
        info["gc_frozen_objects"] = gc.get_freeze_count()
    with tempfile.TemporaryDirectory(prefix="candor-bench-automation-") as tmp:
        folder = Path(tmp)
        smtp = SmtpProcess(folder)
        try:
            phases = {
                "automation": asyncio.run(_phase("automation", n, smtp, folder, timeout_s)),
                "baseline": asyncio.run(_phase("baseline", n, smtp, folder, timeout_s)),
                "automation_backlog": asyncio.run(_phase("automation", n, smtp, folder, timeout_s, backlog=True)),
                "baseline_backlog": asyncio.run(_phase("baseline", n, smtp, folder, timeout_s, backlog=True)),
            }
        finally:
            smtp.stop()
    return {
        "benchmark": "automation",
        "date": dt.date.today().isoformat(),
        "command": f"python -m benchmarks automation --n {n}" + (" --gc-freeze" if gc_freeze else ""),
        "gc_freeze": gc_freeze,
        "machine": info,
        "rule": 'on: screened, if: band == "advance", do: invite(channel: email)',
        "n": n,
        "phases": phases,
    }


def _row(label: str, p: dict[str, Any]) -> str:
    s = p["stages"]

    def trio(stage: str) -> str:
        return f"{s[stage]['p50_ms']:.0f} / {s[stage]['p90_ms']:.0f} / {s[stage]['p99_ms']:.0f}"

    first = "n/a (enqueued directly)" if p["kind"] == "baseline" else trio("scheduled_to_enqueued")
    lag, hr = p["loop_lag"], p["hr_request"]
    return (f"| {label} | {p['received']}/{p['n']} | {p['invites_per_minute']:.0f} | {first} "
            f"| {trio('enqueued_to_received')} | {trio('scheduled_to_received')} "
            f"| {lag['p50_ms']:.1f} / {lag['p99_ms']:.1f} / {lag['max_ms']:.1f} "
            f"| {hr['p50_ms']:.1f} / {hr['p99_ms']:.1f} |")


LABELS = {
    "automation": "automation, arriving (rule → invite → e-mail)",
    "baseline": "baseline, arriving (outbox → e-mail)",
    "automation_backlog": "automation, backlog of N",
    "baseline_backlog": "baseline, backlog of N",
}


def markdown_table(data: dict[str, Any]) -> str:
    p = data["phases"]
    a, b, ab, bb = p["automation"], p["baseline"], p["automation_backlog"], p["baseline_backlog"]
    lines = [
        "| run | received | invites/min | scheduled → enqueued p50/p90/p99 | enqueued → received p50/p90/p99 "
        "| scheduled → received p50/p90/p99 | loop lag p50/p99/max | HR request p50/p99 |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        *(_row(LABELS[name], p[name]) for name in LABELS),
        "",
        f"Times in ms. Arriving: {data['n']} applications kept one after another in {a['keep_s']:.1f} s "
        f"({a['kept_per_minute']:.0f}/min) while the rule ran, first scheduled → last received {a['first_to_last_s']:.1f} s; "
        f"the baseline enqueued its {data['n']} e-mails in {b['keep_s']:.1f} s, last received after {b['first_to_last_s']:.1f} s. "
        f"Backlog: all N kept (or enqueued) with the worker stopped, then started; times and CPU from its start "
        f"(drained in {ab['first_to_last_s']:.1f} s, baseline {bb['first_to_last_s']:.1f} s). Actions: "
        + ", ".join(f"{k} {v}" for k, v in a["states"].items())
        + " (backlog: " + ", ".join(f"{k} {v}" for k, v in ab["states"].items()) + "); e-mails needing more than one "
        f"attempt: {sum(x['attempts_over_1'] for x in (a, b, ab, bb))}.",
        "",
        "| run | busy: event loop / store thread / SMTP server (cores) | CPU ms per invite: loop / store thread "
        "| full GC (gen 2): collections, max / total ms | loop lag > 20 ms: samples |",
        "| --- | --- | --- | --- | --- |",
        *(f"| {LABELS[name]} | {p[name]['cpu_busy']['loop']:.2f} / {p[name]['cpu_busy']['store']:.2f} / "
          f"{p[name]['cpu_busy']['smtp_server']:.2f} | {p[name]['cpu_s']['loop'] * 1000 / p[name]['n']:.1f} / "
          f"{p[name]['cpu_s']['store'] * 1000 / p[name]['n']:.1f} | {p[name]['gc']['gen2']['collections']}, "
          f"{p[name]['gc']['gen2']['max_ms']:.0f} / {p[name]['gc']['gen2']['total_ms']:.0f} "
          f"| {len(p[name]['loop_lag_over_20ms'])} of {p[name]['loop_lag']['samples']} |" for name in LABELS),
    ]
    return "\n".join(lines)


def to_json(data: dict[str, Any]) -> str:
    """The report as JSON: the summary indented, one line per application."""
    def compact(phase: dict[str, Any]) -> str:
        head = {k: v for k, v in phase.items() if k != "rows"}
        text = json.dumps(head, indent=1, ensure_ascii=False)
        rows = ",\n".join("   " + json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in phase["rows"])
        return text[:-2] + ',\n "rows": [\n' + rows + "\n ]\n}"

    head = {k: v for k, v in data.items() if k != "phases"}
    text = json.dumps(head, indent=1, ensure_ascii=False)
    phases = ",\n".join(f' "{name}": ' + compact(p).replace("\n", "\n ") for name, p in data["phases"].items())
    return text[:-2] + ',\n "phases": {\n' + phases + "\n }\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks automation", description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="applications (default 200)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for every e-mail per phase")
    parser.add_argument("--gc-freeze", action="store_true",
                        help="experiment: gc.freeze() after start-up, so full collections skip what was loaded")
    parser.add_argument("--label", default=None, help="a suffix for the file name (before, after-...)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON path (default benchmarks/data/automation-<date>[-label].json)")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("--n is at least 1")
    data = run(args.n, args.timeout, gc_freeze=args.gc_freeze)
    table = markdown_table(data)
    data["table_markdown"] = table
    m = data["machine"]
    print(f"{m['cpu']}, {m['cores']} cores, {m['platform']}; Python {m['python']}, SQLite {m['sqlite']}, "
          f"SQLAlchemy {m['versions']['SQLAlchemy']}, aiosmtplib {m['versions']['aiosmtplib']}, "
          f"aiosmtpd {m['versions']['aiosmtpd']}; load average before {m['load_avg_before']}\n")
    print(table)
    for kind, p in data["phases"].items():
        if p["received"] < p["n"]:
            print(f"  {kind}: only {p['received']} of {p['n']} e-mails arrived in {args.timeout:.0f} s", file=sys.stderr)
    if args.label:
        data["label"] = args.label
        data["command"] += f" --label {args.label}"
    out = args.out or DATA / f"automation-{data['date']}{'-' + args.label if args.label else ''}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(to_json(data), encoding="utf-8")
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
