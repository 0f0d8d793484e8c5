"""The CSV reader against awkward, foreign and hostile files: number styles, misleading shapes, special files, fuzzing.

The fuzz tests are derandomized, so CI sees the same examples every run. For a longer search set
CSV_FUZZ_EXAMPLES, e.g. ``CSV_FUZZ_EXAMPLES=20000 pytest tests/test_csv_reader.py -k fuzz``.
"""

import os
import pickle
import stat
import threading
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lstm_studio.training import CsvError, csv_numbers, csv_text, read_columns, read_series
from lstm_studio.training.csv_series import TimeLabels


def write(tmp_path, text, name="f.csv"):
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def error(path, column="v", time_column=None, missing="error"):
    with pytest.raises(CsvError) as caught:
        read_series(path, column, time_column, missing=missing)
    return str(caught.value)


def column(name, cells, delimiter):
    """A file with a time column (when there is a separator) and the column ``name`` holding ``cells``."""
    if delimiter is None:
        return "\n".join([name, *cells]) + "\n"
    return "\n".join([f"t{delimiter}{name}", *(f"{k}{delimiter}{cell}" for k, cell in enumerate(cells))]) + "\n"


# ----- one column: every Python from 3.10 on (3.13's csv module refuses "\n" as a separator) -------------------
@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("v\n1\n2\n3\n", "v", [1, 2, 3]),
        ("1\n2.5\n", "1", [1, 2.5]),
        ('"v"\n"1"\n"2"\n', "v", [1, 2]),
        ("v\r\n1\r\n2\r\n", "v", [1, 2]),
        ("v\r1\r2\r", "v", [1, 2]),
        ("\n\nv\n\n1\n\n2\n\n", "v", [1, 2]),
    ],
)
def test_one_column_files_read_on_every_python(tmp_path, text, name, expected):
    path = write(tmp_path, text)
    assert read_columns(path) == [name]
    np.testing.assert_array_equal(read_series(path, name).values, expected)


def test_line_numbers_count_every_kind_of_line_ending(tmp_path):
    path = write(tmp_path, "v\r1\r\n\n2\rx\n")
    assert error(path) == f"{path}, line 5, column 'v': 'x' is not a number"


# ----- number styles: one row of the rule table (csv_numbers' docstring) per case -------------------------------
SEMI, TAB, COMMA, ONE = ";", "\t", ",", None


@pytest.mark.parametrize(
    ("delimiter", "cells", "expected"),
    [
        # cells only point style reads
        (SEMI, ["1.5", "2"], [1.5, 2]),
        (SEMI, ["0.125", "987"], [0.125, 987]),  # a leading 0 is never a thousands group
        (TAB, ["1.0600", "987"], [1.06, 987]),  # four digits after the dot: a decimal point
        (COMMA, ['"1,060.5"', "2"], [1060.5, 2]),
        (COMMA, ['"1,234,567"', "5"], [1234567, 5]),
        (SEMI, ["1,060.5", "2"], [1060.5, 2]),
        (SEMI, ["1.060", "987", "1.5e3"], [1.06, 987, 1500]),  # the mark before an exponent is a decimal mark
        # cells only comma style reads
        (SEMI, ["3,5", "-1,25", "4"], [3.5, -1.25, 4]),
        (SEMI, ["0,125", "1"], [0.125, 1]),
        (SEMI, ["1.060,5", "3"], [1060.5, 3]),
        (SEMI, ["1.234.567", "5"], [1234567, 5]),
        (SEMI, ["2,5E4", "1"], [25000, 1]),
        (ONE, ["1.060,5", "1,5"], [1060.5, 1.5]),
        (COMMA, ['"1,5"', "2"], [1.5, 2]),  # a quoted decimal comma in a comma-separated file
        (COMMA, ['"1,5"', "1.060"], [1.5, 1060]),
        # every cell reads both ways: in a comma-separated file, point style
        (COMMA, ["1.060", "987"], [1.06, 987]),
        (COMMA, ['"1,060"', "987"], [1060, 987]),
        # elsewhere, a comma in such a cell is a decimal comma
        (SEMI, ["1,060", "987"], [1.06, 987]),
        (SEMI, ["1,060", "1.060"], [1.06, 1060]),
        # elsewhere, only 1.060s: the integers decide
        (SEMI, ["1.060", "987"], [1060, 987]),  # issue 9: German for 1060, beside 987
        (TAB, ["1.060", "-12", "2.500"], [1060, -12, 2500]),
        (ONE, ["1.060", "987"], [1060, 987]),
        (SEMI, ["1.060", "987", "1234"], [1.06, 987, 1234]),  # a grouping writer would write 1.234
        (SEMI, ["1.060", "2.125"], [1.06, 2.125]),  # every cell has a mark: decimal points
        # no mark at all, scientific notation
        (SEMI, ["1e-3", "2.5E4", "-7"], [0.001, 25000, -7]),
        (COMMA, ["1e-3", "2.5E+4", "+.5", "5."], [0.001, 25000, 0.5, 5]),
    ],
)
def test_a_column_is_read_in_the_one_style_its_cells_allow(tmp_path, delimiter, cells, expected):
    path = write(tmp_path, column("v", cells, delimiter))
    np.testing.assert_array_equal(read_series(path, "v").values, expected)


@pytest.mark.parametrize(
    ("delimiter", "cells", "message"),
    [
        (SEMI, ["1.5", "3,5"], "'1.5' (line 2) has a decimal point but '3,5' (line 3) a decimal comma"),
        (SEMI, ["1.234.567", "2", "1.5"], "'1.234.567' (line 2) has dots grouping thousands but '1.5' (line 4) a "),
        (COMMA, ['"1,5"', "2.5"], "'1,5' (line 2) has a decimal comma but '2.5' (line 3) a decimal point"),
        (COMMA, ['"1,234,567"', '"1,5"'], "'1,234,567' (line 2) has commas grouping thousands but '1,5' (line 3) a "),
    ],
)
def test_a_column_mixing_styles_is_refused_with_both_cells(tmp_path, delimiter, cells, message):
    path = write(tmp_path, column("v", cells, delimiter))
    assert error(path).startswith(f"{path}, column 'v': {message}")
    assert error(path).endswith(": a column's numbers must be written one way throughout")


@pytest.mark.parametrize(
    "cell", ["1.2.3", "1,2,3", "12.34.56", "1_000", "1 060", "1'060", "٣", "€5", "5%", "0x10", "1e", "e3", "--1"]
)
def test_what_is_a_number_in_neither_style(tmp_path, cell):
    path = write(tmp_path, column("v", ["1", cell, "2"], SEMI))
    assert error(path) == f"{path}, line 3, column 'v': {cell!r} is not a number"


@pytest.mark.parametrize(
    ("cell", "shown"),
    [("-inf", "'-inf'"), ("Infinity", "'Infinity'"), ("1e400", "'1e400'"),
     ("-1,5e999", "'-1,5e999'"), ("9" * 400, f"'{'9' * 40}…'")],
)  # fmt: skip
@pytest.mark.parametrize("first", ["1", "1.25", "1,25"])  # the style undecided, decided as point, as comma
def test_numbers_too_large_or_not_finite_are_refused(tmp_path, cell, shown, first):
    path = write(tmp_path, column("v", [first, cell, "2"], SEMI))
    assert error(path) == f"{path}, line 3, column 'v': {shown} is not a finite number"


# ----- headers, titles, missing values: messages that used to mislead ------------------------------------------
HINT = "use --missing interpolate to fill gaps"


@pytest.mark.parametrize("text", ["date,value\n\n,\n", "Monthly sales 2020\ndate,value\n", "value\n"])
def test_a_header_only_file_says_so(tmp_path, text):
    path = write(tmp_path, text)
    names = "date, value" if "date" in text else "value"
    message = f"{path}: the file has a header row ({names}) but no data rows"
    assert error(path, "value") == message
    with pytest.raises(CsvError) as caught:
        read_columns(path)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("date,value\n2020-01,NA\n2020-02,5\n", f"line 2, column 'value': 'NA' marks a missing value; {HINT}"),
        ("value\nNA\n5\n6\n", f"line 2, column 'value': 'NA' marks a missing value; {HINT}"),
        ("value\nNA\nn/a\n", f"line 2, column 'value': 'NA' marks a missing value; {HINT}"),  # only gaps below
        ("date,value\n2020-01,\n2020-02,5\n", f"line 2, column 'value': the cell is empty (a missing value); {HINT}"),
        ("date,value\n2020-01,-\n2020-02,?\n2020-03,5\n", f"line 2, column 'value': '-' marks a missing value; {HINT}"),
        ("date,value\nJan,oops\nFeb,5\n", "line 2, column 'value': 'oops' is not a number"),  # a word, then a number
    ],
)
def test_a_header_above_a_first_row_that_is_not_a_number_is_still_the_header(tmp_path, text, message):
    path = write(tmp_path, text)
    assert read_columns(path)[-1] == "value"
    assert error(path, "value") == f"{path}, {message}"


@pytest.mark.parametrize(
    ("text", "columns"),
    [
        ("NA\n5\n6\n", ["1"]),  # a missing value is no column name
        ("foo,1\nbar,2\n3,4\n", ["1", "2"]),  # a row holding a number is data
        ("2020-01-01,3.5\n2020-01-02,4\n", ["1", "2"]),  # dates above dates
        ("a,b\nc,d\n", ["1", "2"]),  # words above words
    ],
)
def test_rows_that_are_no_header(tmp_path, text, columns):
    assert read_columns(write(tmp_path, text)) == columns


def test_a_title_line_above_the_header_is_skipped(tmp_path):
    path = write(tmp_path, "Monthly sales 2020\ndate,value\n2020-01,5\n2020-02,6\n2020-03,x\n")
    assert read_columns(path) == ["date", "value"]
    assert error(path, "value") == f"{path}, line 5, column 'value': 'x' is not a number"  # lines of the file


def test_several_title_lines_and_blank_lines_are_skipped(tmp_path):
    path = write(tmp_path, "# Sales report\n\nMonthly sales (EUR)\ndate;value\n2020-01;5,5\n2020-02;6\n")
    np.testing.assert_array_equal(read_series(path, "value", "date").values, [5.5, 6])


def test_a_first_line_above_numbers_is_no_title(tmp_path):
    path = write(tmp_path, "Sales 2020\n2020-01,5\n2020-02,6\n")  # no header under it: the line is the table's
    assert read_columns(path) == ["1"]
    assert error(path, "1") == f"{path}, line 1, column '1': 'Sales 2020' is not a number"


def test_in_one_column_a_title_is_taken_for_the_header_and_the_message_shows_it(tmp_path):
    path = write(tmp_path, "Monthly sales\nvalue\n5\n6\n")
    assert error(path, "value") == f"{path}: no column 'value'; the columns are Monthly sales"
    assert error(path, "Monthly sales") == f"{path}, line 2, column 'Monthly sales': 'value' is not a number"


@pytest.mark.parametrize(("text", "line"), [("v\n5\n", 2), ("\n5\n\n", 2), ("x,v\nNA,5\n", 2)])
def test_one_value_is_called_one_value_not_constant(tmp_path, text, line):
    path = write(tmp_path, text)
    name = read_columns(path)[-1]
    assert error(path, name) == f"{path}: column {name!r} has only one value (line {line})"


def test_a_constant_column_is_still_called_constant(tmp_path):
    path = write(tmp_path, "v\n7\n7,0\n")
    assert error(path) == f"{path}: column 'v' is constant (7 throughout): there is nothing to learn"


def test_cells_beyond_the_last_column_are_refused(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n3,4,5\n")  # an unquoted decimal comma splits a cell in two
    assert error(path, "x") == f"{path}, line 3: 3 cells, but the header has 2 (is a decimal comma not quoted?)"
    np.testing.assert_array_equal(read_series(write(tmp_path, "x;y;\n1;2;\n3;4;;\n"), "y").values, [2, 4])


def test_a_column_named_twice_is_refused_when_chosen(tmp_path):
    path = write(tmp_path, "v,v\n1,2\n3,4\n")
    assert error(path) == f"{path}: column 'v' appears twice in the header (columns 1 and 2): rename one"
    path = write(tmp_path, "date,value,x,value\n1,2,3,4\n2,3,4,5\n")
    assert error(path, "value") == f"{path}: column 'value' appears twice in the header (columns 2 and 4): rename one"
    assert error(path, "x", "value").endswith("(columns 2 and 4): rename one")  # as the time column too
    path = write(tmp_path, "a;v;a;a\n1;2;3;4\n2;3;4;5\n")
    assert error(path, "a") == f"{path}: column 'a' appears 3 times in the header (columns 1, 3 and 4): rename one"


def test_a_name_used_twice_by_columns_not_chosen_does_no_harm(tmp_path):
    path = write(tmp_path, "date,value,x,x\n1,2,3,4\n2,3,4,5\n3,1,1,1\n")
    series = read_series(path, "value", "date")
    np.testing.assert_array_equal(series.values, [2, 3, 1])
    assert series.times == ("1", "2", "3")


def test_an_open_quote_names_the_line_it_starts_on(tmp_path):
    path = write(tmp_path, 'a,b\n1,2\n3,"4\n5,6\n')
    assert error(path, "b") == f"{path}, line 3: not a readable CSV file (a quote is opened and never closed)"


# ----- what is not a readable text file ------------------------------------------------------------------------
def test_a_folder_is_called_a_folder(tmp_path):
    assert error(tmp_path) == f"{tmp_path}: is a folder, not a file"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    outcome = []

    def read() -> None:
        try:
            read_columns(fifo)
        except CsvError as exc:
            outcome.append(str(exc))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout=10)
    assert not reader.is_alive(), "reading a FIFO blocked"
    assert outcome == [f"{fifo}: is not a regular file (it is a FIFO)"]


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="no /dev/null here")
def test_a_device_is_refused():
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert error("/dev/null") == "/dev/null: is not a regular file (it is a device)"


@pytest.mark.parametrize("name", ["none.csv", "f.csv/inside.csv"])
def test_a_missing_file(tmp_path, name):
    write(tmp_path, "v\n1\n2\n")
    assert error(tmp_path / name) == f"{tmp_path / name}: no such file"


def test_an_unreadable_file(tmp_path, monkeypatch):
    path = write(tmp_path, "v\n1\n2\n")

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)  # chmod 0 does not stop root, who may run the tests
    assert error(path) == f"{path}: cannot be read (Permission denied)"


MIXED = "the file mixes encodings (byte {} is not UTF-8, but text before it is)"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", ": the file is empty"),
        (b" \n\t\r\n", ": the file is empty"),
        (b",\n ,\n", ": the file holds no values"),
        (b"v\n1\n\xff2\n", ", line 3, column 'v': '\xff2' is not a number"),  # read as Windows-1252
        (b"\xef\xbb\xbfv\n1\n\xff2\n", f", line 3: {MIXED.format(7)}"),  # a UTF-8 mark, then a damaged byte
        (b"v\n\xc3\xa9\n\xe92\n", f", line 3: {MIXED.format(5)}"),  # UTF-8 é on the line above
        (b"v\n1\n\xc3\xa9\xe9\n", f", line 3: {MIXED.format(6)}"),  # UTF-8 é just before, on the same line
        (b"v\n1\x002\n", ", line 2: not a text file (byte 3 is NUL)"),
        (b"v\n1\xe9\x002\n", ", line 2: not a text file (byte 4 is NUL)"),  # NUL in Windows-1252 too
        ("v\n1\n2\n".encode("utf-32"), ": not a text file this reader takes (it is UTF-32: save it as UTF-8)"),
        ("v\n1\n2\n".encode("utf-16") + b"3", ", line 4: not a text file (byte 14 is not UTF-16)"),  # odd length
        ("v\n1\n".encode("utf-16") + b"\x00\xd82\x00", ", line 3: not a text file (byte 10 is not UTF-16)"),
        ("v\n1\n\x002\n".encode("utf-16"), ", line 3: not a text file (it holds a NUL character)"),
        ("\n".encode("utf-16"), ": the file is empty"),
    ],
)  # fmt: skip
def test_files_that_are_not_text_or_hold_nothing(tmp_path, data, message):
    path = write(tmp_path, data)
    assert error(path) == f"{path}{message}"


# ----- files from other tools: UTF-16 (Excel's "Unicode text"), Windows-1252 -------------------------------------
EXCEL_TEXT = (
    "Temperatur (°C) – Messreihe\r\n\r\nDatum\tTempérature\tNotiz\r\n01.01.2020\t3,5\tgut\r\n02.01.2020\t-1,25\t\r\n"
)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_mark_reads_when_its_text_begins_with_ascii(tmp_path, encoding):
    path = write(tmp_path, "Datum\tWert\r\n1\t3,5\r\n2\t-1,25\r\n".encode(encoding))
    series = read_series(path, "Wert")
    np.testing.assert_array_equal(series.values, [3.5, -1.25])
    assert series.encoding == encoding


@pytest.mark.parametrize(("codec", "encoding"), [("utf-16", "utf-16-le"), ("utf-16-be", "utf-16-be")])
def test_excel_unicode_text_utf16_with_a_mark_reads(tmp_path, codec, encoding):
    data = EXCEL_TEXT.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    path = write(tmp_path, data)
    assert read_columns(path) == ["Datum", "Température", "Notiz"]
    series = read_series(path, "Température", "Datum")
    np.testing.assert_array_equal(series.values, [3.5, -1.25])
    assert series.times == ("01.01.2020", "02.01.2020") and series.encoding == encoding
    data = data + "03.01.2020\tx\r\n".encode(encoding)
    assert error(write(tmp_path, data), "Température") == f"{path}, line 6, column 'Température': 'x' is not a number"


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 64])
def test_utf16_reads_the_same_whatever_the_chunks_cut(tmp_path, monkeypatch, chunk):
    endings = ["\r\n", "\r", "\n"]
    text = "t;v\r\n" + "".join(f"{k}𝄞é\U0001f600;{k % 7},5{endings[k % 3]}" for k in range(40))
    expected = read_series(write(tmp_path, text, "utf8.csv"), "v", "t")
    monkeypatch.setattr(csv_text, "CHUNK_BYTES", chunk)  # cuts CRLFs, surrogate pairs and characters in two
    series = read_series(write(tmp_path, text.encode("utf-16"), "utf16.csv"), "v", "t")
    np.testing.assert_array_equal(series.values, expected.values)
    assert series.times == expected.times and series.encoding == "utf-16-le" and expected.encoding == "utf-8"
    assert error(write(tmp_path, (text + "99;?\r\n").encode("utf-16"), "bad.csv")).startswith(
        f"{tmp_path / 'bad.csv'}, line 42,"
    )


def test_a_file_that_is_not_utf8_is_read_as_windows_1252(tmp_path):
    text = "Datum;Température;Größe\n01.01.;3,5;é\n02.01.;4;€ ‰\n"
    path = write(tmp_path, text.encode("cp1252"))
    assert read_columns(path) == ["Datum", "Température", "Größe"]
    series = read_series(path, "Température", "Größe")
    np.testing.assert_array_equal(series.values, [3.5, 4])
    assert series.times == ("é", "€ ‰") and series.encoding == "windows-1252"
    series = read_series(write(tmp_path, b"t,v\n\x81\x8d\x8f\x90\x9d,1\n\xff,2\n", "undefined.csv"), "v", "t")
    assert series.times == ("\x81\x8d\x8f\x90\x9d", "ÿ")  # the bytes Windows-1252 leaves undefined: Latin-1
    assert read_series(write(tmp_path, text, "utf8.csv"), "Température").encoding == "utf-8"
    assert read_series(write(tmp_path, b"\xef\xbb\xbf" + text.encode(), "bom.csv"), "Température").encoding == "utf-8"


def test_windows_1252_decided_late_keeps_the_lines_above(tmp_path):
    rows = "".join(f"{k},{k % 9}\n" for k in range(5000))  # ASCII, then a first byte that is not UTF-8
    path = write(tmp_path, b"t,v\n" + rows.encode() + b"d\xe9c,3\n")
    series = read_series(path, "v", "t")
    assert len(series.values) == 5001 and series.times[-1] == "déc" and series.encoding == "windows-1252"
    assert read_columns(path) == ["t", "v"]


# ----- missing values: refused by default, kept as NaN for fill_gaps on request ---------------------------------
def test_every_kind_of_gap_is_refused_by_default_with_the_way_out(tmp_path):
    for cell in ["", "NA", "n/a", "#N/A", "null", "None", "nil", "missing", "-", "?", ".", "nan", "-NaN"]:
        path = write(tmp_path, f"t,value\n1,2\n2,{cell}\n3,4\n")
        message = error(path, "value")
        assert message.startswith(f"{path}, line 3, column 'value': ") and message.endswith(f"; {HINT}")


def test_interpolate_keeps_gaps_as_nan_and_counts_them(tmp_path):
    path = write(tmp_path, "t;value;x\n1;;a\n2;1,5;b\n3;NA;c\n4;nan;d\n\n5;2;e\n6\n7;-;g\n8;4;h\n")
    series = read_series(path, "value", "t", missing="interpolate")
    np.testing.assert_array_equal(series.values, [np.nan, 1.5, np.nan, np.nan, 2, np.nan, np.nan, 4])
    assert series.missing == 5 and series.times == tuple("12345678")  # row 6 is short: an empty cell
    assert read_series(write(tmp_path, "v\n1\n2\n", "full.csv"), "v", missing="interpolate").missing == 0
    assert read_series(write(tmp_path, "v\n1\n2\n", "full.csv"), "v").missing == 0


def test_gaps_do_not_hide_a_bad_cell_or_make_a_series(tmp_path):
    assert error(write(tmp_path, "v\nNA\n1\nx\n"), missing="interpolate").endswith(
        "line 4, column 'v': 'x' is not a number"
    )
    path = write(tmp_path, "t,v\n1,NA\n2,\n3,-\n", "none.csv")
    assert error(path, missing="interpolate") == f"{path}: column 'v' holds no number: its 3 cells are all missing"
    path = write(tmp_path, "t,v\n1,NA\n", "only.csv")
    assert error(path, missing="interpolate") == f"{path}: column 'v' holds no number: its only cell is missing"
    path = write(tmp_path, "t,v\n1,NA\n2,5\n3,\n", "one.csv")
    assert error(path, missing="interpolate") == f"{path}: column 'v' has only one value (line 3)"
    path = write(tmp_path, "t,v\n1,7\n2,\n3,7\n", "constant.csv")
    assert (
        error(path, missing="interpolate")
        == f"{path}: column 'v' is constant (7 throughout): there is nothing to learn"
    )
    with pytest.raises(ValueError, match="missing must be one of error, interpolate, not 'drop'"):
        read_series(path, "v", missing="drop")


# ----- values too large for arithmetic ---------------------------------------------------------------------------
@pytest.mark.parametrize("cell", ["1e308", "-1e101", "1,5e200", "1.0000000000000002e100"])
@pytest.mark.parametrize("first", ["1", "1.25", "1,25"])  # the style undecided, decided as point, as comma
def test_numbers_beyond_1e100_are_refused_with_line_and_column(tmp_path, cell, first):
    if first != "1":  # written as the column is
        cell = cell.replace(".", ",") if "," in first else cell.replace(",", ".")
    path = write(tmp_path, column("value", [first, "2", cell, "3"], SEMI))
    message = f"{path}, line 4, column 'value': {cell!r} is too large: numbers beyond ±1e100 overflow when scaled"
    assert error(path, "value") == message
    assert error(path, "value", missing="interpolate") == message


def test_numbers_up_to_1e100_are_read(tmp_path):
    path = write(tmp_path, column("value", ["1e100", "-1e100", "1", "1e-300"], SEMI))
    np.testing.assert_array_equal(read_series(path, "value").values, [1e100, -1e100, 1, 1e-300])


# ----- time labels: compact, and read like the tuple of str they replace -----------------------------------------
def test_time_labels_read_like_a_tuple(tmp_path):
    path = write(tmp_path, "t,v\n2020-01,1\n,2\n2020-é3,3\n")
    labels = read_series(path, "v", "t").times
    assert isinstance(labels, TimeLabels) and len(labels) == 3 and labels
    assert labels == ("2020-01", "", "2020-é3") and ("2020-01", "", "2020-é3") == labels  # noqa: SIM300
    assert labels == ["2020-01", "", "2020-é3"] and labels != ("2020-01", "", "x") and labels != ("2020-01",)
    assert labels[0] == "2020-01" and labels[-1] == "2020-é3" and labels[1:] == ("", "2020-é3")
    assert labels[::-2] == ("2020-é3", "2020-01") and list(labels) == ["2020-01", "", "2020-é3"]
    assert "" in labels and labels.index("2020-é3") == 2 and labels != "2020-01"
    with pytest.raises(IndexError):
        labels[3]
    assert pickle.loads(pickle.dumps(labels)) == labels
    assert repr(labels) == "TimeLabels(['2020-01', '', '2020-é3'], 3 labels)"
    assert TimeLabels.of(["a", "b"]) == ("a", "b") and TimeLabels.of([]) == ()


@pytest.mark.parametrize(
    "labels",
    [[], [""], ["", "", ""], ["ab", "cd"], ["ab", "c", "", "éé"], ["a\0b", "c"], ["x"] * 5000 + ["yy"] + ["z"] * 5000,
     [""] * 5000 + ["a"], ["2020-01-01"] * 9000, ["𝄞", "\ud800"]],
)  # fmt: skip
def test_time_labels_of_one_width_or_many_across_blocks(labels):
    built = TimeLabels.of(labels)  # one width: no table of ends; widths that change in a later block: one
    assert list(built) == labels and len(built) == len(labels) and built == labels
    assert [built[k] for k in range(len(labels))] == labels and built[-2:] == tuple(labels[-2:])
    assert pickle.loads(pickle.dumps(built)) == labels


def test_the_axis_is_the_time_column_when_it_holds_numbers(tmp_path):
    series = read_series(write(tmp_path, "t,v\n1.5,1\n 2 ,2\n3e0,3\n"), "v", "t")
    np.testing.assert_array_equal(series.axis, [1.5, 2, 3])
    series = read_series(write(tmp_path, "t,v\n1,1\n2020-01,2\n3,3\n", "dates.csv"), "v", "t")
    np.testing.assert_array_equal(series.axis, [0, 1, 2])
    series = read_series(write(tmp_path, "t,v\n1,1\ninf,2\n3,3\n", "inf.csv"), "v", "t")
    np.testing.assert_array_equal(series.axis, [0, 1, 2])
    np.testing.assert_array_equal(read_series(write(tmp_path, "v\n1\n2\n", "one.csv"), "v").axis, [0, 1])


# ----- huge files: messages stay one short line ----------------------------------------------------------------
def test_a_file_of_100000_columns_gets_a_short_message(tmp_path):
    names = [f"c{k}" for k in range(100_000)]
    row = ",".join(str(k % 7) for k in range(100_000))
    path = write(tmp_path, f"{','.join(names)}\n{row}\n{row}\n")
    message = error(path, "value")
    assert message == f"{path}: no column 'value'; the columns are {', '.join(names[:10])}, … (100000 in all)"
    assert read_columns(path)[-1] == "c99999"


def test_very_long_cells_and_names_are_cut_short(tmp_path):
    long = "x" * 1_000_000
    message = error(write(tmp_path, f"v\n1\n{long}\n", "one.csv"))
    assert message.endswith(f"line 3, column 'v': '{'x' * 40}…' is not a number")
    message = error(write(tmp_path, f"v,w\n1,2\n2,{long}\n", "two.csv"))
    assert message.endswith("line 3: not a readable CSV file (a cell is longer than 131072 characters)")
    message = error(write(tmp_path, f"t,{long[:5000]}\n1,2\n2,3\n", "name.csv"))
    assert message == f"{tmp_path / 'name.csv'}: no column 'v'; the columns are t, {'x' * 40}…"
    message = error(write(tmp_path, f"t,{long}\n1,2\n2,3\n", "huge_name.csv"))
    assert message.endswith("line 1: not a readable CSV file (a cell is longer than 131072 characters)")
    message = error(write(tmp_path, "v\n1\n\x1b[2J\n", "control.csv"))
    assert message.endswith("'\\x1b[2J' is not a number") and "\n" not in message


# ----- memory: the values, not the file, its lines and a list of lists -----------------------------------------
def traced_peak(read):
    """(what ``read()`` returns, the peak of the memory traced while it ran)."""
    tracemalloc.start()
    try:
        result = read()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_holds_little_more_than_the_values_and_the_labels(tmp_path):
    n = 100_000
    rows = "".join(f"2020-01-01T{k:06d},{k % 977 * 1.5:.4f}\n" for k in range(n))  # 17-byte labels
    path = write(tmp_path, "day,level\n" + rows)
    series, peak = traced_peak(lambda: read_series(path, "level"))
    assert len(series.values) == n
    assert peak < 12 * n + 500_000  # ~9.5 bytes a row: a decimal point decides the style at once (was ~26)
    series, peak = traced_peak(lambda: read_series(path, "level", "day"))
    assert series.times[-1] == f"2020-01-01T{n - 1:06d}" and series.times._ends is None  # one width: no table
    assert peak < (8 + 17 + 6) * n + 500_000  # ~28 bytes a row: values, label bytes, a block of str (was ~107)
    path = write(tmp_path, "day;level\n" + rows.replace(",", ";").replace(".", ","), "comma.csv")
    series, peak = traced_peak(lambda: read_series(path, "level"))
    assert peak < 12 * n + 500_000  # a decimal comma decides too


# ----- fuzzing: only CsvError, and a series that comes back is finite and as long as documented ----------------
FUZZ = settings(
    max_examples=int(os.environ.get("CSV_FUZZ_EXAMPLES", "150")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)


@pytest.fixture(scope="module")
def fuzz_path(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz") / "f.csv"


def check_every_column(path, data: bytes):
    """Read every column as read_columns names it, with and without a time column: CsvError or a good series."""
    try:
        columns = read_columns(path)
    except CsvError as exc:
        assert "\n" not in str(exc)
        return
    lines = data.count(b"\n") + data.count(b"\r") + 1
    for name in columns[:4]:
        try:
            series = read_series(path, name, columns[0])
        except CsvError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 400 + len(str(path))
            continue
        assert series.values.dtype == np.float64 and series.values.ndim == 1
        assert np.all(np.isfinite(series.values)) and 2 <= len(series.values) <= lines
        assert len(series.times) == len(series.values) and series.axis.shape == series.values.shape
        try:
            gappy = read_series(path, name, columns[0], missing="interpolate")
        except CsvError as exc:
            assert "\n" not in str(exc)
            continue
        known = gappy.values[~np.isnan(gappy.values)]
        assert len(known) >= 2 and np.all(np.isfinite(known)) and np.all(np.abs(known) <= 1e100)
        assert gappy.missing == len(gappy.values) - len(known) and np.all(series.values == gappy.values)


@st.composite
def formatted(draw):
    """A valid file: its bytes, the value column's name and its values (two decimals or an exponent, so every cell
    says its own style), in a random separator, style, grouping, quoting, line ending, header, title and BOM."""
    values = draw(st.lists(st.integers(-(10**8), 10**8), min_size=2, max_size=30, unique=True))
    values = [v / 100 for v in values]
    delimiter = draw(st.sampled_from([",", ";", "\t", None]))
    style = draw(st.sampled_from(["point", "comma"]))
    group = draw(st.booleans())
    header = delimiter is None or draw(st.booleans())  # one headerless column of 1,234.5 would look comma-separated
    title = header and delimiter is not None and draw(st.booleans())
    ending = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    exponent = draw(st.lists(st.booleans(), min_size=len(values), max_size=len(values)))

    def cell(v, as_exponent):
        text = f"{v:.6e}" if as_exponent else (f"{v:,.2f}" if group else f"{v:.2f}")
        if style == "comma":
            text = text.replace(",", "_").replace(".", ",").replace("_", ".")
        if delimiter == "," and "," in text:
            text = f'"{text}"'
        return text

    expected = [float(f"{v:.6e}") if e else v for v, e in zip(values, exponent, strict=True)]
    cells = [cell(v, e) for v, e in zip(values, exponent, strict=True)]
    rows = [[str(k), c] for k, c in enumerate(cells)] if delimiter else [[c] for c in cells]
    lines = ([["time", "value"]] if delimiter else [["value"]]) if header else []
    lines = [*lines, *rows]
    text = ending.join((delimiter or "").join(row) for row in lines) + ending
    if title:
        text = f"Exported by a spreadsheet{ending}{ending}" + text
    data = (b"\xef\xbb\xbf" if draw(st.booleans()) else b"") + text.encode()
    name = "value" if header else ("2" if delimiter else "1")
    return data, name, expected


@FUZZ
@given(formatted())
def test_fuzz_valid_files_in_every_format_read_back_exactly(fuzz_path, case):
    data, name, expected = case
    fuzz_path.write_bytes(data)
    np.testing.assert_array_equal(read_series(fuzz_path, name).values, expected)


TOKENS = [b'"', b",", b";", b"\t", b"\n", b"\r", b"\r\n", b"\0", b"\xef\xbb\xbf", b"\xff\xfe", b"\xff", b"\xc3",
          b"1e400", b"-1e-400", b"nan", b"inf", b"NA", b".", b"-", b"1.060", b"1,5", b'"1,060.5"', b"9" * 400,
          b"x" * 140_000, b" ", b"\xe2\x80\xa8", b"0", b"987"]  # fmt: skip


@st.composite
def mutated(draw):
    """A valid file with up to six random deletions, insertions and replacements of bytes."""
    data = bytearray(draw(formatted())[0])
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["delete", "insert", "replace"]))
        if kind == "delete":
            del data[at : at + draw(st.integers(1, 8))]
        insert = draw(st.sampled_from(TOKENS) | st.text(min_size=1, max_size=4).map(str.encode))
        if kind == "insert":
            data[at:at] = insert
        elif kind == "replace" and at < len(data):
            data[at : at + len(insert)] = insert
    return bytes(data)


@FUZZ
@given(mutated())
def test_fuzz_mutated_files_fail_with_one_clear_line_or_read_well(fuzz_path, data):
    fuzz_path.write_bytes(data)
    check_every_column(fuzz_path, data)


@FUZZ
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_fail_with_one_clear_line_or_read_well(fuzz_path, data):
    fuzz_path.write_bytes(data)
    check_every_column(fuzz_path, data)


CELLS = st.text(alphabet="0123456789.,-+eE naif", max_size=12)


@FUZZ
@given(st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=1, max_size=12), st.sampled_from([",", ";", "\t"]))
def test_fuzz_tables_of_number_like_cells(fuzz_path, rows, delimiter):
    quoted = [[f'"{cell}"' if delimiter in cell else cell for cell in row] for row in rows]
    data = "\n".join(delimiter.join(row) for row in quoted).encode()
    fuzz_path.write_bytes(data)
    check_every_column(fuzz_path, data)


@FUZZ
@given(st.lists(CELLS.map(str.strip).filter(bool), min_size=1, max_size=20), st.booleans())
def test_fuzz_a_column_is_never_half_converted(cells, comma_separated):
    numbers = csv_numbers.NumberColumn(comma_separated)
    try:
        for line, cell in enumerate(cells, 2):
            numbers.add(line, cell)
    except csv_numbers.CellError as exc:
        assert "\n" not in str(exc)
        return
    values = numbers.values().tolist()
    assert all(np.isfinite(values))
    readings = [[csv_numbers.value(cell, style) for cell in cells] for style in (csv_numbers.POINT, csv_numbers.COMMA)]
    assert values in readings
