"""Read a demonstration from any of the ROS 2 logs it arrives in, as one :class:`Log`.

- an MCAP file: the demo recorder's, ``oneshot export``'s or ``ros2 bag record -s mcap``'s;
- a rosbag2 folder: ``metadata.yaml`` naming its ``.mcap`` or SQLite3 ``.db3`` files;
- a rosbag2 SQLite3 ``.db3`` file on its own;
- a RealSense recording (``.db3``) written by librealsense's recorder (pyrealsense2's
  ``rs.recorder``): its colour stream becomes ``image_raw`` frames of a human
  demonstration, stamped with the camera's frame timestamps (those pyrealsense2 gives on
  playback, and ``oneshot record`` keeps).

Files are told apart by their first bytes, not their names. Only the messages on the
topics asked for are deserialised, so a log of ``ros2 bag record -a`` whose other types
are not installed here still reads. The SQLite files are read directly (not played
back), so every frame is read exactly once, at any speed. A file that is no log, or is
damaged, raises :class:`RosbagError` naming it and the problem.
"""
from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection

import numpy as np
import yaml
from rclpy.serialization import deserialize_message
from sensor_msgs.msg import CompressedImage, Image

from adaptation_node.mcap_log import (
    Log,
    LoggedMessage,
    McapLogError,
    message_class,
    read_log,
    ros_time,
)
from adaptation_node.messages import MessageError, frame_from_msg, image_msg

MCAP_MAGIC = b"\x89MCAP0\r\n"
SQLITE_MAGIC = b"SQLite format 3\x00"
BAG_METADATA = "metadata.yaml"
STORAGES = {"mcap": MCAP_MAGIC, "sqlite3": SQLITE_MAGIC}
# librealsense's layout: /device_D/sensor_S/<Stream>_I/image/data[/compressed], and per
# frame a std_msgs/String on .../image/metadata holding "key=value;" pairs
REALSENSE_MARK = "/file_version"
REALSENSE_COLOUR = re.compile(r"^(/device_\d+/sensor_\d+/Color_\d+)/image/data(/compressed)?$")
# how each compressed encoding's pixels come out of OpenCV's decoder, as RGB
DECODED_TO_RGB = {"bgr8": (2, 1, 0), "rgb8": (0, 1, 2)}


class RosbagError(McapLogError):
    """A rosbag2 folder or SQLite3 file that cannot be read; the message names it."""


def read_ros_log(path: Path, topics: Collection[str]) -> Log:
    """The messages on ``topics`` (named without a leading slash) of the log at ``path``,
    in the order they were received, and the log's ``oneshot`` metadata if it has one."""
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, topics)
    if not path.is_file():
        raise RosbagError(f"{path}: no such file or folder")
    head = _head(path)
    if head.startswith(MCAP_MAGIC):
        return read_log(path, topics)
    if head == SQLITE_MAGIC:
        return read_db3(path, topics)
    raise RosbagError(f"{path}: not a ROS 2 log: neither MCAP nor SQLite3 (.db3), and not "
                      "a rosbag2 folder")


def _head(file: Path) -> bytes:
    """The first bytes of a file, enough to tell its format by."""
    with file.open("rb") as stream:
        return stream.read(len(SQLITE_MAGIC))


def _read_folder(path: Path, topics: Collection[str]) -> Log:
    """A rosbag2 folder: each file ``metadata.yaml`` lists, in order, as one log."""
    info = _bag_info(path)
    storage = info["storage_identifier"]
    log = Log([], {}, False)
    for name in info["relative_file_paths"]:
        file = path / Path(name).name
        if not file.is_file():
            raise RosbagError(f"{path}: {BAG_METADATA} lists {name}, which is missing")
        if not _head(file).startswith(STORAGES[storage]):
            raise RosbagError(f"{file}: not a {storage} file, as {path / BAG_METADATA} says")
        part = read_db3(file, topics) if storage == "sqlite3" else read_log(file, topics)
        log.messages.extend(part.messages)
        log.metadata = log.metadata or part.metadata
        log.truncated = log.truncated or part.truncated
    return log


def _bag_info(path: Path) -> dict:
    """The ``rosbag2_bagfile_information`` of a folder's metadata.yaml, checked to name
    files of a storage read here, uncompressed."""
    meta = path / BAG_METADATA
    if not meta.is_file():
        raise RosbagError(f"{path}: a folder without {BAG_METADATA}, so no rosbag2 folder "
                          "(if its recording was cut short, `ros2 bag reindex` rebuilds it; "
                          "or pass one of its .mcap/.db3 files)")
    try:
        info = yaml.safe_load(meta.read_text())["rosbag2_bagfile_information"]
        storage, files = info["storage_identifier"], info["relative_file_paths"]
    except (yaml.YAMLError, OSError, KeyError, TypeError) as error:
        raise RosbagError(f"{meta}: not rosbag2 metadata ({error!r})") from None
    if storage not in STORAGES:
        raise RosbagError(f"{meta}: storage {storage!r} is not read here ({sorted(STORAGES)})")
    if info.get("compression_mode", "").lower() not in ("", "none"):
        raise RosbagError(f"{meta}: compressed bags are not read here; decompress it first "
                          "(`ros2 bag convert`)")
    if not isinstance(files, list) or not files:
        raise RosbagError(f"{meta}: relative_file_paths lists no files")
    return info


@dataclass(frozen=True)
class Topic:
    """A row of a rosbag2 SQLite3 file's ``topics`` table."""

    id: int
    name: str
    type: str
    encoding: str


def read_db3(path: Path, topics: Collection[str]) -> Log:
    """A rosbag2 SQLite3 file, or a RealSense recording (which has a /file_version topic)."""
    try:
        with closing(sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)) as db:
            found = {row[1]: Topic(*row) for row in db.execute(
                "SELECT id, name, type, serialization_format FROM topics")}
            if REALSENSE_MARK in found:
                return _realsense_log(path, db, found)
            wanted = [topic for name, topic in found.items() if name.lstrip("/") in topics]
            return Log(_messages(path, db, wanted), {}, False)
    except sqlite3.DatabaseError as error:
        raise RosbagError(f"{path}: damaged, cut short or no rosbag2 SQLite3 file "
                          f"({error})") from None


def _messages(path: Path, db: sqlite3.Connection, topics: list[Topic]) -> list[LoggedMessage]:
    """The deserialised messages on ``topics``, by receive time as ``ros2 bag play``
    orders them."""
    by_id = {topic.id: topic for topic in topics}
    for topic in topics:
        if topic.encoding != "cdr":
            raise RosbagError(f"{path}: topic {topic.name} is serialised as "
                              f"{topic.encoding!r}, not cdr")
    classes = {topic.id: message_class(topic.type) for topic in topics}
    rows = db.execute(f"SELECT topic_id, timestamp, data FROM messages WHERE topic_id IN "
                      f"({','.join('?' * len(by_id))}) ORDER BY timestamp, id", tuple(by_id))
    return [LoggedMessage(by_id[topic_id].name, received,
                          _deserialized(path, by_id[topic_id], received, data, classes[topic_id]))
            for topic_id, received, data in rows]


def _deserialized(path: Path, topic: Topic, received: int, data: bytes, cls: type) -> Any:
    try:
        return deserialize_message(data, cls)
    except RuntimeError as error:  # rclpy's RMWError: the bytes are no such message
        raise RosbagError(f"{path}: the {topic.name} message received at {received} ns is "
                          f"damaged ({error})") from None


def _realsense_log(path: Path, db: sqlite3.Connection, topics: dict[str, Topic]) -> Log:
    """The colour stream of a RealSense recording as ``image_raw`` messages of a human
    demonstration, each stamped with its frame timestamp (the time pyrealsense2 gives the
    frame on playback). A frame whose metadata was not written (a recording cut short) is
    left out, and the log marked truncated."""
    colour = sorted(name for name in topics if REALSENSE_COLOUR.match(name))
    if not colour:
        raise RosbagError(f"{path}: a RealSense recording without a colour stream")
    stream = REALSENSE_COLOUR.match(colour[0]).group(1)
    frame_times = _frame_times(path, db, topics.get(f"{stream}/image/metadata"))
    images = _messages(path, db, [topics[colour[0]]])
    messages = [LoggedMessage("image_raw", image.time_ns,
                              image_msg(_rgb(path, image.message),
                                        ros_time(frame_times[image.time_ns]),
                                        image.message.header.frame_id))
                for image in images if image.time_ns in frame_times]
    return Log(messages, {"demonstrator": "human", "task": {}}, len(messages) < len(images))


def _frame_times(path: Path, db: sqlite3.Connection, topic: Topic | None) -> dict[int, int]:
    """Receive time -> frame timestamp (ns) of each frame, from its metadata record."""
    if topic is None:
        raise RosbagError(f"{path}: the colour stream has no frame metadata topic")
    times = {}
    for metadata in _messages(path, db, [topic]):
        fields = dict(item.split("=", 1) for item in metadata.message.data.split(";")
                      if "=" in item)
        if "timestamp" not in fields:
            raise RosbagError(f"{path}: frame metadata without a timestamp: "
                              f"{metadata.message.data[:80]!r}")
        times[metadata.time_ns] = round(float(fields["timestamp"]) * 1e6)  # ms -> ns
    return times


def _rgb(path: Path, message: Image | CompressedImage) -> np.ndarray:
    """The RGB pixels of a RealSense colour frame, raw or compressed."""
    try:
        if isinstance(message, Image):
            return frame_from_msg(message)
        return _decompressed(message)
    except MessageError as error:
        raise RosbagError(f"{path}: colour frame stamped {message.header.stamp.sec}."
                          f"{message.header.stamp.nanosec:09d}: {error}") from None


def _decompressed(message: CompressedImage) -> np.ndarray:
    """Decode a CompressedImage whose format reads ``ENC; CODEC compressed DECODED``
    (compressed_image_transport's convention, which librealsense follows)."""
    import cv2  # only RealSense recordings need it

    decoded_encoding = message.format.rsplit(" ", 1)[-1]
    if "compressed" not in message.format or decoded_encoding not in DECODED_TO_RGB:
        raise MessageError(f"compressed image format {message.format!r} is not supported "
                           f"(compressed {' or '.join(DECODED_TO_RGB)})")
    pixels = cv2.imdecode(np.frombuffer(bytes(message.data), np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] != 3:
        raise MessageError(f"compressed image ({message.format}) does not decode to 8-bit "
                           "colour pixels")
    return np.ascontiguousarray(pixels[..., list(DECODED_TO_RGB[decoded_encoding])])
