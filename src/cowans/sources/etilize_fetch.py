"""Getting the Etilize feed file: downloading it by FTP or FTPS, and opening a CSV or a zip of one.

What the download promises its callers:
- a broken transfer is resumed where it stopped (REST), and connection failures are retried
  with exponential backoff a bounded number of times, then `SourceError(TRANSFER_FAILED)`;
- a refused login is `SourceError(AUTH_FAILED)` at once, and a missing file is not retried:
  trying again cannot help;
- the file kept has exactly the size the server announced (SIZE), and if the server's file
  changes between attempts (another SIZE or MDTM) the download starts over rather than splice
  two feeds together;
- the result is named by its SHA-256, which is returned so the caller can skip a feed it has
  already imported;
- the password is never logged nor put in an exception message.

What opening promises: the caller reads a plain binary CSV stream either way, and a zip that
could hurt (several files, unsafe names, nested archives, a zip bomb, more entries than a feed
ever has) is refused with `SourceError(UNSAFE_ARCHIVE)` before a byte of it is decompressed.
Nothing is extracted to disk: the CSV is decompressed as it is read, and never past the size it
declared.
"""

import contextlib
import ftplib
import hashlib
import io
import logging
import os
import re
import ssl
import struct
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO, NamedTuple

from pydantic import SecretStr

from cowans.config import Settings
from cowans.sources.records import SourceError, SourceErrorCode

logger = logging.getLogger(__name__)

# The uncompressed CSV. The real feed is some hundred MB; ten times that is still a feed.
MAX_FEED_BYTES = 1 << 30
# A CSV of mostly empty columns compresses well (generated feeds: about 11 to 1), but not this
# well; a zip bomb reaches 1000 to 1.
MAX_COMPRESSION_RATIO = 200
# Opening a zip reads its whole central directory into memory, so its entry count is read from
# the end record and bounded first. A feed zip holds one CSV, maybe a folder or a macOS fork.
MAX_ARCHIVE_ENTRIES = 16
# The download itself, checked against the server's SIZE before the transfer starts.
MAX_DOWNLOAD_BYTES = MAX_FEED_BYTES
FTP_MAX_ATTEMPTS = 6
FTP_BACKOFF_BASE_SECONDS = 1.0
FTP_BACKOFF_MAX_SECONDS = 30.0
FTP_BLOCK_BYTES = 64 << 10
DOWNLOAD_FOLDER = "etilize"

NESTED_ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar", ".tar")
# Written by macOS's "Compress": resource forks beside the real file, never part of the feed.
IGNORED_ARCHIVE_FOLDERS = ("__MACOSX/",)
END_OF_CENTRAL_DIRECTORY = b"PK\x05\x06"
END_RECORD_BYTES = 22
MAX_ZIP_COMMENT_BYTES = 0xFFFF
ENCRYPTED_FLAG = 0x1
FTP_LOGIN_REFUSED = "530"


# Opening -----------------------------------------------------------------------------------------


@contextlib.contextmanager
def open_feed_file(path: Path) -> Iterator[BinaryIO]:
    """The feed CSV inside `path`, which holds either the CSV itself or a zip of it.

    The file's content decides, not its name: uploads arrive with any name.
    """
    if not zipfile.is_zipfile(path):
        with path.open("rb") as stream:
            yield stream
        return
    _check_entry_count(path)
    with _open_archive(path) as archive:
        member = _the_csv_member(archive)
        with _open_member(archive, member) as raw:
            yield io.BufferedReader(_CappedMember(raw, member.file_size))


def _unsafe(reason: str) -> SourceError:
    return SourceError(SourceErrorCode.UNSAFE_ARCHIVE, f"The feed zip is refused: {reason}")


def _damaged(error: Exception) -> SourceError:
    return SourceError(SourceErrorCode.NOT_A_FEED, f"The feed zip cannot be read: {error}")


def _check_entry_count(path: Path) -> None:
    """Refuse a zip with more entries than a feed has, before zipfile loads them all."""
    with path.open("rb") as archive:
        archive.seek(0, os.SEEK_END)
        tail_size = min(archive.tell(), END_RECORD_BYTES + MAX_ZIP_COMMENT_BYTES)
        archive.seek(-tail_size, os.SEEK_END)
        tail = archive.read(tail_size)
    start = tail.rfind(END_OF_CENTRAL_DIRECTORY)
    if start < 0 or start + END_RECORD_BYTES > len(tail):
        return  # zipfile will say what is wrong with it
    (entries,) = struct.unpack_from("<H", tail, start + 10)
    if entries > MAX_ARCHIVE_ENTRIES:
        raise _unsafe(f"it holds {entries:,} entries; a feed zip holds one CSV")


def _open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _damaged(error) from None


def _the_csv_member(archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    entries = archive.infolist()
    for entry in entries:
        _check_name(entry.filename)
    files = [
        entry
        for entry in entries
        if not entry.is_dir() and not entry.filename.startswith(IGNORED_ARCHIVE_FOLDERS)
    ]
    nested = [entry.filename for entry in files if _is_archive_name(entry.filename)]
    if nested:
        raise _unsafe(f"it holds another archive ({nested[0]!r})")
    if len(files) != 1 or not files[0].filename.lower().endswith(".csv"):
        names = ", ".join(repr(entry.filename) for entry in files[:5]) or "nothing"
        raise _unsafe(f"it must hold exactly one CSV file, and holds {names}")
    _check_size(files[0])
    return files[0]


def _check_name(name: str) -> None:
    """Refuse names that climb out of a folder: nothing is extracted, but they mark a hostile
    archive, and whoever unpacks it by hand would be hurt."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or ".." in parts or re.match(r"[A-Za-z]:", name):
        raise _unsafe(f"it holds the unsafe name {name!r}")


def _is_archive_name(name: str) -> bool:
    return name.lower().endswith(NESTED_ARCHIVE_SUFFIXES)


def _check_size(member: zipfile.ZipInfo) -> None:
    if member.flag_bits & ENCRYPTED_FLAG:
        raise _unsafe(f"{member.filename!r} is encrypted")
    if member.file_size > MAX_FEED_BYTES:
        raise _unsafe(
            f"{member.filename!r} declares {member.file_size:,} bytes, more than {MAX_FEED_BYTES:,}"
        )
    ratio = member.file_size / max(member.compress_size, 1)
    if ratio > MAX_COMPRESSION_RATIO:
        raise _unsafe(
            f"{member.filename!r} is compressed {ratio:,.0f} to 1, more than "
            f"{MAX_COMPRESSION_RATIO} to 1 (a zip bomb)"
        )


def _open_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> IO[bytes]:
    try:
        return archive.open(member)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as error:
        raise _damaged(error) from None


class _CappedMember(io.RawIOBase):
    """The CSV inside the zip, decompressed as it is read and never past the size it declared:
    the declaration was checked against the limits, so the data is held to it too.

    It seeks as zipfile's member does (going back decompresses again from the start), so that
    `read_etilize` reads it with the column reader, and goes back to its start only to hand a
    file over to the careful reader. The cap is on the position read to, not on the bytes read
    in all: reading the file again is not reading more of it.
    """

    def __init__(self, member: IO[bytes], declared_size: int) -> None:
        super().__init__()
        self._member = member
        self._limit = min(declared_size, MAX_FEED_BYTES)
        self._produced = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return self._member.seekable()

    def tell(self) -> int:
        return self._produced

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            self._produced = self._member.seek(offset, whence)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise _damaged(error) from None
        return self._produced

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        try:
            data = self._member.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as error:
            raise _damaged(error) from None
        self._produced += len(data)
        if self._produced > self._limit:
            raise _unsafe(f"the CSV inside is larger than the {self._limit:,} bytes it declared")
        buffer[: len(data)] = data
        return len(data)


# Downloading -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FtpFeedSource:
    """Where Etilize puts the feed, and how to log in there."""

    host: str
    user: str
    password: SecretStr = field(repr=False)
    path: str = "/CowanOfficeSupplies.zip"
    port: int = 21
    tls: bool = False
    timeout_seconds: float = 60.0

    @classmethod
    def from_settings(cls, settings: Settings) -> "FtpFeedSource":
        if not settings.etilize_ftp_host:
            raise SourceError(
                SourceErrorCode.TRANSFER_FAILED,
                "ETILIZE_FTP_HOST is not set, so the Etilize feed cannot be downloaded",
            )
        return cls(
            host=settings.etilize_ftp_host,
            user=settings.etilize_ftp_user,
            password=settings.etilize_ftp_password,
            path=settings.etilize_ftp_path,
            port=settings.etilize_ftp_port,
            tls=settings.etilize_ftp_tls,
            timeout_seconds=settings.etilize_ftp_timeout_seconds,
        )

    @property
    def address(self) -> str:
        """The source as messages name it: never with the password."""
        scheme = "ftps" if self.tls else "ftp"
        return f"{scheme}://{self.user}@{self.host}:{self.port}{self.path}"


@dataclass
class FtpRetry:
    """How often a download is tried. Every attempt counts, even one that got further, so a
    server that drips bytes cannot keep the import waiting; `sleep` is there for tests."""

    max_attempts: int = FTP_MAX_ATTEMPTS
    base_seconds: float = FTP_BACKOFF_BASE_SECONDS
    max_seconds: float = FTP_BACKOFF_MAX_SECONDS
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Doubling from the base: one client, so no jitter is needed to spread a crowd."""
        return min(self.max_seconds, self.base_seconds * 2 ** (attempt - 1))


class DownloadedFeed(NamedTuple):
    path: Path
    sha256: str


def download_feed(settings: Settings, retry: FtpRetry | None = None) -> DownloadedFeed:
    """Download the feed the ETILIZE_FTP_* settings name into DATA_DIR/etilize, named by its
    SHA-256, and return its path and hash."""
    source = FtpFeedSource.from_settings(settings)
    folder = settings.data_dir / DOWNLOAD_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, prefix="download-", suffix=".part")
    os.close(handle)
    partial = Path(name)
    try:
        _Transfer(source, partial).run(retry or FtpRetry())
        downloaded = _keep(partial, folder, source.path)
    finally:
        partial.unlink(missing_ok=True)
    logger.info("downloaded %s: %s", source.address, downloaded.path.name)
    return downloaded


def _keep(partial: Path, folder: Path, remote_path: str) -> DownloadedFeed:
    with partial.open("rb") as downloaded:
        sha256 = hashlib.file_digest(downloaded, "sha256").hexdigest()
    suffix = PurePosixPath(remote_path).suffix.lower()
    final = folder / (sha256 + (suffix if suffix in (".zip", ".csv") else ""))
    partial.replace(final)
    return DownloadedFeed(final, sha256)


class _Retry(Exception):
    """A failure that another attempt may get past; its message is safe to log."""


class _RemoteFile(NamedTuple):
    size: int
    modified: str  # the MDTM answer, or "" from a server without MDTM


@dataclass
class _Transfer:
    """One download across its attempts: the partial file and what the server said it holds."""

    source: FtpFeedSource
    partial: Path
    remote: _RemoteFile | None = None

    def run(self, retry: FtpRetry) -> None:
        for attempt in range(1, retry.max_attempts + 1):
            try:
                self.attempt()
                return
            except _Retry as failure:
                if attempt == retry.max_attempts:
                    raise SourceError(
                        SourceErrorCode.TRANSFER_FAILED,
                        f"Downloading {self.source.address} failed {attempt} times; the last "
                        f"time: {failure}",
                    ) from None
                wait = retry.delay(attempt)
                logger.warning(
                    "downloading %s failed (%s); attempt %d of %d in %.1fs",
                    self.source.address,
                    failure,
                    attempt + 1,
                    retry.max_attempts,
                    wait,
                )
                retry.sleep(wait)

    def attempt(self) -> None:
        try:
            with _connected(self.source) as ftp:
                remote = _remote_file(ftp, self.source)
                if remote != self.remote:
                    self._start_over(remote)
                self._retrieve(ftp, remote.size)
        except ftplib.error_perm as error:
            raise _refusal(self.source, error) from None
        except ssl.SSLCertVerificationError as error:
            raise SourceError(
                SourceErrorCode.TRANSFER_FAILED,
                f"The certificate of {self.source.host} cannot be trusted: {error.verify_message}",
            ) from None
        except (ftplib.Error, OSError, EOFError) as error:
            raise _Retry(_scrubbed(f"{type(error).__name__}: {error}", self.source)) from None

    def _start_over(self, remote: _RemoteFile) -> None:
        if self.remote is not None:
            logger.warning("%s changed during the download; starting over", self.source.address)
        self.partial.write_bytes(b"")
        self.remote = remote

    def _retrieve(self, ftp: ftplib.FTP, size: int) -> None:
        offset = self.partial.stat().st_size
        if offset < size:
            with self.partial.open("ab") as out:
                ftp.retrbinary(
                    f"RETR {self.source.path}",
                    _SizedWriter(out, size - offset).write,
                    blocksize=FTP_BLOCK_BYTES,
                    rest=offset or None,
                )
        received = self.partial.stat().st_size
        if received != size:
            raise _Retry(f"the transfer ended after {received:,} of {size:,} bytes")


class _SizedWriter:
    """Writes what the server sends, and stops it at the size it announced."""

    def __init__(self, out: IO[bytes], expected: int) -> None:
        self._out = out
        self._left = expected

    def write(self, block: bytes) -> None:
        if len(block) > self._left:
            self._out.truncate(0)  # the file grew since SIZE: what we have may be from another
            raise _Retry("the server sent more bytes than its SIZE announced")
        self._out.write(block)
        self._left -= len(block)


@contextlib.contextmanager
def _connected(source: FtpFeedSource) -> Iterator[ftplib.FTP]:
    ftp = _client(source)
    try:
        ftp.connect(source.host, source.port)
        _login(ftp, source)
        yield ftp
        _quit(ftp)
    finally:
        ftp.close()


def _client(source: FtpFeedSource) -> ftplib.FTP:
    if source.tls:
        # FTP_TLS's own default context does not check the certificate; this one does.
        context = ssl.create_default_context()
        return ftplib.FTP_TLS(context=context, timeout=source.timeout_seconds)  # noqa: S321
    # Plain FTP is how Etilize delivers; ETILIZE_FTP_TLS switches to FTPS where it is offered.
    return ftplib.FTP(timeout=source.timeout_seconds)  # noqa: S321


def _login(ftp: ftplib.FTP, source: FtpFeedSource) -> None:
    try:
        ftp.login(source.user, source.password.get_secret_value())
    except ftplib.error_perm as error:
        if str(error).startswith(FTP_LOGIN_REFUSED):
            raise SourceError(
                SourceErrorCode.AUTH_FAILED,
                f"{source.host} refused the login of user {source.user!r}: "
                f"{_scrubbed(str(error), source)}",
            ) from None
        raise
    if isinstance(ftp, ftplib.FTP_TLS):
        ftp.prot_p()


def _quit(ftp: ftplib.FTP) -> None:
    """Say goodbye politely; the file is already safe, so a server gone by now does not matter."""
    with contextlib.suppress(ftplib.Error, OSError, EOFError):
        ftp.quit()


def _remote_file(ftp: ftplib.FTP, source: FtpFeedSource) -> _RemoteFile:
    ftp.voidcmd("TYPE I")  # SIZE counts bytes only in binary mode
    size = ftp.size(source.path)
    if size is None:
        raise _Retry("the server did not answer SIZE")
    if size > MAX_DOWNLOAD_BYTES:
        raise SourceError(
            SourceErrorCode.TRANSFER_FAILED,
            f"{source.address} is {size:,} bytes, more than a feed's {MAX_DOWNLOAD_BYTES:,}",
        )
    try:
        modified = ftp.sendcmd(f"MDTM {source.path}")
    except ftplib.error_perm:
        modified = ""
    return _RemoteFile(size, modified)


def _refusal(source: FtpFeedSource, error: ftplib.error_perm) -> SourceError:
    """A permanent refusal (5xx) other than the login's: asking again would get the same."""
    return SourceError(
        SourceErrorCode.TRANSFER_FAILED,
        f"Downloading {source.address} was refused: {_scrubbed(str(error), source)}",
    )


def _scrubbed(text: str, source: FtpFeedSource) -> str:
    """`text` without the password, should a server ever echo it back."""
    password = source.password.get_secret_value()
    return text.replace(password, "********") if password else text
