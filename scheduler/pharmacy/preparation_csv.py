"""The preparation list as CSV: one table, a row per preparation and nothing else, so a
spreadsheet or a script reads it as it is; the totals per strength are a table of their own.
``dosing pharmacy --csv`` and the page's download write the same bytes."""

from __future__ import annotations

import csv
import io

from scheduler.pharmacy.preparation_list import PreparationList, PreparationRow

HEADERS = [
    "prepare_by",
    "subject",
    "site",
    "cycle",
    "day1",
    "window",
    "dose_mg",
    "dose_level",
    "capsules",
    "status",
    "prepare_from",
    "flags",
]
TOTAL_HEADERS = ["strength_mg", "count"]


def capsules(row: PreparationRow) -> str:
    return " + ".join(f"{line.count} x {line.strength_mg:g} mg" for line in row.capsules)


def cells(row: PreparationRow) -> list[object]:
    return [
        row.prepare_by.isoformat(),
        row.subject,
        row.site,
        row.cycle,
        row.day1.isoformat(),
        f"{row.window_start.isoformat()}..{row.window_end.isoformat()}",
        f"{row.dose_mg:g}",
        row.dose_level,
        capsules(row),
        row.status,
        row.prepare_from.isoformat() if row.prepare_from else "",
        "; ".join(row.flags),
    ]


def total_rows(result: PreparationList) -> list[list[object]]:
    return [[f"{t.strength_mg:g}", t.count] for t in result.totals]


def _csv(headers: list[str], rows: list[list[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return buffer.getvalue()


def preparation_csv(result: PreparationList) -> str:
    return _csv(HEADERS, [cells(row) for row in result.rows])


def totals_csv(result: PreparationList) -> str:
    return _csv(TOTAL_HEADERS, total_rows(result))
