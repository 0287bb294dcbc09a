"""A/B of two commits in one sitting: each commit's own `bench/run.py`, alternated round by round.

    .venv/bin/python bench/ab.py --base e23b1b4                       # 3 rounds, 10k, both backends
    .venv/bin/python bench/ab.py --base e23b1b4 --rounds 5 --backends sqlite --seconds 5

The base commit is checked out once into build/ab/base (a detached git worktree) with a virtual
environment of its own (its `make install`); the head is this tree. Each round runs the base's
`bench/run.py`, then the head's, with the same sizes, backends and seconds, so that both see the
same machine within minutes of each other; the order alternates from round to round. Each run
measures its own framework and storage ceilings, so every ratio is taken within its own run
first, then the median over the rounds is compared (bench/medians.py does the same for one tree).

Each tree seeds and keeps its own SQLite databases (build/bench/ of its tree). On PostgreSQL
both trees would use the same seeded `openscout_bench_N` databases, which the newer tree may have
migrated past what the older one knows: so before each run the `openscout_bench_N` databases of
the sizes measured are dropped, and each run seeds its own (seconds at 10k customers).

Each `openscout serve` runs with the options its tree's bench passes, which are the defaults a
user gets from `make serve` in the head (rate limits off; the base's bench turned them off with
`--rate-limit 0`, which is the head's default). The table goes to stdout and build/ab/report.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "ab"
#: Figures compared, per row of both reports: name → how to read it from a row.
FIGURES = ("per_second", "p99_ms", "framework_ratio", "storage_ratio")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="10000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument(
        "--server",
        help="serve openscout on this HTTP server in both trees (OPENSCOUT_SERVER), when their "
        "defaults differ; the framework ratios are then left out, as each tree divides by the "
        "ceiling of its own default server",
    )
    options = parser.parse_args()
    if options.rounds < 1:
        parser.error("--rounds must be at least 1")
    OUT.mkdir(parents=True, exist_ok=True)
    base = checkout(options.base)
    trees = {"base": base, "head": ROOT}
    runs: dict[str, list[list[dict[str, Any]]]] = {"base": [], "head": []}
    started = time.monotonic()
    for number in range(options.rounds):
        order = ("base", "head") if number % 2 == 0 else ("head", "base")
        for side in order:
            print(f"round {number + 1}/{options.rounds}: {side}", file=sys.stderr, flush=True)
            rows = bench(trees[side], options)
            (OUT / f"{side}-{number + 1}.json").write_text(json.dumps(rows, indent=2))
            runs[side].append(rows)
    commits = {side: commit_of(tree) for side, tree in trees.items()}
    table = render(runs, commits, options, time.monotonic() - started)
    print(table)
    (OUT / "report.md").write_text(table + "\n")
    return 0


def checkout(ref: str) -> Path:
    """build/ab/base at `ref`, with its own .venv (made once; moved when `ref` changes)."""
    tree = OUT / "base"
    commit = git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    if tree.exists() and commit_of(tree) != commit:
        git("worktree", "remove", "--force", str(tree))
    if not tree.exists():
        git("worktree", "add", "--detach", str(tree), commit)
    subprocess.run(["make", "-s", "install"], cwd=tree, check=True)
    return tree


def bench(tree: Path, options: argparse.Namespace) -> list[dict[str, Any]]:
    """One run of `tree`'s own bench/run.py; its rows with the ratios worked out."""
    if "postgresql" in options.backends:
        drop_postgres_databases([int(size) for size in options.sizes.split(",")])
    command = [
        str(tree / ".venv" / "bin" / "python"),
        str(tree / "bench" / "run.py"),
        *("--sizes", options.sizes, "--backends", options.backends),
        *("--seconds", f"{options.seconds:g}"),
    ]
    env = {**os.environ, **({"OPENSCOUT_SERVER": options.server} if options.server else {})}
    done = subprocess.run(command, cwd=tree, stdout=subprocess.DEVNULL, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}) in {tree}")
    report = json.loads((tree / "build" / "bench" / "report.json").read_text())
    rows = []
    for row in report["rows"]:
        framework, storage = row.get("framework"), row.get("storage")
        row["framework_ratio"] = row["per_second"] / framework if framework else None
        row["storage_ratio"] = row["per_second"] / storage if storage else None
        rows.append(row)
    return rows


def render(
    runs: dict[str, list[list[dict[str, Any]]]],
    commits: dict[str, str],
    options: argparse.Namespace,
    elapsed: float,
) -> str:
    def key(row: dict[str, Any]) -> tuple[str, int, str]:
        return (row["backend"], row["size"], row["scenario"])

    def median(side: str, wanted: tuple[str, int, str], figure: str) -> float | None:
        values = [
            row[figure]
            for run in runs[side]
            for row in run
            if key(row) == wanted and row.get(figure) is not None
        ]
        return statistics.median(values) if values else None

    def number(value: float | None, digits: int) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = [
        f"# A/B: base {commits['base']} against head {commits['head']}",
        "",
        f"Medians of {options.rounds} alternating rounds of each tree's own `bench/run.py "
        f"--sizes {options.sizes} --backends {options.backends} --seconds {options.seconds:g}`"
        f"{f', openscout on {options.server} in both' if options.server else ''}"
        f", in {elapsed / 60:.0f} min. head ÷ base above 1 is better for req/s and the ratios, "
        "below 1 for p99.",
        "",
        "| backend | customers | scenario | req/s base → head | p99 ms base → head "
        "| ÷ framework base → head | ÷ storage base → head | head ÷ base (req/s) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    head_keys = [key(row) for row in runs["head"][0]]
    base_keys = {key(row) for row in runs["base"][0]}
    for wanted in head_keys:
        if wanted not in base_keys or (options.server and wanted[2].startswith("framework")):
            continue
        cells = []
        for figure, digits in zip(FIGURES, (0, 1, 3, 2), strict=True):
            before, after = median("base", wanted, figure), median("head", wanted, figure)
            if options.server and figure == "framework_ratio":
                before = after = None
            cells.append(f"{number(before, digits)} → {number(after, digits)}")
        before, after = median("base", wanted, "per_second"), median("head", wanted, "per_second")
        change = number(after / before, 2) if before and after else "-"
        size = f"{wanted[1]:,}" if wanted[1] else "-"
        lines.append(f"| {wanted[0]} | {size} | {wanted[2]} | {' | '.join(cells)} | {change} |")
    return "\n".join(lines)


def drop_postgres_databases(sizes: list[int]) -> None:
    """Drop the seeded `openscout_bench_N` databases (bench/support.py names them so)."""
    import psycopg

    sys.path.insert(0, str(ROOT / "bench"))
    from support import postgres_admin_url

    with psycopg.connect(postgres_admin_url(), autocommit=True) as connection:
        for size in sizes:
            connection.execute(f'DROP DATABASE IF EXISTS "openscout_bench_{size}" WITH (FORCE)')


def commit_of(tree: Path) -> str:
    return git("-C", str(tree), "rev-parse", "--short", "HEAD").strip()


def git(*args: str) -> str:
    if shutil.which("git") is None:
        raise SystemExit("git is needed to check out the base commit")
    return subprocess.run(
        ["git", *args], cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE
    ).stdout


if __name__ == "__main__":
    sys.exit(main())
