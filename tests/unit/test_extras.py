"""A missing extra is one line naming what to install (the real thing, a fresh install without
extras, is tests/packaging/test_dist.py; here each extra's module is made to look missing)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from openscout import cli, extras
from openscout.extras import EXTRAS, MissingExtra


@pytest.fixture
def missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every extra's module looks uninstalled."""
    for name, extra in EXTRAS.items():
        monkeypatch.setitem(EXTRAS, name, replace(extra, module=f"openscout_missing_{name}"))


def test_an_installed_extra_is_quiet() -> None:
    for name in EXTRAS:  # the dev install has every extra
        extras.require(name)


def test_a_missing_extra_names_itself(missing: None) -> None:
    with pytest.raises(MissingExtra) as raised:
        extras.require("postgres")
    assert str(raised.value) == (
        "PostgreSQL needs its driver (psycopg), which is not installed: "
        "pip install 'openscout[postgres]'"
    )


@pytest.mark.parametrize(
    ("arguments", "extra"),
    [
        (["db", "upgrade", "--database-url", "postgresql://postgres@127.0.0.1:1/none"], "postgres"),
        (["keys", "list", "--database-url", "postgres://postgres@127.0.0.1:1/none"], "postgres"),
        (["serve", "--server", "granian", "--port", "1"], "granian"),
        (["serve", "--redis-url", "redis://127.0.0.1:1", "--port", "1"], "redis"),
    ],
)
def test_the_command_says_it_in_one_line_before_anything_starts(
    missing: None,
    arguments: list[str],
    extra: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    def serve(_settings: object) -> None:
        raise AssertionError("started serving")

    monkeypatch.setattr(cli, "_run_granian", serve)
    monkeypatch.setattr(cli, "_run_uvicorn", serve)
    if "--database-url" not in arguments:
        arguments = [*arguments, "--database-url", f"sqlite:///{tmp_path / 'unused.db'}"]
    assert cli.main(arguments) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith("openscout: ")
    assert err.endswith(f"which is not installed: pip install 'openscout[{extra}]'\n")
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing created
