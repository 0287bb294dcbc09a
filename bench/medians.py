"""The median of several `make bench` runs, row by row, with the targets of issue 5 judged on it.

One run on a shared machine can be off by a factor of two in either direction (a storage ceiling
measured while the page cache was cold, another process on the cores). Keep each run's
report.json and take the medians:

    for i in 1 2 3; do make bench && cp build/bench/report.json build/bench/report-$i.json; done
    .venv/bin/python bench/medians.py build/bench/report-*.json

Every figure of a row (req/s, p50, p99, peak RSS, the ratios) is the median of that figure over
the runs, each ratio taken within its own run first, so a ceiling is only ever divided into a
rate measured minutes from it. Targets are judged on the medians. The table goes to stdout and
to build/bench/medians.md.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from run import SCENARIOS, Plan, Row, judge
from support import BUILD

FIGURES = ("per_second", "p50_ms", "p99_ms", "rss_mb")


def main(paths: list[str]) -> int:
    if len(paths) < 2:
        raise SystemExit("give two or more report.json files (see the docstring)")
    reports = [json.loads(Path(path).read_text()) for path in paths]
    plans = {json.dumps(report["plan"], sort_keys=True) for report in reports}
    if len(plans) != 1:
        raise SystemExit("the runs were not made with the same plan (sizes, backends, seconds)")
    plan = Plan(**reports[0]["plan"])
    runs = [[Row(**row) for row in report["rows"]] for report in reports]
    keys = [(row.backend, row.size, row.scenario) for row in runs[0]]
    medians: list[Row] = []
    ratios: dict[tuple[str, int, str], tuple[float | None, float | None]] = {}
    for key in keys:
        same = [row for run in runs for row in run if (row.backend, row.size, row.scenario) == key]
        row = Row(backend=key[0], size=key[1], scenario=key[2], connections=same[0].connections)
        row.server = same[0].server
        for name in FIGURES:
            values = [getattr(one, name) for one in same if getattr(one, name) is not None]
            setattr(row, name, statistics.median(values) if values else None)
        row.non_2xx = sum(one.non_2xx for one in same)
        row.valid = all(one.valid for one in same)
        ratios[key] = (_median_ratio(same, "framework"), _median_ratio(same, "storage"))
        # judge() divides by `framework` and `storage`: give it the values that reproduce the
        # median of the per-run ratios.
        framework_ratio, storage_ratio = ratios[key]
        row.framework = row.per_second / framework_ratio if framework_ratio else None
        row.storage = row.per_second / storage_ratio if storage_ratio else None
        medians.append(row)
    judge(medians, plan)
    table = render(medians, len(runs), paths)
    print(table)
    (BUILD / "medians.md").write_text(table + "\n")
    return 0


def _median_ratio(rows: list[Row], ceiling: str) -> float | None:
    found = [row.per_second / getattr(row, ceiling) for row in rows if getattr(row, ceiling)]
    return statistics.median(found) if found else None


def render(rows: list[Row], count: int, paths: list[str]) -> str:
    def number(value: float | None, digits: int = 0) -> str:
        return "-" if value is None else f"{value:,.{digits}f}"

    lines = [
        f"Medians of {count} runs ({', '.join(paths)}).",
        "",
        "| backend | customers | scenario | conns | req/s | p50 ms | p99 ms | peak RSS MB "
        "| ÷ framework | ÷ storage | non-2xx (all runs) | targets (issue 5) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        size = f"{row.size:,}" if row.size else "-"
        targets = ", ".join(f"{name}: {'met' if ok else 'NOT met'}" for name, ok in row.targets)
        lines.append(
            f"| {row.backend} | {size} | {row.scenario} | {row.connections} "
            f"| {number(row.per_second)} | {number(row.p50_ms, 2)} | {number(row.p99_ms, 2)} "
            f"| {number(row.rss_mb)} | {number(row.framework_ratio, 3)} "
            f"| {number(row.storage_ratio, 2)} | {row.non_2xx if row.scenario in _HTTP else '-'} "
            f"| {targets} |"
        )
    return "\n".join(lines)


_HTTP: Any = {*SCENARIOS, *(f"{name} (uvicorn)" for name in SCENARIOS)} | {
    "framework GET",
    "framework GET (uvicorn)",
}


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
