"""`openscout properties create|list` on a database file in tmp_path, in this process
(docs/decisions/v2-property-definitions.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from openscout import service
from openscout.domain.properties import PropertyDefinition, PropertyType
from tests.cli.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path, f"sqlite:///{tmp_path / 'openscout.db'}", monkeypatch, capsys)


def defined(cli: Cli, account: str = "default") -> list[PropertyDefinition]:
    store = cli.store()
    try:
        account_id = service.find_account(store, account)
        return [] if account_id is None else service.list_properties(store, account_id)
    finally:
        store.close()


def test_create_defines_a_property_of_the_default_account(cli: Cli) -> None:
    output = cli.ok("properties", "create", "--slug", "car", "--name", "Car", "--type", "text")
    assert output == "Defined the text property 'car' (Car) for account 'default'.\n"
    assert defined(cli) == [PropertyDefinition("car", "Car", PropertyType.TEXT)]


def test_a_dropdown_takes_its_options_in_order_and_another_account_is_made(cli: Cli) -> None:
    cli.ok(
        "properties",
        "create",
        "--slug",
        "plan",
        "--name",
        "Plan",
        "--type",
        "dropdown",
        "--option",
        "Free",
        "--option",
        "Plus",
        "--account",
        "acme",
    )
    assert defined(cli, "acme") == [
        PropertyDefinition("plan", "Plan", PropertyType.DROPDOWN, {1: "Free", 2: "Plus"})
    ]
    assert defined(cli) == []


def test_list_shows_the_accounts_properties_in_order(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    assert cli.ok("properties", "list").startswith("Account 'default' has no properties yet")
    cli.ok("properties", "create", "--slug", "seats", "--name", "Seats", "--type", "number")
    cli.ok(
        "properties",
        "create",
        *("--slug", "plan", "--name", "Plan", "--type", "dropdown"),
        *("--option", "Free", "--option", "Plus"),
    )
    assert cli.ok("properties", "list").splitlines() == [
        f"{'SLUG':<24}  {'TYPE':<8}  NAME",
        f"{'seats':<24}  {'number':<8}  Seats",
        f"{'plan':<24}  {'dropdown':<8}  Plan",
        f"{'':<24}  {'':<8}    option 1: Free",
        f"{'':<24}  {'':<8}    option 2: Plus",
    ]
    assert cli.ok("properties", "list", "--account", "nobody").startswith(
        "Account 'nobody' has no properties yet"
    )


def test_a_taken_slug_is_refused_and_changes_nothing(cli: Cli) -> None:
    cli.ok("properties", "create", "--slug", "car", "--name", "Car", "--type", "text")
    done = cli.run("properties", "create", "--slug", "car", "--name", "Auto", "--type", "url")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "openscout: account 'default' has a property 'car' already\n"
    assert defined(cli) == [PropertyDefinition("car", "Car", PropertyType.TEXT)]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ("--slug", "Car Make", "--name", "Car", "--type", "text"),
            "--slug 'Car Make' may hold only lowercase letters, digits, - and _",
        ),
        (("--slug", "car", "--name", " ", "--type", "text"), "--name must not be blank"),
        (
            ("--slug", "p", "--name", "P", "--type", "dropdown"),
            "a dropdown needs at least one --option",
        ),
        (
            ("--slug", "p", "--name", "P", "--type", "url", "--option", "a"),
            "--option is for dropdowns only",
        ),
        (
            ("--slug", "p", "--name", "P", "--type", "dropdown", "--option", "a", "--option", "A"),
            "--option #2 'A' repeats an earlier option (ignoring case)",
        ),
        (
            ("--slug", "x" * 101, "--name", "n" * 256, "--type", "date"),
            "--slug is longer than 100 characters; --name is longer than 255 characters",
        ),
    ],
)
def test_a_bad_definition_is_a_usage_error_naming_each_option(
    cli: Cli, arguments: tuple[str, ...], message: str
) -> None:
    done = cli.run("properties", "create", *arguments)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"openscout: {message}\n"
    assert not Path(cli.database_url.removeprefix("sqlite:///")).exists()


def test_an_unknown_type_is_refused_by_the_parser(cli: Cli) -> None:
    done = cli.run("properties", "create", "--slug", "a", "--name", "A", "--type", "colour")
    assert done.returncode == 2
    assert "--type" in done.stderr and "Traceback" not in done.stderr


def test_list_makes_no_database(cli: Cli) -> None:
    done = cli.run("properties", "list")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"openscout: no database at {cli.directory / 'openscout.db'}\n"
    assert list(cli.directory.iterdir()) == []


def test_help_lists_the_properties_commands(cli: Cli) -> None:
    assert "properties" in cli.ok("--help")
    output = cli.ok("properties", "--help")
    assert "create" in output and "list" in output
    assert "--option LABEL" in cli.ok("properties", "create", "--help")
