"""The re-check decision, on generated cases: a copy is online only when what is served
matches its item; gone is 404/410, a name that no longer exists, or a placeholder; a failed
fetch is never "removed"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rempart.takedown.recheck import (
    CheckStatus,
    Intervals,
    Observation,
    Target,
    classify,
    finding_status,
    is_home_page,
    looks_removed_url,
    mentions_removal,
    page_refers_to,
)

URL = "https://img.host.example/a/123.jpg"
FAILURES = [
    "timeout",
    "connection failed",
    "connection broken",
    "name not resolved",
    "proxy failed",
    "refused address",
    "too large",
    "bad content encoding",
]

statuses = st.one_of(st.none(), st.integers(100, 599))
kinds = st.sampled_from(["image", "video", "html", "other", None])
observations = st.builds(
    Observation,
    url=st.just(URL),
    target=st.sampled_from(list(Target)),
    http_status=statuses,
    failure=st.one_of(st.none(), st.sampled_from(FAILURES)),
    nxdomain=st.booleans(),
    final_url=st.one_of(
        st.none(),
        st.just(URL),
        st.sampled_from(
            [
                "https://img.host.example/",
                "https://img.host.example/removed.png",
                "https://cdn.host.example/b/1.jpg",
            ]
        ),
    ),
    kind=kinds,
    matched=st.booleans(),
    same_bytes=st.booleans(),
    distance=st.one_of(st.none(), st.integers(0, 31)),
    quality=st.one_of(st.none(), st.integers(0, 100)),
    width=st.one_of(st.none(), st.integers(1, 4000)),
    height=st.one_of(st.none(), st.integers(1, 4000)),
    unreadable=st.booleans(),
    refers=st.booleans(),
    removal_words=st.booleans(),
    shared_with=st.integers(0, 50),
)


@given(observations)
def test_every_observation_gets_one_status_and_a_reason(seen: Observation) -> None:
    verdict = classify(seen)
    assert verdict.status in set(CheckStatus)
    assert verdict.reason
    assert verdict.reason.format(**verdict.values)  # the template has its values


@given(observations)
def test_online_only_when_what_is_served_is_the_copy(seen: Observation) -> None:
    verdict = classify(seen)
    if verdict.status is CheckStatus.ONLINE:
        assert seen.failure is None and seen.http_status is not None
        assert 200 <= seen.http_status < 300
        served_copy = seen.kind in {"image", "video"} and (seen.matched or seen.same_bytes)
        page_shows = seen.target is Target.PAGE and seen.kind == "html" and seen.refers
        assert served_copy or page_shows
        assert not verdict.placeholder


@given(observations)
def test_a_matching_picture_is_online_whatever_the_placeholder_signals(
    seen: Observation,
) -> None:
    from dataclasses import replace

    seen = replace(
        seen,
        failure=None,
        nxdomain=False,
        http_status=200,
        kind="image",
        matched=True,
        unreadable=False,
    )
    assert classify(seen).status is CheckStatus.ONLINE


@given(observations)
def test_a_failed_fetch_is_never_removed_unless_gone_or_the_name_is(seen: Observation) -> None:
    from dataclasses import replace

    seen = replace(seen, failure=seen.failure or "timeout")
    verdict = classify(seen)
    if seen.nxdomain or seen.http_status in {404, 410, 451}:
        assert verdict.status is CheckStatus.REMOVED
    else:
        assert verdict.status is CheckStatus.UNREACHABLE


@given(st.integers(500, 599), st.sampled_from(list(Target)))
def test_server_errors_are_unreachable(status: int, target: Target) -> None:
    assert classify(Observation(URL, target, http_status=status)).status is CheckStatus.UNREACHABLE
    failed = Observation(URL, target, http_status=status, failure="http error")
    assert classify(failed).status is CheckStatus.UNREACHABLE


@pytest.mark.parametrize("status", [404, 410])
@pytest.mark.parametrize("target", list(Target))
def test_not_found_and_gone_are_removed(status: int, target: Target) -> None:
    verdict = classify(Observation(URL, target, http_status=status, failure="http error"))
    assert verdict.status is CheckStatus.REMOVED
    assert verdict.values == {"status": str(status)}


def picture(**kwargs: object) -> Observation:
    values: dict[str, object] = dict(
        http_status=200, kind="image", quality=90, width=640, height=480, final_url=URL
    )
    values.update(kwargs)
    return Observation(URL, Target.MEDIA, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seen", "status", "placeholder"),
    [
        (picture(matched=True, distance=12), CheckStatus.ONLINE, False),
        (picture(same_bytes=True, matched=True), CheckStatus.ONLINE, False),
        (picture(), CheckStatus.CHANGED, False),
        (picture(shared_with=1), CheckStatus.CHANGED, False),
        (picture(shared_with=2), CheckStatus.REMOVED, True),
        (picture(shared_with=40), CheckStatus.REMOVED, True),
        (picture(width=161, height=81), CheckStatus.REMOVED, True),
        (picture(width=1000, height=40), CheckStatus.REMOVED, True),
        (picture(quality=0), CheckStatus.REMOVED, True),
        (picture(quality=49), CheckStatus.REMOVED, True),
        (picture(kind="html"), CheckStatus.REMOVED, True),
        (picture(kind="other"), CheckStatus.REMOVED, True),
        (picture(unreadable=True), CheckStatus.CHANGED, False),
        (picture(final_url="https://img.host.example/"), CheckStatus.REMOVED, True),
        (picture(final_url="https://img.host.example/removed.png"), CheckStatus.REMOVED, True),
        (picture(final_url="https://cdn.host.example/b/1.jpg"), CheckStatus.CHANGED, False),
        (
            picture(final_url="https://cdn.host.example/b/1.jpg", matched=True),
            CheckStatus.ONLINE,
            False,
        ),
    ],
)
def test_pictures(seen: Observation, status: CheckStatus, placeholder: bool) -> None:
    verdict = classify(seen)
    assert (verdict.status, verdict.placeholder) == (status, placeholder)


def page(**kwargs: object) -> Observation:
    values: dict[str, object] = dict(
        http_status=200, kind="html", final_url="https://f.example/t/1"
    )
    values.update(kwargs)
    return Observation("https://f.example/t/1", Target.PAGE, **values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("seen", "status"),
    [
        (page(refers=True), CheckStatus.ONLINE),
        (page(refers=True, removal_words=True), CheckStatus.ONLINE),
        (page(removal_words=True), CheckStatus.REMOVED),
        (page(), CheckStatus.CHANGED),
        (page(final_url="https://f.example/"), CheckStatus.REMOVED),
        (page(kind="image", matched=True), CheckStatus.ONLINE),
    ],
)
def test_pages(seen: Observation, status: CheckStatus) -> None:
    assert classify(seen).status is status


@given(st.sampled_from(list(CheckStatus)), st.sampled_from(list(CheckStatus)))
def test_the_media_decides_for_the_copy(media: CheckStatus, page_status: CheckStatus) -> None:
    assert finding_status(media, page_status) is media
    assert finding_status(None, page_status) is page_status
    assert finding_status(None, None) is CheckStatus.UNREACHABLE


@pytest.mark.parametrize(
    ("url", "home"),
    [
        ("https://a.example/", True),
        ("https://a.example", True),
        ("https://a.example/index.php", True),
        ("https://a.example/?ref=1", False),
        ("https://a.example/t/1", False),
    ],
)
def test_home_pages(url: str, home: bool) -> None:
    assert is_home_page(url) is home


def test_removed_urls_and_words() -> None:
    assert looks_removed_url("https://i.imgur.example/removed.png")
    assert looks_removed_url("https://h.example/errors/not-found")
    assert not looks_removed_url("https://h.example/a/123.jpg")
    assert mentions_removal("<p>This image has been removed.</p>")
    assert mentions_removal("Ce contenu n’est plus disponible")
    assert mentions_removal("Le message a été supprimé par la modération")
    assert not mentions_removal("<p>Holiday pictures, page 2</p>")


def test_a_page_refers_to_its_media_by_address_or_path() -> None:
    media = "https://forum.example/img/42.jpg?size=l"
    assert page_refers_to(f'<img src="{media}">', media)
    assert page_refers_to('<img src="/img/42.jpg?size=l">', media)
    assert not page_refers_to('<img src="/img/43.jpg">', media)


def test_intervals_parse_and_default() -> None:
    intervals = Intervals.parse("online=2h, unreachable=15m")
    assert intervals.after(CheckStatus.ONLINE) == timedelta(hours=2)
    assert intervals.after(CheckStatus.UNREACHABLE) == timedelta(minutes=15)
    assert intervals.after(CheckStatus.REMOVED) == timedelta(hours=24)
    for bad in ("online", "gone=1h", "online=0h", "online=soon"):
        with pytest.raises(ValueError, match=r"online|gone|0h|soon"):
            Intervals.parse(bad)
