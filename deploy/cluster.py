"""A Candor cluster on this machine: PostgreSQL, Redis and N nodes on loopback (``make cluster``).

``python -m deploy.cluster`` starts a private PostgreSQL (``initdb`` + ``pg_ctl`` from
/usr/lib/postgresql/*/bin, as the ``postgres`` user when run as root) and a ``redis-server`` with
append-only persistence, both under ``var/cluster/``, or uses ``CANDOR_DATABASE_URL`` /
``CANDOR_REDIS_URL`` when given; runs ``python -m server migrate`` once (nodes start with
``CANDOR_MIGRATE=off``, as in production); then starts the nodes on 127.0.0.1:8001, 8002, ... with
the same database, Redis, keys and HR token and each its own ``CANDOR_NODE_ID`` and
``CANDOR_NODE_URL``. Node 1 is the entry: ``CANDOR_PUBLIC_URL`` (what links point to) is its URL, as a
load balancer's would be in production. It waits for every node's ``/healthz``, prints the URLs and
the HR token, and stops everything on Ctrl-C or SIGTERM.

The keys (master key, secret key, contact key, HR token) and the database password are made once
into ``var/cluster/secrets.json`` (0600) and reused: the database's personal data is sealed with that
master key, so the data directory and the file go together (``rm -rf var/cluster`` starts afresh).

Tests and benchmarks use the same thing from Python::

    cluster = LocalCluster(Path("/tmp/c"), nodes=2, base_port=0, env={"CANDOR_WARMUP": "false"})
    cluster.start()
    cluster.node_urls; cluster.kill(1); cluster.restart(1)
    cluster.stop()

Logs: ``var/cluster/node-N.log``, ``pg.log``, ``redis.log``, ``migrate.log``.
"""

from __future__ import annotations

import argparse
import base64
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parent.parent
PG_ROOT = Path("/usr/lib/postgresql")
DATABASE = "candor"
DB_USER = "candor"
PR_SET_PDEATHSIG = 1


class ClusterError(RuntimeError):
    """A part of the cluster did not start: the message says which, with the end of its log."""


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now (the kernel's pick)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin_dir(root: Path = PG_ROOT) -> Path:
    """The newest installed PostgreSQL's bin folder (Debian's layout, /usr/lib/postgresql/15/bin)."""
    found = sorted(
        (p for p in root.glob("*/bin") if (p / "initdb").exists() and p.parent.name.isdigit()),
        key=lambda p: int(p.parent.name),
    )
    if not found:
        raise ClusterError(f"no PostgreSQL server binaries under {root}/*/bin (apt-get install postgresql), "
                           "or give CANDOR_DATABASE_URL")
    return found[-1]


def _end_with_parent() -> None:
    """In a child before exec: SIGTERM when the cluster's process dies, even by SIGKILL (Linux prctl)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        pass  # not Linux: a killed cluster leaves its nodes running (stop them by their pids)


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except FileNotFoundError:
        return "(no log)"


@dataclass(frozen=True)
class Secrets:
    """What every node must share: made once per cluster folder, kept 0600, never logged."""

    master_key: str
    secret_key: str
    contact_key: str
    hr_token: str
    db_password: str
    redis_password: str

    @classmethod
    def load_or_make(cls, path: Path) -> "Secrets":
        if path.exists():
            return cls(**json.loads(path.read_text()))
        made = cls(
            master_key=base64.b64encode(os.urandom(32)).decode(),
            secret_key=secrets.token_urlsafe(32),
            contact_key=secrets.token_urlsafe(32),
            hr_token=secrets.token_urlsafe(24),
            db_password=secrets.token_urlsafe(18),
            redis_password=secrets.token_urlsafe(18),
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(made.__dict__, out)
        return made


class PostgresServer:
    """A private PostgreSQL in ``folder`` (data, socket, log) on 127.0.0.1:``port``, password login only."""

    def __init__(self, folder: Path, port: int, password: str, bin_dir: Path | None = None) -> None:
        self.folder = folder
        self.port = port
        self.password = password
        self.bin_dir = bin_dir or pg_bin_dir()
        self.data = folder / "data"
        self.log = folder.parent / "pg.log"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def _as_owner(self, *argv: str) -> list[str]:
        """PostgreSQL refuses to run as root: as root, run its tools as the ``postgres`` user."""
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    def _chown(self, *paths: Path) -> None:
        if os.geteuid() == 0:
            for path in paths:
                shutil.chown(path, "postgres", "postgres")

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.log.touch()
        self._chown(self.folder, self.log)
        if os.geteuid() == 0 and subprocess.run(["runuser", "-u", "postgres", "--", "test", "-w", str(self.folder)]).returncode:
            raise ClusterError(f"the postgres user cannot reach {self.folder}: a folder above it is closed to others "
                               "(choose a --root every user may traverse, e.g. under /var/tmp)")
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        # A cluster killed without its stop leaves its PostgreSQL running on the old port: stop it first.
        self.stop()
        started = subprocess.run(
            self._as_owner(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}", "start",
            ),
            capture_output=True, text=True,
            start_new_session=True,  # out of the terminal's process group: Ctrl-C must not stop it before the nodes
        )
        if started.returncode != 0:
            raise ClusterError(f"PostgreSQL did not start: {started.stderr.strip()}\n{log_tail(self.log)}")
        self._create_database()

    def _initdb(self) -> None:
        pwfile = self.folder / "pwfile"
        fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(self.password + "\n")
        self._chown(pwfile)
        try:
            done = subprocess.run(
                self._as_owner(
                    str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", DB_USER, f"--pwfile={pwfile}",
                    "--auth=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
                ),
                capture_output=True, text=True,
            )
        finally:
            pwfile.unlink(missing_ok=True)
        if done.returncode != 0:
            raise ClusterError(f"initdb failed: {done.stderr.strip()}")

    def _create_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(host="127.0.0.1", port=self.port, user=DB_USER, password=self.password,
                                 dbname="postgres", autocommit=True) as conn:
                if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
                    conn.execute(f'CREATE DATABASE "{DATABASE}"')
        except psycopg.OperationalError as exc:
            raise ClusterError(f"cannot sign in to the private PostgreSQL ({exc}); its data and secrets.json "
                               "were made together: remove both to start afresh") from None

    def stop(self) -> None:
        if not (self.data / "postmaster.pid").exists():
            return
        subprocess.run(
            self._as_owner(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop"),
            capture_output=True, text=True,
        )


class RedisServer:
    """A private redis-server in ``folder`` on 127.0.0.1:``port``, append-only file on, a password required."""

    def __init__(self, folder: Path, port: int, password: str, *, databases: int = 16) -> None:
        self.folder = folder
        self.port = port
        self.password = password
        self.databases = databases
        self.log = folder.parent / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def _stop_stale(self, pidfile: Path) -> None:
        """A cluster killed without its stop leaves its redis-server on this folder's AOF: end it first."""
        try:
            pid = int(pidfile.read_text().strip())
            alive = "redis-server" in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, ValueError):
            return
        if alive:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
                time.sleep(0.1)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ClusterError("redis-server is not installed (apt-get install redis-server), or give CANDOR_REDIS_URL")
        self.folder.mkdir(parents=True, exist_ok=True)
        pidfile = self.folder / "redis.pid"
        self._stop_stale(pidfile)
        conf = self.folder / "redis.conf"
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds the password
        with os.fdopen(fd, "w") as out:
            out.write(
                f"bind 127.0.0.1\nport {self.port}\ndir {self.folder}\nappendonly yes\nappendfsync everysec\n"
                f"requirepass {self.password}\nlogfile {self.log}\npidfile {pidfile}\ndaemonize no\nsave \"\"\n"
                f"databases {self.databases}\n"
            )
        self.process = subprocess.Popen([binary, str(conf)], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True, preexec_fn=_end_with_parent)
        deadline = time.monotonic() + 20
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ClusterError(f"redis-server did not start on port {self.port}:\n{log_tail(self.log)}")
            time.sleep(0.1)

    def _answers(self) -> bool:
        """PING over a plain socket (RESP): no client library needed to know it is up."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(f"AUTH {self.password}\r\nPING\r\n".encode())
                reply = b""
                while b"PONG" not in reply and len(reply) < 200:
                    chunk = sock.recv(200)
                    if not chunk:
                        break
                    reply += chunk
                return b"PONG" in reply
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # redis rewrites nothing on SIGTERM with AOF; it flushes and exits
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None


@dataclass
class Node:
    """One ``python -m server`` of the cluster: its number (1-based), port, and process while it runs."""

    number: int
    port: int
    folder: Path
    process: subprocess.Popen[bytes] | None = None
    log_file: IO[bytes] | None = field(default=None, repr=False)

    @property
    def node_id(self) -> str:
        return f"node-{self.number}"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> Path:
        return self.folder.parent / f"{self.node_id}.log"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class LocalCluster:
    """PostgreSQL + Redis + ``nodes`` Candor nodes under ``root``; ``base_port=0`` picks free ports.

    ``database_url``/``redis_url`` use existing servers instead of starting private ones. ``env`` is
    added to every node's environment (e.g. ``CANDOR_WARMUP=false``, ``CANDOR_ICE_ALLOW``); the
    cluster's own variables (database, Redis, keys, node id and URL) win over it.

    Nodes and Redis end when the process that started them dies, even by SIGKILL (Linux's parent-death
    signal), so a crashed test leaves no server behind; the signal follows the *thread* that spawned
    them, so call ``start``/``restart`` from one that outlives the nodes (the main thread, not
    ``asyncio.to_thread``). PostgreSQL outlives it and is stopped at the next ``start`` on the folder.
    """

    def __init__(
        self,
        root: Path = REPO / "var" / "cluster",
        *,
        nodes: int = 3,
        base_port: int = 8001,
        pg_port: int = 0,
        redis_port: int = 0,
        database_url: str | None = None,
        redis_url: str | None = None,
        env: dict[str, str] | None = None,
        python: str = sys.executable,
        healthy_timeout_s: float = 300.0,
    ) -> None:
        if nodes < 1:
            raise ValueError("a cluster needs at least one node")
        self.root = root.resolve()
        self.python = python
        self.healthy_timeout_s = healthy_timeout_s
        self.extra_env = dict(env or {})
        self.secrets = Secrets.load_or_make(self.root / "secrets.json")
        self.postgres = None if database_url else PostgresServer(self.root / "pg", pg_port or free_port(),
                                                                 self.secrets.db_password)
        self.redis = None if redis_url else RedisServer(self.root / "redis", redis_port or free_port(),
                                                        self.secrets.redis_password)
        self._database_url = database_url
        self._redis_url = redis_url
        self.nodes = [
            Node(i, (base_port + i - 1) if base_port else free_port(), self.root / f"node-{i}")
            for i in range(1, nodes + 1)
        ]

    # -- what callers read --------------------------------------------------------------------

    @property
    def database_url(self) -> str:
        return self._database_url or self.postgres.url  # type: ignore[union-attr]

    @property
    def redis_url(self) -> str:
        return self._redis_url or self.redis.url  # type: ignore[union-attr]

    @property
    def entry_url(self) -> str:
        """Where candidates and HR are sent: node 1 (a load balancer's address in production)."""
        return self.nodes[0].url

    @property
    def node_urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def hr_token(self) -> str:
        return self.secrets.hr_token

    def node(self, number: int) -> Node:
        return self.nodes[number - 1]

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> "LocalCluster":
        """Database, Redis, the schema, then every node; returns once each answers /healthz 200."""
        self.root.mkdir(parents=True, exist_ok=True)
        try:
            if self.postgres is not None:
                self.postgres.start()
            if self.redis is not None:
                self.redis.start()
            self.migrate()
            for node in self.nodes:
                self._spawn(node)
            for node in self.nodes:
                self.wait_healthy(node.number)
        except BaseException:
            self.stop()
            raise
        return self

    def migrate(self) -> None:
        """``python -m server migrate`` once, before any node starts (they refuse a schema behind)."""
        log = self.root / "migrate.log"
        with log.open("wb") as out:
            done = subprocess.run([self.python, "-m", "server", "migrate"], env=self._base_env(), cwd=self.root,
                                  stdout=out, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise ClusterError(f"python -m server migrate failed:\n{log_tail(log)}")

    def node_env(self, node: Node) -> dict[str, str]:
        env = self._base_env()
        env.update({
            "CANDOR_HOST": "127.0.0.1",
            "CANDOR_PORT": str(node.port),
            "CANDOR_NODE_ID": node.node_id,
            "CANDOR_NODE_URL": node.url,
            "CANDOR_PUBLIC_URL": self.entry_url,
            "CANDOR_MIGRATE": "off",
            "CANDOR_REDIS_URL": self.redis_url,
            "CANDOR_SECRET_KEY": self.secrets.secret_key,
            "CANDOR_MASTER_KEY": self.secrets.master_key,
            "CANDOR_CONTACT_KEY": self.secrets.contact_key,
            "CANDOR_HR_TOKEN": self.secrets.hr_token,
            # One box: the nodes share a folder; in production they share object storage (CANDOR_RECORDINGS_URL).
            "CANDOR_RECORDINGS_DIR": str(self.root / "recordings"),
        })
        return env

    def _base_env(self) -> dict[str, str]:
        env = {**os.environ, **self.extra_env}
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
        env["PYTHONUNBUFFERED"] = "1"
        env["CANDOR_DATABASE_URL"] = self.database_url
        return env

    def _spawn(self, node: Node) -> None:
        # Each node's working folder holds what a node writes relative to it (var/...), apart from the others'.
        node.folder.mkdir(parents=True, exist_ok=True)
        node.log_file = node.log.open("ab")
        node.process = subprocess.Popen(
            [self.python, "-m", "server"], env=self.node_env(node), cwd=node.folder,
            stdin=subprocess.DEVNULL, stdout=node.log_file, stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C in the terminal reaches the cluster, which stops the nodes in order
            preexec_fn=_end_with_parent,
        )

    def wait_healthy(self, number: int, timeout_s: float | None = None) -> None:
        node = self.node(number)
        deadline = time.monotonic() + (timeout_s or self.healthy_timeout_s)
        while True:
            if not node.running:
                raise ClusterError(f"{node.node_id} exited before it was ready:\n{log_tail(node.log)}")
            status = self.health(number)
            if status == 200:
                return
            if status == 500:
                raise ClusterError(f"{node.node_id} /healthz answered 500:\n{log_tail(node.log)}")
            if time.monotonic() > deadline:
                raise ClusterError(f"{node.node_id} not ready after {timeout_s or self.healthy_timeout_s:.0f} s:\n"
                                   f"{log_tail(node.log)}")
            time.sleep(0.5)

    def health(self, number: int) -> int | None:
        """The node's /healthz status code, None when nothing answers."""
        try:
            with urllib.request.urlopen(self.node(number).url + "/healthz", timeout=2) as reply:
                return reply.status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return None

    def kill(self, number: int) -> None:
        """SIGKILL, no goodbye: what a crashed machine looks like to the others."""
        node = self.node(number)
        if node.process is not None:
            node.process.kill()
            node.process.wait()
        self._close_log(node)

    def restart(self, number: int, *, wait: bool = True) -> None:
        """Start the node again on its port (after kill or stop_node), with the same identity."""
        node = self.node(number)
        if node.running:
            raise ClusterError(f"{node.node_id} is still running")
        self._spawn(node)
        if wait:
            self.wait_healthy(number)

    def stop_node(self, number: int, timeout_s: float = 60.0) -> int | None:
        """SIGTERM (uvicorn's graceful shutdown: sessions closed, reports drained), SIGKILL after timeout_s."""
        node = self.node(number)
        code = None
        if node.process is not None:
            if node.process.poll() is None:
                node.process.terminate()
            try:
                code = node.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                node.process.kill()
                code = node.process.wait()
        self._close_log(node)
        return code

    def stop(self) -> None:
        """Nodes first (at once, so their shutdowns overlap), then Redis, then PostgreSQL."""
        for node in self.nodes:
            if node.running:
                node.process.terminate()  # type: ignore[union-attr]
        for node in self.nodes:
            self.stop_node(node.number)
        if self.redis is not None:
            self.redis.stop()
        if self.postgres is not None:
            self.postgres.stop()

    @staticmethod
    def _close_log(node: Node) -> None:
        if node.log_file is not None:
            node.log_file.close()
            node.log_file = None

    def __enter__(self) -> "LocalCluster":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- python -m deploy.cluster ------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m deploy.cluster", description=__doc__.split("\n\n")[0])
    top.add_argument("--nodes", type=int, default=3, help="how many Candor nodes (default 3)")
    top.add_argument("--base-port", type=int, default=8001, help="node N listens on BASE+N-1 (default 8001; 0: free ports)")
    top.add_argument("--pg-port", type=int, default=0, help="the private PostgreSQL's port (default: a free one)")
    top.add_argument("--redis-port", type=int, default=0, help="the private Redis's port (default: a free one)")
    top.add_argument("--root", type=Path, default=REPO / "var" / "cluster", help="data, logs and keys (default var/cluster)")
    return top


def run(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    cluster = LocalCluster(
        args.root, nodes=args.nodes, base_port=args.base_port, pg_port=args.pg_port, redis_port=args.redis_port,
        database_url=os.environ.get("CANDOR_DATABASE_URL"), redis_url=os.environ.get("CANDOR_REDIS_URL"),
    )

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    # SIGTERM as Ctrl-C: both stop the cluster in order, during start-up too (SIGINT set here as well:
    # a shell starting this in the background leaves it ignored).
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, interrupt)
    print(f"starting PostgreSQL, Redis and {args.nodes} nodes (logs in {cluster.root}) ...", flush=True)
    began = time.monotonic()
    try:
        try:
            cluster.start()
        except ClusterError as exc:
            print(f"cluster did not start: {exc}", file=sys.stderr)
            return 1
        print(f"ready in {time.monotonic() - began:.0f} s")
        print(f"entry (node 1, CANDOR_PUBLIC_URL): {cluster.entry_url}   HR page: {cluster.entry_url}/hr")
        for node in cluster.nodes:
            print(f"  {node.node_id}: {node.url}  metrics {node.url}/metrics  log {node.log}")
        print(f"database: {cluster.database_url.split('@')[-1]}   redis: {cluster.redis_url.split('@')[-1]}")
        print(f"HR token (also in {cluster.root / 'secrets.json'}): {cluster.hr_token}")
        print("Ctrl-C stops everything.", flush=True)
        while True:
            time.sleep(1.0)
            for node in cluster.nodes:
                if node.process is not None and not node.running:
                    print(f"{node.node_id} exited ({node.process.returncode}); see {node.log}", file=sys.stderr, flush=True)
                    node.process = None
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("stopping ...", flush=True)
        cluster.stop()
    return 0


if __name__ == "__main__":
    sys.exit(run())
