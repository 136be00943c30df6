"""Middleware settings every process of the graph shares: the Fast DDS profile in
``fastdds.xml`` (camera frames through a large shared-memory segment, UDP to other hosts).

``configure()`` puts them in this process's environment unless the user set them, and
must run before ``rclpy.init``; child processes inherit them. ``ENV`` is the same for
launching processes with an explicit environment. ``remove_stale_segments()`` frees the
shared memory that killed nodes left in ``/dev/shm``.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path

PROFILE = Path(__file__).with_name("fastdds.xml")
ENV = {"FASTDDS_DEFAULT_PROFILES_FILE": str(PROFILE)}


def configure() -> None:
    for name, value in ENV.items():
        os.environ.setdefault(name, value)


SHM_DIR = Path("/dev/shm")


def _unlocked(lock_file: Path) -> bool:
    """True when no process holds ``lock_file``: Fast DDS keeps an exclusive ``flock`` on a
    segment's ``<name>_el`` file for as long as the segment's owner lives."""
    try:
        fd = os.open(lock_file, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(fd)
    return True


def stale_segments(directory: Path = SHM_DIR) -> list[Path]:
    """Fast DDS shared-memory files whose owner is gone: the segment, its lock file and, for
    a port, its named semaphore. A node killed rather than shut down leaves them behind;
    each node's segment is 16 MiB of memory (``fastdds.xml``)."""
    stale = []
    for lock_file in sorted(directory.glob("fastdds_*_el")):
        if _unlocked(lock_file):
            name = lock_file.name.removesuffix("_el")
            stale += [p for p in (directory / name, lock_file, directory / f"sem.{name}_mutex")
                      if p.exists()]
    return stale


def remove_stale_segments(directory: Path = SHM_DIR) -> int:
    """Delete what ``stale_segments`` finds; returns the bytes freed. Segments of live
    participants are left alone (their lock is held)."""
    freed = 0
    for path in stale_segments(directory):
        try:
            freed += path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            pass
    return freed
