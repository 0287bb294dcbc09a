"""The `openscout` command: serve · keys create|list|revoke · db upgrade|check|seed."""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from openscout import __version__, keys
from openscout.config import (
    DEFAULT_DATABASE_URL,
    LOG_LEVELS,
    SERVERS,
    Settings,
    SettingsError,
    load_settings,
)
from openscout.domain.errors import EmailTaken, StoreUnavailable
from openscout.domain.search import Search
from openscout.store import schema
from openscout.store.engine import SqlStore, safe_url

DEFAULT_ACCOUNT = "default"


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in ("-h", "--help")):
        arguments.insert(0, "serve")  # `openscout` alone means `serve`
    if arguments == ["--version"] or arguments[:2] == ["serve", "--version"]:
        print(f"openscout {__version__}")
        return 0
    options = _parser().parse_args(arguments)
    try:
        settings = load_settings().with_options(
            database_url=getattr(options, "database_url", None),
            host=getattr(options, "host", None),
            port=getattr(options, "port", None),
            workers=getattr(options, "workers", None),
            server=getattr(options, "server", None),
            pool_size=getattr(options, "pool_size", None),
            statement_timeout=getattr(options, "statement_timeout", None),
            public_url=getattr(options, "public_url", None),
            log_level=getattr(options, "log_level", None),
            rate_limit=getattr(options, "rate_limit", None),
            burst_limit=getattr(options, "burst_limit", None),
            redis_url=getattr(options, "redis_url", None),
            access_log=getattr(options, "access_log", None),
            control_api=getattr(options, "control_api", None),
        )
        result: int = options.command(settings, options)
        return result
    except SettingsError as error:
        print(f"openscout: bad setting: {error}", file=sys.stderr)
        return 2
    except StoreUnavailable as error:
        print(f"openscout: the database cannot be reached: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if getattr(options, "debug", False):
            raise
        # One line: driver messages run on with hints and SQL that --debug shows in full.
        summary = (str(error).strip().splitlines() or [""])[0]
        print(f"openscout: {type(error).__name__}: {summary} (--debug shows more)", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openscout",
        description="A self-hosted server for the Help Scout Mailbox API's customers.",
    )
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def database_option(command: argparse.ArgumentParser) -> None:
        command.add_argument(
            "--database-url",
            help=f"database URL (env OPENSCOUT_DATABASE_URL; default {DEFAULT_DATABASE_URL})",
        )
        command.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    serve = commands.add_parser("serve", help="serve the API (the default command)")
    serve.add_argument("--host", help="address to listen on (env OPENSCOUT_HOST; 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (env OPENSCOUT_PORT; 8080)")
    serve.add_argument(
        "--workers",
        type=int,
        help="server processes (env OPENSCOUT_WORKERS; 1 on SQLite, one per CPU on PostgreSQL)",
    )
    serve.add_argument(
        "--server",
        type=str.lower,
        choices=SERVERS,
        help="HTTP server: granian or uvicorn (env OPENSCOUT_SERVER; granian)",
    )
    serve.add_argument(
        "--pool-size", type=int, help="database connections per process (OPENSCOUT_POOL_SIZE; 8)"
    )
    serve.add_argument(
        "--statement-timeout",
        type=int,
        help="seconds a PostgreSQL statement may run, 0 for no limit "
        "(OPENSCOUT_STATEMENT_TIMEOUT; 30)",
    )
    serve.add_argument(
        "--public-url", help="base URL for Location headers (OPENSCOUT_PUBLIC_URL; the request's)"
    )
    serve.add_argument(
        "--log-level",
        type=str.lower,
        choices=LOG_LEVELS,
        help="debug, info, warning or error (OPENSCOUT_LOG_LEVEL; info)",
    )
    serve.add_argument(
        "--rate-limit",
        type=_not_negative,
        metavar="N",
        help="requests per minute per account, 0 for no rate limits (OPENSCOUT_RATE_LIMIT; 200)",
    )
    serve.add_argument(
        "--burst-limit",
        type=_not_negative,
        metavar="N",
        help="writes per 5 seconds per account, 0 for none (OPENSCOUT_BURST_LIMIT; 12)",
    )
    serve.add_argument(
        "--redis-url",
        help="keep rate-limit counts in this Redis, not the database (OPENSCOUT_REDIS_URL)",
    )
    serve.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="one JSON line per request on standard output (OPENSCOUT_ACCESS_LOG; on)",
    )
    serve.add_argument(
        "--control-api",
        action="store_true",
        default=None,
        help="for test suites: serve /_openscout/ to reset, seed, snapshot, read the requests "
        "received, inject faults and set clocks (OPENSCOUT_CONTROL_API; off; docs/testing.md)",
    )
    database_option(serve)
    serve.set_defaults(command=_serve)

    key_commands = commands.add_parser("keys", help="manage API keys").add_subparsers(
        title="keys commands", required=True, metavar="COMMAND"
    )
    create = key_commands.add_parser("create", help="create a key; prints it on the last line")
    create.add_argument("--name", help="a note to tell the key apart in `keys list`")
    create.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        help=f"the account the key belongs to, created when new (default {DEFAULT_ACCOUNT!r})",
    )
    database_option(create)
    create.set_defaults(command=_keys_create)
    listing = key_commands.add_parser("list", help="list keys (never the keys themselves)")
    database_option(listing)
    listing.set_defaults(command=_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("key_id", type=int, metavar="KEY_ID", help="the id shown by `keys list`")
    database_option(revoke)
    revoke.set_defaults(command=_keys_revoke)

    db_commands = commands.add_parser("db", help="manage the database").add_subparsers(
        title="db commands", required=True, metavar="COMMAND"
    )
    upgrade = db_commands.add_parser("upgrade", help="migrate the database to the newest schema")
    database_option(upgrade)
    upgrade.set_defaults(command=_db_upgrade)
    check = db_commands.add_parser("check", help="fail when the schema and the code disagree")
    database_option(check)
    check.set_defaults(command=_db_check)
    seed = db_commands.add_parser(
        "seed",
        help="add N made-up, realistic customers to an account (for trials and benchmarks), "
        "or the customers of a fixture file",
    )
    what = seed.add_mutually_exclusive_group(required=True)
    what.add_argument("--customers", type=int, metavar="N", help="how many customers to add")
    what.add_argument(
        "--from",
        dest="from_file",
        metavar="FILE",
        help="add the customers of this JSON file: v1's full or create shape (docs/testing.md)",
    )
    seed.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        help=f"the account they belong to, created when new (default {DEFAULT_ACCOUNT!r})",
    )
    seed.add_argument(
        "--seed", type=int, default=1, help="random seed: the same seed makes the same customers"
    )
    database_option(seed)
    seed.set_defaults(command=_db_seed)
    return parser


def _not_negative(text: str) -> int:
    number = int(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{text} is below 0")
    return number


def _open(settings: Settings, *, migrate: bool = True) -> SqlStore:
    store = SqlStore(settings.database_url, pool_size=settings.pool_size)
    if migrate:
        before = schema.current_revision(store)
        schema.upgrade(store)
        after = schema.current_revision(store)
        if before != after:
            print(f"Migrated {safe_url(settings.database_url)} to schema {after}.", file=sys.stderr)
    return store


def _serve(settings: Settings, _options: argparse.Namespace) -> int:
    if settings.control_api and settings.worker_count() > 1:
        # Its journal, faults, clocks and snapshots live in the memory of one process.
        print("openscout: --control-api needs a single worker (--workers 1)", file=sys.stderr)
        return 2
    store = _open(settings)
    try:
        with store.reading() as transaction:
            has_keys = transaction.count_live_keys() > 0
        if not has_keys:
            key = _create_key(store, DEFAULT_ACCOUNT, "created on first start")
            print(f"No API key existed, so one was created for account {DEFAULT_ACCOUNT!r}.")
            print("Send it as the user name of HTTP Basic auth (any password):")
            print(f"    {key}")
    finally:
        store.close()
    url = f"http://{_url_host(settings.host)}:{settings.port}"
    print(f"openscout {__version__} serving the Help Scout v1 API at {url}/v1/customers.json")
    print(f"Its OpenAPI description: {url}/v1/openapi.json, to read at {url}/docs")
    if settings.control_api:
        print(f"Control API for tests: {url}/_openscout/ (docs/testing.md)")
    print(f"Database: {safe_url(settings.database_url)}; press Ctrl+C to stop.", flush=True)
    for name, value in (
        ("DATABASE_URL", settings.database_url),
        ("POOL_SIZE", str(settings.pool_size)),
        ("STATEMENT_TIMEOUT", str(settings.statement_timeout)),
        ("WORKERS", str(settings.worker_count())),
        ("SERVER", settings.server),
        ("PUBLIC_URL", settings.public_url or ""),
        ("RATE_LIMIT", str(settings.rate_limit)),
        ("BURST_LIMIT", str(settings.burst_limit)),
        ("REDIS_URL", settings.redis_url or ""),
        ("ACCESS_LOG", "true" if settings.access_log else "false"),
        ("CONTROL_API", "true" if settings.control_api else "false"),
    ):
        os.environ[f"OPENSCOUT_{name}"] = value  # read again by each worker's app factory
    if settings.server == "uvicorn":
        _run_uvicorn(settings)
    else:
        _run_granian(settings)
    return 0


_APP = "openscout.http.asgi:app"


def _run_granian(settings: Settings) -> None:
    """Serve with granian: the default (docs/performance.md has the measurements)."""
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        _APP,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=settings.worker_count(),
        loop=Loops.uvloop,
        log_level=LogLevels(settings.log_level),
        # granian's own access line, with the query string, only when ours is off.
        log_access=settings.log_level == "debug" and not settings.access_log,
        # A worker that dies (killed, out of memory) is replaced, as uvicorn's supervisor does.
        respawn_failed_workers=True,
    ).serve()


def _run_uvicorn(settings: Settings) -> None:
    import uvicorn

    uvicorn.run(
        _APP,
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.worker_count(),
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        # uvicorn's own access line, with the query string, only when ours is off.
        access_log=settings.log_level == "debug" and not settings.access_log,
        server_header=False,
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _create_key(store: SqlStore, account: str, name: str | None) -> str:
    key = keys.generate_key()
    with store.writing() as transaction:
        transaction.create_key(
            account, name, keys.hash_key(key), key[: keys.PREFIX_LENGTH], datetime.now(UTC)
        )
    return key


def _keys_create(settings: Settings, options: argparse.Namespace) -> int:
    account = options.account.strip()
    if not account:
        print("openscout: --account must not be blank", file=sys.stderr)
        return 2
    store = _open(settings)
    try:
        key = _create_key(store, account, options.name)
    finally:
        store.close()
    print(f"Created a key for account {account!r}. It is shown only this once:")
    print(key)
    return 0


def _keys_list(settings: Settings, _options: argparse.Namespace) -> int:
    store = _open(settings)
    try:
        with store.reading() as transaction:
            listed = transaction.list_keys()
    finally:
        store.close()
    if not listed:
        print("No keys yet: `openscout keys create` makes one.")
        return 0
    print(f"{'ID':>4}  {'KEY':<8}  {'ACCOUNT':<16}  {'CREATED':<20}  {'STATUS':<28}  NAME")
    for key in listed:
        status = "revoked " + _when(key.revoked_at) if key.revoked_at else "live"
        print(
            f"{key.id:>4}  {key.prefix + '…':<8}  {key.account:<16}  {_when(key.created_at):<20}"
            f"  {status:<28}  {key.name or ''}"
        )
    return 0


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _keys_revoke(settings: Settings, options: argparse.Namespace) -> int:
    store = _open(settings)
    try:
        with store.writing() as transaction:
            revoked = transaction.revoke_key(options.key_id, datetime.now(UTC))
    finally:
        store.close()
    if not revoked:
        print(f"openscout: no live key with id {options.key_id}", file=sys.stderr)
        return 1
    print(f"Revoked key {options.key_id}; requests with it get 401 from now on.")
    return 0


def _db_upgrade(settings: Settings, _options: argparse.Namespace) -> int:
    store = _open(settings, migrate=False)
    try:
        before = schema.current_revision(store)
        schema.upgrade(store)
        after = schema.current_revision(store)
    finally:
        store.close()
    if before == after:
        print(f"The database is up to date (schema {after}).")
    else:
        print(f"Migrated the database from schema {before or 'none'} to {after}.")
    return 0


def _db_check(settings: Settings, _options: argparse.Namespace) -> int:
    store = _open(settings, migrate=False)
    try:
        current, head = schema.current_revision(store), schema.head_revision()
        differences = schema.drift(store) if current == head else []
    finally:
        store.close()
    if current != head:
        print(f"The database is at schema {current or 'none'}; the code expects {head}.")
        print("Run `openscout db upgrade`.")
        return 1
    if differences:
        print("The migrated schema differs from the code's tables:")
        for difference in differences:
            print(f"  {difference}")
        return 1
    print(f"The database schema matches the code (schema {head}).")
    return 0


#: Customers per INSERT batch, and per SQLite transaction and progress line: big enough to be
#: fast, small enough that SQLite's write-ahead log stays a manageable size.
_SEED_BATCH = 5_000
_SEED_TRANSACTION = 50_000


def _db_seed(settings: Settings, options: argparse.Namespace) -> int:
    from openscout import seed

    if options.from_file is not None:
        return _seed_from(settings, options.from_file, options.account.strip())
    total, account = options.customers, options.account.strip()
    if total < 1 or not account:
        print("openscout: --customers must be at least 1 and --account not blank", file=sys.stderr)
        return 2
    store = _open(settings)
    started = time.monotonic()
    try:
        now = datetime.now(UTC)
        with store.writing() as transaction:
            account_id = transaction.ensure_account(account, now)
            start = transaction.find_customers(account_id, Search(page_size=1)).count
        made = seed.customers(total, now, start=start, seed=options.seed)
        # PostgreSQL loads the whole seed in one transaction (`SqlStore.loading`: keys and
        # indexes made once at the end); SQLite commits every _SEED_TRANSACTION customers.
        per_transaction = _SEED_TRANSACTION if store.is_sqlite else total
        done = committed = 0
        while done < total:
            with store.loading(report=lambda line: print(line, file=sys.stderr)) as transaction:
                end = min(done + per_transaction, total)
                while done < end:
                    batch = list(itertools.islice(made, min(_SEED_BATCH, end - done)))
                    transaction.add_customers(account_id, batch)
                    done += len(batch)
                    if done % _SEED_TRANSACTION == 0 or done == end:
                        rate = done / max(time.monotonic() - started, 1e-9)
                        print(
                            f"seeded {done:,} of {total:,} customers ({rate:,.0f}/s)",
                            file=sys.stderr,
                        )
            committed = done
        store.optimize()
    except EmailTaken:
        print(
            f"openscout: an address made up for account {account!r} is taken there already; "
            f"nothing of that transaction was written ({committed:,} customers were added "
            "before it)",
            file=sys.stderr,
        )
        return 1
    finally:
        store.close()
    elapsed = time.monotonic() - started
    print(f"Added {total:,} customers to account {account!r} in {elapsed:.1f} s.")
    return 0


def _seed_from(settings: Settings, path: str, account: str) -> int:
    """`db seed --from FILE`: the fixture customers of a file, validated as create requests
    are, all or none (docs/testing.md)."""
    from openscout import sandbox
    from openscout.contract.v1 import fixtures, wire
    from openscout.domain.errors import Invalid, Malformed

    if not account:
        print("openscout: --account must not be blank", file=sys.stderr)
        return 2
    try:
        loaded = fixtures.read_fixtures(Path(path).read_bytes())
    except OSError as error:
        print(f"openscout: cannot read {path}: {error.strerror or error}", file=sys.stderr)
        return 2
    except Malformed:
        print(
            f'openscout: {path} is not a JSON list of customers (or {{"customers": [...]}})',
            file=sys.stderr,
        )
        return 2
    store = _open(settings)
    try:
        now = datetime.now(UTC)
        with store.writing() as transaction:
            account_id = transaction.ensure_account(account, now)
        ids = sandbox.load(store, account_id, loaded, now)
    except Invalid as error:
        print(f"openscout: {path}: nothing was added; these values are not valid:", file=sys.stderr)
        for problem in error.problems:
            value = wire.render_value(problem.value)
            print(
                f"  {wire.property_name(problem.path)} = {value!r}: {wire.message(problem)}",
                file=sys.stderr,
            )
        return 1
    except sandbox.FixtureEmailTaken as error:
        print(
            f"openscout: {path}: nothing was added; customers[{error.index}] has the email "
            f"address {error.email!r}, which another customer of account {account!r} has",
            file=sys.stderr,
        )
        return 1
    finally:
        store.close()
    print(f"Added {len(ids):,} customers from {path} to account {account!r}.")
    return 0
