"""DAML's meta-batches: paired demos of one task, clips in time order, colour augmentation."""
from dataclasses import replace

import numpy as np
import pytest
import torch

from episodes import Dataset
from meta_policy.daml_data import (
    ClipSpec,
    PairSampler,
    augment_colour,
    colour_jitter,
    contact_step,
    hsv_to_rgb,
    make_batch,
    rgb_to_hsv,
    task_tensors,
)


def test_hsv_round_trip_and_known_colours():
    images = torch.rand(4, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(hsv_to_rgb(rgb_to_hsv(images)), images, atol=1e-5, rtol=0)
    primaries = torch.eye(3).reshape(3, 3, 1, 1)  # red, green, blue pixels
    hsv = rgb_to_hsv(primaries)[:, :, 0, 0]
    torch.testing.assert_close(hsv[:, 0], torch.tensor([0.0, 1 / 3, 2 / 3]))
    torch.testing.assert_close(hsv[:, 1:], torch.ones(3, 2))


def test_colour_shift_is_one_draw_per_clip():
    clip = torch.full((5, 3, 4, 4), 100, dtype=torch.uint8)
    clip[:, 0] = 200  # one reddish colour in every frame
    none = colour_jitter(np.random.default_rng(0), shift=0.0)
    torch.testing.assert_close(augment_colour(clip, none), clip.float() / 255)
    jitter = colour_jitter(np.random.default_rng(0), shift=0.3)
    assert np.all(np.abs(jitter) <= 0.3) and np.any(jitter)
    shifted = augment_colour(clip, jitter)
    assert shifted.min() >= 0 and shifted.max() <= 1
    assert not torch.allclose(shifted, clip.float() / 255, atol=0.02)
    torch.testing.assert_close(shifted, shifted[:1].expand_as(shifted))  # same for all frames


def test_a_tasks_video_and_demo_share_one_colour_shift(tiny_place):
    spec = ClipSpec(video_frames=4, demo_frames=4, colour_shift=0.3, gripper=True)
    def batch(shift: float):
        sampler = PairSampler(Dataset(tiny_place), "human", np.random.default_rng(0))
        return make_batch(sampler, 3, replace(spec, colour_shift=shift))

    plain, shifted = batch(0.0), batch(0.3)

    def hue_offset(before: torch.Tensor, after: torch.Tensor) -> float:
        """The hue shift of the clearly coloured pixels, on the colour wheel (0..1)."""
        hsv_before, hsv_after = rgb_to_hsv(before), rgb_to_hsv(after)
        coloured = (hsv_before[:, 1] > 0.5) & (hsv_before[:, 2] > 0.3) & (hsv_after[:, 1] > 0.3)
        offset = (hsv_after[:, 0] - hsv_before[:, 0]) % 1.0
        return float(offset[coloured].median())

    offsets = [(hue_offset(plain.video[i], shifted.video[i]),
                hue_offset(plain.frames[i], shifted.frames[i])) for i in range(3)]
    apart = [min(abs(video - demo), 1 - abs(video - demo)) for video, demo in offsets]
    assert max(apart) < 0.01, offsets
    assert len({round(video, 2) for video, _ in offsets}) == 3  # a new draw for each task


def test_human_pairs_share_a_task(tiny_push):
    sampler = PairSampler(Dataset(tiny_push), "human", np.random.default_rng(0))
    for task_id in sampler.tasks(6):
        video, demo = sampler.pair(task_id)
        assert video.actions is None and demo.actions is not None
        assert video.task["target"] == demo.task["target"] == sampler.dataset.tasks[task_id]["target"]


def test_robot_video_pairs_are_two_different_demos(tiny_push):
    sampler = PairSampler(Dataset(tiny_push), "robot", np.random.default_rng(0))
    for task_id in sampler.tasks(6):
        video, demo = sampler.pair(task_id)
        assert video.actions is not None and demo.actions is not None
        assert video.path != demo.path and video.task == demo.task


def test_a_dataset_without_human_demos_is_refused_for_human_pairs(tmp_path):
    from sim.manipulation_datagen import DatagenConfig, generate

    generate(tmp_path, DatagenConfig("push", tasks=1, demos_per_task=2, demonstrator="robot",
                                     image_size=(16, 16)), progress=False)
    with pytest.raises(ValueError, match="no task with a human and a robot demo"):
        PairSampler(Dataset(tmp_path), "human", np.random.default_rng(0))


def test_batch_shapes_and_end_pose_target(tiny_push):
    sampler = PairSampler(Dataset(tiny_push), "human", np.random.default_rng(1))
    batch = make_batch(sampler, 4, ClipSpec(video_frames=7, demo_frames=5))
    assert batch.video.shape == (4, 7, 3, 32, 32) and batch.frames.shape == (4, 5, 3, 32, 32)
    assert batch.state.shape == (4, 5, 21) and batch.actions.shape == (4, 5, 7)
    assert batch.gripper is None and batch.pose.shape == (4, 3)
    assert batch.video.dtype == torch.float32 and 0 <= batch.video.min() and batch.video.max() <= 1
    ends = {tuple(np.asarray(e.state[-1, 14:17])) for t in sampler.task_ids
            for e in sampler.dataset.episodes_of(t) if e.actions is not None}
    assert all(tuple(p.tolist()) in {tuple(np.float32(v) for v in end) for end in ends}
               for p in batch.pose)


def test_pushing_supervises_the_pose_where_the_pusher_meets_the_target(tiny_push):
    """L3542-L3545: the contact pose lies at the target's start, at pushing height; the
    final pose (placing's target) is by the goal, the same for either object."""
    sampler = PairSampler(Dataset(tiny_push), "human", np.random.default_rng(3))
    spec = ClipSpec(video_frames=4, demo_frames=5, pose_at_contact=True)
    for task_id in sampler.tasks(3):
        video, demo = sampler.pair(task_id)
        pose = task_tensors(video, demo, spec, sampler.rng)[5].numpy()
        scene = demo.meta["scene"]
        target, goal = np.array(scene["target_pos"]), np.array(scene["goal_pos"])
        to_target = np.linalg.norm(pose[:2] - target)
        assert to_target < 0.12 and to_target < np.linalg.norm(pose[:2] - goal)
        step = contact_step(demo, 14)
        assert 0 < step < demo.length - 1
        assert pose[2] < np.asarray(demo.state)[:, 16].max() - 0.02  # not passing over it


def test_early_frames_oversample_the_start_of_the_robot_demo(tiny_push):
    sampler = PairSampler(Dataset(tiny_push), "human", np.random.default_rng(2))
    spec = ClipSpec(video_frames=4, demo_frames=10, early_frames=6, early_window=8)
    for task_id in sampler.tasks(3):
        video, demo = sampler.pair(task_id)
        state = task_tensors(video, demo, spec, sampler.rng)[2]
        starts = [int(np.flatnonzero((np.asarray(demo.state) == s.numpy()).all(1))[0]) for s in state]
        assert starts == sorted(set(starts)) and sum(i < 8 for i in starts) >= 6
