"""`closedloop content add` and `closedloop content search`."""

import json

import pytest
from typer.testing import CliRunner

from closedloop.cli import app
from closedloop.content.models import ContentAsset
from tests.content import files

pytestmark = pytest.mark.django_db


def test_content_add_now_and_publish_then_search_prints_json_lines(tmp_path):
    path = tmp_path / "pricing.pdf"
    path.write_bytes(files.pdf_bytes("Pricing playbook for renewals"))
    added = CliRunner().invoke(
        app, ["content", "add", str(path), "--title", "Pricing", "--kind", "battlecard",
              "--publish", "--now"],
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    summary = json.loads(added.output.strip().splitlines()[-1])
    assert summary["status"] == "published" and summary["extraction"] == "extracted"
    assert summary["pages"] == 1
    found = CliRunner().invoke(app, ["content", "search", "renewal"])
    assert found.exit_code == 0, found.output
    [line] = [json.loads(x) for x in found.output.strip().splitlines()]
    assert set(line) == {"id", "title", "score", "snippet"}
    assert line["title"] == "Pricing" and "renewals" in line["snippet"]


def test_content_add_refuses_a_file_of_the_wrong_type_naming_it(tmp_path):
    path = tmp_path / "deck.pptx"
    path.write_bytes(b"plain text pretending")
    result = CliRunner().invoke(app, ["content", "add", str(path)])
    assert result.exit_code != 0 and "file:" in result.output
    assert not ContentAsset.objects.exists()


def test_content_add_without_now_leaves_the_text_to_the_worker(tmp_path):
    path = tmp_path / "note.docx"
    path.write_bytes(files.docx_bytes("Later"))
    result = CliRunner().invoke(app, ["content", "add", str(path)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["extraction"] == "pending"
