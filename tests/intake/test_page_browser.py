"""The victim's offline page in a real browser (Debian's Chromium through Playwright), opened
from file://: no network request over the whole flow, the CLI's numbers, and its hash file
imported, matched and withdrawn end to end. The speed figure is bench/intake_page.py's."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from typer.testing import CliRunner

from rempart.cli import app
from rempart.hashing import hash_image_bytes
from rempart.intake.hashfile import parse_hash_file
from rempart.intake.offline_page import write_page
from rempart.samples import neutral_image

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
import intake_page

if TYPE_CHECKING:
    from playwright.sync_api import Browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]
runner = CliRunner()
SIZES = [(640, 480), (1080, 1440), (401, 299), (1280, 720), (300, 500)]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(intake_page.CHROMIUM).exists():
        pytest.skip("no Chromium (apt-get install chromium)")
    with intake_page.chromium() as opened:
        yield opened


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    return tmp_path / "home"


def test_page_makes_no_request_and_computes_the_clis_hashes(
    browser: Browser, tmp_path: Path
) -> None:
    count = 100  # formats in turn: EXIF-turned JPEG, PNG, WebP, JPEG
    pictures = intake_page.write_pictures(tmp_path / "pictures", count, SIZES)
    run = intake_page.run_page(browser, write_page(tmp_path / "page"), pictures)
    assert run.requests == [] and run.errors == []
    compared = intake_page.compare(pictures, run.hash_file)
    assert compared.digests_equal
    assert len(compared.pdq_bits) == count
    assert sum(compared.pdq_bits) / count <= 2 and max(compared.pdq_bits) <= 10
    assert compared.extras_missing == 0 and len(compared.extras_bits) > count * 60
    assert sum(compared.extras_bits) / len(compared.extras_bits) <= 2
    assert len(compared.partner_bits) == count // 4 and max(compared.partner_bits) <= 10
    # The coarse grids (bank add keeps all four, whatever their quality): the kernel's are
    # the CLI's (test_page_kernel.py); area means over 6-16 cells barely see the browser's
    # JPEG decoder. Measured on these 100 pictures: 0.39 bits apart on average, 8 at most.
    mosaic = compared.mosaic_bits
    assert len(mosaic) == 4 * count
    assert sum(mosaic) / len(mosaic) <= 1 and max(mosaic) <= 12
    hash_file = parse_hash_file(run.hash_file)
    assert all(item.error is None for item in hash_file.items)
    assert hash_file.label == "" and b".jpg" not in run.hash_file and b".png" not in run.hash_file
    # Local features: the kernel's are the CLI's byte for byte (test_page_features.py); here
    # they differ only where the browser decodes other pixels than Pillow (its JPEG decoder).
    # Measured on 20 of these pictures: 10 identical (the 5 PNGs and 5 WebPs), 93 % of the
    # keypoints at the same place and level, 52 % of their descriptors equal, 4.0 bits apart
    # on average (a keypoint whose angle turned differs by ~128).
    found = compared.features
    assert found.pictures == count and found.missing == 0 and found.identical >= count // 2
    assert found.same_place >= 0.85 * found.keypoints and found.checks_equal >= 5
    equal = sum(b == 0 for b in found.descriptor_bits)
    assert equal >= 0.4 * len(found.descriptor_bits)
    assert sum(found.descriptor_bits) <= 6 * len(found.descriptor_bits)
    # Window keypoints (features.WINDOW_SHARE), merged at the import from the page's windows'
    # features: the same tolerance (the identical pictures above hold theirs, byte for byte)
    assert found.window_keypoints >= 100 * count
    assert found.window_same_place >= 0.85 * found.window_keypoints
    equal = sum(b == 0 for b in found.window_bits)
    assert equal >= 0.4 * len(found.window_bits)
    assert sum(found.window_bits) <= 6 * len(found.window_bits)


def _copy(path: Path) -> Path:
    """A copy found online: shrunk and recompressed."""
    from PIL import Image, ImageOps

    with Image.open(path) as image:
        shown = ImageOps.exif_transpose(image).convert("RGB")
    shown = shown.resize((shown.width * 2 // 3, shown.height * 2 // 3))
    copy = path.with_name("copy-" + path.stem + ".jpg")
    shown.save(copy, "JPEG", quality=70)
    return copy


def _matches(copy: Path) -> list[object]:
    _, out = _run("match", str(copy), "--json")
    return [line for line in _lines(out) if line.get("matches")]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def _lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip().startswith("{")]


def test_sealed_hash_file_imports_matches_and_withdraws_end_to_end(
    browser: Browser, tmp_path: Path, home: Path
) -> None:
    assert _run("intake", "key")[0] == 0
    assert _run("intake", "page", "--to", str(tmp_path / "page"))[0] == 0
    pictures = intake_page.write_pictures(tmp_path / "pictures", 3, [(800, 600)])
    run = intake_page.run_page(browser, tmp_path / "page" / "index.html", pictures)
    assert run.requests == [] and run.errors == []
    assert json.loads(run.hash_file)["format"] == "rempart-hash-file-sealed"
    sealed = tmp_path / "hashes.json"
    sealed.write_bytes(run.hash_file)
    assert _run("case", "create", "case-7")[0] == 0
    code, out = _run("intake", "import", "case-7", str(sealed), "--json")
    assert code == 0, out
    report = _lines(out)
    assert [line.get("error") for line in report[:3]] == [None, None, None]
    assert all(line["feature_points"] >= 40 for line in report[:3])  # stored as bank add does
    assert report[-1]["bank"] == "case-7-page" and report[-1]["already_imported"] is False
    copies = [_copy(p) for p in pictures]
    assert all(_matches(c) for c in copies)
    again = _lines(_run("intake", "import", "case-7", str(sealed), "--json")[1])
    assert again[-1]["already_imported"] is True and all(line.get("existing") for line in again[:3])
    # one line a picture, and the raw-pixel hash of the EXIF-turned one (seed 0)
    assert _run("bank", "export", "case-7-page", "--format", "pdq")[1].count("pdq ") == 4
    code, out = _run("intake", "withdraw", "case-7", run.code, "--json")
    assert code == 0 and len(_lines(out)[0]["withdrawn"]) == 3  # type: ignore[arg-type]
    assert not any(_matches(c) for c in copies)
    assert "pdq " not in _run("bank", "export", "case-7-page", "--format", "pdq")[1]


def test_withdrawal_file_and_minor_statement_reach_the_case(
    browser: Browser, tmp_path: Path, home: Path
) -> None:
    page = write_page(tmp_path / "page")
    pictures = intake_page.write_pictures(tmp_path / "pictures", 2, [(640, 480)])
    run = intake_page.run_page(browser, page, pictures, minor=True, label="summer")
    hash_file = parse_hash_file(run.hash_file)
    assert hash_file.statements.minor_in_images and hash_file.label == "summer"
    (tmp_path / "hashes.json").write_bytes(run.hash_file)
    (tmp_path / "withdraw.json").write_bytes(run.withdrawal_file)
    _run("case", "create", "case-8")
    code, out = _run("intake", "import", "case-8", str(tmp_path / "hashes.json"), "--json")
    assert code == 0 and _lines(out)[-1]["case_marked_minor"] is True
    assert json.loads(_run("case", "show", "case-8", "--json")[1])["minor"] is True
    code, out = _run("intake", "withdraw", "case-8", str(tmp_path / "withdraw.json"), "--json")
    assert code == 0 and len(_lines(out)[0]["withdrawn"]) == 2  # type: ignore[arg-type]


def test_page_speaks_french_and_refuses_to_start_without_her_statement(
    browser: Browser, tmp_path: Path
) -> None:
    page_file = write_page(tmp_path / "page")
    context = browser.new_context(locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        assert page.title() == "Protéger vos images — Rempart"
        assert page.get_attribute("html", "lang") == "fr"
        picture = tmp_path / "one.png"
        neutral_image(1, 320, 240).save(picture)
        page.set_input_files("#files", [str(picture)])
        page.check("#minor-no")
        assert page.is_disabled("#start")
        page.check("#depicted")
        assert page.is_enabled("#start")
        page.click("#language")
        assert page.title() == "Protect your pictures — Rempart"
    finally:
        context.close()


def test_unreadable_file_is_named_by_position_and_the_rest_is_hashed(
    browser: Browser, tmp_path: Path
) -> None:
    good = tmp_path / "good.jpg"
    buffer = io.BytesIO()
    neutral_image(2, 500, 400).save(buffer, "JPEG", quality=90)
    good.write_bytes(buffer.getvalue())
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a picture")
    run = intake_page.run_page(browser, write_page(tmp_path / "page"), [broken, good])
    assert run.requests == [] and run.errors == []
    (problem,) = run.problems
    assert problem.startswith("File 1: this browser cannot open this picture")
    (item,) = json.loads(run.hash_file)["items"]
    assert item["pdq"] == hash_image_bytes(good.read_bytes()).pdq.hash.hex


def test_videos_are_sampled_as_the_cli_samples_them_and_registered(
    browser: Browser, tmp_path: Path, home: Path
) -> None:
    from rempart.hashing.video import hash_video_bytes
    from rempart.samples import neutral_video

    videos = []
    for codec, container, size in (("h264", "mp4", (640, 360)), ("vp9", "webm", (320, 240))):
        path = tmp_path / f"clip.{container}"
        path.write_bytes(
            neutral_video(5, 4.5, codec=codec, container=container, width=size[0], height=size[1])
        )
        videos.append(path)
    run = intake_page.run_page(browser, write_page(tmp_path / "page"), videos)
    # The browser plays each chosen file from memory (its blob: address); nothing else.
    assert all(url.startswith("blob:null/") for url in run.requests) and run.errors == []
    document = json.loads(run.hash_file)
    for path, item in zip(videos, document["items"], strict=True):
        cli = hash_video_bytes(path.read_bytes())
        assert (item["md5"], item["sha256"]) == (cli.digest.md5, cli.digest.sha256)
        assert [f["at_ms"] for f in item["frames"]] == [round(f.time_s * 1000) for f in cli.frames]
        distances = [
            intake_page.bits(f["pdq"], c.pdq.hash.hex)
            for f, c in zip(item["frames"], cli.frames, strict=True)
        ]
        assert sum(distances) / len(distances) <= 2 and max(distances) <= 10
    (tmp_path / "hashes.json").write_bytes(run.hash_file)
    _run("case", "create", "case-9")
    code, out = _run("intake", "import", "case-9", str(tmp_path / "hashes.json"), "--json")
    assert code == 0, out
    report = _lines(out)
    assert [line["extra_hashes"] for line in report[:2]] == [5, 5]  # one frame hash a second
    (shown,) = _lines(_run("bank", "show", "case-9-page", "--json")[1])
    assert [i["media"] for i in shown["item_list"]] == ["video", "video"]  # type: ignore[index]


def test_heic_is_hashed_where_the_browser_decodes_it_and_named_where_not(
    browser: Browser, tmp_path: Path
) -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    picture = tmp_path / "phone.heic"
    neutral_image(4, 640, 480).save(picture, "HEIF", quality=90)
    run = intake_page.run_page(browser, write_page(tmp_path / "page"), [picture])
    assert run.requests == [] and run.errors == []
    items = json.loads(run.hash_file)["items"] if run.hash_file else []
    if items:  # this Chromium decodes HEIC: then it hashes it as the CLI does
        assert intake_page.compare([picture], run.hash_file).pdq_bits[0] <= 10
    else:
        assert run.problems == [
            "File 1: this browser cannot open this picture (HEIC pictures, for example, open "
            "only in some browsers). Try another browser, or save it as JPEG first."
        ]


def test_pictures_with_an_alpha_channel_hash_as_the_cli_hashes_them(
    browser: Browser, tmp_path: Path
) -> None:
    """Opaque RGBA PNGs and palette GIFs leave WebCodecs' path for the canvas's."""
    pictures = []
    for seed, mode, suffix in ((6, "RGBA", ".png"), (7, "P", ".gif"), (8, "L", ".png")):
        path = tmp_path / f"{seed}{suffix}"
        neutral_image(seed, 500, 375).convert(mode).save(path)
        pictures.append(path)
    run = intake_page.run_page(browser, write_page(tmp_path / "page"), pictures)
    assert run.requests == [] and run.errors == []
    compared = intake_page.compare(pictures, run.hash_file)
    assert len(compared.pdq_bits) == 3 and max(compared.pdq_bits) <= 10
