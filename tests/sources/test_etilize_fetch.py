"""Getting the Etilize feed: opening a CSV or a zip of one safely, and downloading it from a real
FTP server (pyftpdlib, on a loopback port) that drops connections, refuses logins and changes
the file under the download."""

import hashlib
import io
import logging
import random
import socket
import struct
import threading
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.servers import FTPServer

from cowans.config import Settings
from cowans.sources import etilize_columns, etilize_fetch
from cowans.sources.csv_batches import HandOver
from cowans.sources.etilize import read_etilize
from cowans.sources.etilize_fetch import (
    FTP_BACKOFF_BASE_SECONDS,
    FtpFeedSource,
    FtpRetry,
    download_feed,
    open_feed_file,
)
from cowans.sources.feedgen import generate_feeds
from cowans.sources.records import EtilizeProduct, SourceError, SourceErrorCode

SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "samples" / "etilize_sample.csv"
SAMPLE_PRODUCTS = 6
USER = "cowans"
PASSWORD = "s3cret-Ftp-Pa55word"
REMOTE_NAME = "CowanOfficeSupplies.zip"


def zip_of(path: Path, members: dict[str, bytes], level: int | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def product_count(path: Path) -> int:
    with open_feed_file(path) as stream:
        return sum(isinstance(record, EtilizeProduct) for record in read_etilize(stream))


# Opening ---------------------------------------------------------------------------------------


def test_a_plain_csv_is_read_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "upload.bin"  # the content decides, not the name
    path.write_bytes(SAMPLE.read_bytes())
    assert product_count(path) == SAMPLE_PRODUCTS


def test_a_zip_of_one_csv_reads_like_the_csv(tmp_path: Path) -> None:
    path = zip_of(tmp_path / "feed.zip", {"CowanOfficeSupplies.csv": SAMPLE.read_bytes()})
    assert product_count(path) == SAMPLE_PRODUCTS


def test_folders_and_macos_forks_beside_the_csv_are_ignored(tmp_path: Path) -> None:
    members = {
        "export/": b"",
        "export/feed.csv": SAMPLE.read_bytes(),
        "__MACOSX/export/._feed.csv": b"\x00\x05\x16\x07 fork",
    }
    assert product_count(zip_of(tmp_path / "feed.zip", members)) == SAMPLE_PRODUCTS


def test_a_realistic_feed_is_within_the_compression_limit(tmp_path: Path) -> None:
    etilize, xorosoft = io.BytesIO(), io.BytesIO()
    generated = generate_feeds(2_000, seed=5, etilize_out=etilize, xorosoft_out=xorosoft)
    path = zip_of(tmp_path / "feed.zip", {"feed.csv": etilize.getvalue()}, level=9)
    expected = generated.products - generated.expected.get("row_error", 0)
    assert product_count(path) == expected


def zipped_feed_and_its_records(tmp_path: Path) -> tuple[Path, list[object]]:
    """A zipped generated feed, and the records its plain CSV gives."""
    etilize_csv, xorosoft = io.BytesIO(), io.BytesIO()
    generate_feeds(1_500, seed=7, etilize_out=etilize_csv, xorosoft_out=xorosoft)
    plain = tmp_path / "feed.csv"
    plain.write_bytes(etilize_csv.getvalue())
    with open_feed_file(plain) as stream:
        expected: list[object] = list(read_etilize(stream))
    return zip_of(tmp_path / "feed.zip", {"feed.csv": etilize_csv.getvalue()}), expected


def test_a_zipped_feed_is_read_by_the_column_reader_as_the_csv_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, expected = zipped_feed_and_its_records(tmp_path)
    batches: list[object] = []
    read_columns = etilize_columns.read_columns

    def counted(*args: object, **kwargs: object) -> Iterator[object]:
        for record in read_columns(*args, **kwargs):  # type: ignore[arg-type]
            batches.append(record)
            yield record

    monkeypatch.setattr(etilize_columns, "read_columns", counted)
    with open_feed_file(path) as stream:
        assert stream.seekable()
        got = list(read_etilize(stream))
    assert got == expected
    assert len(batches) == len(expected)  # every record came from the column reader


def test_a_zipped_feed_handed_over_to_the_careful_reader_reads_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, expected = zipped_feed_and_its_records(tmp_path)
    read_columns = etilize_columns.read_columns

    def handing_over(*args: object, **kwargs: object) -> Iterator[object]:
        for number, record in enumerate(read_columns(*args, **kwargs)):  # type: ignore[arg-type]
            if number == 700:
                raise HandOver("test")
            yield record

    monkeypatch.setattr(etilize_columns, "read_columns", handing_over)
    with open_feed_file(path) as stream:
        got = list(read_etilize(stream))
    assert got == expected


@pytest.mark.parametrize(
    ("members", "says"),
    [
        ({"a.csv": b"x", "b.csv": b"y"}, "exactly one CSV"),
        ({"feed.csv": b"x", "readme.txt": b"y"}, "exactly one CSV"),
        ({"feed.txt": b"x"}, "exactly one CSV"),
        ({}, "exactly one CSV"),
        ({"../feed.csv": b"x"}, "unsafe name"),
        ({"export/../../feed.csv": b"x"}, "unsafe name"),
        ({"/etc/feed.csv": b"x"}, "unsafe name"),
        ({"..\\feed.csv": b"x"}, "unsafe name"),
        ({"C:feed.csv": b"x"}, "unsafe name"),
        ({"feed.zip": b"PK\x03\x04"}, "another archive"),
        ({"feed.csv.gz": b"\x1f\x8b"}, "another archive"),
        ({f"folder{n}/": b"" for n in range(17)} | {"feed.csv": b"x"}, "18 entries"),
    ],
)
def test_an_unsafe_zip_is_refused(tmp_path: Path, members: dict[str, bytes], says: str) -> None:
    path = zip_of(tmp_path / "feed.zip", members)
    with pytest.raises(SourceError, match=says) as refused, open_feed_file(path):
        pytest.fail("opened")
    assert refused.value.code is SourceErrorCode.UNSAFE_ARCHIVE


def test_a_zip_bomb_is_refused_before_it_is_decompressed(tmp_path: Path) -> None:
    path = zip_of(tmp_path / "bomb.zip", {"feed.csv": b"," * (20 << 20)}, level=9)
    assert path.stat().st_size < 100_000
    with pytest.raises(SourceError, match="zip bomb") as refused, open_feed_file(path):
        pytest.fail("opened")
    assert refused.value.code is SourceErrorCode.UNSAFE_ARCHIVE


def test_a_csv_declaring_more_than_the_limit_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(etilize_fetch, "MAX_FEED_BYTES", 1_000)
    path = zip_of(tmp_path / "feed.zip", {"feed.csv": SAMPLE.read_bytes()})
    with pytest.raises(SourceError, match="more than 1,000") as refused, open_feed_file(path):
        pytest.fail("opened")
    assert refused.value.code is SourceErrorCode.UNSAFE_ARCHIVE


def understated(path: Path) -> None:
    """Make the only member of a stored zip declare fewer bytes than it holds."""
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 22, 100)  # the local header's uncompressed size
    central = data.rfind(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 100)  # and the central directory's
    path.write_bytes(data)


def corrupted(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[200:260] = bytes(60)  # inside the deflated data
    path.write_bytes(data)


@pytest.mark.parametrize(
    ("damage", "compression"),
    [(understated, zipfile.ZIP_STORED), (corrupted, zipfile.ZIP_DEFLATED)],
)
def test_a_zip_whose_data_does_not_match_its_declaration_is_refused(
    tmp_path: Path, damage: Callable[[Path], None], compression: int
) -> None:
    path = tmp_path / "feed.zip"
    with zipfile.ZipFile(path, "w", compression) as archive:
        archive.writestr("feed.csv", SAMPLE.read_bytes())
    damage(path)
    got: list[object] = []
    with (
        pytest.raises(SourceError, match="cannot be read") as refused,
        open_feed_file(path) as stream,
    ):
        got.extend(read_etilize(stream))
    assert got == []
    assert refused.value.code is SourceErrorCode.NOT_A_FEED


def test_a_png_is_not_a_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    with pytest.raises(SourceError) as refused, open_feed_file(path) as stream:
        read_etilize(stream)
    assert refused.value.code is SourceErrorCode.NOT_A_FEED


# Downloading -----------------------------------------------------------------------------------


@dataclass
class FtpServerRecord:
    """What the test server saw, for the tests to check."""

    port: int = 0
    rest_offsets: list[int] = field(default_factory=list)


def dropping_dtp_handler(after_bytes: int, times: int) -> type[DTPHandler]:
    """A data channel that closes after `after_bytes` of a transfer, the first `times` times,
    as a flaky link does; the server then answers 426."""

    class DroppingDTPHandler(DTPHandler):
        drops_left = times

        def send(self, data: bytes) -> int:
            cls = DroppingDTPHandler
            if cls.drops_left and self.tot_bytes_sent + len(data) >= after_bytes:
                cls.drops_left -= 1
                sent = int(super().send(data[: after_bytes - self.tot_bytes_sent]))
                self.handle_close()
                return sent
            return int(super().send(data))

    return DroppingDTPHandler


@contextmanager
def running_ftp_server(
    root: Path, dtp_handler: type[DTPHandler] = DTPHandler
) -> Iterator[FtpServerRecord]:
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(root), perm="elr")
    record = FtpServerRecord()

    class Handler(FTPHandler):
        def ftp_REST(self, line: str) -> None:  # noqa: N802 - pyftpdlib's name for REST
            record.rest_offsets.append(int(line))
            super().ftp_REST(line)

    Handler.authorizer = authorizer
    Handler.dtp_handler = dtp_handler
    Handler.use_sendfile = False  # so the dropping handler sees every byte
    Handler.auth_failed_timeout = 0  # answer a wrong password at once
    server = FTPServer(("127.0.0.1", 0), Handler)
    record.port = server.address[1]
    stop = threading.Event()
    thread = threading.Thread(target=serve_until, args=(server, stop), daemon=True)
    thread.start()
    try:
        yield record
    finally:
        stop.set()
        thread.join(timeout=10)


def serve_until(server: FTPServer, stop: threading.Event) -> None:
    while not stop.is_set():
        server.ioloop.loop(timeout=0.01, blocking=False)
    server.close_all()


@pytest.fixture
def ftp_root(tmp_path: Path) -> Path:
    root = tmp_path / "ftp"
    root.mkdir()
    return root


def settings_for(tmp_path: Path, port: int, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "var",
        "etilize_ftp_host": "127.0.0.1",
        "etilize_ftp_port": port,
        "etilize_ftp_user": USER,
        "etilize_ftp_password": PASSWORD,
        "etilize_ftp_path": f"/{REMOTE_NAME}",
        "etilize_ftp_timeout_seconds": 5,
    }
    return Settings(_env_file=None, **(values | overrides))  # type: ignore[arg-type]


def random_bytes(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


def left_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def test_the_feed_is_downloaded_and_named_by_its_hash(tmp_path: Path, ftp_root: Path) -> None:
    zip_of(ftp_root / REMOTE_NAME, {"feed.csv": SAMPLE.read_bytes()})
    content = (ftp_root / REMOTE_NAME).read_bytes()
    with running_ftp_server(ftp_root) as server:
        downloaded = download_feed(settings_for(tmp_path, server.port))
    sha256 = hashlib.sha256(content).hexdigest()
    assert downloaded == (tmp_path / "var" / "etilize" / f"{sha256}.zip", sha256)
    assert downloaded.path.read_bytes() == content
    assert left_in(downloaded.path.parent) == [f"{sha256}.zip"]
    assert product_count(downloaded.path) == SAMPLE_PRODUCTS


def test_a_dropped_transfer_is_resumed_where_it_stopped(
    tmp_path: Path, ftp_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    content = random_bytes(1_000_000)
    (ftp_root / REMOTE_NAME).write_bytes(content)
    waits: list[float] = []
    with (
        caplog.at_level(logging.INFO),
        running_ftp_server(ftp_root, dropping_dtp_handler(300_000, times=1)) as server,
    ):
        downloaded = download_feed(
            settings_for(tmp_path, server.port), FtpRetry(sleep=waits.append)
        )
    assert downloaded.path.read_bytes() == content
    assert downloaded.sha256 == hashlib.sha256(content).hexdigest()
    assert server.rest_offsets == [300_000]
    assert waits == [FTP_BACKOFF_BASE_SECONDS]
    assert "attempt 2 of 6" in caplog.text
    assert PASSWORD not in caplog.text


def test_a_transfer_that_keeps_dropping_fails_after_a_bounded_number_of_attempts(
    tmp_path: Path, ftp_root: Path
) -> None:
    (ftp_root / REMOTE_NAME).write_bytes(random_bytes(1_000_000))
    waits: list[float] = []
    retry = FtpRetry(max_attempts=3, base_seconds=0.5, sleep=waits.append)
    with (
        running_ftp_server(ftp_root, dropping_dtp_handler(300_000, times=99)) as server,
        pytest.raises(SourceError, match="failed 3 times") as failed,
    ):
        download_feed(settings_for(tmp_path, server.port), retry)
    assert failed.value.code is SourceErrorCode.TRANSFER_FAILED
    assert server.rest_offsets == [300_000, 600_000]  # each attempt got further
    assert waits == [0.5, 1.0]
    assert left_in(tmp_path / "var" / "etilize") == []  # no partial file is left behind


def test_a_file_replaced_during_the_download_is_fetched_again_from_the_start(
    tmp_path: Path, ftp_root: Path
) -> None:
    remote = ftp_root / REMOTE_NAME
    remote.write_bytes(random_bytes(1_000_000, seed=1))
    replacement = random_bytes(900_000, seed=2)

    def new_feed_arrives(_seconds: float) -> None:
        remote.write_bytes(replacement)

    with running_ftp_server(ftp_root, dropping_dtp_handler(300_000, times=1)) as server:
        downloaded = download_feed(
            settings_for(tmp_path, server.port), FtpRetry(sleep=new_feed_arrives)
        )
    assert downloaded.path.read_bytes() == replacement
    assert server.rest_offsets == []  # not resumed: the first 300,000 bytes were another file


def test_wrong_credentials_fail_at_once_without_the_password(
    tmp_path: Path, ftp_root: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (ftp_root / REMOTE_NAME).write_bytes(b"feed")
    waits: list[float] = []
    wrong = "not-the-" + PASSWORD
    with (
        caplog.at_level(logging.DEBUG),
        running_ftp_server(ftp_root) as server,
        pytest.raises(SourceError, match=f"refused the login of user '{USER}'") as refused,
    ):
        download_feed(
            settings_for(tmp_path, server.port, etilize_ftp_password=wrong),
            FtpRetry(sleep=waits.append),
        )
    assert refused.value.code is SourceErrorCode.AUTH_FAILED
    assert wrong not in str(refused.value)
    assert wrong not in caplog.text
    assert waits == []


def test_a_missing_file_is_not_retried(tmp_path: Path, ftp_root: Path) -> None:
    waits: list[float] = []
    with (
        running_ftp_server(ftp_root) as server,
        pytest.raises(SourceError, match="was refused") as refused,
    ):
        download_feed(settings_for(tmp_path, server.port), FtpRetry(sleep=waits.append))
    assert refused.value.code is SourceErrorCode.TRANSFER_FAILED
    assert waits == []


def test_an_unreachable_server_is_retried_with_backoff_then_given_up(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    waits: list[float] = []
    retry = FtpRetry(max_attempts=4, base_seconds=1.0, max_seconds=3.0, sleep=waits.append)
    with pytest.raises(SourceError, match="ConnectionRefusedError") as failed:
        download_feed(settings_for(tmp_path, closed_port), retry)
    assert failed.value.code is SourceErrorCode.TRANSFER_FAILED
    assert waits == [1.0, 2.0, 3.0]
    assert PASSWORD not in str(failed.value)


def test_ftps_is_never_downgraded_to_plain_ftp(tmp_path: Path, ftp_root: Path) -> None:
    (ftp_root / REMOTE_NAME).write_bytes(b"feed")
    waits: list[float] = []
    with (
        running_ftp_server(ftp_root) as server,  # a server that offers no TLS
        pytest.raises(SourceError, match="AUTH") as refused,
    ):
        download_feed(
            settings_for(tmp_path, server.port, etilize_ftp_tls=True),
            FtpRetry(sleep=waits.append),
        )
    assert refused.value.code is SourceErrorCode.TRANSFER_FAILED
    assert waits == []
    assert not (tmp_path / "var" / "etilize" / REMOTE_NAME).exists()


def test_the_source_comes_from_the_settings_and_never_shows_its_password(tmp_path: Path) -> None:
    source = FtpFeedSource.from_settings(settings_for(tmp_path, 2121, etilize_ftp_tls=True))
    assert (source.host, source.port, source.user, source.path, source.tls) == (
        "127.0.0.1",
        2121,
        USER,
        f"/{REMOTE_NAME}",
        True,
    )
    assert source.password.get_secret_value() == PASSWORD
    assert PASSWORD not in repr(source)
    assert PASSWORD not in source.address


def test_downloading_without_a_host_says_which_setting_is_missing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="ETILIZE_FTP_HOST"):
        download_feed(settings_for(tmp_path, 21, etilize_ftp_host=""))


def test_the_ftp_settings_have_the_documented_defaults() -> None:
    settings = Settings(_env_file=None)
    assert (settings.etilize_ftp_path, settings.etilize_ftp_port, settings.etilize_ftp_tls) == (
        "/CowanOfficeSupplies.zip",
        21,
        False,
    )
    assert settings.etilize_ftp_password.get_secret_value() == ""
