"""Detecting how a CSV export is written: encoding, byte-order mark, delimiter."""

from __future__ import annotations

import codecs
import csv
import io
import subprocess
import sys

from closedloop.core.csvformat import CsvFormat, detect_csv_format


def parse(data: bytes) -> tuple[CsvFormat, list[list[str]]]:
    fmt = detect_csv_format(data)
    text = fmt.decode(data)
    return fmt, list(csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter))


def test_the_module_imports_no_django():
    code = "import sys, closedloop.core.csvformat; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_semicolon_export_with_a_utf8_bom_is_read_without_the_mark_in_the_first_header():
    data = codecs.BOM_UTF8 + "ID;Name;Income\r\n1;Zoë, Ltd;58.138\r\n2;Bo;46.344\r\n".encode()
    fmt, rows = parse(data)
    assert fmt == CsvFormat(encoding="utf-8", delimiter=";", bom=True)
    assert rows[0] == ["ID", "Name", "Income"]
    assert rows[1] == ["1", "Zoë, Ltd", "58.138"]


def test_a_plain_comma_file_has_no_bom_and_commas():
    fmt, rows = parse(b"a,b,c\n1,2,3\n4,5,6\n")
    assert fmt == CsvFormat(encoding="utf-8", delimiter=",", bom=False)
    assert rows[2] == ["4", "5", "6"]


def test_tabs_and_pipes_are_found():
    assert detect_csv_format(b"a\tb\tc\n1\t2\t3\n").delimiter == "\t"
    assert detect_csv_format(b"a|b\n1|2\n3|4\n").delimiter == "|"


def test_a_quoted_newline_inside_a_field_keeps_records_whole():
    data = b'id;note;amount\n1;"first line\nsecond; line";10\n2;"plain";20\n'
    fmt, rows = parse(data)
    assert fmt.delimiter == ";"
    assert rows[1] == ["1", "first line\nsecond; line", "10"]
    assert len(rows) == 3


def test_commas_inside_unquoted_text_of_a_semicolon_file_do_not_win():
    lines = ["name;city;score"] + [f"Smith, J{i};Paris, FR;{i}" for i in range(20)]
    data = ("\n".join(lines) + "\n").encode()
    assert detect_csv_format(data).delimiter == ";"


def test_a_sample_cut_in_the_middle_of_a_record_is_judged_on_the_complete_ones():
    rows = "".join(f'{i};"text {i}\nmore";x\n' for i in range(50))
    data = ("id;note;flag\n" + rows).encode()
    assert detect_csv_format(data[: len(data) // 2 + 3]).delimiter == ";"


def test_a_windows_code_page_export_is_decoded_as_cp1252():
    data = "name;price\nCafé;3 €\n".encode("cp1252")
    fmt, rows = parse(data)
    assert (fmt.encoding, fmt.delimiter, fmt.bom) == ("cp1252", ";", False)
    assert rows[1] == ["Café", "3 €"]


def test_a_utf8_sample_cut_inside_a_multibyte_character_is_still_utf8():
    data = "a,b\nÉcole,été\n".encode()
    assert detect_csv_format(data[:-3]).encoding == "utf-8"


def test_utf16_with_and_without_a_bom():
    text = "a\tb\n1\t2\n"
    fmt, rows = parse(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert fmt == CsvFormat(encoding="utf-16-le", delimiter="\t", bom=True)
    assert rows == [["a", "b"], ["1", "2"]]
    assert detect_csv_format(text.encode("utf-16-be")).encoding == "utf-16-be"


def test_a_single_column_file_is_read_with_commas():
    assert detect_csv_format(b"email\na@x.io\nb@y.io\n").delimiter == ","


def test_empty_input_gives_the_default_format():
    assert detect_csv_format(b"") == CsvFormat(encoding="utf-8", delimiter=",", bom=False)
