"""Reading a CSV file as records: its encoding, bounded records, and broken records.

Pure Python, no Django. Every record of a file comes out once, in order, with the line it
starts on: either its cells, or a `BrokenRecord` naming why it cannot be read (a quote that
never closes, a record over MAX_RECORD_BYTES, a NUL byte), after which reading goes on. So a
broken row becomes an error row with its line and never swallows the rows after it, and no
record, however long, costs more memory than MAX_RECORD_BYTES.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

ENCODINGS = ("utf-8-sig", "cp1252")
_BLOCK = 1 << 20
# One record (a row, all its cells) may be 1 MB; Python's csv module refuses a cell over
# 128 KB (csv.field_size_limit), far above any CRM field.
MAX_RECORD_BYTES = 1 << 20
# The header row is checked when the file is uploaded: HubSpot's "all properties" exports have
# a few hundred columns; a header of millions would cost the server hundreds of MB per job.
MAX_HEADER_BYTES = 128 * 1024
MAX_COLUMNS = 2000


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    encoding: str
    note: str


def inspect_file(stream: BinaryIO) -> FileFacts:
    """One pass over the bytes: content hash, size and the encoding to read it with.

    UTF-8 (with or without a byte-order mark) first; Excel on Windows saves cp1252, which is
    the fallback, with a note. Bytes valid in neither are read as UTF-8 with replacement
    characters, and the rows holding them fail with "bad encoding".
    """
    digest = hashlib.sha256()
    decoders = {name: codecs.getincrementaldecoder(name)() for name in ENCODINGS}
    valid = dict.fromkeys(ENCODINGS, True)
    size = 0
    while block := stream.read(_BLOCK):
        size += len(block)
        digest.update(block)
        for name, decoder in decoders.items():
            if valid[name]:
                valid[name] = _decodes(decoder, block, final=False)
    for name, decoder in decoders.items():
        if valid[name]:
            valid[name] = _decodes(decoder, b"", final=True)
    if valid["utf-8-sig"]:
        encoding, note = "utf-8-sig", ""
    elif valid["cp1252"]:
        encoding, note = "cp1252", "The file is not UTF-8; it was read as Windows-1252 (cp1252)."
    else:
        encoding = "utf-8-sig"
        note = "The file is neither UTF-8 nor cp1252; rows with unreadable bytes fail."
    return FileFacts(digest.hexdigest(), size, encoding, note)


def _decodes(decoder, block: bytes, *, final: bool) -> bool:
    try:
        decoder.decode(block, final=final)
    except UnicodeDecodeError:
        return False
    return True


class BrokenRecord(list):
    """Stands in for the cells of a record that cannot be read; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__()
        self.reason = reason


class _TooLong(Exception):
    pass


class RecordReader:
    """CSV records from a binary stream, with the byte offset after each record.

    Python's csv reader pulls one physical line at a time from its source and never reads
    ahead, so the bytes handed out so far are exactly the bytes of the records returned: the
    offset after a record is a safe place to resume from (`start=`), even with quoted
    newlines inside cells. The reader is strict, so a quote closed in the middle of a cell
    (what an unclosed quote usually runs into) is an error rather than text.
    """

    def __init__(
        self,
        stream: BinaryIO,
        encoding: str,
        *,
        start: int = 0,
        start_line: int = 1,
        delimiter: str = ",",
    ):
        self.stream = stream
        self.encoding = encoding
        self.delimiter = delimiter
        self._restart(start, start_line - 1)

    def _restart(self, offset: int, lines_read: int) -> None:
        self.stream.seek(offset)
        self.offset = self._record_start = offset
        self.lines_read = lines_read
        self._reader = csv.reader(self._lines(), delimiter=self.delimiter, strict=True)

    def _lines(self) -> Iterator[str]:
        codec = "utf-8" if self.encoding == "utf-8-sig" and self.offset > 0 else self.encoding
        decode = codecs.getdecoder(codec)
        while raw := self.stream.readline(MAX_RECORD_BYTES + 1):
            if self.offset + len(raw) - self._record_start > MAX_RECORD_BYTES:
                raise _TooLong
            self.offset += len(raw)
            self.lines_read += 1
            # Cells may span lines; each physical line decodes on its own (no UTF-8 sequence
            # contains a newline byte), so one bad line spoils only its own record.
            yield decode(raw, "replace")[0]

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        """(line number where the record starts, cells or a BrokenRecord), header included."""
        while True:
            start_line, self._record_start = self.lines_read + 1, self.offset
            try:
                cells = next(self._reader)
            except StopIteration:
                return
            except _TooLong:
                cells = self._skip(start_line, f"the row is over {MAX_RECORD_BYTES >> 20} MB")
            except csv.Error as exc:
                cells = self._skip(start_line, _reason(exc))
            yield start_line, cells

    def _skip(self, start_line: int, reason: str) -> BrokenRecord:
        """Go past a broken record: to its end when it is well formed (only too long), else
        to the end of its first line, so the lines an unclosed quote ran into are read again."""
        start = self._record_start
        self.stream.seek(start)
        end = record_end(self.stream, self.delimiter.encode())
        if end is not None:
            self._restart(end[0], start_line - 1 + end[1])
            return BrokenRecord(reason)
        self.stream.seek(start)
        first_line_end = start + _physical_line_length(self.stream)
        self._restart(first_line_end, start_line)
        return BrokenRecord(f"{reason}; the lines after it were read on their own")


def _reason(exc: csv.Error) -> str:
    text = str(exc)
    if "field larger than field limit" in text:
        return f"a cell is over {csv.field_size_limit() // 1024} KB"
    if "unexpected end of data" in text:
        return "a quote opened in this row is never closed"
    if "expected after" in text:
        return "a quote in this row is closed in the middle of a cell (an unclosed quote?)"
    if "NUL" in text:
        return "the row holds a NUL byte"
    return f"the row cannot be read: {text}"


_PIECE = 1 << 20


def _physical_line_length(stream: BinaryIO) -> int:
    length = 0
    while piece := stream.readline(_PIECE):
        length += len(piece)
        if piece.endswith(b"\n"):
            break
    return length


def record_end(stream: BinaryIO, delimiter: bytes) -> tuple[int, int] | None:
    """(offset after, physical lines) of the CSV record at the stream's position, when it is
    well formed to its end (whatever its size); None when a quote never closes or closes in
    the middle of a cell. Reads a piece at a time, so a record of any size costs 1 MB."""
    scan = _QuoteScan(delimiter[0])
    offset, lines = stream.tell(), 0
    while piece := stream.readline(_PIECE):
        offset += len(piece)
        if not scan.feed(piece):
            return None
        if piece.endswith(b"\n"):
            lines += 1
            if not scan.in_quote:
                return offset, lines
    if scan.in_quote or scan.quote_pending:
        return None
    return offset, lines + 1


_QUOTE, _CR, _LF = ord('"'), ord("\r"), ord("\n")


class _QuoteScan:
    """The quoting state of Python's strict csv reader (excel dialect), fed bytes: the quote,
    the delimiter and newlines are ASCII, the same bytes in UTF-8 and cp1252."""

    def __init__(self, delimiter: int):
        self.delimiter = delimiter
        self.in_quote = self.quote_pending = self.after_quote = False
        self.field_start = True

    def feed(self, piece: bytes) -> bool:
        """Advance over `piece`; False when the record is not well formed."""
        i, n = 0, len(piece)
        if self.quote_pending:  # a quote ended the last piece: doubled, or closing?
            self.quote_pending = False
            if piece[:1] == b'"':
                i = 1
            else:
                self.in_quote, self.after_quote = False, True
        while i < n:
            if self.in_quote:
                i = self._in_quote(piece, i)
            elif self.after_quote:
                if piece[i] == self.delimiter:
                    self.after_quote, self.field_start = False, True
                elif piece[i] not in (_CR, _LF):
                    return False
                i += 1
            elif self.field_start and piece[i] == _QUOTE:
                self.in_quote, self.field_start = True, False
                i += 1
            else:
                i = self._unquoted(piece, i)
        return True

    def _in_quote(self, piece: bytes, i: int) -> int:
        j = piece.find(b'"', i)
        if j < 0:
            return len(piece)
        if j + 1 == len(piece):
            self.quote_pending = True
            return j + 1
        if piece[j + 1] == _QUOTE:
            return j + 2
        self.in_quote, self.after_quote = False, True
        return j + 1

    def _unquoted(self, piece: bytes, i: int) -> int:
        j = piece.find(bytes([self.delimiter]), i)
        if j < 0:
            self.field_start = piece.endswith(b"\n")
            return len(piece)
        self.field_start = True
        return j + 1


class HeaderProblem(ValueError):
    """The header row cannot be read or is over the limits; the text says which."""


def read_header(stream: BinaryIO, encoding: str, *, delimiter: str = ",") -> list[str]:
    """The stripped header cells ([] for an empty file); raises HeaderProblem past the limits."""
    reader = RecordReader(stream, encoding, delimiter=delimiter)
    for _, cells in reader:
        if isinstance(cells, BrokenRecord):
            raise HeaderProblem(f"the header row cannot be read: {cells.reason}")
        if reader.offset > MAX_HEADER_BYTES:
            raise HeaderProblem(
                f"the header row is {reader.offset // 1024} KB; the limit is "
                f"{MAX_HEADER_BYTES // 1024} KB"
            )
        if len(cells) > MAX_COLUMNS:
            raise HeaderProblem(f"the header has {len(cells)} columns; the limit is {MAX_COLUMNS}")
        return [cell.strip() for cell in cells]
    return []
