"""Fixtures for ROS tests: a fresh ROS_DOMAIN_ID per test, node processes, a probe node."""
from __future__ import annotations

import itertools
import os
import signal
from pathlib import Path
from typing import Any

import pytest

from adaptation_node import dds
from adaptation_node.probe import Probe
from ros_harness import NodeProcess

# The test's own participants use the nodes' transport and find them on this host only,
# which is much faster than multicast discovery (set before any rclpy.init).
DDS_ENV = {**dds.ENV, "ROS_AUTOMATIC_DISCOVERY_RANGE": "LOCALHOST"}
for _name, _value in DDS_ENV.items():
    os.environ.setdefault(_name, _value)

# Only domain ids 0-101 are safe on Linux: higher ones map (7400 + 250 d) into the
# ephemeral port range, where other sockets take the ports and DDS traffic is lost. Each
# pytest run cycles through a block of ten ids chosen by its process id, so runs side by
# side do not share a domain; a test's nodes are gone before its id comes round again.
_DOMAINS = itertools.cycle(range(10 + (os.getpid() % 8) * 10, 20 + (os.getpid() % 8) * 10))


@pytest.fixture
def ros_domain() -> int:
    return next(_DOMAINS)


@pytest.fixture
def ros_env(ros_domain: int) -> dict[str, str]:
    """The environment of node processes: the test's domain, large-data transport."""
    return {**os.environ, **DDS_ENV, "ROS_DOMAIN_ID": str(ros_domain), "MUJOCO_GL": "egl",
            "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@pytest.fixture
def start_node(ros_env, tmp_path):
    """``start_node(module, **parameters) -> NodeProcess``; all are stopped at teardown."""
    started: list[NodeProcess] = []

    def start(module: str, **parameters: Any) -> NodeProcess:
        name = module.rsplit(".", 1)[-1]
        node = NodeProcess(module, parameters, ros_env, tmp_path / f"{name}-{len(started)}.log")
        started.append(node)
        return node

    yield start
    for node in started:
        if node.alive():
            node.stop(signal.SIGKILL)
    dds.remove_stale_segments()      # a killed node leaves its 16 MiB segment behind


@pytest.fixture
def probe(ros_domain):
    node = Probe(ros_domain)
    yield node
    node.close()


@pytest.fixture(scope="session")
def daml_checkpoint(tiny_push: Path, tmp_path_factory) -> Path:
    """A DAML checkpoint (kind "daml") for the push twin's 32x32 camera, meta-trained for
    one iteration on ``tiny_push``: enough for the graph's wiring, not to push well."""
    from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
    from meta_policy.daml_train import train_daml

    tiny = DAMLConfig(image_size=(32, 32), conv_channels=(4, 4), kernel_sizes=(3, 3),
                      strides=(2, 2), fc_hidden=(16, 16), points_loss_channels=(4, 4),
                      hidden_loss_channels=(4, 4), loss_kernel=3, bias_transform_dim=2)
    train = DAMLTrainConfig(iterations=1, meta_batch=2, video_frames=4, demo_frames=4)
    return train_daml(tiny_push, tmp_path_factory.mktemp("daml") / "ckpt", tiny, train,
                      ["test"], progress=False)


@pytest.fixture(scope="session")
def gbac_arm_checkpoint(tmp_path_factory) -> Path:
    """``checkpoints/gbac-arm`` when it is shipped; otherwise a tiny GBAC model of the arm
    twin meta-trained here by the project's Algorithm 6 (3 rounds of 4 rollouts of 100
    steps, a 64x64 MLP, 100 meta-steps a round: a few seconds), which already plans the
    object nearer its goal than zero torque leaves it."""
    shipped = Path(__file__).resolve().parents[2] / "checkpoints" / "gbac-arm"
    if (shipped / "config.json").is_file():
        return shipped
    from adaptive_control.config import TrainConfig
    from adaptive_control.meta_train import train

    cfg = TrainConfig.preset("arm", "cpu", iterations=3, rollouts_per_iteration=4,
                             rollout_steps=100, meta_steps=100, batch=16, past=16, future=16,
                             hidden=(64, 64), candidates=100, horizon=5)
    return train(cfg, tmp_path_factory.mktemp("gbac") / "arm", ["test"], progress=False)
