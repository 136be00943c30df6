"""The DAML demonstration video: episodes, video files and ROS 2 logs written to disk by
the project's own writers load as the same frames, every unusable input is refused in one
line naming the file and the problem, and clips are sampled as training and test need."""
from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from episodes import Episode, write_episode
from meta_policy.video import BLACK_MAX, VideoError, load_video, sample_clip
from sim.video import write_mp4

STEPS, WIDTH, HEIGHT, FPS = 12, 32, 24, 20.0
SIZE = (WIDTH, HEIGHT)


def make_frames(steps: int = STEPS, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
    """Smooth colour gradients with a bright square moving across: distinct frames that a
    lossy codec keeps close to the original."""
    y, x = np.mgrid[0:height, 0:width]
    base = np.stack([x * 255 // width, y * 255 // height, np.full_like(x, 90)], axis=-1)
    frames = np.repeat(base[None], steps, axis=0).astype(np.uint8)
    for t in range(steps):
        left = t * (width - 8) // max(steps - 1, 1)
        frames[t, 8:16, left:left + 8] = (250, 250, 40)
    return frames


def make_episode(path: Path, frames: np.ndarray, demonstrator: str = "human") -> Path:
    steps = len(frames)
    actions = None if demonstrator == "human" else np.zeros((steps, 2), np.float32)
    return write_episode(path, Episode(
        frames=frames, state=np.zeros((steps, 0), np.float32), actions=actions,
        timestamps=np.arange(steps) / FPS, task={"family": "test"},
        demonstrator=demonstrator, fps=FPS))


def write_grey_video(path: Path, frames: np.ndarray) -> Path:
    """A lossless grey-level (no colour) video, as a monochrome camera records."""
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("ffv1", rate=Fraction(int(FPS)))
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], "gray"
        for frame in frames:
            image = av.VideoFrame.from_ndarray(frame[..., 0], format="gray")
            container.mux(stream.encode(image))
        container.mux(stream.encode())
    return path


@pytest.mark.parametrize("demonstrator", ["human", "robot"])
def test_episode_loads_bit_exact(tmp_path, demonstrator):
    frames = make_frames()
    video = load_video(make_episode(tmp_path / "ep", frames, demonstrator), SIZE)
    assert video.frames.dtype == np.uint8 and not isinstance(video.frames, np.memmap)
    np.testing.assert_array_equal(video.frames, frames)
    assert video.fps == pytest.approx(FPS)
    assert video.source == str(tmp_path / "ep")


def test_mp4_loads_close_to_what_was_written(tmp_path):
    frames = make_frames()
    video = load_video(write_mp4(tmp_path / "demo.mp4", list(frames), FPS), SIZE)
    assert video.frames.shape == frames.shape and video.frames.dtype == np.uint8
    assert np.abs(video.frames.astype(int) - frames).mean() < 10  # H.264 is lossy
    assert video.fps == pytest.approx(FPS)


def test_ros_log_from_oneshot_export_loads_bit_exact(tmp_path):
    pytest.importorskip("rclpy")  # ROS 2 logs need the optional ros extras
    from adaptation_node.export import export_episode

    frames = make_frames()
    bag = export_episode(make_episode(tmp_path / "ep", frames), tmp_path / "bag")
    for log in (bag, next(bag.glob("*.mcap"))):  # the rosbag2 folder and its MCAP file
        video = load_video(log, SIZE)
        np.testing.assert_array_equal(video.frames, frames)
        assert video.fps == pytest.approx(FPS)



def write_db3(folder: Path, images: list[tuple[int, int, np.ndarray, str]]) -> Path:
    """A rosbag2 SQLite3 bag as ``ros2 bag record`` writes one, through the rosbags
    library: (receive ns, header stamp ns, pixels, encoding) per /image_raw message, and a
    /joint_states topic; returns its .db3 file."""
    from rosbags.rosbag2 import StoragePlugin, Writer
    from rosbags.typesys import Stores, get_typestore

    store = get_typestore(Stores.ROS2_KILTED)
    Image, Time = store.types["sensor_msgs/msg/Image"], store.types["builtin_interfaces/msg/Time"]
    Header = store.types["std_msgs/msg/Header"]
    with Writer(folder, version=9, storage_plugin=StoragePlugin.SQLITE3) as writer:
        topic = writer.add_connection("/image_raw", Image.__msgtype__, typestore=store)
        writer.add_connection("/joint_states", "sensor_msgs/msg/JointState", typestore=store)
        for received, stamp, pixels, encoding in images:
            header = Header(stamp=Time(sec=stamp // 10**9, nanosec=stamp % 10**9), frame_id="cam")
            message = Image(header=header, height=pixels.shape[0], width=pixels.shape[1],
                            encoding=encoding, is_bigendian=0,
                            step=pixels.shape[1] * (pixels.shape[2] if pixels.ndim == 3 else 1),
                            data=pixels.reshape(-1))
            writer.write(topic, received, store.serialize_cdr(message, Image.__msgtype__))
    return next(folder.glob("*.db3"))


def test_db3_frames_come_in_the_order_they_were_taken(tmp_path):
    """Frames received out of order (a camera driver's queue) are put back in the order
    of their header stamps, which also give the rate."""
    pytest.importorskip("rclpy")
    frames = make_frames()
    received = np.random.default_rng(1).permutation(STEPS)
    images = [(10**9 + 1000 * int(r), int(t * 10**9 / FPS), frames[t], "rgb8")
              for t, r in enumerate(received)]
    video = load_video(write_db3(tmp_path / "bag", images), SIZE)
    np.testing.assert_array_equal(video.frames, frames)
    assert video.fps == pytest.approx(FPS)


def garbage_mp4(tmp_path: Path) -> Path:
    path = tmp_path / "garbage.mp4"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes())
    return path


def truncated_mp4(tmp_path: Path) -> Path:
    path = write_mp4(tmp_path / "cut.mp4", list(make_frames()), FPS)
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    return path


def plain_folder(tmp_path: Path) -> Path:
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "notes.txt").write_text("not a video")
    return tmp_path / "photos"


REFUSALS = {
    "missing": (lambda tmp: tmp / "nowhere.mp4", ["no such file"]),
    "garbage mp4": (garbage_mp4, ["not a readable video"]),
    "truncated mp4": (truncated_mp4, ["not a readable video"]),
    "folder": (plain_folder, ["neither an episode", "nor a rosbag2 folder"]),
    "too short": (lambda tmp: make_episode(tmp / "short", make_frames(4)),
                  ["too short: 4 frames, at least 10 needed"]),
    "wrong size": (lambda tmp: make_episode(tmp / "big", make_frames(width=64, height=48)),
                   ["frames are 64x48", "expects 32x24"]),
    "all black": (lambda tmp: make_episode(
        tmp / "dark", np.full((STEPS, HEIGHT, WIDTH, 3), BLACK_MAX, np.uint8)), ["all black"]),
    "grey": (lambda tmp: write_grey_video(tmp / "grey.mkv", make_frames()), ["not RGB"]),
    "mono8 log": (lambda tmp: write_db3(tmp / "mono", [
        (i, i, frame[..., 0], "mono8") for i, frame in enumerate(make_frames())]),
        ["not a usable RGB image", "mono8"]),
    "log without frames": (lambda tmp: write_db3(tmp / "empty", []), ["no frames"]),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_unusable_inputs_are_refused_naming_file_and_problem(tmp_path, case):
    make, words = REFUSALS[case]
    if "log" in case:
        pytest.importorskip("rclpy")  # ROS 2 logs need the optional ros extras
    path = make(tmp_path)
    with pytest.raises(VideoError) as caught:
        load_video(path, SIZE, min_frames=10)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message
    for word in words:
        assert word in message


def test_one_bright_pixel_is_not_all_black(tmp_path):
    frames = np.zeros((STEPS, HEIGHT, WIDTH, 3), np.uint8)
    frames[-1, 0, 0, 1] = BLACK_MAX + 1
    assert load_video(make_episode(tmp_path / "dim", frames), SIZE).frames.max() == BLACK_MAX + 1



def test_videos_load_without_the_ros_extras(tmp_path):
    """Only ROS 2 logs need rclpy (an optional extra): loading an episode imports none of it."""
    path = make_episode(tmp_path / "ep", make_frames())
    code = ("import sys; from meta_policy.video import load_video; "
            f"load_video({str(path)!r}, {SIZE}); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('rclpy', 'adaptation_node', 'sensor_msgs')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"

def test_clip_without_rng_is_evenly_spaced_from_first_to_last():
    frames = np.arange(10)
    np.testing.assert_array_equal(sample_clip(frames, 4, None), [0, 3, 6, 9])
    np.testing.assert_array_equal(sample_clip(frames, 4, None), sample_clip(frames, 4, None))
    np.testing.assert_array_equal(sample_clip(frames, 1, None), [0])
    assert len(sample_clip(frames, 25, None)) == 25


def test_clip_with_rng_is_sorted_random_without_replacement():
    frames = make_frames(steps=60)
    clip = sample_clip(frames, 40, np.random.default_rng(3))
    assert clip.shape == (40, HEIGHT, WIDTH, 3)
    indices = sample_clip(np.arange(60), 40, np.random.default_rng(3))
    assert np.all(np.diff(indices) > 0)  # time order, no frame twice
    np.testing.assert_array_equal(clip, frames[indices])
    other = sample_clip(np.arange(60), 40, np.random.default_rng(4))
    assert not np.array_equal(indices, other)


def test_clip_of_a_short_video_repeats_frames_in_order():
    indices = sample_clip(np.arange(5), 40, np.random.default_rng(0))
    assert len(indices) == 40 and np.all(np.diff(indices) >= 0)
    assert set(indices) <= set(range(5)) and len(set(indices)) < 40


def test_clip_needs_frames_and_a_positive_length():
    with pytest.raises(ValueError):
        sample_clip(np.arange(0), 4, None)
    with pytest.raises(ValueError):
        sample_clip(np.arange(5), 0, None)
