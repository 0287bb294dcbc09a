"""Settings that depend on one another: the default number of server processes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from openscout.config import (
    Settings,
    SettingsError,
    flag,
    load_settings,
    option_of,
    settings_fields,
    sqlite_path,
    variable,
)

POSTGRES = "postgresql://openscout@db.internal/openscout"


def test_sqlite_serves_from_one_process_by_default() -> None:
    assert load_settings({}).worker_count() == 1
    assert load_settings({"OPENSCOUT_DATABASE_URL": "sqlite:///x.db"}).worker_count() == 1


def test_postgresql_serves_from_one_process_per_cpu_by_default() -> None:
    settings = load_settings({"OPENSCOUT_DATABASE_URL": POSTGRES})
    assert settings.worker_count() == (os.cpu_count() or 1)


def test_the_control_api_keeps_one_process_whatever_the_database() -> None:
    assert Settings(database_url=POSTGRES, control_api=True).worker_count() == 1


@pytest.mark.parametrize("url", ["sqlite:///x.db", POSTGRES])
def test_a_chosen_number_of_processes_is_kept(url: str) -> None:
    assert (
        load_settings({"OPENSCOUT_WORKERS": "3", "OPENSCOUT_DATABASE_URL": url}).worker_count() == 3
    )
    assert Settings(database_url=url).with_options(workers=5).worker_count() == 5


def test_a_number_of_processes_must_be_a_positive_whole_number() -> None:
    with pytest.raises(SettingsError, match="OPENSCOUT_WORKERS='two' is not a whole number"):
        load_settings({"OPENSCOUT_WORKERS": "two"})
    with pytest.raises(SettingsError, match="OPENSCOUT_WORKERS='0' is too small"):
        load_settings({"OPENSCOUT_WORKERS": "0"})


def test_options_are_checked_as_their_variables_are() -> None:
    with pytest.raises(SettingsError, match=r"^--workers=0 is too small; --pool-size=0 is too"):
        Settings().with_options(workers=0, pool_size=0, port=8080)
    with pytest.raises(SettingsError, match=r"^--rate-limit=-1 is too small$"):
        Settings().with_options(rate_limit=-1)
    # 0 turns a limit off, and port 0 asks for any free port, as in the environment.
    zeros = Settings().with_options(rate_limit=0, burst_limit=0, port=0, access_log=False)
    assert (zeros.rate_limit, zeros.burst_limit, zeros.port) == (0, 0, 0)


def test_the_statement_timeout_is_thirty_seconds_unless_set_and_0_turns_it_off() -> None:
    assert load_settings({}).statement_timeout == 30
    assert load_settings({"OPENSCOUT_STATEMENT_TIMEOUT": "5"}).statement_timeout == 5
    assert load_settings({"OPENSCOUT_STATEMENT_TIMEOUT": "0"}).statement_timeout == 0
    with pytest.raises(SettingsError, match="OPENSCOUT_STATEMENT_TIMEOUT='-1' is too small"):
        load_settings({"OPENSCOUT_STATEMENT_TIMEOUT": "-1"})
    assert Settings().with_options(statement_timeout=7).statement_timeout == 7


def test_the_body_timeout_is_thirty_seconds_unless_set_to_a_positive_number() -> None:
    assert load_settings({}).body_timeout == 30
    assert load_settings({"OPENSCOUT_BODY_TIMEOUT": "0.5"}).body_timeout == 0.5
    assert Settings().with_options(body_timeout="2").body_timeout == 2
    for raw, reason in [
        ("0", "is not above 0"),
        ("-1", "is not above 0"),
        ("soon", "is not a number"),
        ("nan", "is not a finite number"),
        ("inf", "is not a finite number"),
        ("1e400", "is not a finite number"),
    ]:
        with pytest.raises(SettingsError, match=f"OPENSCOUT_BODY_TIMEOUT='{raw}' {reason}"):
            load_settings({"OPENSCOUT_BODY_TIMEOUT": raw})
    # Handed to the worker processes as it was given.
    settings = Settings(body_timeout=0.25)
    assert load_settings(settings.environment()) == settings


def test_each_setting_is_declared_once_with_its_option_and_variable() -> None:
    for setting in settings_fields():
        option = option_of(setting)
        assert option.help
        assert variable(setting) == f"OPENSCOUT_{setting.name.upper()}"
        assert flag(setting) == f"--{setting.name.replace('_', '-')}"
    # What `serve` hands its worker processes reads back as the same settings.
    settings = Settings(host="localhost", port=0, workers=3, public_url="https://x.example")
    assert load_settings(settings.environment()) == settings
    assert load_settings(Settings().environment()) == Settings()


@pytest.mark.parametrize("host", ["localhost", "api.example.com", "127.0.0.1", "::1", "0.0.0.0"])
def test_hosts_are_addresses_or_names(host: str) -> None:
    assert Settings().with_options(host=host).host == host


@pytest.mark.parametrize("host", ["256.1.1.1", "1.2.3", "a b", "-x.example", "x..example", ""])
def test_a_host_that_is_neither_is_refused(host: str) -> None:
    with pytest.raises(SettingsError, match="is not an IP address or a host name"):
        load_settings({"OPENSCOUT_HOST": host or " "})


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///x.db",
        "sqlite:////tmp/x.db",
        "sqlite://",
        "postgresql://u@h:5432/db",
        "postgres://u@h/db",
        "postgresql+psycopg://u:p@h/db",
    ],
)
def test_database_urls_of_sqlite_and_postgresql_are_taken(url: str) -> None:
    assert load_settings({"OPENSCOUT_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("notaurl", "is not a database URL"),
        ("mysql://u@h/db", "names a database openscout does not support (mysql)"),
        ("postgresql+psycopg2://u@h/db", "does not support (postgresql+psycopg2)"),
        ("postgresql://u@h:99999/db", "has a port that is not a number"),
    ],
)
def test_other_database_urls_name_what_is_taken(url: str, reason: str) -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings({"OPENSCOUT_DATABASE_URL": url})
    assert reason in str(refused.value)
    if "port" not in reason:
        assert "sqlite:///PATH or postgresql://USER@HOST:PORT/DATABASE" in str(refused.value)


def test_the_file_of_a_sqlite_url() -> None:
    assert sqlite_path("sqlite:///x.db") == Path("x.db")
    assert sqlite_path("sqlite:////tmp/a%20b.db?timeout=3") == Path("/tmp/a b.db")
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://u@h/db") is None
