"""Network probe and verified, atomic downloads.

Both functions are looked up through this module at call time, so tests replace them with
``monkeypatch.setattr(helpers.data._download, "network_available", ...)`` and never touch the
network.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import urllib.request
from pathlib import Path

from ._base import md5_of

#: Seconds the network probe waits before calling the network unreachable.
PROBE_TIMEOUT_S = 3.0
#: Seconds a download may stall before it is abandoned.
DOWNLOAD_TIMEOUT_S = 60.0


class DownloadError(RuntimeError):
    """A download failed or its checksum did not match; nothing was written."""


def network_available(host: str, port: int = 443, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Return True if a TCP connection to ``host:port`` opens within ``timeout`` seconds.

    Name resolution has no timeout of its own, so the probe runs in a daemon thread and gives
    up after ``timeout`` seconds whatever it is waiting on.
    """
    outcome: list[bool] = []

    def probe() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                outcome.append(True)
        except OSError:
            outcome.append(False)

    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout)
    return bool(outcome and outcome[0])


def fetch_url(url: str, destination: Path, md5: str | None) -> Path:
    """Download ``url`` to ``destination``; verify ``md5``; land it with one atomic rename.

    The file is written to a temporary folder beside ``destination`` (torchvision's
    ``download_url`` where torchvision is installed, else urllib), its MD5 is checked, and only
    then is it renamed into place, so a reader never sees a partial or unverified file.

    Raises
    ------
    DownloadError
        If the download fails or the checksum differs; ``destination`` is left untouched.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".download-", dir=destination.parent) as folder:
        temporary = Path(folder) / destination.name
        try:
            _retrieve(url, temporary, md5)
        except DownloadError:
            raise
        except Exception as error:  # network, HTTP and disk errors alike
            raise DownloadError(f"downloading {url} failed: {error}") from error
        if md5 is not None:
            actual = md5_of(temporary)
            if actual != md5:
                raise DownloadError(
                    f"{url} downloaded with md5 {actual}, expected {md5}; the file was discarded."
                )
        os.replace(temporary, destination)
    return destination


def _retrieve(url: str, target: Path, md5: str | None) -> None:
    """Write ``url`` to ``target`` with torchvision's downloader, or urllib without it."""
    try:
        from torchvision.datasets.utils import download_url
    except ImportError:
        download_url = None
    if download_url is not None:
        try:
            download_url(url, str(target.parent), filename=target.name, md5=md5)
        except RuntimeError as error:  # torchvision's "File not found or corrupted."
            raise DownloadError(
                f"{url}: {error} (md5 check failed or download incomplete)"
            ) from error
        return
    request = urllib.request.Request(url, headers={"User-Agent": "infoprec-helpers"})
    with urllib.request.urlopen(request, timeout=DOWNLOAD_TIMEOUT_S) as response:
        with open(target, "wb") as handle:
            shutil.copyfileobj(response, handle, length=1 << 20)
