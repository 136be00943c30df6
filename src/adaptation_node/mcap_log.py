"""ROS 2 logs in MCAP (rosbag2's storage format, readable by ``ros2 bag`` and Foxglove).

The writer puts every message in the file as it arrives (no chunking, a flush per
message): a recorder killed mid-demo leaves every message it had received, and the
reader reads such a partial file up to the cut. Messages are CDR-serialised by rclpy, to
their exact length (:func:`cdr_bytes`); each channel's schema is the ``ros2msg``
definition text with its dependencies appended, as rosbag2 writes it. What the
demonstration was (task, demonstrator, robot) goes in an MCAP metadata record named
``oneshot``, so a log converts to a training episode alone.
"""
from __future__ import annotations

import importlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Collection

from builtin_interfaces.msg import Time
from mcap.exceptions import McapError
from mcap.records import Channel, Message, Metadata, Schema
from mcap.stream_reader import StreamReader
from mcap.writer import Writer
from rclpy.serialization import deserialize_message, serialize_message
from rosidl_parser.definition import (
    AbstractNestedType,
    AbstractString,
    Array,
    BasicType,
    NamespacedType,
)

SEPARATOR = "=" * 80
CDR_SIZES = {"boolean": 1, "octet": 1, "char": 1, "int8": 1, "uint8": 1, "int16": 2,
             "uint16": 2, "int32": 4, "uint32": 4, "float": 4, "int64": 8, "uint64": 8,
             "double": 8}
PRIMITIVES = {"bool", "byte", "char", "float32", "float64", "int8", "uint8", "int16",
              "uint16", "int32", "uint32", "int64", "uint64", "string", "wstring"}


class McapLogError(ValueError):
    """A log that cannot be written or read; the message names the file."""


def _share_dirs() -> list[Path]:
    prefixes = [p for p in os.environ.get("AMENT_PREFIX_PATH", "").split(os.pathsep) if p]
    return [Path(p) / "share" for p in prefixes] + [Path(sys.prefix) / "share"]


def _msg_file(type_name: str) -> Path:
    package, _, name = type_name.replace("/msg/", "/").partition("/")
    for share in _share_dirs():
        candidate = share / package / "msg" / f"{name}.msg"
        if candidate.is_file():
            return candidate
    raise McapLogError(f"no definition file for message type {type_name}")


def _dependencies(text: str, package: str) -> list[str]:
    """Message types named by the fields of a definition (``pkg/Type``)."""
    found = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or "=" in line.split()[0]:
            continue
        field_type = re.sub(r"\[.*\]$", "", line.split()[0])
        field_type = re.sub(r"<=\d+$", "", field_type)
        if field_type in PRIMITIVES:
            continue
        if field_type == "Header":
            field_type = "std_msgs/Header"
        found.append(field_type if "/" in field_type else f"{package}/{field_type}")
    return found


def message_definition(type_name: str) -> str:
    """The ``ros2msg`` schema text of ``pkg/msg/Type``: its .msg file, then each nested
    type's file once, after a separator line and ``MSG: pkg/Type``."""
    root = _msg_file(type_name).read_text()
    parts, seen = [root], set()
    queue = _dependencies(root, type_name.split("/")[0])
    while queue:
        dependency = queue.pop(0)
        if dependency in seen:
            continue
        seen.add(dependency)
        text = _msg_file(dependency).read_text()
        parts.append(f"{SEPARATOR}\nMSG: {dependency}\n{text}")
        queue.extend(_dependencies(text, dependency.split("/")[0]))
    return "\n".join(parts)


def message_class(type_name: str) -> type:
    """The Python class of ``pkg/msg/Type``."""
    package, _, name = type_name.replace("/msg/", "/").partition("/")
    try:
        return getattr(importlib.import_module(f"{package}.msg"), name)
    except (ImportError, AttributeError):
        raise McapLogError(f"message type {type_name} is not installed") from None


def ros_time(ns: int) -> Time:
    """The ``builtin_interfaces/Time`` of a time in nanoseconds."""
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)


def type_name_of(message: Any) -> str:
    """``pkg/msg/Type`` of a message instance."""
    module = type(message).__module__.split(".")
    return f"{module[0]}/msg/{type(message).__name__}"


def cdr_bytes(message: Any) -> bytes:
    """The CDR serialisation of ``message``, exactly as long as its data.

    rclpy's ``serialize_message`` (rmw_fastrtps's ``rmw_serialize``) returns as many bytes
    as it estimated, which after an empty sequence of 8-byte values (a JointState without
    efforts) is more than it wrote; strict readers such as rosbags refuse the extra bytes.
    A DDS sample, what ``ros2 bag record`` stores, has the exact length, computed here."""
    return serialize_message(message)[:4 + _cdr_end(message, 0)]  # 4: encapsulation header


def _cdr_end(message: Any, offset: int) -> int:
    """Where the fields of ``message`` end in a CDR (XCDR1) stream when it starts at
    ``offset``, counted after the encapsulation header."""
    for kind, name in zip(type(message).SLOT_TYPES, message.get_fields_and_field_types()):
        offset = _field_end(kind, getattr(message, name), offset)
    return offset


def _aligned(offset: int, size: int) -> int:
    return offset + (-offset % size)


def _field_end(kind: Any, value: Any, offset: int) -> int:
    if isinstance(kind, BasicType) and kind.typename in CDR_SIZES:
        size = CDR_SIZES[kind.typename]
        return _aligned(offset, size) + size
    if isinstance(kind, AbstractString):  # length, UTF-8 bytes, NUL
        return _aligned(offset, 4) + 4 + len(value.encode()) + 1
    if isinstance(kind, NamespacedType):
        return _cdr_end(value, offset)
    if isinstance(kind, AbstractNestedType):
        if not isinstance(kind, Array):  # a sequence starts with its length
            offset = _aligned(offset, 4) + 4
        element = kind.value_type
        if isinstance(element, BasicType) and element.typename in CDR_SIZES:
            size = CDR_SIZES[element.typename]  # aligned only if there are elements
            return _aligned(offset, size) + size * len(value) if len(value) else offset
        for item in value:
            offset = _field_end(element, item, offset)
        return offset
    raise McapLogError(f"cannot log a field of type {kind}")


METADATA = "oneshot"


class McapLog:
    """Append ROS messages to an MCAP file as they come; ``close()`` writes the index.
    ``metadata`` (JSON values) describes the recording."""

    def __init__(self, path: Path, metadata: dict[str, Any] | None = None) -> None:
        self.path = Path(path)
        self.stream: BinaryIO = self.path.open("wb")
        self.writer = Writer(self.stream, use_chunking=False)
        self.writer.start(profile="ros2", library="oneshot")
        if metadata:
            self.writer.add_metadata(METADATA, {k: json.dumps(v) for k, v in metadata.items()})
            self.stream.flush()
        self.channels: dict[str, int] = {}
        self.schemas: dict[str, int] = {}
        self.sequence = 0

    def write(self, topic: str, message: Any, time_ns: int) -> None:
        channel = self.channels.get(topic)
        if channel is None:
            channel = self._add_channel(topic, type_name_of(message))
        self.writer.add_message(channel, log_time=time_ns, publish_time=time_ns,
                                data=cdr_bytes(message), sequence=self.sequence)
        self.sequence += 1
        self.stream.flush()

    def _add_channel(self, topic: str, type_name: str) -> int:
        if type_name not in self.schemas:
            self.schemas[type_name] = self.writer.register_schema(
                name=type_name, encoding="ros2msg",
                data=message_definition(type_name).encode())
        self.channels[topic] = self.writer.register_channel(
            topic=topic, message_encoding="cdr", schema_id=self.schemas[type_name])
        return self.channels[topic]

    def close(self) -> None:
        self.writer.finish()
        self.stream.close()


@dataclass
class LoggedMessage:
    topic: str
    time_ns: int
    message: Any


@dataclass
class Log:
    messages: list[LoggedMessage]    # deserialised, in file order
    metadata: dict[str, Any]         # the recording's description (JSON values)
    truncated: bool                  # cut short (a recorder killed mid-demo): read to the cut


def read_log(path: Path, topics: Collection[str] | None = None) -> Log:
    """Every message (or only those on ``topics``, named without a leading slash) and the
    metadata of an MCAP log, up to the cut of a partial file. Messages on other topics are
    not deserialised, so their types need not be installed here."""
    path = Path(path)
    schemas: dict[int, Schema] = {}
    channels: dict[int, Channel] = {}
    log = Log([], {}, False)
    try:
        with path.open("rb") as stream:
            for record in StreamReader(stream).records:
                if isinstance(record, Schema):
                    schemas[record.id] = record
                elif isinstance(record, Channel):
                    channels[record.id] = record
                elif isinstance(record, Message) and _wanted(record, channels, topics):
                    log.messages.append(_decoded(record, channels, schemas))
                elif isinstance(record, Metadata) and record.name == METADATA:
                    log.metadata = {k: json.loads(v) for k, v in record.metadata.items()}
    except (McapError, EOFError, ValueError) as error:
        if not log.messages and not channels:
            raise McapLogError(f"{path}: not a readable MCAP log ({error})") from None
        log.truncated = True
    except OSError as error:
        raise McapLogError(f"{path}: {error}") from None
    return log


def _wanted(record: Message, channels: dict[int, Channel],
            topics: Collection[str] | None) -> bool:
    return topics is None or channels[record.channel_id].topic.lstrip("/") in topics


def _decoded(record: Message, channels: dict[int, Channel],
             schemas: dict[int, Schema]) -> LoggedMessage:
    channel = channels[record.channel_id]
    message_type = message_class(schemas[channel.schema_id].name)
    return LoggedMessage(channel.topic, record.log_time,
                         deserialize_message(record.data, message_type))
