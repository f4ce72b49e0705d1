"""``gongzhi tally``: one JSON object on stdout, or a message naming the file and row on stderr.

Rows are counted as a spreadsheet shows them: the header is row 1. No database is used.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.decisions.tally import TallyError
from gongzhi.decisions.tally_io import InputError, tally_files

ROOT = Path(__file__).resolve().parents[2]
UNITS_HEADER = "unit_id,owner_id,area_m2,kind,developer_held"
# Alice and Bob own a flat each, Charlie two flats, the developer two; Dora only a parking space.
UNITS = [
    "1-101,Alice,88.50,residential,0",
    "1-102,Bob,76.25,residential,0",
    "1-201,Charlie,88.50,residential,0",
    "1-202,Charlie,76.25,residential,0",
    "S-1,dev,120.00,commercial,1",
    "S-2,dev-2,80.00,commercial,1",
    "P-01,Dora,12.00,parking,0",
]
BALLOTS = ["1-101,agree", "1-201,agree", "1-202,agree", "S-1,agree", "S-2,agree", "1-102,disagree"]


def write(path: Path, header: str, rows: list[str], *, bom: bool = False) -> Path:
    text = "\n".join([header, *rows]) + "\n"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode())
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


@pytest.fixture
def units(tmp_path: Path) -> Path:
    return write(tmp_path / "units.csv", UNITS_HEADER, UNITS)


@pytest.fixture
def ballots(tmp_path: Path) -> Path:
    return write(tmp_path / "ballots.csv", "unit_id,choice", BALLOTS)


def tally_json(*args: str) -> dict:
    out, err = StringIO(), StringIO()
    call_command("tally", *args, stdout=out, stderr=err)
    assert err.getvalue() == ""
    return json.loads(out.getvalue())


def refused(*args: str) -> str:
    """The message of a refused tally, after checking that nothing reached stdout."""
    out = StringIO()
    with pytest.raises(CommandError) as caught:
        call_command("tally", *args, stdout=out, stderr=StringIO())
    assert out.getvalue() == ""
    return str(caught.value)


def files(units: Path, ballots: Path, matter: str = "5") -> list[str]:
    return ["--units", str(units), "--ballots", str(ballots), "--matter", matter]


# ---- results -------------------------------------------------------------------------------


def test_it_prints_one_json_object_with_every_figure(units, ballots):
    data = tally_json(*files(units, ballots))
    assert data["matter"] == 5
    assert data["total_area"] == "529.50"  # parking left out
    assert data["total_owners"] == 4  # Alice, Bob, Charlie, the developer
    assert data["participating_area"] == "529.50" and data["participating_owners"] == 4
    assert data["agree_area"] == "453.25" and data["agree_owners"] == 3
    assert data["quorum_met"] is True and data["approved"] is True
    assert "deemed" not in data


def test_options_reach_the_tally(units, tmp_path):
    ballots = write(tmp_path / "b.csv", "unit_id,choice", ["1-101,agree", "1-201,agree", "1-102,disagree"])
    data = tally_json(*files(units, ballots, "7"), "--deemed-votes", "--include-parking")
    assert data["include_parking"] is True and data["total_owners"] == 5 and data["total_area"] == "541.50"
    assert data["approved"] is False
    assert data["deemed"]["deemed_side"] == "agree"
    assert data["deemed"]["approved"] is True and data["passes_only_with_deemed"] is True


def test_headers_in_any_order_with_extra_columns_spaces_blank_rows_and_a_bom_are_read(tmp_path):
    units = write(
        tmp_path / "u.csv",
        " Kind , Area_m2,note,unit_id ,owner_id,developer_held",
        [" residential , 50.00 ,x, A ,Alice,0", "", ",,,,,", "residential,50.00,,B,Bob, 0 "],
        bom=True,
    )
    ballots = write(tmp_path / "b.csv", "choice,unit_id,when", [" Agree ,A,today", "agree, B,"], bom=True)
    data = tally_json(*files(units, ballots))
    assert data["total_owners"] == 2 and data["agree_owners"] == 2 and data["approved"] is True


def test_a_workbook_is_read_like_csv(tmp_path):
    units = write_xlsx(
        tmp_path / "u.xlsx",
        [
            ["unit_id", "owner_id", "area_m2", "kind", "developer_held", "comment"],
            [101, "Alice", 88.5, "residential", 0, None],
            ["102", "Bob", 76.25, "residential", 0, "typed as text"],
            [None, None, None, None, None],
            ["103", "Charlie", "60", "commercial", False],
        ],
    )
    ballots = write_xlsx(tmp_path / "b.xlsx", [["unit_id", "choice"], [101, "agree"], ["102", "agree"]])
    data = tally_json(*files(units, ballots))
    assert data["total_area"] == "224.75"
    assert data["participating_area"] == "164.75"
    assert data["participating_owners"] == 2 and data["approved"] is True


def test_csv_units_and_workbook_ballots_mix(units, tmp_path):
    ballots = write_xlsx(tmp_path / "b.xlsx", [["unit_id", "choice"], *[row.split(",") for row in BALLOTS]])
    assert tally_json(*files(units, ballots))["approved"] is True


# ---- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows, row, words",
    [
        (["1-101,agree", "9-999,agree"], 3, "'9-999' is not in the electorate"),
        (["1-101,agree", "1-102,agree", "1-101,agree"], 4, "'1-101' has a second ballot"),
        (["1-201,agree", "1-101,agree", "1-202,disagree"], 4, "owner 'Charlie' voted agree"),
        (["S-1,agree", "S-2,abstain"], 3, "developer-held units"),
        (["1-101,yes"], 2, "choice 'yes' is not one of agree, disagree, abstain, spoiled"),
        (["1-101,"], 2, "record an unmarked ballot as spoiled"),
        (["1-101,agree", ",agree"], 3, "unit_id is empty"),
        (["1-101,agree", "", "1-102,maybe"], 4, "choice 'maybe'"),
    ],
)
def test_a_bad_ballot_is_refused_with_its_file_and_row(units, tmp_path, rows, row, words):
    ballots = write(tmp_path / "ballots.csv", "unit_id,choice", rows)
    message = refused(*files(units, ballots))
    assert message.startswith(f"{ballots}: row {row}: ")
    assert words in message


@pytest.mark.parametrize(
    "bad_row, words",
    [
        ("9-1,Ed,-5.00,residential,0", "area_m2 '-5.00' is not a plain positive number"),
        ("9-1,Ed,0,residential,0", "area_m2 '0' must be more than 0"),
        ("9-1,Ed,0.00,residential,0", "must be more than 0"),
        ("9-1,Ed,88.125,residential,0", "more than two decimal places"),
        ("9-1,Ed,eighty,residential,0", "area_m2 'eighty' is not a plain positive number"),
        ("9-1,Ed,NaN,residential,0", "area_m2 'NaN'"),
        ("9-1,Ed,Infinity,residential,0", "area_m2 'Infinity'"),
        ("9-1,Ed,1e3,residential,0", "area_m2 '1e3'"),
        ("9-1,Ed,,residential,0", "area_m2 is empty"),
        ("9-1,Ed,50.00,garden,0", "kind 'garden' is not one of residential, commercial, parking"),
        ("9-1,Ed,50.00,residential,yes", "developer_held 'yes' is not 0 or 1"),
        ("9-1,Ed,50.00,residential,", "developer_held '' is not 0 or 1"),
        ("9-1,,50.00,residential,0", "owner_id is empty"),
        ("1-102,Ed,50.00,residential,0", "unit '1-102' is listed twice"),
    ],
)
def test_a_bad_unit_is_refused_with_its_file_and_row(ballots, tmp_path, bad_row, words):
    units = write(tmp_path / "units.csv", UNITS_HEADER, [*UNITS[:3], "", bad_row, *UNITS[3:]])
    message = refused(*files(units, ballots))
    assert message.startswith(f"{units}: row 6: ")  # header, three units, a blank row
    assert words in message


def test_a_missing_column_is_named(units, tmp_path):
    ballots = write(tmp_path / "b.csv", "unit,choice", ["1-101,agree"])
    message = refused(*files(units, ballots))
    assert message.startswith(f"{ballots}: row 1: ") and "lacks the column(s) unit_id" in message
    no_kind = write(tmp_path / "u.csv", "unit_id,owner_id,area_m2,developer_held", ["1,A,5.00,0"])
    assert "lacks the column(s) kind" in refused(*files(no_kind, ballots))


def test_a_column_named_twice_is_refused(ballots, tmp_path):
    units = write(tmp_path / "u.csv", UNITS_HEADER + ",kind", ["1,A,5.00,residential,0,parking"])
    assert "names the column 'kind' twice" in refused(*files(units, ballots))


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "row 1: the file is empty"),
        (b"\xef\xbb\xbf", "row 1: the file is empty"),
        (b"unit_id,choice\n", "the file has a header but no rows"),
        (b"unit_id,choice\n\n,\n", "the file has a header but no rows"),
        (b"unit_id,choice\n1-101,agree\n\xff\xfe,agree\n", "row 3: the file is not UTF-8 text"),
        (b'unit_id,choice\n1-101,agree\n"1-102,agree\n1-103,agree\n', "row 3: the CSV text cannot be read"),
        (b'unit_id,choice\n1-101,agree\n"1-1"02,agree\n', "row 3: the CSV text cannot be read"),
    ],
)
def test_an_empty_or_unreadable_ballot_file_is_refused(units, tmp_path, content, words):
    ballots = tmp_path / "ballots.csv"
    ballots.write_bytes(content)
    message = refused(*files(units, ballots))
    assert message.startswith(str(ballots)) and words in message


def test_an_empty_units_file_is_refused(ballots, tmp_path):
    units = write(tmp_path / "units.csv", UNITS_HEADER, [])
    assert refused(*files(units, ballots)) == f"{units}: the file has a header but no rows"


@pytest.mark.parametrize("matter", ["0", "10", "5.0", "five", "-1", "", "٥"])
def test_a_matter_outside_one_to_nine_is_refused(units, ballots, matter):
    assert "--matter must be a whole number from 1 to 9" in refused(*files(units, ballots, matter))


def test_a_missing_file_is_named(units, tmp_path):
    missing = tmp_path / "nowhere.csv"
    assert refused(*files(units, missing)) == f"{missing}: no such file"
    assert refused(*files(missing, missing)) == f"{missing}: no such file"


def test_a_damaged_workbook_is_refused(units, tmp_path):
    ballots = tmp_path / "ballots.xlsx"
    ballots.write_bytes(b"PK\x03\x04 this is no workbook")
    message = refused(*files(units, ballots))
    assert message == f"{ballots}: the workbook cannot be read: it is damaged or not an .xlsx file"


def test_a_workbook_row_error_names_the_sheet_row(units, tmp_path):
    ballots = write_xlsx(
        tmp_path / "b.xlsx", [["unit_id", "choice"], ["1-101", "agree"], [], ["1-101", "agree"]]
    )
    assert refused(*files(units, ballots)).startswith(f"{ballots}: row 4: unit '1-101' has a second ballot")


def test_a_workbook_area_with_three_decimals_is_refused(ballots, tmp_path):
    units = write_xlsx(
        tmp_path / "u.xlsx", [UNITS_HEADER.split(","), ["1-101", "Alice", 88.125, "residential", 0]]
    )
    assert "area_m2 '88.125' has more than two decimal places" in refused(*files(units, ballots))


def test_another_file_type_is_refused(units, tmp_path):
    ballots = tmp_path / "ballots.txt"
    ballots.write_text("unit_id,choice\n1-101,agree\n")
    assert "must be .csv or .xlsx" in refused(*files(units, ballots))


def test_the_error_behind_a_refusal_carries_its_code_and_row(units, tmp_path):
    ballots = write(tmp_path / "ballots.csv", "unit_id,choice", ["1-101,agree", "", "1-101,disagree"])
    with pytest.raises(InputError) as caught:
        tally_files(units, ballots, 5)
    assert (caught.value.code, caught.value.row, caught.value.path) == ("duplicate_ballot", 4, str(ballots))
    cause = caught.value.__cause__
    assert isinstance(cause, TallyError)
    assert (cause.code, cause.unit, cause.row, cause.index) == ("duplicate_ballot", "1-101", 4, 1)


# ---- the real command line -------------------------------------------------------------------


def gongzhi(*args: str) -> subprocess.CompletedProcess[str]:
    """``gongzhi`` as a user runs it: the venv's console script when there is one."""
    script = Path(sys.executable).with_name("gongzhi")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "gongzhi"]
    env = {**os.environ, "GONGZHI_ENV": "test"}
    return subprocess.run(  # noqa: S603
        [*command, "tally", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


def test_the_command_line_prints_only_json_and_exits_0(units, ballots):
    done = gongzhi(*files(units, ballots, "6"))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["matter"] == 6 and data["approved"] is True
    assert done.stdout.count("\n") <= 1


def test_the_command_line_reports_an_error_on_stderr_only_and_exits_1(units, tmp_path):
    ballots = write(
        tmp_path / "ballots.csv", "unit_id,choice", ["1-101,agree", "1-201,agree", "1-202,disagree"]
    )
    done = gongzhi(*files(units, ballots))
    assert done.returncode == 1
    assert done.stdout == ""
    assert f"{ballots}: row 4: owner 'Charlie' voted agree for unit '1-201' but disagree" in done.stderr
    bad_matter = gongzhi(*files(units, ballots, "11"))
    assert bad_matter.returncode == 1 and bad_matter.stdout == "" and "--matter" in bad_matter.stderr
