"""Aligning recorded frames, joint states and commands into episode steps."""

import numpy as np
import pytest

from adaptation_node.demo_align import AlignmentError, Streams, align
from adaptation_node.robots import joint_state


def frame(value: int) -> np.ndarray:
    return np.full((2, 3, 3), value, np.uint8)


def streams(frame_times, joint_stamps, command_times, latency: int = 0) -> Streams:
    """Frames taken ``latency`` ns before they arrive; joint i has position i."""
    return Streams(
        list(frame_times), [t - latency for t in frame_times],
        [frame(i) for i in range(len(frame_times))],
        list(joint_stamps), [(np.array([float(i)]), np.array([0.0])) for i in range(len(joint_stamps))],
        list(command_times), [np.array([float(t)]) for t in command_times])


def test_each_frame_takes_the_command_that_followed_it_and_idle_frames_are_trimmed():
    # frames every 10 ns; idle at 0 and 10, commands after frames 20..50, idle at 60
    recorded = streams([0, 10, 20, 30, 40, 50, 60], [0, 10, 20, 30, 40, 50, 60],
                       [25, 35, 44, 46, 55])
    aligned = align(recorded, joint_state)
    assert [f[0, 0, 0] for f in aligned.frames] == [2, 3, 4, 5]
    np.testing.assert_array_equal(aligned.actions[:, 0], [25, 35, 46, 55])  # last before next
    np.testing.assert_array_equal(aligned.state[:, 0], [2, 3, 4, 5])       # joints at the frame
    np.testing.assert_allclose(aligned.timestamps, [0.0, 1e-8, 2e-8, 3e-8])


def test_joint_states_are_matched_by_stamp_not_by_arrival():
    # frame 1 was taken at 9 and arrived at 10, before the joint state stamped 9 arrived
    recorded = streams([0, 10, 20], [-1, 9, 19], [5, 15, 25], latency=1)
    aligned = align(recorded, joint_state)
    np.testing.assert_array_equal(aligned.state[:, 0], [0, 1, 2])


def test_a_lost_command_is_held_from_the_step_before():
    recorded = streams([0, 10, 20, 30], [0, 10, 20, 30], [5, 25, 35])
    aligned = align(recorded, joint_state)
    np.testing.assert_array_equal(aligned.actions[:, 0], [5, 5, 25, 35])


def test_a_recording_without_commands_keeps_every_frame_and_has_no_actions():
    aligned = align(streams([0, 10, 20], [0, 10, 20], []), joint_state)
    assert aligned.actions is None and len(aligned.frames) == 3


def test_a_camera_alone_gives_every_frame_with_a_zero_width_state():
    aligned = align(streams([0, 10, 20], [], []), joint_state)
    assert aligned.state.shape == (3, 0) and aligned.actions is None


def test_frames_taken_before_the_first_joint_state_are_dropped():
    aligned = align(streams([0, 10, 20], [15], []), joint_state)
    assert [f[0, 0, 0] for f in aligned.frames] == [2]


@pytest.mark.parametrize("recorded, message", [
    (streams([], [0], []), "no camera frames"),
    (streams([0], [5], []), "no frame was taken after a joint state"),
    (streams([0], [], [1]), "commands but no joint states"),
    (streams([10, 20], [0], [5]), "no command followed"),
])
def test_recordings_that_make_no_episode_say_what_is_missing(recorded, message):
    with pytest.raises(AlignmentError, match=message):
        align(recorded, joint_state)


def test_twist_commands_become_the_actions_of_a_twist_robot():
    from builtin_interfaces.msg import Time

    from adaptation_node.episode_builder import EpisodeBuilder
    from adaptation_node.messages import image_msg, joint_state_msg, twist_msg
    from adaptation_node.robots import profile

    robot = profile("sawyer_servo")
    builder = EpisodeBuilder(robot)
    for step in range(3):
        stamp = Time(sec=step)
        builder.add("image_raw", image_msg(frame(step), stamp), step * 10**9)
        builder.add("joint_states", joint_state_msg(robot.joint_names, [0.0] * 7, [0.0] * 7,
                                                    stamp), step * 10**9)
        builder.add("cmd/ee_twist", twist_msg(np.full(6, step / 10), stamp, "base"),
                    step * 10**9 + 5)
    np.testing.assert_allclose(align(builder.streams, robot.state).actions,
                               [[0.0] * 6, [0.1] * 6, [0.2] * 6])


def test_a_persons_video_keeps_the_frames_since_the_camera_last_changed(tmp_path):
    """The push twin switches image_raw to the camera facing the person when a human
    demonstration starts: robot-camera frames recorded before that are left out."""
    from builtin_interfaces.msg import Time

    from adaptation_node.episode_builder import EpisodeBuilder
    from adaptation_node.messages import image_msg
    from adaptation_node.robots import profile
    from episodes import read_episode

    builder = EpisodeBuilder(profile("push"))
    cameras = ["front", "front", "human_view", "human_view", "human_view"]
    for step, camera in enumerate(cameras):
        builder.add("image_raw", image_msg(frame(step), Time(sec=step), camera), step * 10**9)
    path, length = builder.write(tmp_path / "human", {"family": "push"}, "human", {})
    episode = read_episode(path)
    assert length == 3 and episode.meta["camera"]["name"] == "human_view"
    assert [f[0, 0, 0] for f in episode.frames] == [2, 3, 4]


def test_gripper_commands_end_each_action_held_and_back_filled():
    recorded = streams([0, 10, 20, 30, 40], [0, 10, 20, 30, 40], [5, 15, 25, 35, 45])
    recorded.grip_times, recorded.grips = [12, 33], [1.0, -1.0]
    aligned = align(recorded, joint_state)
    np.testing.assert_array_equal(aligned.actions[:, 0], [5, 15, 25, 35, 45])
    # frame 0's step ends at 10, before the first grip (back-filled); frame 3's at 40
    np.testing.assert_array_equal(aligned.actions[:, 1], [1, 1, 1, -1, -1])
