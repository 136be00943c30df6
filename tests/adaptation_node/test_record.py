"""``oneshot record``: a camera (here a RealSense recording or a lossless video) straight
into a human episode, with no ROS graph; a missing camera or no frames writes nothing."""
from __future__ import annotations

import re
import subprocess
import sys
import time

import numpy as np
import pytest

from adaptation_node import record as record_module
from adaptation_node.camera_sources import DEFAULT_FOVY_DEG, FrameSource
from episodes import read_episode
from oneshot.cli import main as oneshot
from realsense_recording import (
    COUNT,
    FOVY_DEG,
    FPS,
    HEIGHT,
    WIDTH,
    make_frames,
    record_realsense,
    write_video,
)

TIMEOUT = 60.0  # a fresh Python process takes 10 s and more on a loaded machine
NAME = re.compile(r"record-\d{8}-\d{6}")


def run_oneshot(*args: str) -> subprocess.CompletedProcess:
    """``oneshot ARGS`` in its own process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "oneshot.cli", *args], capture_output=True,
                          text=True, timeout=TIMEOUT)


def only_episode(out):
    """The one episode ``oneshot record`` wrote into ``out``, checked to be a human video."""
    [path] = list(out.iterdir())
    assert NAME.fullmatch(path.name), path.name
    episode = read_episode(path)
    assert episode.demonstrator == "human" and episode.actions is None
    assert episode.state.shape == (episode.length, 0) and episode.state.dtype == np.float32
    assert episode.timestamps[0] == 0.0 and np.all(np.diff(episode.timestamps) > 0)
    return path, episode


def test_a_realsense_recording_becomes_a_human_episode(tmp_path):
    """In a process of its own, as a user runs it: it ends cleanly with pyrealsense2 loaded."""
    frames = make_frames()
    take = record_realsense(tmp_path / "take.db3", frames)
    out = tmp_path / "demos"
    done = run_oneshot("record", "--camera", str(take), "--seconds", "20", "--out", str(out),
                       "--task", '{"family": "reach", "colour": "red"}')
    assert done.returncode == 0, done.stderr
    path, episode = only_episode(out)
    assert f"recorded {episode.length} frames to {path}" in done.stdout
    # Real-time playback may drop a frame on a busy machine, but what it gives is bit-exact,
    # in order, stamped with the recording's own times from the first frame's.
    index = {frame.tobytes(): number for number, frame in enumerate(frames)}
    numbers = [index[frame.tobytes()] for frame in np.asarray(episode.frames)]
    assert len(numbers) >= COUNT // 2 and numbers == sorted(set(numbers)), numbers
    np.testing.assert_allclose(episode.timestamps, (np.array(numbers) - numbers[0]) / FPS,
                               atol=1e-6)
    assert episode.task == {"family": "reach", "colour": "red"}
    camera = episode.meta["camera"]
    assert (camera["name"], camera["width"], camera["height"]) == (str(take), WIDTH, HEIGHT)
    assert camera["fovy_deg"] == pytest.approx(FOVY_DEG, abs=1e-3)


def test_a_lossless_video_becomes_a_bit_exact_episode(tmp_path, capsys):
    frames = make_frames()
    clip = write_video(tmp_path / "clip.avi", frames)
    out = tmp_path / "demos"
    assert oneshot(["record", "--camera", str(clip), "--out", str(out)]) == 0
    path, episode = only_episode(out)
    assert f"recorded {COUNT} frames to {path}" in capsys.readouterr().out
    np.testing.assert_array_equal(episode.frames, np.stack(frames))
    np.testing.assert_allclose(episode.timestamps, np.arange(COUNT) / FPS, atol=1e-6)
    assert episode.fps == pytest.approx(FPS)
    assert episode.task == {}
    assert episode.meta["camera"] == {"name": str(clip), "width": WIDTH, "height": HEIGHT,
                                      "fovy_deg": DEFAULT_FOVY_DEG}


def test_seconds_limits_the_length(tmp_path):
    """0.45 s of a 1 s video: the frames stamped 0 to 13/30 s."""
    frames = make_frames(FPS)
    clip = write_video(tmp_path / "second.avi", frames)
    out = tmp_path / "demos"
    assert oneshot(["record", "--camera", str(clip), "--seconds", "0.45",
                    "--out", str(out)]) == 0
    _, episode = only_episode(out)
    np.testing.assert_array_equal(episode.frames, np.stack(frames[:14]))


def test_a_missing_camera_exits_2_in_one_line_and_writes_nothing(tmp_path):
    out = tmp_path / "demos"
    done = run_oneshot("record", "--camera", str(tmp_path / "none.db3"), "--out", str(out))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"oneshot record: error: RealSense playback {tmp_path / 'none.db3'}: no such file"]
    assert not out.exists()


class SilentSource(FrameSource):
    """A camera that opens but never gives a frame."""

    def open(self) -> None:
        pass

    def read(self) -> None:
        return None

    def close(self) -> None:
        pass


def test_no_frames_is_an_error_and_writes_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(record_module, "make_source", lambda spec, loop: SilentSource())
    out = tmp_path / "demos"
    start = time.monotonic()
    assert oneshot(["record", "--camera", "usb:0", "--seconds", "0.3", "--out", str(out)]) == 2
    assert time.monotonic() - start < 0.3 + 5.0, "a silent camera is given up after --seconds"
    assert "no frames from camera 'usb:0' in 0.3 s" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("args, message", [
    (["--camera", "usb:front"], "usb needs a device number"),
    (["--camera", "usb:0", "--seconds", "0"], "--seconds must be positive"),
    (["--camera", "usb:0", "--task", "[1]"], "--task must be a JSON object"),
])
def test_bad_arguments_exit_2(tmp_path, capsys, args, message):
    assert oneshot(["record", *args, "--out", str(tmp_path / "demos")]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "demos").exists()

