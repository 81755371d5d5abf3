#!/usr/bin/env python3
"""Writes a regwatch notices CSV as an insurer-style .xlsx, for bench/xlsx.sh.

The workbook has one sheet (届書一覧): a title in row 1, an empty row 2 and the header in row 3,
then one row per CSV row with the same columns in the same order. 事実発生日 and 受付日 are real
Excel dates (date serials with a yyyy/mm/dd number format); every other value stays text, so
codes keep their leading zeros (枝番 00, 個人番号). Some headers are renamed the way an insurer's
own system names them, so the file needs the import profile this script also writes:

    [notices]
    sheet = "届書一覧"
    header_row = 3
    [notices.columns]
    notice_id = "受付No"
    event_date = "資格取得日"
    received_on = "受付年月日"

Usage: python3 bench/xlsx_from_csv.py NOTICES.csv OUT.xlsx PROFILE.toml
Needs openpyxl (python3 -m pip install openpyxl); written in write_only mode (streamed).
"""
import csv
import datetime
import sys

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

SHEET = "届書一覧"
HEADER_ROW = 3
# CSV header → the header in the workbook, and the profile field that maps it back.
RENAMED = {
    "受付番号": ("受付No", "notice_id"),
    "事実発生日": ("資格取得日", "event_date"),
    "受付日": ("受付年月日", "received_on"),
}
DATE_COLUMNS = ("事実発生日", "受付日")
DATE_FORMAT = "yyyy/mm/dd"


def main(csv_path: str, xlsx_path: str, profile_path: str) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(SHEET)
    rows = 0
    with open(csv_path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        header = next(reader)
        missing = [c for c in DATE_COLUMNS + tuple(RENAMED) if c not in header]
        if missing:
            sys.exit(f"{csv_path}: no column {', '.join(missing)}")
        date_idx = {header.index(c) for c in DATE_COLUMNS}

        title = WriteOnlyCell(ws, value="資格取得届・被扶養者届・資格喪失届 受付一覧（ベンチ健保）")
        title.font = Font(bold=True)
        ws.append([title])
        ws.append([])  # row 2 empty
        ws.append([RENAMED.get(h, (h,))[0] for h in header])  # row 3

        dates: dict[str, datetime.date] = {}  # a year of distinct days: parse each once
        for rec in reader:
            out = []
            for i, v in enumerate(rec):
                if i in date_idx and v:
                    d = dates.get(v)
                    if d is None:
                        d = dates[v] = datetime.date.fromisoformat(v)
                    cell = WriteOnlyCell(ws, value=d)
                    cell.number_format = DATE_FORMAT
                    out.append(cell)
                else:
                    out.append(v if v != "" else None)
            ws.append(out)
            rows += 1
    wb.save(xlsx_path)

    with open(profile_path, "w", encoding="utf-8") as p:
        p.write("# Written by bench/xlsx_from_csv.py for the workbook it wrote.\n")
        p.write(f'[notices]\nsheet = "{SHEET}"\nheader_row = {HEADER_ROW}\n')
        p.write("[notices.columns]\n")
        for _, (name, field) in sorted(RENAMED.items(), key=lambda kv: kv[1][1]):
            p.write(f'{field} = "{name}"\n')
    print(f"{rows} rows → {xlsx_path} (sheet {SHEET}, header row {HEADER_ROW}); profile {profile_path}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
