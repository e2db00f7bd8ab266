"""Stream URLs: the password kept apart and put back, masking for display, hosts, validation per stream type."""

from __future__ import annotations

from pathlib import Path

import pytest

from cameras.streams import (
    host_of,
    ip_address_of,
    is_masked_password,
    masked_url,
    split_credentials,
    validate_stream_url,
    with_password,
)

SPECIAL_PASSWORDS = ["p@ss:w/rd", "a#b?c@d", "100%sure", "sp ace+plus&amp=eq", "ünïcødé-密码", "***x***", "'\"`\\"]


def test_split_keeps_the_user_and_removes_the_password():
    assert split_credentials("rtsp://admin:secret@10.0.0.5:554/Streaming/101") == (
        "rtsp://admin@10.0.0.5:554/Streaming/101",
        "secret",
    )


def test_split_of_a_url_without_password_returns_it_unchanged():
    assert split_credentials("rtsp://10.0.0.5:554/live") == ("rtsp://10.0.0.5:554/live", "")


def test_split_decodes_a_percent_encoded_password():
    assert split_credentials("rtsp://admin:p%40ss%3Aw%2Frd@cam.local/live")[1] == "p@ss:w/rd"


def test_split_accepts_raw_hash_question_mark_and_at_in_the_password():
    bare, password = split_credentials("rtsp://admin:a#b?c@d@192.168.1.10:554/ch1?subtype=0")
    assert (bare, password) == ("rtsp://admin@192.168.1.10:554/ch1?subtype=0", "a#b?c@d")


def test_split_leaves_an_at_sign_in_the_path_alone():
    assert split_credentials("rtsp://cam:554/live@main") == ("rtsp://cam:554/live@main", "")


@pytest.mark.parametrize("password", SPECIAL_PASSWORDS)
def test_with_password_then_split_round_trips_any_password(password):
    bare = "rtsp://admin@10.0.0.5:554/live?channel=1"
    assert split_credentials(with_password(bare, password)) == (bare, password)


@pytest.mark.parametrize("password", SPECIAL_PASSWORDS)
def test_with_password_percent_encodes_url_delimiters(password):
    userinfo = with_password("rtsp://admin@cam/live", password).split("://", 1)[1].rsplit("@cam/", 1)[0]
    assert not set(userinfo.partition(":")[2]) & set("/?#@: ")


def test_with_password_adds_nothing_when_there_is_no_password():
    assert with_password("rtsp://admin@cam/live", "") == "rtsp://admin@cam/live"


def test_with_password_replaces_a_password_already_in_the_url():
    assert with_password("rtsp://admin:old@cam/live", "new") == "rtsp://admin:new@cam/live"


def test_masked_url_shows_stars_in_place_of_the_password():
    assert masked_url("rtsp://admin@host:554/path", "secret") == "rtsp://admin:***@host:554/path"


def test_masked_url_without_password_is_the_url():
    assert masked_url("rtsp://admin@host:554/path", "") == "rtsp://admin@host:554/path"


def test_masked_url_masks_a_password_written_in_the_url():
    assert masked_url("rtsp://admin:p%40ss@host/path") == "rtsp://admin:***@host/path"


def test_a_masked_url_written_back_is_recognised_as_the_mask():
    _, password = split_credentials(masked_url("rtsp://admin@host/path", "secret"))
    assert is_masked_password(password)


@pytest.mark.parametrize(
    ("url", "host", "ip"),
    [
        ("rtsp://admin:x@192.168.1.64:554/live", "192.168.1.64", "192.168.1.64"),
        ("rtsp://admin@[fe80::1]:554/live", "fe80::1", "fe80::1"),
        ("http://Cam-Lobby.example.com/mjpeg", "cam-lobby.example.com", None),
        ("10.1.2.3:9000", "10.1.2.3", "10.1.2.3"),
        ("tcp://10.1.2.3:9000", "10.1.2.3", "10.1.2.3"),
        ("/dev/video0", None, None),
        ("0", None, None),
    ],
)
def test_host_of_and_ip_address_of(url, host, ip):
    assert (host_of(url), ip_address_of(url)) == (host, ip)


@pytest.mark.parametrize(
    ("stream_type", "url"),
    [
        ("RTSP", "rtsp://admin@10.0.0.5:554/live"),
        ("RTSP", "rtsps://cam.example.com/live"),
        ("HTTP", "http://10.0.0.5/mjpeg"),
        ("HTTP", "https://cam.example.com/stream.m3u8"),
        ("USB", "0"),
        ("USB", "/dev/video2"),
        ("Socket", "tcp://10.0.0.5:9000"),
        ("Socket", "10.0.0.5:9000"),
    ],
)
def test_validate_accepts_a_url_of_its_stream_type(stream_type, url):
    assert validate_stream_url(stream_type, url) == url


def test_validate_accepts_an_existing_local_file(tmp_path: Path, settings):
    settings.CAMERA_FILES_ROOT = tmp_path
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\0")
    assert validate_stream_url("Local File", f"  {video}  ") == str(video)


@pytest.mark.parametrize(
    ("stream_type", "url", "message"),
    [
        ("RTSP", "http://10.0.0.5/live", "must start with rtsp://"),
        ("RTSP", "rtsp:///live", "no host"),
        ("RTSP", "rtsp://cam:99999/live", "port"),
        ("HTTP", "rtsp://10.0.0.5/live", "must start with http://"),
        ("USB", "webcam", "device index"),
        ("USB", "/dev/sda", "device index"),
        ("Socket", "10.0.0.5", "needs a port"),
        ("Socket", "http://10.0.0.5:9000", "tcp://host:port"),
        ("Local File", "/no/such/video.mp4", "ARGUS_CAMERA_FILES_ROOT"),
        ("RTSP", "   ", "required"),
        ("Carrier pigeon", "rtsp://cam/live", "unknown stream type"),
    ],
)
def test_validate_rejects_a_url_that_does_not_fit_with_a_clear_message(stream_type, url, message):
    with pytest.raises(ValueError, match=message):
        validate_stream_url(stream_type, url)
