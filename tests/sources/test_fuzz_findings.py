"""Inputs the fuzzer (bench/fuzz) found that once escaped a parser as a raw exception; each
must now give a clear problem while the rest of the input is still read."""

from __future__ import annotations

import base64
import io
import zipfile
import zlib
from pathlib import Path

import pytest
from files_fixtures import png, scan

from rempart.sources.files import FileSource
from rempart.sources.html import Page
from rempart.sources.recipes import Recipe, RecipeError
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


# 2.5 KB of gzip members found by the fuzzer: warcio names, for the member at 1660, an
# offset (1315) before it, and the walk resumed there, cycling 1405 -> 1660 -> 1405 until
# max_resyncs: 5,000 copies of one problem and 11 s for a 2.5 KB file.
_CYCLING_WARC = zlib.decompress(
    base64.b64decode(
        "eNqT7+ZgYGBkAAIm5tIJt4uaDATa3s98KPuJSdCDwdT2jEbIwWvCCa7vlThPhHD2Pjy0Xd9v49y4km9p6eX//5bv"
        "f6vxiWd1+qtb284mFK21ZJxUb/Zn0a6oI8aKkjy1THLSkROXaUqeNDxtaLXDYLNks9lTnnDHIGd9Qz0DXi4QSzek"
        "siDVSqEotbA0tbgEKhaUmpxflKLr6WKlYFNalGdVWpqZYmVhZJhmYGBupptkbpisa5IMJJJSks10U8xNjc3MjSwT"
        "TVKM7WCGJhalp5bohgZ5yhWJH15YKnErrf6BlWTtPv2lmx5w5S2a0LA4yNSwJ+bEszvBazsX8qye/Xll1tmJnTEZ"
        "ihm7OlMFWzi2fb97oCvOv8noxXTX1SoPipaIHVzYyySzu/toSu+zj9W3/L+v331R71tQuu29s1Zvf6hs6t9/aunz"
        "88snbu/9mHOJ/1mGZK8z+/LXK7cXOanffDFLXeuo9tXEhaW1WsarvAIlt9vLHfgZtGLb1y/Mb/QqHocu7GPZwRx7"
        "eetLbwYeAZWTq1zv1kl33Obdz1Oi+8hyesy/08+t9zEoOejVrAVGlDwowsDRFTshNr/JQKTtvecP/iO/uZ5mL3QW"
        "YhXnVeARvLC7S97X+M6zKV9ClijNKeJb9qY8clJpGLOKbZvASaOgK5dFOD7+vfWAySL0pIfKF/H/ECDJc9HP903K"
        "e7XX5bbR8s7lK7UmCuV8OcP/5ULp487Y2Nl/Puu/fDMtctaeN/7tVz7/ObO9P27Cy3nbb+17yW7fU3EuL8sry6ry"
        "YG712iKf1cvEjtvGtUbHB33b8sPkm4pN0PQvTSwamjbHi2db8M1MP7FtcsuBv/d9ToqnTt3+eobp8YNG530Lt595"
        "FcZVO10/bbJFWV3G4c/b9PKnadoV2W8xfXT/7rYpWZdRvB864XYfOLV6VrTvc2jd1nHLVoVr9YNMy51y77TWeoQ1"
        "Hi16eDv/5KKTaXlqxp/P23/OPT4xecG8ldnRUw8+iePkyvp4uWP2m6yJHqdnOd9f+mDrSu5bJpbLU1ra5syQeaRs"
        "55R9wlKG94TAsjtKtd4RNSVO7/uXrjnX0jL7xPIHOqmuvMr702xX6vBcW921ZnbxzJBnN46YuUjMKmsSODpD6PUF"
        "XpY3dZqS7XnzNHVZtxs7T/kh9s0jZ/11WEhfFlj/aP3dhPKIN8d/37j59fDJunuZ6tON/v5bz9OU8tJKJc71W5rR"
        "5zUF+z78en342H+VxwYztMKX6yzRSGlvDb2q6j/zzOlDGf8rGK9Hq4W+fsv5RjGiS2lyOldO9PWS3G8TGZgrPIU0"
        "rnhc37Npb1A396fPXcELkfJacUF+XnEqUmZjDPBmZBJhFgEGKwfDxai22PeK04Pn8zIwKAoxMIgwIEADuKBILErO"
        "yCxL1U9JLEnUKwfy9NKr0E0oYHbTcQfyfIBYENkEK4WMkpICK339tNG8PJqXh3JeHs3D+mn5RaW5eiXAqlv/P5Gg"
        "RB9W9bsklgC9YmRgZKZraKRrYBZiaGhlZGRlbBIFVRCQWJmTn5ii65KZDrTBSqE4I9HQytjTxMjDONjMz88t0Mg3"
        "OCzCPCLKO9IxMtg5wjTQKdILqtcpJz85G1Wnv7OLr3uQc3iwsZebuYevkX+Qk6epcUSgu3OAqadpSCgvl3N+Xklq"
        "Xgk0kBMLCnIykxNLMvPz9EH+tVbILU4vAUrZwpsrMA0+qXnpJRlWCmYWvFy8XO6uIQr6Ch4hIQHAho4hL5dHPsgN"
        "aUAnOJo6evo4B0WZhwRG+JkbtSr4R3i4OEcaOTn7/ScZuIc5hnp7O3m5Au1EuBwAWapY3A=="
    )
)


def test_a_warc_whose_resync_points_backwards_is_walked_once(tmp_path: Path) -> None:
    path = tmp_path / "cycling.warc.gz"
    path.write_bytes(_CYCLING_WARC)
    result = scan(WarcSource(path))
    wheres = [problem.where for problem in result.problems]
    assert len(wheres) == len(set(wheres)) <= 5, wheres


@pytest.mark.parametrize("url", ["http://[forum.test/", "https://a\uff03b.test/"])
def test_a_start_url_urllib_cannot_split_is_a_recipe_error(url: str) -> None:
    with pytest.raises(RecipeError, match="is not http"):
        Recipe.from_toml(f'name = "x"\nstart_urls = ["{url}"]\n')  # was a raw ValueError
