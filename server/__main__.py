"""``python -m server``: run Candor with settings from the environment.

``python -m server audit verify [--database-url URL]`` walks the audit log's
hash chain instead (docs/audit.md): exit 0 with "N entries, chain intact",
1 naming the first entry that does not verify, 2 when there is no audit log.
``python -m server keys new`` prints a new master key; ``keys rotate``
re-wraps every candidate's data key with ``CANDOR_MASTER_KEY`` (the old
one given in ``CANDOR_MASTER_KEYS_OLD``), without re-encrypting content;
``keys seal-existing --from OLD_URL`` copies a database made before sealing
at rest into a new, empty one with its personal data sealed.
"""

from __future__ import annotations

import argparse
import logging
import sys


def serve() -> None:
    import uvicorn

    from .app import create_app
    from .settings import Settings

    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # faster-whisper logs every decode at INFO; keep the log for operators.
    logging.getLogger("faster_whisper").setLevel(logging.WARNING)
    app = create_app(settings)
    print(f"Candor on {settings.base_url}  (HR page: {settings.base_url}/hr)", flush=True)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level, access_log=False, ws="websockets-sansio")


def audit_verify(database_url: str | None) -> int:
    from db.audit import AuditRepository
    from db.base import open_engine

    if database_url is None:
        from .settings import Settings

        database_url = Settings().database_url
    engine = open_engine(database_url)
    try:
        repo = AuditRepository(engine)
        if not repo.audit_table_exists():
            print("no audit log in this database (audit_log is missing)", file=sys.stderr)
            return 2
        result = repo.verify_audit()
    finally:
        engine.dispose()
    print(result.message(), file=sys.stdout if result.ok else sys.stderr)
    return 0 if result.ok else 1


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m server", description="Run Candor (no arguments), or a maintenance command.")
    commands = top.add_subparsers(dest="command")
    audit = commands.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="walk the hash chain; exit 1 naming the first entry that does not verify")
    verify.add_argument("--database-url", help="the database (default: CANDOR_DATABASE_URL or sqlite:///var/candor.db)")
    keys = commands.add_parser("keys", help="the master key").add_subparsers(dest="keys_command", required=True)
    keys.add_parser("new", help="print a new random master key (base64) for CANDOR_MASTER_KEY")
    rotate = keys.add_parser("rotate", help="re-wrap every data key with CANDOR_MASTER_KEY (old keys in CANDOR_MASTER_KEYS_OLD)")
    rotate.add_argument("--database-url", help="the database (default: CANDOR_DATABASE_URL or sqlite:///var/candor.db)")
    sealing = keys.add_parser("seal-existing", help="copy a database made before sealing at rest into a new one, sealed")
    sealing.add_argument("--from", dest="source_url", required=True, help="the old (plain) database's URL; only read")
    sealing.add_argument("--database-url", help="the new, empty database (default: CANDOR_DATABASE_URL)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "audit":
        return audit_verify(args.database_url)
    if args.command == "keys":
        from .keys import keys_command

        return keys_command(args.keys_command, getattr(args, "database_url", None), getattr(args, "source_url", None))
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
