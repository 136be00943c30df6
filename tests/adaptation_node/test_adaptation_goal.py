"""The adaptation node's goal part: a FLO goal classifier from the end of each demo.

A demo episode filmed at 128x128 whose last K frames show the arrangement done goes out on
``demo/recorded``; with ``flo_checkpoint`` set (and no policy checkpoint to load) the node
must save the goal inferred from those last frames, resized to the classifier's 64x64, and
announce it on ``goal/adapted``. The goal must tell the demo's end from its start.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from std_msgs.msg import String

from adaptation_node import qos
from adaptation_node.adaptation import last_frames
from adaptation_node.twins import arrange_task
from episodes import Episode, write_episode
from goal_classifier.goal import infer_goal, load_flo, load_goal
from sim.arrange import ArrangeTwin

from ros_harness import wait_until

FLO = Path(__file__).resolve().parents[2] / "checkpoints" / "flo-arrange"
CAMERA = (128, 128)
START, END = 7, 5            # frames of the pair apart from, then in, the arrangement


def demo_episode(path: Path) -> Path:
    """A person's video of a held-out task: START frames of other arrangements, then END
    frames of the arrangement done (arm and distractors at random)."""
    twin = ArrangeTwin(arrange_task("", "heldout", 1), CAMERA)
    rng = np.random.default_rng(1)
    frames = []
    for positive in [False] * START + [True] * END:
        twin.sample_example(positive, rng)
        frames.append(twin.render())
    twin.close()
    count = START + END
    return write_episode(path, Episode(np.stack(frames), np.zeros((count, 1)), None,
                                       np.arange(count) / 10.0, {}, demonstrator="human"))


def test_a_demo_gives_a_goal_from_its_last_frames(start_node, probe, tmp_path):
    goals = probe.record(String, "goal/adapted", qos.LATCHED)
    policies = probe.record(String, "policy/adapted", qos.LATCHED)
    demo = demo_episode(tmp_path / "demo")
    announce = probe.node.create_publisher(String, "demo/recorded", qos.LATCHED)
    announce.publish(String(data=json.dumps({"path": str(demo)})))
    node = start_node("adaptation_node.adaptation", checkpoint=str(tmp_path / "none"),
                      flo_checkpoint=str(FLO), out_dir=str(tmp_path / "adapted"))
    wait_until(lambda: goals, 60, "goal/adapted")
    report = json.loads(goals[-1][1].data)
    assert report["version"] == 1 and report["demo"] == str(demo) and report["latency_ms"] > 0
    goal = load_goal(report["path"])

    flo = load_flo(FLO)
    ends = last_frames(demo, START + END, (64, 64))
    assert ends.shape == (START + END, 64, 64, 3)
    expected = infer_goal(flo, ends[START:])
    np.testing.assert_allclose(goal.score(ends), expected.score(ends), atol=1e-5)
    scores = goal.score(ends)
    print(f"goal on the demo's start {' '.join(f'{p:.2f}' for p in scores[:START])}, "
          f"end {' '.join(f'{p:.2f}' for p in scores[START:])}")
    assert scores[START:].mean() > scores[:START].mean() + 0.3
    assert not policies and "checkpoint not loaded" in node.text() and node.alive()
