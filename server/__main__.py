"""``python -m server``: run Candor with settings from the environment.

``python -m server audit verify [--database-url URL]`` walks the audit log's
hash chain instead (docs/audit.md): exit 0 with "N entries, chain intact",
1 naming the first entry that does not verify, 2 when there is no audit log.
``python -m server keys new`` prints a new master key; ``keys rotate``
re-wraps every candidate's data key with ``CANDOR_MASTER_KEY`` (the old
one given in ``CANDOR_MASTER_KEYS_OLD``), without re-encrypting content;
``keys seal-existing --from OLD_URL`` copies a database made before sealing
at rest into a new, empty one with its personal data sealed.
``python -m server migrate [--database-url URL] [--check]`` brings the
database's schema to this release's (Alembic, migrations/), in place with its
data; ``--check`` only says whether it is current (exit 1 when not).
``python -m server purge [--dry-run]`` runs the retention purge once
(docs/retention.md); the server also runs it daily.

``python -m server users create --login x --role admin [--name N] [--job J]...``
adds an HR user and prints a one-time password (docs/accounts.md);
``users list`` lists them; ``users reset-password --login x`` prints a new one.
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


def _database_url(given: str | None) -> str:
    if given is not None:
        return given
    from .settings import Settings

    return Settings().database_url


def users_command(args: argparse.Namespace) -> int:
    """The operators' way to the first admin (and a lost password): no server needed, the database directly."""
    from db import AlreadyExists, Store

    from .accounts import check_login, hash_password, one_time_password

    store = Store(_database_url(args.database_url))
    try:
        if args.users_command == "list":
            for user in store.list_users():
                state = "disabled" if user.disabled else "active"
                print(f"{user.id}\t{user.login}\t{user.role}\t{state}\tjobs={','.join(user.job_ids) or '-'}")
            return 0
        try:
            login = check_login(args.login)
        except ValueError as exc:
            print(f"--login: {exc}", file=sys.stderr)
            return 2
        password = one_time_password()
        if args.users_command == "create":
            try:
                user = store.create_user(login, args.name or login, args.role, password_hash=hash_password(password),
                                         job_ids=args.job or ())
            except AlreadyExists:
                print(f"a user {login!r} exists already", file=sys.stderr)
                return 1
        else:
            found = store.user_by_login(login)
            if found is None:
                print(f"no user {login!r}", file=sys.stderr)
                return 1
            user = store.update_user(found.id, password_hash=hash_password(password))
        print(f"{user.login} ({user.role}, {user.id}): one-time password {password}")
        print("Sign in at /hr and change it (POST /v1/me/password); it is shown only now.")
        return 0
    finally:
        store.close()


def migrate_command(database_url: str | None, *, check: bool) -> int:
    from db.base import open_engine
    from db.migrate import current, head, upgrade

    if database_url is None:
        from .settings import Settings

        database_url = Settings().database_url
    engine = open_engine(database_url)
    try:
        if check:
            at, latest = current(engine), head()
            print(f"schema at {at or 'no revision'}, this release's is {latest}", file=sys.stdout if at == latest else sys.stderr)
            return 0 if at == latest else 1
        before, after = upgrade(engine)
    finally:
        engine.dispose()
    print(f"schema {before or 'empty'} -> {after}")
    return 0


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
    migrate = commands.add_parser("migrate", help="bring the database's schema to this release's (Alembic), with its data")
    migrate.add_argument("--database-url", help="the database (default: CANDOR_DATABASE_URL or sqlite:///var/candor.db)")
    migrate.add_argument("--check", action="store_true", help="only say whether the schema is current (exit 1 when not)")
    purge = commands.add_parser("purge", help="erase what the retention periods say has expired (docs/retention.md)")
    purge.add_argument("--dry-run", action="store_true", help="only say what would be erased")
    purge.add_argument("--database-url", help="the database (default: CANDOR_DATABASE_URL or sqlite:///var/candor.db)")
    users = commands.add_parser("users", help="HR accounts").add_subparsers(dest="users_command", required=True)
    create = users.add_parser("create", help="add a user; prints a one-time password")
    create.add_argument("--login", required=True)
    create.add_argument("--role", required=True, choices=["admin", "recruiter", "reviewer", "auditor"])
    create.add_argument("--name", help="the display name (default: the login)")
    create.add_argument("--job", action="append", help="a job id the user is given (recruiter, reviewer); repeat for more")
    reset = users.add_parser("reset-password", help="a new one-time password for a user")
    reset.add_argument("--login", required=True)
    listing = users.add_parser("list", help="every user: id, login, role, state, jobs")
    for sub in (create, reset, listing):
        sub.add_argument("--database-url", help="the database (default: CANDOR_DATABASE_URL or sqlite:///var/candor.db)")
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "audit":
        return audit_verify(args.database_url)
    if args.command == "keys":
        from .keys import keys_command

        return keys_command(args.keys_command, getattr(args, "database_url", None), getattr(args, "source_url", None))
    if args.command == "migrate":
        return migrate_command(args.database_url, check=args.check)
    if args.command == "purge":
        from .purge import purge_command

        return purge_command(args.dry_run, args.database_url)
    if args.command == "users":
        return users_command(args)
    serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
