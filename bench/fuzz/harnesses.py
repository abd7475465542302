"""One fuzz harness per family of untrusted input, each through Rempart's public entry points.

A harness is `check(data)`: it hands the fuzzer's bytes to the parser as Rempart would (a
file on disk for the sources, bytes or text for the others). The parser may refuse them
with a Rempart error (RempartError: a clear message), or yield a Problem from a scan; any
other exception escapes and libFuzzer records it as a crash. `seeds(folder)` writes small
valid inputs for the fuzzer to start from: generated content only (neutral pictures, a
made-up forum page, a fresh sealed bundle), never a committed corpus.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import smtplib
import socket
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dns.flags
import dns.message
import dns.rrset
import httpx
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from rempart.errors import RempartError
from rempart.evidence.artifacts import Artifact, Capture, CapturedMedia
from rempart.evidence.verify import render_report, report_to_json, verify_bundle
from rempart.hashing.image import hash_image_bytes
from rempart.hashing.video import VideoLimits, hash_video_bytes
from rempart.i18n import Messages
from rempart.intake.hashlists import ListFormat, parse_hash_list
from rempart.samples import neutral_image, neutral_video
from rempart.sources.base import Candidate, Problem, Validators
from rempart.sources.files import FileSource
from rempart.sources.html import Page, PostSelectors
from rempart.sources.recipes import Recipe, host_matches
from rempart.sources.telegram import TelegramExportSource
from rempart.sources.warc import WarcSource
from rempart.takedown.answers import parse_rdap
from rempart.takedown.bootstrap import RdapBootstrap
from rempart.takedown.lookups import RdapClient, answer_records, parse_dns_message
from rempart.takedown.smtp import SmtpTransport, SmtpUrl

BENCH = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Harness:
    name: str
    check: Callable[[bytes], None]
    seeds: Callable[[Path], None]
    max_len: int  # libFuzzer's -max_len: the largest input it makes
    share: float  # this harness's part of the inputs (the slow parsers get fewer)
    timeout_s: int  # one input longer than this is a hang


# --------------------------------------------------------------------------- scratch files


def scratch_folder(pid: int) -> Path:
    """Where the harness process `pid` writes its inputs (run.py removes it afterwards)."""
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    return base / f"rempart-fuzz-{pid}"


def _scratch() -> Path:
    folder = scratch_folder(os.getpid())
    folder.mkdir(exist_ok=True)
    return folder


class _State:
    """A pipeline state that has seen nothing."""

    def seen(self, key: str) -> bool:
        return False

    def validators(self, url: str) -> Validators | None:
        return None

    def save_validators(self, url: str, validators: Validators) -> None:
        pass


def _drain(items: Iterator[Candidate | Problem]) -> None:
    for item in items:
        assert isinstance(item, Candidate | Problem), item
        if isinstance(item, Problem):
            assert item.reason, item
            item.localized("fr")


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _refused(call: Callable[[], object]) -> None:
    try:
        call()
    except RempartError as exc:
        _clear(exc)


def _clear(exc: RempartError) -> None:
    """A refusal must say why."""
    if not str(exc).strip():
        raise AssertionError(f"{type(exc).__name__} without a message")


# --------------------------------------------------------------------------- images, videos


IMAGE_FORMATS = ("JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "AVIF")


def image_bytes(seed: int, fmt: str, width: int = 48, height: int = 32) -> bytes:
    buffer = io.BytesIO()
    image = neutral_image(seed, width, height)
    if fmt in ("HEIF", "AVIF"):
        import pillow_heif

        pillow_heif.register_heif_opener()
        pillow_heif.register_avif_opener() if hasattr(pillow_heif, "register_avif_opener") else None
    options: dict[str, object] = {}
    if fmt in ("JPEG", "WEBP"):
        options["exif"] = b"Exif\x00\x00MM\x00*\x00\x00\x00\x08"
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _image_seeds(folder: Path) -> None:
    for number, fmt in enumerate(IMAGE_FORMATS):
        try:
            _write(folder / f"seed.{fmt.lower()}", image_bytes(number, fmt))
        except (ImportError, OSError, KeyError, ValueError):
            continue  # an encoder this machine lacks: the others still seed


def check_image(data: bytes) -> None:
    _refused(lambda: hash_image_bytes(data, dihedral=True))


VIDEO_LIMITS = VideoLimits(max_duration_s=60.0, max_side=1024, max_samples=200, max_decode_s=20)


def _video_seeds(folder: Path) -> None:
    for container, codec, suffix in (
        ("mp4", "h264", "mp4"),
        ("webm", "vp9", "webm"),
        ("avi", "mpeg4", "avi"),
    ):
        try:
            data = neutral_video(3, 1.0, fps=4, width=32, height=24, codec=codec,
                                 container=container)  # fmt: skip
        except Exception:
            continue
        _write(folder / f"seed.{suffix}", data)


def check_video(data: bytes) -> None:
    _refused(lambda: hash_video_bytes(data, fps=2.0, limits=VIDEO_LIMITS))


# --------------------------------------------------------------------------- HTML, recipes

PAGE = b"""<!doctype html><html><head><meta charset="utf-8"><title>Board</title>
<base href="/t/"><meta property="og:image" content="/i/og.jpg"></head><body>
<div class="post" id="p1"><span class="who">ann</span><time datetime="2024-05-01T10:00:00Z">
1 May</time><div class="body"><a href="/i/a.jpg"><img src="a_thumb.jpg"
srcset="a_640.jpg 640w, a_1280.jpg 1280w"></a><video src="v.mp4"></video>
<div style="background-image:url('/bg.png')"></div></div></div>
<div class="post" id="p2"><img class="avatar" src="/av.png"><a href="https://img.test/v/9">
<img src="https://img.test/t/9.jpg"></a></div><a href="?page=2">next</a></body></html>"""

POSTS = PostSelectors(
    selector="div.post", author=".who", time="time", content=".body", id_attr="id"
)


def _is_image_page(url: str) -> bool:
    return "/v/" in url


def _html_seeds(folder: Path) -> None:
    _write(folder / "page.html", PAGE)
    _write(folder / "latin1.html", b'<meta charset="iso-8859-1"><p>caf\xe9 <img src=x.png>')
    _write(folder / "empty.html", b"<html></html>")


def check_html(data: bytes) -> None:
    page = Page(data, "https://forum.test/board/1", ignore="img.avatar")
    page.links()
    page.links("a[href], img[src]")
    page.first_link("a")
    page.title(".post .who")
    page.og_image()
    page.main_image("img")
    page.main_image("div[style]")
    page.media(_is_image_page)
    page.posts(POSTS, _is_image_page)


RECIPE = b"""name = "forum"
start_urls = ["https://forum.test/board/1"]
allowed_hosts = ["forum.test", "*.forum.test"]
media_hosts = ["img.test"]
ignore = "img.avatar, .signature"
session_params = ["sid", "PHPSESSID"]

[board]
threads = "a.thread"
next_page = "a.next"

[thread]
next_page = "a.next"

[post]
selector = "div.post"
author = ".who"
time = "time"
content = ".body"

[[image_hosts]]
host = "img.test"
image = "img#main"

[limits]
max_pages = 50
"""


def _recipe_seeds(folder: Path) -> None:
    _write(folder / "forum.toml", RECIPE)
    _write(folder / "small.toml", b'name = "x"\nstart_urls = ["https://a.test/"]\n')
    _write(
        folder / "ports.toml",
        b'name = "p"\nstart_urls = ["http://127.0.0.1:8401/"]\n'
        b'allowed_hosts = ["127.0.0.1:8401", "[::1]:8402"]\n'
        b'[[image_hosts]]\nhost = "127.0.0.1:8402"\n',
    )


def check_recipe(data: bytes) -> None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return  # Recipe.from_file refuses it before parsing
    try:
        recipe = Recipe.from_toml(text)
    except RempartError as exc:
        _clear(exc)
        return
    for host in ("forum.test", "a.forum.test", "img.test", "x.test", "127.0.0.1"):
        for port in (None, 8402):
            recipe.allows_page(host, port)
            recipe.allows_media(host, port)
            recipe.image_host(host, port)
            host_matches(host, recipe.allowed_hosts, port)
    if recipe.post is not None:
        Page(PAGE, "https://forum.test/board/1", ignore=recipe.ignore).posts(
            recipe.post, _is_image_page
        )


# --------------------------------------------------------------------------- archives


def _png(seed: int) -> bytes:
    return image_bytes(seed, "PNG", 24, 16)


def zip_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def tar_of(members: list[tuple[str, bytes]], mode: str = "w") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:  # type: ignore[call-overload]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _archive_seeds(folder: Path) -> None:
    members = [("a/one.png", _png(1)), ("b/two.png", _png(2)), ("notes.txt", b"hello")]
    inner = zip_of([("inner.png", _png(3))])
    _write(folder / "seed.zip", zip_of([*members, ("nested.zip", inner)]))
    _write(folder / "seed.tar", tar_of(members))
    _write(folder / "seed.tar.gz", tar_of(members, "w:gz"))
    _write(folder / "seed.tar.bz2", tar_of(members[:1], "w:bz2"))
    _write(folder / "seed.tar.xz", tar_of(members[:1], "w:xz"))


def check_archive(data: bytes) -> None:
    _drain(FileSource(_write(_scratch() / "input.bin", data)).scan(_State()))


# --------------------------------------------------------------------------- Telegram


def telegram_result(photo: str = "photos/photo_1.png") -> bytes:
    result = {
        "name": "Landscapes",
        "type": "public_channel",
        "id": 1234567,
        "messages": [
            {"id": 1, "type": "service", "date": "2024-05-01T10:00:00",
             "date_unixtime": "1714557600", "actor": "Landscapes", "action": "create_channel"},
            {"id": 2, "type": "message", "date": "2024-05-01T10:01:00",
             "date_unixtime": "1714557660", "from": "Landscapes", "from_id": "channel1234567",
             "photo": photo, "width": 24, "height": 16,
             "text": ["A ", {"type": "link", "text": "https://t.me/x"}, " view"]},
            {"id": 3, "type": "message", "date": "2024-05-01T10:02:00",
             "date_unixtime": "1714557720", "file": "files/clip.png",
             "mime_type": "image/png", "text": ""},
        ],
    }  # fmt: skip
    return json.dumps(result, indent=1).encode()


def _telegram_seeds(folder: Path) -> None:
    _write(folder / "result.json", telegram_result())
    _write(folder / "export.zip", zip_of([("result.json", telegram_result()),
                                           ("photos/photo_1.png", _png(4))]))  # fmt: skip


def _telegram_folder() -> Path:
    root = _scratch() / "telegram"
    if not root.is_dir():
        (root / "photos").mkdir(parents=True)
        (root / "files").mkdir()
        _write(root / "photos" / "photo_1.png", _png(4))
        _write(root / "files" / "clip.png", _png(5))
    return root


def check_telegram(data: bytes) -> None:
    """A zip is scanned as a zipped export; anything else as the folder's result.json."""
    if data.startswith(b"PK"):
        path = _write(_scratch() / "export.zip", data)
    else:
        path = _telegram_folder()
        _write(path / "result.json", data)
    _drain(TelegramExportSource(path).scan(_State()))


# --------------------------------------------------------------------------- WARC, WACZ


def warc_bytes(gzipped: bool = True) -> bytes:
    stream = io.BytesIO()
    writer = WARCWriter(stream, gzip=gzipped)
    page = b'<html><body><img src="http://img.test/a.png"></body></html>'
    png = _png(6)
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(png), png)
    for url, body, headers in (
        ("http://forum.test/t/1", page, [("Content-Type", "text/html")]),
        ("http://img.test/a.png", chunked,
         [("Content-Type", "image/png"), ("Transfer-Encoding", "chunked")]),
        ("http://img.test/b.png", gzip.compress(png),
         [("Content-Type", "image/png"), ("Content-Encoding", "gzip")]),
    ):  # fmt: skip
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(
                "GET / HTTP/1.1",
                [("Host", url.split("/")[2]), ("Referer", "http://forum.test/t/1")],
                is_http_request=True,
            ),
        )
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            http_headers=StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1"),
        )
        writer.write_record(request)
        writer.write_record(response)
    resource = writer.create_warc_record(
        "urn:screenshot:http://forum.test/t/1",
        "resource",
        payload=io.BytesIO(_png(7)),
        warc_content_type="image/png",
    )
    writer.write_record(resource)
    return stream.getvalue()


def _warc_seeds(folder: Path) -> None:
    _write(folder / "seed.warc.gz", warc_bytes(True))
    _write(folder / "seed.warc", warc_bytes(False))
    pages = b'{"format": "json-pages-1.0"}\n{"url": "http://forum.test/t/1", "ts": "2024"}\n'
    _write(
        folder / "seed.wacz",
        zip_of([("archive/data.warc.gz", warc_bytes(True)), ("pages/pages.jsonl", pages)]),
    )


def check_warc(data: bytes) -> None:
    _drain(WarcSource(_write(_scratch() / "input.warc", data)).scan(_State()))


# --------------------------------------------------------------------------- hash lists

PDQ = "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"
MD5 = "d41d8cd98f00b204e9800998ecf8427e"
SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
HASH_LISTS = {
    "list.pdq": f"{PDQ}\n# a comment\n{PDQ[::-1]} 87\n",
    "list.csv": f"pdq,md5,sha256,quality,label\n{PDQ},{MD5},{SHA},90,case 1\n,,{SHA},,\n",
    "list.json": json.dumps([{"pdq": PDQ, "quality": 80, "label": "x"}, {"md5": MD5}]),
    "list.jsonl": json.dumps({"pdq": PDQ}) + "\n" + json.dumps({"sha256": SHA}) + "\n",
    "list.pytx": f"pdq,{PDQ}\nmd5,{MD5}\n",
    "clip.vpdq": "".join(f"{i},{PDQ},100,{i}.000\n" for i in range(4)),
}
LIST_FORMATS: tuple[ListFormat | None, ...] = (None, *ListFormat)


def _hashlist_seeds(folder: Path) -> None:
    for number, (name, text) in enumerate(HASH_LISTS.items()):
        _write(folder / name, bytes([number]) + text.encode())


def check_hashlist(data: bytes) -> None:
    """The first byte picks the format (or detection) and skip_unknown; the rest is the text."""
    if not data:
        return
    fmt = LIST_FORMATS[data[0] % len(LIST_FORMATS)]
    text = data[1:].decode("utf-8", "replace")
    try:
        parsed = parse_hash_list(text, fmt, skip_unknown=bool(data[0] & 0x80))
    except RempartError as exc:
        _clear(exc)
        return
    for problem in parsed.problems:
        assert str(problem.error)


# --------------------------------------------------------------------------- bundles


def _tiny_capture() -> Capture:
    """A page, its picture and a WARC of both: a sealed bundle of a few KB."""
    at = datetime(2025, 3, 14, 9, 0, tzinfo=UTC)
    page = "http://forum.test/t/1"
    html = b'<html><body><img src="http://img.test/a.png"></body></html>'
    png = _png(8)
    artifacts = (
        Artifact("archive/data.warc.gz", warc_bytes(True), "application/warc", at),
        Artifact("capture/page.html", html, "text/html", at),
        Artifact("capture/screenshot.png", png, "image/png", at),
        Artifact("media/a.png", png, "image/png", at),
    )
    media = CapturedMedia(
        url="http://img.test/a.png",
        sha256=hashlib.sha256(png).hexdigest(),
        size=len(png),
        media_type="image/png",
        artifact="media/a.png",
        pdq="0f" * 32,
        quality=80,
        width=24,
        height=16,
    )
    return Capture(
        url=page,
        final_url=page,
        link_path=("http://forum.test/", page),
        started_at=at,
        finished_at=at + timedelta(seconds=3),
        artifacts=artifacts,
        media=(media,),
        context={"operator": "fuzz", "title": "a page"},
    )


def _bundle_seeds(folder: Path) -> None:
    """A bundle sealed with the bench key, time-stamped by the demo authority (it needs
    openssl); without it, an unsealed zip of the same shape still seeds the walk."""
    sys.path.insert(0, str(BENCH))
    try:
        import seal as seal_bench  # bench/seal.py

        with seal_bench.demo_sealing() as (key, stamper, _tsa):
            bundle = seal_bench.seal(_tiny_capture(), key, stamper)
        _write(folder / "sealed.zip", bundle)
    except Exception as exc:
        print(f"no sealed bundle seed ({type(exc).__name__}: {exc})", file=sys.stderr)
    _write(folder / "shape.zip", zip_of([("manifest.json", b"{}"), ("seal.json", b"{}")]))


_MESSAGES = {lang: Messages(lang) for lang in ("en", "fr")}


def check_bundle(data: bytes) -> None:
    report = verify_bundle(data)
    for messages in _MESSAGES.values():
        render_report(report, messages)
        json.dumps(report_to_json(report, messages))


# --------------------------------------------------------------------------- answers


def dns_answer_bytes(rdtype: str, *records: str, rcode: int = 0) -> bytes:
    query = dns.message.make_query("files.example.test", rdtype)
    response = dns.message.make_response(query)
    response.set_rcode(rcode)
    if records:
        response.answer.append(
            dns.rrset.from_text("files.example.test.", 300, "IN", rdtype, *records)
        )
    return bytes(response.to_wire())


RDAP = {
    "objectClassName": "ip network",
    "handle": "NET-192-0-2-0-1",
    "name": "EXAMPLE-NET",
    "country": "fr",
    "arin_originas0_originautnums": [64500],
    "entities": [
        {"roles": ["registrant"], "vcardArray": ["vcard", [["fn", {}, "text", "Hoster"]]],
         "entities": [{"roles": ["abuse"],
                       "vcardArray": ["vcard", [["email", {}, "text", "abuse@hoster.test"]]]}]},
        {"roles": ["registrar"], "handle": "R1",
         "vcardArray": ["vcard", [["fn", {}, "text", "Registrar"]]]},
    ],
}  # fmt: skip
BOOTSTRAP = {
    "ipv4": {"services": [[["192.0.2.0/24"], ["https://rdap.test/"]]]},
    "ipv6": {"services": [[["2001:db8::/32"], ["http://rdap.test/", "https://rdap.test/"]]]},
    "asn": {"services": [[["64496-64511"], ["https://rdap.test/"]]]},
    "dns": {"services": [[["test"], ["https://rdap.test/"]]]},
}
RDTYPES = ("A", "AAAA", "CNAME", "MX", "TXT", "NS")
SMTP_SCRIPT = (
    b"220 mx.test ESMTP\r\n250-mx.test\r\n250-SIZE 1000\r\n250 8BITMIME\r\n250 ok\r\n"
    b"250 ok\r\n250 ok\r\n354 go ahead\r\n250 2.0.0 queued as 1\r\n221 bye\r\n"
)


def _answer_seeds(folder: Path) -> None:
    _write(folder / "dns-a", b"\x00" + dns_answer_bytes("A", "192.0.2.7"))
    _write(folder / "dns-txt", b"\x04" + dns_answer_bytes("TXT", '"v=spf1 -all"'))
    _write(folder / "dns-mx", b"\x03" + dns_answer_bytes("MX", "10 mx.example.test."))
    _write(folder / "dns-nx", b"\x00" + dns_answer_bytes("A", rcode=3))
    _write(folder / "rdap", b"\x40" + json.dumps(RDAP).encode())
    _write(folder / "rdap-client", b"\x80" + json.dumps(RDAP).encode())
    _write(folder / "bootstrap", b"\xc0" + json.dumps(BOOTSTRAP).encode())
    _write(folder / "smtp", b"\xc1" + SMTP_SCRIPT)


def check_answers(data: bytes) -> None:
    """The first byte's top bits pick DNS, RDAP (parser, then client), bootstrap or SMTP."""
    if not data:
        return
    kind, rest = data[0] >> 6, data[1:]
    if kind == 0:
        rdtype = RDTYPES[data[0] % len(RDTYPES)]
        _refused(lambda: answer_records(parse_dns_message(rest, "A x"), rdtype, "A x"))
    elif kind == 1:
        _refused(lambda: parse_rdap(rest))
    elif kind == 2:
        _rdap_client(rest)
    elif data[0] & 1:
        _smtp(rest)
    else:
        _bootstrap(rest)


def _rdap_client(body: bytes) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, stream=httpx.ByteStream(body), headers={"content-type": "application/json"}
        )

    bootstrap = RdapBootstrap.from_documents(BOOTSTRAP)
    client = RdapClient(bootstrap, client=httpx.Client(transport=httpx.MockTransport(reply)))
    with client.client:
        _refused(lambda: client.ip("192.0.2.7"))
        _refused(lambda: client.domain("files.example.test"))


def _bootstrap(text: bytes) -> None:
    try:
        docs = json.loads(text)
    except (ValueError, RecursionError):
        return  # from_folder refuses what is not JSON
    if not isinstance(docs, dict):
        return
    try:
        bootstrap = RdapBootstrap.from_documents(docs)
    except RempartError:
        return
    _refused(lambda: bootstrap.for_address("192.0.2.7"))
    _refused(lambda: bootstrap.for_address("2001:db8::1"))
    _refused(lambda: bootstrap.for_asn(64500))
    _refused(lambda: bootstrap.for_domain("files.example.test"))


class _ScriptedSmtp(smtplib.SMTP):
    """smtplib's client on one end of a socket pair whose other end has already said
    everything the fuzzer wrote, then stopped talking."""

    script = b""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        ours, theirs = socket.socketpair()
        theirs.sendall(self.script[: 1 << 16])
        theirs.shutdown(socket.SHUT_WR)  # our reads end there; our writes still go through
        self._peer = theirs
        ours.settimeout(5)
        return ours

    def close(self) -> None:
        super().close()
        peer = getattr(self, "_peer", None)
        if peer is not None:
            peer.close()


def _smtp(script: bytes) -> None:
    _ScriptedSmtp.script = script
    real = smtplib.SMTP
    smtplib.SMTP = _ScriptedSmtp  # type: ignore[misc]
    try:
        transport = SmtpTransport(SmtpUrl.parse("smtp://mx.test:25?starttls=never"))
        _refused(
            lambda: transport.send(
                b"Subject: notice\r\n\r\nbody\r\n",
                sender="notices@rempart.test",
                recipients=["abuse@hoster.test", "legal@hoster.test"],
            )
        )
    finally:
        smtplib.SMTP = real  # type: ignore[misc]


# --------------------------------------------------------------------------- the list

HARNESSES = {
    h.name: h
    for h in (
        Harness("image", check_image, _image_seeds, 16 << 10, 0.10, 20),
        Harness("video", check_video, _video_seeds, 16 << 10, 0.01, 30),
        Harness("html", check_html, _html_seeds, 8 << 10, 0.12, 10),
        Harness("recipe", check_recipe, _recipe_seeds, 2 << 10, 0.14, 10),
        Harness("archive", check_archive, _archive_seeds, 16 << 10, 0.10, 20),
        Harness("telegram", check_telegram, _telegram_seeds, 8 << 10, 0.10, 20),
        Harness("warc", check_warc, _warc_seeds, 16 << 10, 0.10, 20),
        Harness("hashlist", check_hashlist, _hashlist_seeds, 4 << 10, 0.15, 10),
        Harness("bundle", check_bundle, _bundle_seeds, 64 << 10, 0.03, 30),
        Harness("answers", check_answers, _answer_seeds, 4 << 10, 0.15, 10),
    )
}
