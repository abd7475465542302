"""Inputs the fuzzer (bench/fuzz) found that once escaped a parser as a raw exception; each
must now give a clear problem while the rest of the input is still read."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from files_fixtures import png, scan

from rempart.sources.files import FileSource
from rempart.sources.html import Page
from rempart.sources.telegram import TelegramExportSource
from rempart.sources.warc import WarcSource


def _zip_with_a_nameless_member(*others: tuple[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo(""), png(1))  # ZipInfo.is_dir() raises IndexError
        for name, data in others:
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_member_without_a_name_is_a_problem_and_the_rest_is_read(tmp_path: Path) -> None:
    path = tmp_path / "seized.zip"
    path.write_bytes(_zip_with_a_nameless_member(("b.png", png(2))))
    result = scan(FileSource(path))
    assert [c.key for c in result.candidates] == ["seized.zip!b.png"]
    assert result.problem_at("seized.zip!").reason == "member has no name"


def test_a_zipped_telegram_export_with_a_nameless_member_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    path.write_bytes(_zip_with_a_nameless_member(("result.json", b'{"messages": []}')))
    result = scan(TelegramExportSource(path))
    assert result.candidates == [] and result.problems == []


def test_a_wacz_with_a_nameless_member_is_still_read(tmp_path: Path) -> None:
    path = tmp_path / "crawl.wacz"
    path.write_bytes(_zip_with_a_nameless_member())
    result = scan(WarcSource(path))
    assert result.candidates == []


def test_a_base_href_that_is_no_url_is_ignored() -> None:
    body = b'<base href=ps://im["/><a href="/t/2">next</a><img src="a.png">'
    page = Page(body, "https://forum.test/board/1")  # urljoin raised ValueError here
    assert page.base == "https://forum.test/board/1"
    assert page.links() == ["https://forum.test/t/2"]
