"""File types by content and text extraction, on real files and bad ones."""

import pytest

from closedloop.content import extract
from tests.content import files


@pytest.fixture
def write(tmp_path):
    def _write(data: bytes, name: str = "upload.bin"):
        path = tmp_path / name
        path.write_bytes(data)
        return path

    return _write


@pytest.mark.parametrize(
    ("data", "mime"),
    [
        (files.pdf_bytes("x"), extract.PDF),
        (files.docx_bytes("x"), extract.DOCX),
        (files.pptx_bytes("x"), extract.PPTX),
        (files.xlsx_bytes([["x"]]), extract.XLSX),
        (files.png_bytes(), "image/png"),
    ],
)
def test_the_type_comes_from_the_content_whatever_the_name(write, data, mime):
    assert extract.sniff(write(data, "renamed.pdf")) == mime
    assert extract.sniff(write(data, "no-extension")) == mime


def test_an_executable_renamed_to_pdf_is_not_a_pdf(write):
    mime = extract.sniff(write(files.WINDOWS_EXE, "brochure.pdf"))
    assert mime not in extract.ALLOWED


def test_an_empty_file_has_no_type(write):
    assert extract.sniff(write(b"", "empty.pdf")) == ""


def test_text_comes_out_of_every_office_kind_and_pdf(write):
    pdf = extract.extract(
        write(files.pdf_bytes("Pricing for SaaS", "Onboarding plan")), extract.PDF
    )
    assert pdf.status == "extracted" and pdf.pages == 2
    assert "Pricing for SaaS" in pdf.text and "Onboarding plan" in pdf.text
    docx = extract.extract(write(files.docx_bytes("Battlecard against Acme")), extract.DOCX)
    assert docx.status == "extracted" and "Battlecard against Acme" in docx.text
    pptx = extract.extract(write(files.pptx_bytes("Why us", "Roadmap")), extract.PPTX)
    assert pptx.status == "extracted" and pptx.pages == 2 and "Roadmap" in pptx.text
    xlsx = extract.extract(
        write(files.xlsx_bytes([["ROI", 42], ["payback", "9 months"]])), extract.XLSX
    )
    assert xlsx.status == "extracted" and "payback" in xlsx.text and "42" in xlsx.text


def test_an_image_has_no_text_and_says_so(write):
    result = extract.extract(write(files.png_bytes()), "image/png")
    assert result.status == "no_text" and "image" in result.message


def test_an_encrypted_pdf_is_reported_as_encrypted(write):
    result = extract.extract(write(files.encrypted_pdf_bytes()), extract.PDF)
    assert result.status == "encrypted" and result.text == ""


def test_a_corrupted_pdf_is_unreadable_with_a_reason_not_an_exception(write):
    result = extract.extract(write(files.corrupted_pdf_bytes()), extract.PDF)
    assert result.status == "unreadable"
    assert result.message.startswith("The file could not be read")


def test_a_corrupted_office_file_is_unreadable(write):
    broken = files.docx_bytes("x")[:400]  # the zip's central directory is gone
    path = write(broken)
    result = extract.extract(path, extract.DOCX)
    assert result.status == "unreadable"


def test_text_over_the_limit_is_cut_and_marked_too_large(write, monkeypatch):
    monkeypatch.setattr(extract, "MAX_TEXT_CHARS", 50)
    result = extract.extract(write(files.docx_bytes("word " * 40, "more " * 40)), extract.DOCX)
    assert result.status == "too_large" and len(result.text) == 50
