"""Hash files from the victim's offline page: schema, integrity, sealing, import through the
same use case as `bank add`, and withdrawal by her code."""

from __future__ import annotations

import io
import json
import os
import stat
from pathlib import Path

import pytest
from PIL import Image

from rempart.errors import HashListError, InputError, NotFound
from rempart.hashing import Windows, hash_image_bytes
from rempart.intake import banks, cases, sealing
from rempart.intake.hashfile import (
    Statements,
    canonical_json,
    integrity_digest,
    new_withdrawal_code,
    normalise_code,
    parse_hash_file,
    withdrawal_digest,
    write_hash_file,
)
from rempart.intake.hashlists import ListFormat
from rempart.intake.submissions import import_submission, withdraw_submissions
from rempart.matching.service import Matcher, Query
from rempart.samples import neutral_image
from rempart.store.database import Database

EXTRAS = Windows.CROPS | Windows.GRID
SUBMISSION = "0123456789abcdef0123456789abcdef"
CODE = "7K3Q-M2XD-9PZT-4WRB-HC8N"
SHE_IS_SHOWN = Statements(depicted_or_acting_for=True, minor_in_images=False)


def _jpeg(seed: int, size: tuple[int, int] = (400, 300)) -> bytes:
    buffer = io.BytesIO()
    neutral_image(seed, *size).save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def _hash_file(
    seeds: list[int], statements: Statements = SHE_IS_SHOWN, submission: str = SUBMISSION
) -> bytes:
    return write_hash_file(
        (hash_image_bytes(_jpeg(s), windows=EXTRAS) for s in seeds),
        submission=submission,
        created="2026-12-06",
        statements=statements,
        withdrawal_sha256=withdrawal_digest(CODE),
    )


def _query(seed: int) -> Query:
    return Query.from_image(hash_image_bytes(_jpeg(seed), dihedral=True))


def test_imported_items_equal_what_bank_add_registers(db: Database, tmp_path: Path) -> None:
    cases.create_case(db, "case-1")
    report = import_submission(db, "case-1", parse_hash_file(_hash_file([1, 2])))
    assert report.bank == "case-1-page" and [o.error for o in report.items] == [None, None]
    banks.create_bank(db, "by-cli")
    path = tmp_path / "one.jpg"
    path.write_bytes(_jpeg(1))
    (added,) = banks.add_images(db, "by-cli", [path], extras=EXTRAS)
    assert report.items[0].extra_hashes == added.extra_hashes > 0
    page, cli = banks.list_items(db, "case-1-page")[0], banks.list_items(db, "by-cli")[0]
    assert (page.pdq, page.quality, page.md5, page.sha256) == (
        cli.pdq,
        cli.quality,
        cli.md5,
        cli.sha256,
    )
    assert page.label == "" and page.origin == "file"


def test_importing_the_same_file_again_adds_nothing_twice(db: Database) -> None:
    cases.create_case(db, "case-1")
    data = parse_hash_file(_hash_file([1, 2]))
    first = import_submission(db, "case-1", data)
    again = import_submission(db, "case-1", data)
    assert again.already_imported and not first.already_imported
    assert [o.item_id for o in again.items] == [o.item_id for o in first.items]
    assert all(o.existing for o in again.items)
    assert banks.bank_info(db, "case-1-page").active_items == 2


def test_withdrawal_code_withdraws_her_items_and_they_never_match(db: Database) -> None:
    cases.create_case(db, "case-1")
    import_submission(db, "case-1", parse_hash_file(_hash_file([3, 4])))
    matcher = Matcher(db)
    assert matcher.match([_query(3)])[0].matches
    report = withdraw_submissions(db, "case-1", withdrawal_digest(CODE.lower().replace("-", " ")))
    assert len(report.withdrawn) == 2 and report.already_withdrawn == ()
    assert not matcher.match([_query(3)])[0].matches
    assert not matcher.match([_query(4)])[0].matches
    assert banks.list_items(db, "case-1-page") == []
    formatted = banks.export_bank(db, "case-1-page", ListFormat.PDQ)
    assert formatted.text.strip() == ""
    again = withdraw_submissions(db, "case-1", withdrawal_digest(CODE))
    assert again.withdrawn == () and len(again.already_withdrawn) == 2


def test_a_wrong_withdrawal_code_withdraws_nothing(db: Database) -> None:
    cases.create_case(db, "case-1")
    import_submission(db, "case-1", parse_hash_file(_hash_file([3])))
    with pytest.raises(NotFound):
        withdraw_submissions(db, "case-1", withdrawal_digest("0000-0000-0000-0000-0000"))
    assert banks.bank_info(db, "case-1-page").active_items == 1


def test_a_declared_minor_makes_the_case_a_minors_case(db: Database) -> None:
    cases.create_case(db, "case-1")
    minor = Statements(depicted_or_acting_for=True, minor_in_images=True)
    report = import_submission(db, "case-1", parse_hash_file(_hash_file([5], minor)))
    assert report.case_marked_minor and cases.case_info(db, "case-1").minor


def test_without_her_statement_nothing_is_imported(db: Database) -> None:
    cases.create_case(db, "case-1")
    nobody = Statements(depicted_or_acting_for=False, minor_in_images=False)
    with pytest.raises(InputError, match="person shown"):
        import_submission(db, "case-1", parse_hash_file(_hash_file([5], nobody)))
    assert banks.list_banks(db) == []


def test_a_flat_picture_is_refused_alone_with_its_reason(db: Database) -> None:
    cases.create_case(db, "case-1")
    flat = io.BytesIO()
    Image.new("RGB", (300, 200), (120, 120, 120)).save(flat, "PNG")
    data = write_hash_file(
        [hash_image_bytes(_jpeg(6)), hash_image_bytes(flat.getvalue())],
        submission=SUBMISSION,
        created="2026-12-06",
        statements=SHE_IS_SHOWN,
        withdrawal_sha256=withdrawal_digest(CODE),
    )
    report = import_submission(db, "case-1", parse_hash_file(data))
    assert report.items[0].item_id is not None
    assert report.items[1].error is not None and "quality" in str(report.items[1].error)


def _edited(data: bytes, change: dict[str, object], *, reseal: bool) -> bytes:
    document = json.loads(data)
    document.update(change)
    if reseal:
        document["integrity"] = {"sha256": integrity_digest(document)}
    return canonical_json(document)


def test_a_changed_file_fails_its_integrity_check() -> None:
    data = _hash_file([1])
    with pytest.raises(HashListError, match="integrity"):
        parse_hash_file(_edited(data, {"label": "x"}, reseal=False))
    with pytest.raises(HashListError, match="integrity"):
        parse_hash_file(data.replace(b'"quality":', b'"quality":1', 1))


def test_unknown_fields_and_versions_are_refused_with_a_reason() -> None:
    data = _hash_file([1])
    with pytest.raises(HashListError, match="unknown field"):
        parse_hash_file(_edited(data, {"names": ["her"]}, reseal=True))
    with pytest.raises(HashListError, match="version 4"):
        parse_hash_file(_edited(data, {"version": 4}, reseal=True))
    with pytest.raises(HashListError, match="not JSON"):
        parse_hash_file(b"\xff\xfe")
    with pytest.raises(HashListError, match="format"):
        parse_hash_file(b'{"hash": "f8f8"}')


def _features_of(db: Database, bank: str) -> list[bytes]:
    from sqlalchemy import select

    from rempart.store.models import Item, ItemFeatures

    with db.session() as session:
        rows = session.execute(
            select(ItemFeatures.data).join(Item, Item.id == ItemFeatures.item_id).order_by(Item.id)
        )
        return [bytes(r[0]) for r in rows if r is not None]


def test_page_files_carry_the_local_features_bank_add_stores(db: Database, tmp_path: Path) -> None:
    data = write_hash_file(
        [hash_image_bytes(_jpeg(3), windows=EXTRAS | Windows.FEATURES)],
        submission=SUBMISSION,
        created="2026-12-06",
        statements=SHE_IS_SHOWN,
        withdrawal_sha256=withdrawal_digest(CODE),
    )
    assert json.loads(data)["version"] == 3
    cases.create_case(db, "case-1")
    report = import_submission(db, "case-1", parse_hash_file(data))
    assert report.items[0].error is None and report.items[0].feature_points >= 40
    stored_by_page = _features_of(db, "case-1-page")
    banks.create_bank(db, "by-cli")
    path = tmp_path / "three.jpg"
    path.write_bytes(_jpeg(3))
    (added,) = banks.add_images(db, "by-cli", [path], extras=EXTRAS | Windows.FEATURES)
    assert added.feature_points == report.items[0].feature_points
    assert len(stored_by_page) == 1 and stored_by_page[0] in _features_of(db, "by-cli")


def _signals_of(db: Database, bank: str) -> list[tuple[str, str, str, int]]:
    from sqlalchemy import select

    from rempart.store.models import Bank, Item, ItemSignal

    with db.session() as session:
        rows = session.execute(
            select(ItemSignal.kind, ItemSignal.label, ItemSignal.pdq, ItemSignal.quality)
            .join(Item, Item.id == ItemSignal.item_id)
            .join(Bank, Bank.id == Item.bank_id)
            .where(Bank.name == bank)
        )
        return sorted((r[0], r[1], str(r[2]), int(r[3])) for r in rows)


def test_coarse_grids_from_a_page_are_stored_as_bank_add_stores_them(
    db: Database, tmp_path: Path
) -> None:
    from rempart.hashing import REGISTRATION_EXTRAS

    registering = REGISTRATION_EXTRAS & ~Windows.FEATURES
    data = write_hash_file(
        [hash_image_bytes(_jpeg(4), windows=registering)],
        submission=SUBMISSION,
        created="2026-12-06",
        statements=SHE_IS_SHOWN,
        withdrawal_sha256=withdrawal_digest(CODE),
    )
    extras = json.loads(data)["items"][0]["extras"]
    assert sorted(e["label"] for e in extras if e["kind"] == "mosaic") == ["11", "16", "6", "8"]
    cases.create_case(db, "case-1")
    report = import_submission(db, "case-1", parse_hash_file(data))
    banks.create_bank(db, "by-cli")
    path = tmp_path / "four.jpg"
    path.write_bytes(_jpeg(4))
    (added,) = banks.add_images(db, "by-cli", [path], extras=registering)
    assert report.items[0].extra_hashes == added.extra_hashes
    page, cli = _signals_of(db, "case-1-page"), _signals_of(db, "by-cli")
    assert page == cli and sum(kind == "mosaic" for kind, *_ in page) == 4
    # kept whatever their quality, as bank add keeps them (a crop that flat is not)
    document = json.loads(data)
    for extra in document["items"][0]["extras"]:
        extra["quality"] = 0
    document["submission"] = "f" * 32
    document["integrity"] = {"sha256": integrity_digest(document)}
    cases.create_case(db, "case-2")
    flat = import_submission(db, "case-2", parse_hash_file(canonical_json(document)))
    assert flat.items[0].extra_hashes == 4


def test_version_1_files_without_features_still_import(db: Database) -> None:
    document = json.loads(_hash_file([1]))
    document["version"] = 1
    document["integrity"] = {"sha256": integrity_digest(document)}
    cases.create_case(db, "case-1")
    report = import_submission(db, "case-1", parse_hash_file(canonical_json(document)))
    assert report.items[0].error is None and report.items[0].feature_points == 0
    document["items"][0]["features"] = "AA=="  # a version 1 file has no such field
    document["integrity"] = {"sha256": integrity_digest(document)}
    assert parse_hash_file(canonical_json(document)).items[0].error is not None


def _with_features(blob: object) -> bytes:
    document = json.loads(_hash_file([1, 2]))
    document["items"][0]["features"] = blob
    document["integrity"] = {"sha256": integrity_digest(document)}
    return canonical_json(document)


def test_malformed_local_features_fail_their_item_only() -> None:
    import base64

    good = hash_image_bytes(_jpeg(3), windows=Windows.FEATURES).features[0][1].to_bytes()
    outside = bytearray(good)
    outside[8:10] = (65535).to_bytes(2, "little")  # a keypoint far off the picture
    for blob in [
        "not base64!",
        base64.b64encode(good[:-1]).decode(),
        base64.b64encode(bytes(outside)).decode(),
        base64.b64encode(b"\x01" + good[1:]).decode(),
        12,
        "A" * 200_000,
    ]:
        parsed = parse_hash_file(_with_features(blob))
        assert parsed.items[0].error is not None and parsed.items[1].error is None
    parsed = parse_hash_file(_with_features(base64.b64encode(good).decode()))
    assert parsed.items[0].error is None and parsed.items[0].features is not None


def test_any_features_field_is_read_or_refused_never_crashes() -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rempart.intake.hashfile import _features

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=600))
    def check(blob: bytes) -> None:
        import base64
        import contextlib

        with contextlib.suppress(InputError):  # a clear error, or features
            _features(base64.b64encode(blob).decode())

    check()


def _window_blobs(seed: int) -> list[bytes]:
    """Each window's features as the page's kernel writes them (test_page_features.py: the
    same bytes), from the CLI's luma of the picture."""
    from rempart.hashing.decode import decode_luma
    from rempart.hashing.features import WINDOW_LIMIT, extract_features, window_boxes

    luma = decode_luma(_jpeg(seed)).luma
    height, width = luma.shape
    return [
        extract_features(luma[top : top + h, left : left + w], limit=WINDOW_LIMIT).to_bytes()
        for left, top, w, h in window_boxes(width, height)
    ]


def _with_windows(windows: object, seed: int = 3) -> bytes:
    import base64

    document = json.loads(
        write_hash_file(
            [hash_image_bytes(_jpeg(seed), windows=EXTRAS | Windows.FEATURES)],
            submission=SUBMISSION,
            created="2026-12-06",
            statements=SHE_IS_SHOWN,
            withdrawal_sha256=withdrawal_digest(CODE),
        )
    )
    if isinstance(windows, list):
        windows = [base64.b64encode(w).decode() if isinstance(w, bytes) else w for w in windows]
    document["items"][0]["windows"] = windows
    document["integrity"] = {"sha256": integrity_digest(document)}
    return canonical_json(document)


def test_page_window_features_are_stored_as_bank_add_stores_them(
    db: Database, tmp_path: Path
) -> None:
    from rempart.hashing import REGISTRATION_EXTRAS
    from rempart.hashing.features import LocalFeatures

    data = _with_windows(_window_blobs(3))
    cases.create_case(db, "case-1")
    report = import_submission(db, "case-1", parse_hash_file(data))
    assert report.items[0].error is None
    (stored,) = _features_of(db, "case-1-page")
    read = LocalFeatures.from_bytes(stored)
    assert read.window_points is not None and len(read.window_points) >= 100
    banks.create_bank(db, "by-cli")
    path = tmp_path / "three.jpg"
    path.write_bytes(_jpeg(3))
    banks.add_images(db, "by-cli", [path], extras=REGISTRATION_EXTRAS)
    assert stored in _features_of(db, "by-cli")


def test_malformed_window_features_fail_their_item_only() -> None:
    import base64

    import numpy as np

    from rempart.hashing.features import LocalFeatures

    good = _window_blobs(3)
    first = LocalFeatures.from_bytes(good[0])
    outside = bytearray(good[0])
    outside[8:10] = (65535).to_bytes(2, "little")  # a keypoint far off its window
    many = LocalFeatures(  # more keypoints than a window's limit
        first.width,
        first.height,
        np.zeros((201, 2), np.float32),
        np.zeros((201, 32), np.uint8),
        np.zeros(201, np.float32),
        np.zeros(201, np.uint8),
    ).to_bytes()
    resized = LocalFeatures.from_bytes(good[1])
    resized = LocalFeatures(
        resized.width + 1, resized.height, resized.points, resized.descriptors,
        resized.angles, resized.octaves,
    ).to_bytes()  # fmt: skip
    checked = LocalFeatures(
        first.width, first.height, first.points, first.descriptors, first.angles, first.octaves,
        check_points=first.points[:3], check_descriptors=first.descriptors[:3],
    ).to_bytes()  # fmt: skip
    for windows in [
        good[:-1],  # one window too few
        [*good, good[0]],
        [bytes(outside), *good[1:]],
        [many, *good[1:]],
        [good[0], resized, *good[2:]],
        [checked, *good[1:]],
        [good[0][:-1], *good[1:]],
        ["not base64!", *good[1:]],
        ["A" * 200_000, *good[1:]],
        [12, *good[1:]],
        "AA==",
        {"0": "AA=="},
    ]:
        parsed = parse_hash_file(_with_windows(windows))
        assert parsed.items[0].error is not None, windows
        assert "window" in str(parsed.items[0].error) or "features" in str(parsed.items[0].error)
    # the windows' features without the picture's
    document = json.loads(_with_windows(good))
    del document["items"][0]["features"]
    document["integrity"] = {"sha256": integrity_digest(document)}
    assert parse_hash_file(canonical_json(document)).items[0].error is not None
    # a version 2 file has no such field
    document = json.loads(_with_windows(good))
    document["version"] = 2
    document["integrity"] = {"sha256": integrity_digest(document)}
    assert parse_hash_file(canonical_json(document)).items[0].error is not None
    parsed = parse_hash_file(_with_windows([base64.b64decode(base64.b64encode(g)) for g in good]))
    assert parsed.items[0].error is None


def test_any_window_features_are_read_or_refused_never_crashes() -> None:
    import base64
    import contextlib

    from hypothesis import given, settings
    from hypothesis import strategies as st

    from rempart.hashing.features import LocalFeatures
    from rempart.intake.hashfile import _window_features

    whole = hash_image_bytes(_jpeg(3), windows=Windows.FEATURES).features[0][1]
    whole = LocalFeatures.from_bytes(whole.to_bytes())
    good = _window_blobs(3)

    @settings(max_examples=150, deadline=None)
    @given(st.integers(0, 8), st.binary(max_size=400), st.integers(1, 5000), st.integers(1, 5000))
    def check(at: int, blob: bytes, width: int, height: int) -> None:
        windows = [base64.b64encode(g).decode() for g in good]
        windows[at] = base64.b64encode(blob).decode()
        with contextlib.suppress(InputError):  # a clear error, or features
            _window_features(whole, windows, 400, 300)
        with contextlib.suppress(InputError):
            _window_features(whole, windows, width, height)

    check()


def test_a_malformed_item_is_reported_and_the_others_kept() -> None:
    document = json.loads(_hash_file([1, 2]))
    document["items"][0]["pdq"] = "zz"
    document["items"][1]["extras"][0]["kind"] = "face"
    document["integrity"] = {"sha256": integrity_digest(document)}
    parsed = parse_hash_file(canonical_json(document))
    assert [i.error is not None for i in parsed.items] == [True, True]
    document["items"][1]["extras"][0]["kind"] = "grid"
    document["integrity"] = {"sha256": integrity_digest(document)}
    assert parse_hash_file(canonical_json(document)).items[1].error is None


def test_sealed_file_opens_with_the_associations_key_only(tmp_path: Path) -> None:
    made = sealing.make_key_pair(tmp_path / "intake")
    assert stat.S_IMODE(os.stat(made.private).st_mode) == 0o600
    data = _hash_file([1])
    sealed = sealing.seal(data, sealing.read_public_key(made.public))
    assert b"pdq" not in sealed and json.loads(sealed)["key"] == made.key_id
    private = sealing.read_private_key(made.private)
    assert sealing.load_hash_file(sealed, private) == parse_hash_file(data)
    with pytest.raises(HashListError, match="sealed"):
        sealing.load_hash_file(sealed, None)
    other = sealing.read_private_key(sealing.make_key_pair(tmp_path / "other").private)
    with pytest.raises(HashListError, match="another key"):
        sealing.load_hash_file(sealed, other)
    envelope = json.loads(sealed)
    envelope["data"] = envelope["data"][:-8] + "AAAAAAA="
    with pytest.raises(HashListError, match="damaged"):
        sealing.load_hash_file(canonical_json(envelope), private)


def test_a_key_pair_is_never_overwritten(tmp_path: Path) -> None:
    sealing.make_key_pair(tmp_path)
    with pytest.raises(Exception, match="already exists"):
        sealing.make_key_pair(tmp_path)


def test_withdrawal_codes_are_random_and_typed_forgivingly() -> None:
    code = new_withdrawal_code(os.urandom(13))
    assert len(code) == 24 and code.count("-") == 4
    assert normalise_code(code.lower().replace("-", "")) == code.replace("-", "")
    assert withdrawal_digest("7K3Q-M2XD-9PZT-4WRB-HC8N") == withdrawal_digest(
        "7k3qm2xd9pzt4wrbhc8n"
    )
    assert withdrawal_digest("O0O0-0000-0000-0000-0000") == withdrawal_digest("0" * 20)
    with pytest.raises(InputError):
        normalise_code("short")


def test_a_video_item_is_registered_as_bank_add_registers_one(db: Database, tmp_path: Path) -> None:
    from rempart.hashing.video import hash_video_bytes
    from rempart.samples import neutral_video

    data = neutral_video(4, 3.5)
    hash_file = write_hash_file(
        [hash_video_bytes(data)],
        submission=SUBMISSION,
        created="2026-12-06",
        statements=SHE_IS_SHOWN,
        withdrawal_sha256=withdrawal_digest(CODE),
    )
    cases.create_case(db, "case-1")
    (page,) = import_submission(db, "case-1", parse_hash_file(hash_file)).items
    banks.create_bank(db, "by-cli")
    path = tmp_path / "clip.mp4"
    path.write_bytes(data)
    (cli,) = banks.add_images(db, "by-cli", [path])
    assert page.error is None and page.extra_hashes == cli.extra_hashes == 4
    (item,) = banks.list_items(db, "case-1-page")
    assert item.media == "video" and item.pdq is None
    assert withdraw_submissions(db, "case-1", withdrawal_digest(CODE)).withdrawn == (page.item_id,)


def test_cli_refuses_unusable_files_with_a_reason_and_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from rempart.cli import app

    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["case", "create", "case-1"]).exit_code == 0
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\x00\xffnot json")
    result = runner.invoke(app, ["intake", "import", "case-1", str(garbage)])
    assert result.exit_code == 2 and "not JSON" in result.stderr
    made = sealing.make_key_pair(tmp_path / "elsewhere")
    sealed = tmp_path / "sealed.json"
    sealed.write_bytes(sealing.seal(_hash_file([1]), sealing.read_public_key(made.public)))
    result = runner.invoke(app, ["intake", "import", "case-1", str(sealed)])
    assert result.exit_code == 2 and "intake key is needed" in result.stderr
    key = ["--key", str(made.private)]
    result = runner.invoke(app, ["intake", "import", "case-1", str(sealed), *key, "--json"])
    assert result.exit_code == 0 and '"bank": "case-1-page"' in result.stdout
    result = runner.invoke(app, ["intake", "withdraw", "case-1", "not a code"])
    assert result.exit_code == 2 and "withdrawal code" in result.stderr
    result = runner.invoke(app, ["intake", "withdraw", "case-1", CODE])
    assert result.exit_code == 0 and "Withdrew 1 item of case case-1" in result.stdout


def test_a_hash_file_over_the_size_bound_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file larger than MAX_FILE_BYTES is refused with its size named (the CLI checks the
    file's size before reading it; the parser checks bytes handed to it), and a file under
    the bound still imports."""
    from typer.testing import CliRunner

    from rempart.cli import app
    from rempart.intake import hashfile

    data = _hash_file([1])
    monkeypatch.setattr(hashfile, "MAX_FILE_BYTES", len(data) - 1)
    with pytest.raises(HashListError, match="larger than"):
        parse_hash_file(data)
    monkeypatch.setenv("REMPART_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("REMPART_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["case", "create", "case-1"]).exit_code == 0
    path = tmp_path / "big.json"
    path.write_bytes(data)
    result = runner.invoke(app, ["intake", "import", "case-1", str(path)])
    assert result.exit_code == 2 and "is larger than" in " ".join(result.stderr.split())
    monkeypatch.setattr(hashfile, "MAX_FILE_BYTES", len(data))
    result = runner.invoke(app, ["intake", "import", "case-1", str(path)])
    assert result.exit_code == 0, result.output
