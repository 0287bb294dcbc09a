"""The `openscout` command: serve · deliver · keys create|list|revoke ·
apps create|list|revoke|authorize · properties create|list · db upgrade|check|seed ·
webhooks create|list|delete|deliveries|redeliver."""

from __future__ import annotations

import argparse
import errno
import os
import re
import socket
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from openscout import __version__, apps, extras, logs, service
from openscout.config import (
    DEFAULT_DATABASE_URL,
    Settings,
    SettingsError,
    flag,
    load_settings,
    option_of,
    settings_fields,
    sqlite_path,
    variable,
)
from openscout.domain.errors import (
    EventNotFound,
    Invalid,
    Problem,
    PropertyExists,
    Reason,
    StoreUnavailable,
    UnknownApp,
    WebhookNotFound,
)
from openscout.domain.properties import MAX_SLUG, MAX_TEXT, PropertyType, new_definition
from openscout.domain.webhooks import FIRED_EVENTS, MAX_SECRET_LENGTH, new_webhook
from openscout.extras import MissingExtra
from openscout.store import schema
from openscout.store.engine import SqlStore, safe_url
from openscout.webhooks import service as webhooks
from openscout.webhooks.service import DELIVERY_LOG_LENGTH

DEFAULT_ACCOUNT = "default"
_HELP_FLAGS = ("-h", "--help", "-V", "--version")


class Refused(Exception):
    """What the command cannot do, said in one line; `code` is the exit status (2: a usage
    error, such as a bad setting)."""

    def __init__(self, message: str, code: int = 2) -> None:
        super().__init__(message)
        self.code = code


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in _HELP_FLAGS):
        arguments.insert(0, "serve")  # `openscout` alone means `serve`
    options = _parser().parse_args(arguments)
    try:
        given = {
            setting.name: getattr(options, setting.name, None) for setting in settings_fields()
        }
        settings = load_settings().with_options(**given)
        result: int = options.command(settings, options)
        return result
    except SettingsError as error:
        print(f"openscout: bad setting: {error}", file=sys.stderr)
        return 2
    except Refused as error:
        print(f"openscout: {error}", file=sys.stderr)
        return error.code
    except StoreUnavailable as error:
        print(f"openscout: the database cannot be reached: {_summary(error)}", file=sys.stderr)
        return 1
    except MissingExtra as error:
        print(f"openscout: {error}", file=sys.stderr)
        return 1
    except Exception as error:
        if getattr(options, "debug", False):
            raise
        print(f"openscout: {_summary(error)} (--debug shows more)", file=sys.stderr)
        return 1


def _summary(error: Exception) -> str:
    """The first line of an error's message, without the driver's class name that SQLAlchemy
    puts first: driver messages run on with hints and SQL that --debug shows in full."""
    summary = (str(error).strip().splitlines() or [""])[0]
    return re.sub(r"^\([\w.]+\) ", "", summary) or type(error).__name__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="openscout",
        description="A self-hosted server for the Help Scout Mailbox API's customers.",
    )
    version = f"openscout {__version__}"
    parser.add_argument("-V", "--version", action="version", version=version)
    commands = parser.add_subparsers(title="commands", required=True, metavar="COMMAND")

    def database_option(command: argparse.ArgumentParser) -> None:
        _add_settings(command, everywhere=True)
        command.add_argument("--debug", action="store_true", help="show tracebacks on errors")

    serve = commands.add_parser("serve", help="serve the API (the default command)")
    serve.add_argument("-V", "--version", action="version", version=version)
    _add_settings(serve, everywhere=False)
    database_option(serve)
    serve.set_defaults(command=_serve)

    deliver = commands.add_parser(
        "deliver",
        help="deliver webhooks, without serving the API (serve delivers too, unless "
        "--no-webhook-delivery)",
    )
    _add_settings(deliver, everywhere=False, delivery=True)
    database_option(deliver)
    deliver.set_defaults(command=_deliver)

    key_commands = commands.add_parser("keys", help="manage API keys").add_subparsers(
        title="keys commands", required=True, metavar="COMMAND"
    )
    create = key_commands.add_parser("create", help="create a key; prints it on the last line")
    create.add_argument(
        "--name",
        help="a note to tell the key apart in `keys list` "
        f"(at most {service.MAX_NAME_LENGTH} characters)",
    )
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

    app_commands = commands.add_parser(
        "apps", help="manage OAuth apps (the v2 API's clients)"
    ).add_subparsers(title="apps commands", required=True, metavar="COMMAND")
    create_app = app_commands.add_parser(
        "create", help="create an app; prints its client id and secret on the last two lines"
    )
    create_app.add_argument(
        "--name", required=True, help=f"the app's name (at most {apps.MAX_NAME_LENGTH} characters)"
    )
    create_app.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        help=f"the account the app acts for, created when new (default {DEFAULT_ACCOUNT!r})",
    )
    create_app.add_argument(
        "--redirect-uri",
        metavar="URI",
        help="where the approval page sends the authorization code (an http or https URL); "
        "needed for the authorization-code grant in a browser",
    )
    database_option(create_app)
    create_app.set_defaults(command=_apps_create)
    list_apps = app_commands.add_parser("list", help="list apps (never their secrets)")
    database_option(list_apps)
    list_apps.set_defaults(command=_apps_list)
    revoke_app = app_commands.add_parser(
        "revoke", help="revoke an app: its tokens stop working at once"
    )
    revoke_app.add_argument("client_id", metavar="CLIENT_ID", help="the app's client id")
    database_option(revoke_app)
    revoke_app.set_defaults(command=_apps_revoke)
    authorize = app_commands.add_parser(
        "authorize",
        help="complete the authorization-code grant for the app's account without a browser; "
        "prints a refresh token on the last line",
    )
    authorize.add_argument("client_id", metavar="CLIENT_ID", help="the app's client id")
    database_option(authorize)
    authorize.set_defaults(command=_apps_authorize)
    property_commands = commands.add_parser(
        "properties", help="manage customer properties (Help Scout v2's custom fields)"
    ).add_subparsers(title="properties commands", required=True, metavar="COMMAND")
    define = property_commands.add_parser(
        "create",
        help="define a customer property of an account (docs/decisions/v2-property-definitions.md)",
    )
    define.add_argument(
        "--slug",
        required=True,
        help=f"its name in API paths: up to {MAX_SLUG} lowercase letters, digits, - and _",
    )
    define.add_argument(
        "--name", required=True, help=f"its name as shown (up to {MAX_TEXT} characters)"
    )
    define.add_argument(
        "--type", required=True, choices=[kind.value for kind in PropertyType], help="its values"
    )
    define.add_argument(
        "--option",
        dest="options",
        action="append",
        default=[],
        metavar="LABEL",
        help="an option of a dropdown, in order (repeat for each; a dropdown needs one)",
    )
    define.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        help=f"the account it belongs to, created when new (default {DEFAULT_ACCOUNT!r})",
    )
    database_option(define)
    define.set_defaults(command=_properties_create)
    properties = property_commands.add_parser("list", help="list an account's customer properties")
    properties.add_argument(
        "--account", default=DEFAULT_ACCOUNT, help=f"the account (default {DEFAULT_ACCOUNT!r})"
    )
    database_option(properties)
    properties.set_defaults(command=_properties_list)

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
    _webhook_commands(commands, database_option)
    return parser


def _webhook_commands(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    database_option: Callable[[argparse.ArgumentParser], None],
) -> None:
    hooks = commands.add_parser(
        "webhooks", help="manage webhooks and see their deliveries (docs/webhooks.md)"
    ).add_subparsers(title="webhooks commands", required=True, metavar="COMMAND")
    create = hooks.add_parser(
        "create", help="subscribe an account to events; prints the webhook's id on the last line"
    )
    create.add_argument("--url", required=True, help="where to POST the events (http or https)")
    create.add_argument(
        "--secret",
        required=True,
        help=f"signs every delivery (at most {MAX_SECRET_LENGTH} characters)",
    )
    create.add_argument(
        "--event",
        action="append",
        dest="events",
        metavar="EVENT",
        help=f"an event to send; repeat for more (default: {', '.join(FIRED_EVENTS)})",
    )
    create.add_argument(
        "--account",
        default=DEFAULT_ACCOUNT,
        help=f"whose customers' events (created when new; default {DEFAULT_ACCOUNT!r})",
    )
    create.add_argument("--label", help="a note to tell the webhook apart")
    create.add_argument(
        "--notification",
        action="store_true",
        help="send only the customer's URI, not the customer",
    )
    database_option(create)
    create.set_defaults(command=_webhooks_create)
    listing = hooks.add_parser("list", help="list webhooks (never their secrets)")
    listing.add_argument("--account", help="only this account's")
    database_option(listing)
    listing.set_defaults(command=_webhooks_list)
    remove = hooks.add_parser("delete", help="delete a webhook and its deliveries")
    remove.add_argument(
        "webhook_id", type=int, metavar="ID", help="the id shown by `webhooks list`"
    )
    database_option(remove)
    remove.set_defaults(command=_webhooks_delete)
    log = hooks.add_parser(
        "deliveries", help="a webhook's last events: state, attempts, answers, next try"
    )
    log.add_argument("webhook_id", type=int, metavar="ID", help="the id shown by `webhooks list`")
    log.add_argument(
        "--limit",
        type=int,
        default=DELIVERY_LOG_LENGTH,
        metavar="N",
        help=f"how many of the last events (default {DELIVERY_LOG_LENGTH})",
    )
    database_option(log)
    log.set_defaults(command=_webhooks_deliveries)
    again = hooks.add_parser(
        "redeliver", help="deliver an event again, now (its id is in `webhooks deliveries`)"
    )
    again.add_argument("event_id", metavar="EVENT_ID")
    database_option(again)
    again.set_defaults(command=_webhooks_redeliver)


def _add_settings(
    command: argparse.ArgumentParser, *, everywhere: bool, delivery: bool = False
) -> None:
    """The options of the settings (`Settings`' fields): those of every command, or the others
    (with `delivery`, only those of `openscout deliver`). Their text is checked by
    `Settings.with_options`, as their variables' is."""
    for setting in settings_fields():
        option = option_of(setting)
        if option.everywhere != everywhere or (delivery and not option.delivery):
            continue
        default = setting.default
        if option.default_text is not None:
            default = option.default_text
        elif isinstance(default, bool):
            default = "on" if default else "off"
        help = f"{option.help} (env {variable(setting)}; default {default})"
        if setting.type == "bool":
            action = argparse.BooleanOptionalAction if option.negatable else "store_true"
            command.add_argument(flag(setting), action=action, default=None, help=help)
        else:
            metavar = option.metavar or setting.name.upper()
            command.add_argument(flag(setting), metavar=metavar, help=help)


# -- the database


def _open(
    settings: Settings, *, create: bool = False, read_only: bool = False, as_json: bool = False
) -> SqlStore:
    """The store of `settings.database_url`: made and migrated when `create`; else a SQLite
    file must exist (no command that only reads or revokes makes a database), and `read_only`
    opens it so that nothing is written, not even a migration. `as_json`: a migration is told
    in a JSON line (`logs.announce`), as `serve` logs to a pipe."""
    path = sqlite_path(settings.database_url)
    if path is not None:
        where = path.absolute()
        if path.is_dir():
            raise Refused(f"{where} is a directory, not a database file")
        if not path.exists():
            if not create:
                raise Refused(f"no database at {where}")
            if not path.parent.is_dir():
                raise Refused(f"cannot make a database at {where}: no directory {where.parent}")
        elif not read_only and not os.access(path, os.W_OK):
            raise Refused(f"the database at {where} is read-only")
    store = SqlStore(settings.database_url, pool_size=settings.pool_size, read_only=read_only)
    if not read_only:
        try:
            before = schema.current_revision(store)
            schema.upgrade(store)
            after = schema.current_revision(store)
        except BaseException:
            store.close()
            raise
        if before != after:
            logs.announce(
                f"Migrated {safe_url(settings.database_url)} to schema {after}.",
                sys.stderr,
                as_json=as_json,
            )
    return store


@contextmanager
def _opened(
    settings: Settings, *, create: bool = False, read_only: bool = False, as_json: bool = False
) -> Iterator[SqlStore]:
    store = _open(settings, create=create, read_only=read_only, as_json=as_json)
    try:
        yield store
    finally:
        store.close()


def _now() -> datetime:
    return datetime.now(UTC)


# -- serve


def _serve(settings: Settings, _options: argparse.Namespace) -> int:
    if settings.control_api and settings.worker_count() > 1:
        # Its journal, faults, clocks and snapshots live in the memory of one process.
        raise Refused("--control-api needs a single worker (--workers 1)")
    if settings.server == "granian":
        extras.require("granian")
    if settings.redis_url:
        extras.require("redis")
    address = _address(settings.host, settings.port)
    if _in_use(address, settings.port):
        raise Refused(f"port {settings.port} is in use", code=1)
    # On a terminal the banner is text; otherwise it is JSON lines, as every log line is.
    as_json = not sys.stdout.isatty()
    with _opened(settings, create=True, as_json=as_json) as store:
        live_keys = service.count_live_keys(store)
        if not live_keys:
            key = service.create_key(store, DEFAULT_ACCOUNT, "created on first start", _now())
            logs.announce(
                f"No API key existed, so one was created for account {DEFAULT_ACCOUNT!r}. "
                "Send it as the user name of HTTP Basic auth (any password):",
                sys.stdout,
                as_json=as_json,
                key=key,
            )
    url = f"http://{_url_host(settings.host)}:{settings.port}"
    banner = [
        f"openscout {__version__} serving the Help Scout v1 API at {url}/v1/customers.json",
        f"Its OpenAPI description: {url}/v1/openapi.json, to read at {url}/docs",
    ]
    if settings.control_api:
        banner.append(f"Control API for tests: {url}/_openscout/ (docs/testing.md)")
    if live_keys:  # a key is shown only when it is made: say how to get one
        where = ""
        if settings.database_url != DEFAULT_DATABASE_URL:
            where = f" --database-url {safe_url(settings.database_url)}"
        banner.append(
            f"API keys: {live_keys} live (`openscout keys list{where}`); "
            f"`openscout keys create{where}` makes a new one."
        )
    banner.append(f"Database: {safe_url(settings.database_url)}; press Ctrl+C to stop.")
    for line in banner:
        logs.announce(line, sys.stdout, as_json=as_json)
    # Read again by each worker's app factory (http/asgi.py).
    os.environ.update(replace(settings, workers=settings.worker_count()).environment())
    run = _run_uvicorn if settings.server == "uvicorn" else _run_granian
    run(settings, address)
    return 0


def _address(host: str, port: int) -> str:
    """The IP address to listen on for a host setting (an address, or a name this machine
    resolves, such as localhost), or the reason it cannot be."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise SettingsError(f"host {host!r} cannot be listened on ({reason})") from None
    ipv4 = [entry for entry in found if entry[0] == socket.AF_INET]
    return str((ipv4 or found)[0][4][0])


def _in_use(address: str, port: int) -> bool:
    """Whether another socket holds `port` on `address`. Checked before anything starts: a
    server with SO_REUSEPORT (granian) would share a port in use with whatever holds it."""
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As both servers bind: a port left in TIME_WAIT by a stopped server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            reason = error.strerror or str(error)
            raise Refused(f"cannot listen on {address} port {port}: {reason}", code=1) from None
    return False


_APP = "openscout.http.asgi:app"


def _run_granian(settings: Settings, address: str) -> None:
    """Serve with granian (`--server granian`; docs/performance.md has the measurements)."""
    extras.require("granian")
    from granian.constants import Interfaces, Loops
    from granian.log import LogLevels
    from granian.server import Server

    Server(
        _APP,
        address=address,
        port=settings.port,
        interface=Interfaces.ASGI,
        factory=True,
        workers=settings.worker_count(),
        loop=Loops.uvloop,
        log_level=LogLevels(settings.log_level),
        log_dictconfig=logs.server_config(settings.log_level),
        # granian's own access line, with the query string, only when ours is off.
        log_access=settings.log_level == "debug" and not settings.access_log,
        # A worker that dies (killed, out of memory) is replaced, as uvicorn's supervisor does.
        respawn_failed_workers=True,
    ).serve()


def _run_uvicorn(settings: Settings, address: str) -> None:
    """Serve with uvicorn and httptools: the default, which takes every printable byte of a
    query string as it comes (docs/performance.md)."""
    import uvicorn

    uvicorn.run(
        _APP,
        factory=True,
        host=address,
        port=settings.port,
        workers=settings.worker_count(),
        loop="uvloop",
        http="httptools",
        log_level=settings.log_level,
        log_config=logs.server_config(settings.log_level),
        # uvicorn's own access line, with the query string, only when ours is off.
        access_log=settings.log_level == "debug" and not settings.access_log,
        server_header=False,
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# -- keys


def _keys_create(settings: Settings, options: argparse.Namespace) -> int:
    account = options.account.strip()
    _check_names(account=account, name=options.name)
    with _opened(settings, create=True) as store:
        key = service.create_key(store, account, options.name, _now())
    print(f"Created a key for account {account!r}. It is shown only this once:")
    print(key)
    return 0


def _check_names(**names: str | None) -> None:
    """Refuse a blank account or an overlong name, before the database is opened."""
    problems = []
    for option, value in names.items():
        if value is None:
            continue
        if option == "account" and not value.strip():
            problems.append("--account must not be blank")
        elif len(value) > service.MAX_NAME_LENGTH:
            problems.append(
                f"--{option} is {len(value)} characters long; "
                f"at most {service.MAX_NAME_LENGTH} are kept"
            )
    if problems:
        raise Refused("; ".join(problems))


def _keys_list(settings: Settings, _options: argparse.Namespace) -> int:
    with _opened(settings, read_only=True) as store:
        _require_current_schema(store, settings)
        listed = service.list_keys(store)
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


def _require_current_schema(store: SqlStore, settings: Settings) -> None:
    current, head = schema.current_revision(store), schema.head_revision()
    if current != head:
        raise Refused(
            f"the database {safe_url(settings.database_url)} is at schema {current or 'none'}; "
            f"this openscout reads schema {head}: `openscout db upgrade` migrates it",
            code=1,
        )


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _keys_revoke(settings: Settings, options: argparse.Namespace) -> int:
    with _opened(settings) as store:
        revoked = service.revoke_key(store, options.key_id, _now())
    if not revoked:
        raise Refused(f"no live key with id {options.key_id}", code=1)
    print(f"Revoked key {options.key_id}; requests with it get 401 from now on.")
    return 0


# -- apps


def _apps_create(settings: Settings, options: argparse.Namespace) -> int:
    account, name = options.account.strip(), options.name
    problems = []
    if not account:
        problems.append("--account must not be blank")
    if not name.strip():
        problems.append("--name must not be blank")
    for option, value in (("account", account), ("name", name)):
        if len(value) > apps.MAX_NAME_LENGTH:
            problems.append(
                f"--{option} is {len(value)} characters long; at most {apps.MAX_NAME_LENGTH}"
            )
    uri = options.redirect_uri
    if uri is not None and not apps.is_redirect_uri(uri):
        problems.append("--redirect-uri must be an http or https URL with a host and no #fragment")
    if problems:
        raise Refused("; ".join(problems))
    with _opened(settings, create=True) as store:
        made = apps.create_app(store, account, name, uri, _now())
    print(f"Created the app {name!r} for account {account!r}.")
    print("Its client id, then its secret, which is shown only this once:")
    print(made.client_id)
    print(made.client_secret)
    return 0


def _apps_list(settings: Settings, _options: argparse.Namespace) -> int:
    with _opened(settings, read_only=True) as store:
        _require_current_schema(store, settings)
        listed = apps.list_apps(store)
    if not listed:
        print("No apps yet: `openscout apps create --name NAME` makes one.")
        return 0
    print(f"{'CLIENT ID':<32}  {'ACCOUNT':<16}  {'CREATED':<20}  {'STATUS':<28}  NAME")
    for app in listed:
        status = "revoked " + _when(app.revoked_at) if app.revoked_at else "live"
        print(
            f"{app.client_id:<32}  {app.account:<16}  {_when(app.created_at):<20}  "
            f"{status:<28}  {app.name}"
        )
        if app.redirect_uri:
            print(f"{'':<32}  redirect URI: {app.redirect_uri}")
    return 0


def _apps_revoke(settings: Settings, options: argparse.Namespace) -> int:
    with _opened(settings) as store:
        revoked = apps.revoke_app(store, options.client_id, _now())
    if not revoked:
        raise Refused(f"no live app with client id {options.client_id!r}", code=1)
    print(f"Revoked the app {options.client_id}; its tokens get 401 from now on.")
    return 0


def _apps_authorize(settings: Settings, options: argparse.Namespace) -> int:
    with _opened(settings) as store:
        try:
            issued = apps.authorize_as_owner(
                store, options.client_id, _now(), lifetime=settings.token_lifetime
            )
        except UnknownApp:
            raise Refused(f"no live app with client id {options.client_id!r}", code=1) from None
    print(f"Authorized the app {options.client_id} for its account.")
    print(f"An access token, good for {issued.expires_in} seconds:")
    print(issued.access_token)
    print("Its refresh token (grant_type=refresh_token with the app's id and secret), shown once:")
    print(issued.refresh_token)
    return 0


# -- customer properties


def _properties_create(settings: Settings, options: argparse.Namespace) -> int:
    account = options.account.strip()
    _check_names(account=account)
    try:
        definition = new_definition(options.slug, options.name, options.type, options.options)
    except Invalid as error:
        raise Refused("; ".join(_option_problem(problem) for problem in error.problems)) from None
    with _opened(settings, create=True) as store:
        account_id = service.ensure_account(store, account, _now())
        try:
            service.define_property(store, account_id, definition)
        except PropertyExists:
            raise Refused(
                f"account {account!r} has a property {definition.slug!r} already", code=1
            ) from None
    print(
        f"Defined the {definition.type.value} property {definition.slug!r} "
        f"({definition.name}) for account {account!r}."
    )
    return 0


def _option_problem(problem: Problem) -> str:
    """One problem of `properties create`, named by its option (`--option #2`: the second)."""
    name, *rest = problem.path
    if name == "options" and not rest:
        if problem.reason is Reason.REQUIRED:
            return "a dropdown needs at least one --option"
        return "--option is for dropdowns only"
    option = f"--option #{rest[0]}" if rest else f"--{name}"
    match problem.reason:
        case Reason.REQUIRED:
            return f"{option} must not be blank"
        case Reason.TOO_LONG:
            return f"{option} is longer than {MAX_SLUG if name == 'slug' else MAX_TEXT} characters"
        case Reason.DUPLICATE_ENTRY:
            return f"{option} {problem.value!r} repeats an earlier option (ignoring case)"
    if name == "slug":
        return f"--slug {problem.value!r} may hold only lowercase letters, digits, - and _"
    return f"{option} {problem.value!r} is not valid"


def _properties_list(settings: Settings, options: argparse.Namespace) -> int:
    account = options.account.strip()
    with _opened(settings, read_only=True) as store:
        _require_current_schema(store, settings)
        account_id = service.find_account(store, account)
        listed = [] if account_id is None else service.list_properties(store, account_id)
    if not listed:
        print(
            f"Account {account!r} has no properties yet: `openscout properties create` defines one."
        )
        return 0
    print(f"{'SLUG':<24}  {'TYPE':<8}  NAME")
    for definition in listed:
        print(f"{definition.slug:<24}  {definition.type.value:<8}  {definition.name}")
        for option_id, label in definition.options.items():
            print(f"{'':<24}  {'':<8}    option {option_id}: {label}")
    return 0


# -- the database


def _db_upgrade(settings: Settings, _options: argparse.Namespace) -> int:
    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists() and not path.parent.is_dir():
        raise Refused(f"cannot make a database at {path.absolute()}: no directory {path.parent}")
    store = SqlStore(settings.database_url, pool_size=settings.pool_size)
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
    with _opened(settings, read_only=True) as store:
        current, head = schema.current_revision(store), schema.head_revision()
        differences = schema.drift(store) if current == head else []
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


def _db_seed(settings: Settings, options: argparse.Namespace) -> int:
    from openscout import seed

    account = options.account.strip()
    if options.from_file is not None:
        _check_names(account=account)
        return _seed_from(settings, options.from_file, account)
    total = options.customers
    problems = [] if total >= 1 else ["--customers must be at least 1"]
    try:
        _check_names(account=account)
    except Refused as error:
        problems.append(str(error))
    if problems:
        raise Refused("; ".join(problems))
    started = time.monotonic()
    with _opened(settings, create=True) as store:
        now = _now()
        account_id = service.ensure_account(store, account, now)
        start = service.count_customers(store, account_id)
        made = seed.customers(total, now, start=start, seed=options.seed)
        try:
            with _progress(total, started) as progress:
                service.seed_customers(
                    store,
                    account_id,
                    made,
                    total,
                    progress=progress,
                    report=lambda line: print(line, file=sys.stderr),
                )
        except service.SeedClash as error:
            raise Refused(
                f"an address made up for account {account!r} is taken there already; "
                f"nothing of that transaction was written ({error.committed:,} customers were "
                "added before it)",
                code=1,
            ) from None
    elapsed = time.monotonic() - started
    print(f"Added {total:,} customers to account {account!r} in {elapsed:.1f} s.")
    return 0


def _on_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def _progress(total: int, started: float) -> Iterator[Callable[[int], None]]:
    """Seeding's progress on standard error: a bar on a terminal, else a line at each tenth."""
    if _on_terminal():
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        bar = Progress(
            TextColumn("seeding"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TimeRemainingColumn(),
            console=Console(file=sys.stderr),
        )
        task = bar.add_task("seeding", total=total)
        with bar:
            yield lambda done: bar.update(task, completed=done)
        return
    tenths = 0

    def line(done: int) -> None:
        nonlocal tenths
        if done * 10 // total > tenths or done == total:
            tenths = done * 10 // total
            rate = done / max(time.monotonic() - started, 1e-9)
            print(f"seeded {done:,} of {total:,} customers ({rate:,.0f}/s)", file=sys.stderr)

    yield line


def _seed_from(settings: Settings, path: str, account: str) -> int:
    """`db seed --from FILE`: the fixture customers of a file, validated as create requests
    are, all or none (docs/testing.md)."""
    from openscout import sandbox
    from openscout.contract.v1 import wire
    from openscout.contract.v2 import fixtures
    from openscout.domain.errors import Malformed

    try:
        loaded = fixtures.read_fixtures(Path(path).read_bytes())
    except OSError as error:
        raise Refused(f"cannot read {path}: {error.strerror or error}") from None
    except Malformed:
        raise Refused(
            f'{path} is not a JSON list of customers (or {{"customers": [...]}})'
        ) from None
    with _opened(settings, create=True) as store:
        now = _now()
        account_id = service.ensure_account(store, account, now)
        try:
            ids = sandbox.load(store, account_id, loaded, now)
        except Invalid as error:
            print(
                f"openscout: {path}: nothing was added; these values are not valid:",
                file=sys.stderr,
            )
            for problem in error.problems:
                value = wire.render_value(problem.value)
                print(
                    f"  {wire.property_name(problem.path)} = {value!r}: {wire.message(problem)}",
                    file=sys.stderr,
                )
            return 1
        except sandbox.FixtureEmailTaken as error:
            raise Refused(
                f"{path}: nothing was added; customers[{error.index}] has the email "
                f"address {error.email!r}, which another customer of account {account!r} has",
                code=1,
            ) from None
    print(f"Added {len(ids):,} customers from {path} to account {account!r}.")
    return 0


# -- webhooks (docs/webhooks.md)


def _deliver(settings: Settings, _options: argparse.Namespace) -> int:
    """Deliver webhooks until stopped (Ctrl+C, SIGTERM), logging as `serve` does."""
    import asyncio
    import logging.config
    import signal

    from openscout.webhooks.delivery import Deliverer

    logging.config.dictConfig(logs.server_config(settings.log_level))
    as_json = not sys.stdout.isatty()
    with _opened(settings, as_json=as_json) as store:
        deliverer = Deliverer.from_settings(settings, store)
        logs.announce(
            f"openscout {__version__} delivering webhooks from "
            f"{safe_url(settings.database_url)}; press Ctrl+C to stop.",
            sys.stdout,
            as_json=as_json,
        )

        async def until_stopped() -> None:
            # Ctrl+C or SIGTERM: the attempts under way end and are recorded, then it stops.
            loop = asyncio.get_running_loop()
            for signal_number in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signal_number, deliverer.stop)
            await deliverer.run()

        asyncio.run(until_stopped())
    return 0


#: How each webhook field is named on the command line, and what its problems mean there.
_WEBHOOK_OPTIONS = {"url": "--url", "secret": "--secret", "events": "--event", "label": "--label"}
_WEBHOOK_REASONS = {
    ("url", Reason.REQUIRED): "is required",
    ("url", Reason.INVALID): "is not an http or https URL",
    ("url", Reason.TOO_LONG): "is too long",
    ("secret", Reason.REQUIRED): "is required",
    ("secret", Reason.TOO_LONG): f"is longer than {MAX_SECRET_LENGTH} characters",
    ("events", Reason.INVALID): "is not one of Help Scout's webhook events "
    "(docs/webhooks.md lists them)",
    ("label", Reason.TOO_LONG): "is too long",
}


def _webhooks_create(settings: Settings, options: argparse.Namespace) -> int:
    account = options.account.strip()
    _check_names(account=account)
    try:
        wanted = new_webhook(
            options.url,
            options.secret,
            options.events or FIRED_EVENTS,
            notification=options.notification,
            label=options.label,
        )
    except Invalid as error:
        raise Refused("; ".join(_webhook_problem(p) for p in error.problems)) from None
    with _opened(settings, create=True) as store:
        now = _now()
        account_id = service.ensure_account(store, account, now)
        made = webhooks.create_webhook(store, account_id, wanted, now)
    kind = "the customer's URI" if made.notification else "the customer"
    print(
        f"Created webhook {made.id} for account {account!r}: {', '.join(made.events)} "
        f"({kind}) to {made.url}. Its id:"
    )
    print(made.id)
    return 0


def _webhook_problem(problem: Problem) -> str:
    field = problem.path[0]
    hidden = field == "secret" or problem.value in (None, "")
    shown = "" if hidden else f" {problem.value!r}"
    reason = _WEBHOOK_REASONS.get((field, problem.reason), "is not valid")
    return f"{_WEBHOOK_OPTIONS.get(field, field)}{shown} {reason}"


def _webhooks_list(settings: Settings, options: argparse.Namespace) -> int:
    with _opened(settings, read_only=True) as store:
        _require_current_schema(store, settings)
        listed = webhooks.list_webhooks(store, None)
    if options.account is not None:
        listed = [item for item in listed if item.account == options.account.strip()]
    if not listed:
        print("No webhooks yet: `openscout webhooks create` makes one.")
        return 0
    print(f"{'ID':>4}  {'ACCOUNT':<16}  {'STATE':<8}  {'SENDS':<6}  {'EVENTS':<50}  URL  LABEL")
    for item in listed:
        hook = item.webhook
        sends = "uri" if hook.notification else "object"
        print(
            f"{hook.id:>4}  {item.account:<16}  {hook.state.value:<8}  {sends:<6}  "
            f"{','.join(hook.events):<50}  {hook.url}  {hook.label or ''}"
        )
    return 0


def _webhooks_delete(settings: Settings, options: argparse.Namespace) -> int:
    with _opened(settings) as store:
        try:
            webhooks.delete_webhook(store, None, options.webhook_id)
        except WebhookNotFound:
            raise Refused(f"no webhook with id {options.webhook_id}", code=1) from None
    print(f"Deleted webhook {options.webhook_id} and its deliveries.")
    return 0


def _webhooks_deliveries(settings: Settings, options: argparse.Namespace) -> int:
    if options.limit < 1:
        raise Refused("--limit must be at least 1")
    with _opened(settings, read_only=True) as store:
        _require_current_schema(store, settings)
        try:
            hook = webhooks.get_webhook(store, None, options.webhook_id)
            records = webhooks.webhook_deliveries(store, None, options.webhook_id, options.limit)
        except WebhookNotFound:
            raise Refused(f"no webhook with id {options.webhook_id}", code=1) from None
    print(f"Webhook {hook.id} ({hook.state.value}) to {hook.url}:")
    if not records:
        print("no events yet.")
        return 0
    print(
        f"{'EVENT ID':<36}  {'EVENT':<16}  {'CUSTOMER':>10}  {'CREATED':<20}  {'STATE':<9}  "
        f"{'TRIES':>5}  {'LAST':>4}  NEXT TRY"
    )
    for record in records:
        last = "" if record.last_status is None else str(record.last_status)
        print(
            f"{record.event_id:<36}  {record.event:<16}  {record.customer_id:>10}  "
            f"{_when(record.created_at):<20}  {record.state:<9}  {record.attempts:>5}  "
            f"{last:>4}  {_when_ms(record.next_attempt_at)}"
        )
        for attempt in record.tries:
            answer = "-" if attempt.status is None else str(attempt.status)
            print(
                f"    {_when_ms(attempt.at)}  {answer:>3}  {attempt.duration_ms:>6} ms"
                f"  {attempt.error or ''}".rstrip()
            )
    return 0


def _when_ms(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _webhooks_redeliver(settings: Settings, options: argparse.Namespace) -> int:
    with _opened(settings) as store:
        try:
            webhooks.redeliver(store, None, options.event_id, int(time.time() * 1000))
        except EventNotFound:
            raise Refused(f"no event with id {options.event_id}", code=1) from None
    print(f"Event {options.event_id} will be delivered again, from its first attempt.")
    return 0
