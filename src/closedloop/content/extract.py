"""What a file is (by its content, never its name) and the text inside it. No Django.

`sniff` names the type from the bytes: PDF, the Office Open XML trio (a zip whose parts say
which), images, and password-protected Office files (an OLE container holding an
"EncryptedPackage"). `extract` reads the text with pypdf, python-docx, python-pptx and openpyxl
and never raises: a file it cannot read comes back with a status and a message saying why.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import puremagic

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ENCRYPTED_OFFICE = "application/x-encrypted-office"
IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
ALLOWED = {PDF, DOCX, PPTX, XLSX, ENCRYPTED_OFFICE, *IMAGES}
_OOXML_PARTS = (
    ("word/document.xml", DOCX),
    ("ppt/presentation.xml", PPTX),
    ("xl/workbook.xml", XLSX),
)
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
# A zip that would unpack to more than this is not read (a "zip bomb" or a giant workbook).
MAX_UNPACKED_BYTES = 300 * 1024 * 1024
# Extracted text beyond this is cut, and the status says so.
MAX_TEXT_CHARS = 5_000_000


@dataclass(frozen=True)
class Extraction:
    status: str  # one of models.ExtractionStatus's values
    text: str = ""
    pages: int | None = None
    message: str = ""


def sniff(path: Path) -> str:
    """The MIME type of the file at `path` from its bytes ("" for empty, or unknown)."""
    with path.open("rb") as f:
        head = f.read(8192)
    if not head:
        return ""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if head.startswith(_OLE):
        return (
            ENCRYPTED_OFFICE
            if _ENCRYPTED_PACKAGE in path.read_bytes()
            else "application/x-ole-storage"
        )
    return _magic(head)


def _zip_type(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return "application/zip"
    return next((mime for part, mime in _OOXML_PARTS if part in names), "application/zip")


def _magic(head: bytes) -> str:
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return ""
    return next((m.mime_type for m in matches if m.mime_type), "")


def describe(mime: str) -> str:
    """A type as people say it, for messages."""
    names = {PDF: "PDF", DOCX: "Word", PPTX: "PowerPoint", XLSX: "Excel", "": "unknown"}
    return names.get(mime, mime)


# --- text ------------------------------------------------------------------------------------


def extract(path: Path, mime: str) -> Extraction:
    """The text of the file at `path` (of type `mime`, as `sniff` named it); never raises."""
    if mime in IMAGES:
        return Extraction("no_text", message="An image: it holds no text to search.")
    if mime == ENCRYPTED_OFFICE:
        return Extraction("encrypted", message="The Office file is password protected.")
    reader = _READERS.get(mime)
    if reader is None:
        return Extraction("unreadable", message=f"No text reader for {describe(mime)} files.")
    if mime != PDF and _unpacked_size(path) > MAX_UNPACKED_BYTES:
        return Extraction("too_large", message="The file unpacks to more than 300 MB.")
    try:
        return reader(path)
    except Exception as exc:  # noqa: BLE001 - any library error means "cannot be read"
        return Extraction("unreadable", message=_reason(exc))


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"The file could not be read ({type(exc).__name__}{': ' + text[:200] if text else ''})."


def _unpacked_size(path: Path) -> int:
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError):
        return 0


def _collect(parts: Iterator[str], pages: int | None) -> Extraction:
    """Join text parts up to MAX_TEXT_CHARS; TOO_LARGE (with the text so far) beyond it."""
    chunks, total = [], 0
    for part in parts:
        chunks.append(part)
        total += len(part) + 1
        if total > MAX_TEXT_CHARS:
            text = "\n".join(chunks)[:MAX_TEXT_CHARS]
            return Extraction("too_large", text, pages, "The text was cut at 5 million characters.")
    return Extraction("extracted", "\n".join(chunks).replace("\x00", ""), pages)


def _pdf(path: Path) -> Extraction:
    from pypdf import PdfReader

    reader = PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        return Extraction("encrypted", message="The PDF is password protected.")
    pages = reader.pages
    return _collect((page.extract_text() or "" for page in pages), len(pages))


def _docx(path: Path) -> Extraction:
    import docx

    document = docx.Document(str(path))
    cells = (c.text for t in document.tables for row in t.rows for c in row.cells)
    paragraphs = (p.text for p in document.paragraphs)
    return _collect(_chain(paragraphs, cells), None)


def _pptx(path: Path) -> Extraction:
    from pptx import Presentation

    slides = list(Presentation(str(path)).slides)
    texts = (
        shape.text_frame.text for slide in slides for shape in slide.shapes if shape.has_text_frame
    )
    return _collect(texts, len(slides))


def _xlsx(path: Path) -> Extraction:
    from openpyxl import load_workbook

    # A file object, not the path: openpyxl refuses a path by its extension (files are stored
    # under the name they came with, which decides nothing here).
    with path.open("rb") as handle:
        book = load_workbook(handle, read_only=True, data_only=True)
        try:
            sheets = book.worksheets
            cells = (
                str(v)
                for s in sheets
                for row in s.iter_rows(values_only=True)
                for v in row
                if v is not None
            )
            return _collect(cells, len(sheets))
        finally:
            book.close()


def _chain(*parts: Iterator[str]) -> Iterator[str]:
    for part in parts:
        yield from part


_READERS: dict[str, Callable[[Path], Extraction]] = {
    PDF: _pdf,
    DOCX: _docx,
    PPTX: _pptx,
    XLSX: _xlsx,
}
