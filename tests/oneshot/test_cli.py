"""The `oneshot` CLI end to end, as a user runs it: separate processes, real files (MIL on the
reach twin, DAML on the push twin)."""
import json
import os
import subprocess
import sys

import pytest

ENV = {**os.environ, "MUJOCO_GL": "egl", "PYOPENGL_PLATFORM": "egl"}


def oneshot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "oneshot", *args], capture_output=True,
                          text=True, env=ENV, timeout=300)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    data = root / "data"
    done = oneshot("datagen", "reach", "--out", str(data), "--tasks", "3", "--demos-per-task", "2",
                   "--seed", "5", "--image-size", "32", "32", "--no-progress")
    assert done.returncode == 0, done.stderr
    for method in ("mil", "contextual"):
        done = oneshot("train", method, "--data", str(data), "--out", str(root / method),
                       "--iterations", "3", "--meta-batch", "2", "--frames-per-demo", "4",
                       "--config", str(write_config(root)))
        assert done.returncode == 0, done.stderr
    return root


def write_config(root):
    path = root / "small.json"
    path.write_text(json.dumps({"image_size": [32, 32]}))
    return path


def test_checkpoint_manifest_holds_the_datagen_and_train_commands(trained):
    manifest = json.loads((trained / "mil" / "manifest.json").read_text())
    assert manifest["command"].startswith("oneshot train mil --data")
    assert manifest["data"]["dataset_command"].startswith("oneshot datagen reach --out")
    assert "--seed 5" in manifest["data"]["dataset_command"]


def test_eval_record_adds_the_result_to_the_manifest(trained, tmp_path):
    done = oneshot("eval", "--checkpoint", str(trained / "mil"), "--trials", "2",
                   "--trials-per-task", "2", "--json", str(tmp_path / "r.json"), "--record")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((trained / "mil" / "manifest.json").read_text())
    recorded = manifest["results"]["reach-heldout/mil"]
    assert recorded == json.loads((tmp_path / "r.json").read_text())
    assert recorded["command"].startswith("oneshot eval --checkpoint")


def test_adapt_writes_an_adapted_policy(trained):
    demo = trained / "data" / "task_0000" / "demo_000"
    done = oneshot("adapt", "--checkpoint", str(trained / "mil"), "--demo", str(demo),
                   "--out", str(trained / "adapted"))
    assert done.returncode == 0, done.stderr
    config = json.loads((trained / "adapted" / "config.json").read_text())
    assert config["kind"] == "mil-adapted"
    assert "adapted in" in done.stdout


@pytest.mark.parametrize("method", ["mil", "contextual", "random"])
def test_eval_writes_the_result_json(trained, method):
    out = trained / f"eval-{method}.json"
    select = ["--baseline", method] if method != "mil" else []
    checkpoint = [] if method == "random" else ["--checkpoint", str(trained / method)]
    done = oneshot("eval", *checkpoint, *select, "--suite", "reach-heldout", "--trials", "4",
                   "--trials-per-task", "2", "--json", str(out))
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert result["suite"] == "reach-heldout" and result["method"] == method
    assert result["trials"] == 4 and 0.0 <= result["success_rate"] <= 1.0
    lo, hi = result["ci95"]
    assert lo <= result["success_rate"] <= hi


def test_bad_demo_is_a_clear_error_not_a_traceback(trained, tmp_path):
    done = oneshot("adapt", "--checkpoint", str(trained / "mil"), "--demo", str(tmp_path / "nope"),
                   "--out", str(tmp_path / "adapted"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "nope" in done.stderr


def test_missing_checkpoint_is_a_clear_error(tmp_path):
    done = oneshot("eval", "--checkpoint", str(tmp_path / "missing"), "--trials", "1",
                   "--json", str(tmp_path / "r.json"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "missing" in done.stderr


def test_demo_runs_twice_without_clobbering_and_writes_video(trained, tmp_path):
    for _ in range(2):
        done = oneshot("demo", "--checkpoint", str(trained / "mil"), "--out", str(tmp_path),
                       "--trials", "2")
        assert done.returncode == 0, done.stderr
        assert "one-shot success from new positions" in done.stdout
    runs = sorted(tmp_path.iterdir())
    assert len(runs) == 2
    for run in runs:
        assert (run / "demo_vs_rollout.mp4").stat().st_size > 0
        assert (run / "demo_episode" / "meta.json").is_file()


def test_expert_eval_refuses_zero_trials(tmp_path):
    result = oneshot("eval", "--suite", "push", "--expert", "--trials", "0",
                     "--json", str(tmp_path / "e.json"))
    assert result.returncode == 2 and "--trials must be at least 1" in result.stderr


# -- DAML: train, adapt on a video, run, eval, demo ---------------------------------------

DAML_SMALL = {"image_size": [32, 32], "conv_channels": [4, 4], "kernel_sizes": [3, 3],
         "strides": [2, 2], "fc_hidden": [16, 16], "points_loss_channels": [4, 4],
         "hidden_loss_channels": [4, 4], "loss_kernel": 3, "bias_transform_dim": 2}


@pytest.fixture(scope="module")
def daml(tiny_push, tmp_path_factory):
    root = tmp_path_factory.mktemp("daml-cli")
    (root / "small.json").write_text(json.dumps(DAML_SMALL))
    done = oneshot("train", "daml", "--data", str(tiny_push), "--out", str(root / "daml"),
                   "--iterations", "2", "--meta-batch", "2", "--video-frames", "4",
                   "--demo-frames", "4", "--config", str(root / "small.json"))
    assert done.returncode == 0, done.stderr
    return root


def human_video(tiny_push):
    return tiny_push / "task_0000" / "human_000"


def test_train_daml_writes_a_daml_checkpoint_with_its_command(daml):
    config = json.loads((daml / "daml" / "config.json").read_text())
    manifest = json.loads((daml / "daml" / "manifest.json").read_text())
    assert config["kind"] == "daml" and config["policy"]["loss_kind"] == "temporal"
    assert manifest["command"].startswith("oneshot train daml --data")
    assert manifest["data"]["train_config"]["video_frames"] == 4


def test_adapt_on_a_human_video_then_run_it_in_the_push_twin(daml, tiny_push, tmp_path):
    done = oneshot("adapt", "--checkpoint", str(daml / "daml"), "--video",
                   str(human_video(tiny_push)), "--out", str(tmp_path / "adapted"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "adapted" / "config.json").read_text())["kind"] == "daml-adapted"
    done = oneshot("run", "--policy", str(tmp_path / "adapted"), "--env", "push", "--trials", "1",
                   "--json", str(tmp_path / "run.json"), "--video", str(tmp_path / "run.mp4"))
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "run.json").read_text())
    assert result["trials"] == 1 and result["task"]["target"].startswith("train-")
    assert (tmp_path / "run.mp4").stat().st_size > 0
    wrong = oneshot("run", "--policy", str(tmp_path / "adapted"), "--env", "reach")
    assert wrong.returncode == 2 and "run it with --env push" in wrong.stderr


def test_adapt_refuses_a_bad_video_in_one_line(daml, tmp_path):
    garbage = tmp_path / "clip.mp4"
    garbage.write_bytes(b"not a video at all")
    done = oneshot("adapt", "--checkpoint", str(daml / "daml"), "--video", str(garbage),
                   "--out", str(tmp_path / "adapted"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "not a readable video" in done.stderr and not (tmp_path / "adapted").exists()


def test_eval_push_human_reports_failures_by_kind(daml, tmp_path):
    done = oneshot("eval", "--checkpoint", str(daml / "daml"), "--suite", "push-human",
                   "--trials", "2", "--trials-per-task", "2", "--json", str(tmp_path / "e.json"))
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["suite"] == "push-human" and result["method"] == "daml-temporal"
    assert result["trials"] == 2 and result["split"] == "heldout"
    assert result["successes"] + sum(result["failures"].values()) == 2


def test_demo_tells_the_daml_story_and_writes_video(daml, tmp_path):
    done = oneshot("demo", "--checkpoint", str(daml / "daml"), "--out", str(tmp_path),
                   "--trials", "1")
    assert done.returncode == 0, done.stderr
    assert "human video recorded" in done.stdout and "held-out objects" in done.stdout
    (run,) = tmp_path.iterdir()
    assert (run / "demo_vs_rollout.mp4").stat().st_size > 0
    assert json.loads((run / "human_video" / "meta.json").read_text())["demonstrator"] == "human"


def test_daml_trains_on_sawyer_place_demos_and_runs_the_place_human_suite(daml, tiny_place,
                                                                         tmp_path):
    """The Sawyer's MDN + gripper DAML on place data; a push checkpoint is refused there."""
    done = oneshot("train", "daml", "--data", str(tiny_place), "--out", str(tmp_path / "place"),
                   "--iterations", "2", "--meta-batch", "2", "--video-frames", "4",
                   "--demo-frames", "4", "--config", str(daml / "small.json"))
    assert done.returncode == 0, done.stderr
    policy = json.loads((tmp_path / "place" / "config.json").read_text())["policy"]
    assert policy["action_kind"] == "ee_velocity_gripper" and policy["state_dim"] == 18
    done = oneshot("eval", "--checkpoint", str(tmp_path / "place"), "--suite", "place-human",
                   "--trials", "2", "--trials-per-task", "2", "--json", str(tmp_path / "e.json"))
    assert done.returncode == 0, done.stderr
    result = json.loads((tmp_path / "e.json").read_text())
    assert result["suite"] == "place-human" and result["trials"] == 2
    assert result["successes"] + sum(result["failures"].values()) == 2
    refused = oneshot("eval", "--checkpoint", str(daml / "daml"), "--suite", "place-human",
                      "--trials", "1", "--json", str(tmp_path / "x.json"))
    assert refused.returncode == 2 and "trained on push demos" in refused.stderr
    done = oneshot("adapt", "--checkpoint", str(tmp_path / "place"), "--video",
                   str(tiny_place / "task_0000" / "human_000"), "--out", str(tmp_path / "adapted"))
    assert done.returncode == 0, done.stderr
    done = oneshot("run", "--policy", str(tmp_path / "adapted"), "--env", "place", "--trials", "1",
                   "--json", str(tmp_path / "run.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "run.json").read_text())["env"] == "place"


@pytest.mark.parametrize("baseline", ["contextual", "da-lstm"])
def test_baselines_train_on_the_same_data_and_evaluate_on_the_push_suites(daml, tiny_push, tmp_path,
                                                                           baseline):
    done = oneshot("train", "daml", "--baseline", baseline, "--data", str(tiny_push),
                   "--out", str(tmp_path / baseline), "--iterations", "2", "--meta-batch", "2",
                   "--video-frames", "4", "--demo-frames", "4", "--config", str(daml / "small.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / baseline / "config.json").read_text())["kind"] == f"daml-{baseline}"
    done = oneshot("eval", "--checkpoint", str(tmp_path / baseline), "--suite", "push-video",
                   "--baseline", baseline, "--trials", "1", "--json", str(tmp_path / "e.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "e.json").read_text())["method"] == baseline
    mismatch = oneshot("eval", "--checkpoint", str(daml / "daml"), "--suite", "push-video",
                       "--baseline", baseline, "--trials", "1", "--json", str(tmp_path / "x.json"))
    assert mismatch.returncode == 2 and "is a 'daml' checkpoint" in mismatch.stderr


def test_mil_trains_on_push_robot_demos_and_runs_the_push_robot_suite(tiny_push, tmp_path):
    small = {"image_size": [32, 32], "conv_channels": [4, 4], "kernel_sizes": [3, 3],
             "strides": [2, 2], "fc_hidden": [16, 16], "bias_transform_dim": 2}
    (tmp_path / "small.json").write_text(json.dumps(small))
    done = oneshot("train", "mil", "--data", str(tiny_push), "--out", str(tmp_path / "mil"),
                   "--iterations", "2", "--meta-batch", "2", "--frames-per-demo", "4",
                   "--config", str(tmp_path / "small.json"))
    assert done.returncode == 0, done.stderr
    policy = json.loads((tmp_path / "mil" / "config.json").read_text())["policy"]
    assert policy["state_dim"] == 21 and policy["two_head"]  # the push preset, from the data
    done = oneshot("eval", "--checkpoint", str(tmp_path / "mil"), "--suite", "push-robot",
                   "--trials", "1", "--json", str(tmp_path / "e.json"))
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "e.json").read_text())["method"] == "mil"
    refused = oneshot("eval", "--checkpoint", str(tmp_path / "mil"), "--suite", "push-human",
                      "--trials", "1", "--json", str(tmp_path / "x.json"))
    assert refused.returncode == 2 and "evaluates daml checkpoints" in refused.stderr
