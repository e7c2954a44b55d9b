"""How a CSV export is written: its text encoding, byte-order mark and field delimiter.

Pure (no Django): spreadsheets and CRMs export with a byte-order mark, semicolons (locales
with a decimal comma), tabs or pipes, and Windows code pages. Python's ``csv.Sniffer`` guesses
from character frequencies and is easily fooled by commas inside text; here every candidate
delimiter is tried with a real, quote-aware CSV parse, and the one whose records agree with
the header's field count wins.

    fmt = detect_csv_format(first_bytes)
    text = fmt.decode(all_bytes)          # BOM removed
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter)
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

DELIMITERS = (",", ";", "\t", "|")
SAMPLE_BYTES = 64 * 1024
_SAMPLE_RECORDS = 200
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class CsvFormat:
    encoding: str  # a Python codec name for the bytes after the byte-order mark
    delimiter: str
    bom: bool  # the data starts with a byte-order mark (``decode`` removes it)

    def decode(self, data: bytes) -> str:
        """The whole file as text, without its byte-order mark."""
        if self.bom:
            data = data[_bom_length(data)]
        return data.decode(self.encoding, errors="replace")


def detect_csv_format(sample: bytes) -> CsvFormat:
    """The format of a CSV file from its first bytes (``SAMPLE_BYTES`` are plenty)."""
    encoding, bom = detect_encoding(sample)
    text = sample[_bom_length(sample)].decode(encoding, errors="ignore")
    return CsvFormat(encoding=encoding, delimiter=detect_delimiter(text), bom=bom)


def detect_encoding(sample: bytes) -> tuple[str, bool]:
    """(codec, has byte-order mark): a BOM first, then UTF-16 without one, UTF-8, cp1252."""
    for mark, encoding in _BOMS:
        if sample.startswith(mark):
            return encoding, True
    bare_utf16 = _utf16_without_bom(sample)
    if bare_utf16:
        return bare_utf16, False
    if _is_utf8(sample):
        return "utf-8", False
    return ("cp1252" if _decodes(sample, "cp1252") else "latin-1"), False


def detect_delimiter(text: str) -> str:
    """The candidate delimiter whose parse gives the most consistent records of >1 field.

    Ranked by (share of records with the header's field count, that field count); a tie keeps
    the earlier candidate, so a one-column file is read with commas.
    """
    best, best_key = DELIMITERS[0], (0.0, 1)
    for delimiter in DELIMITERS:
        key = _consistency(_sample_records(text, delimiter))
        if key > best_key:
            best, best_key = delimiter, key
    return best


def _consistency(records: list[list[str]]) -> tuple[float, int]:
    if not records or len(records[0]) < 2:
        return (0.0, 1)
    width = len(records[0])
    agreeing = sum(1 for record in records if len(record) == width)
    return (round(agreeing / len(records), 3), width)


def _sample_records(text: str, delimiter: str) -> list[list[str]]:
    """Non-blank records of the sample; the last one is left out when the sample ends mid-record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
    records = []
    try:
        for record in reader:
            if any(field.strip() for field in record):
                records.append(record)
            if len(records) > _SAMPLE_RECORDS:
                break
    except csv.Error:  # e.g. a NUL byte: judge on what parsed
        pass
    cut_short = len(records) > _SAMPLE_RECORDS or not text.endswith(("\n", "\r"))
    return records[:-1] if cut_short and len(records) > 1 else records


def _bom_length(data: bytes) -> slice:
    for mark, _encoding in _BOMS:
        if data.startswith(mark):
            return slice(len(mark), None)
    return slice(0, None)


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 text of Latin script has a zero in every other byte; ordinary text has none."""
    head = sample[:4096]
    if len(head) < 4:
        return None
    even_zeros = head[0::2].count(0) / len(head[0::2])
    odd_zeros = head[1::2].count(0) / len(head[1::2])
    if odd_zeros > 0.4 and even_zeros < 0.05:
        return "utf-16-le"
    if even_zeros > 0.4 and odd_zeros < 0.05:
        return "utf-16-be"
    return None


def _is_utf8(sample: bytes) -> bool:
    """Valid UTF-8, allowing a multi-byte character cut off by the sample's end."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True
