"""DAML under torchrun: two CPU processes (gloo) on different meta-batches end identical."""
import json
import os
import socket
import subprocess
import sys

import torch
from safetensors.torch import load_file

WORKER = """
import json, sys
from pathlib import Path
import torch
from safetensors.torch import save_file
from episodes import Dataset
from meta_policy.daml_config import DAMLConfig, DAMLTrainConfig
from meta_policy.daml_train import DAMLTrainer
from meta_policy.train import outer_loop

data, out, cfg = sys.argv[1], Path(sys.argv[2]), DAMLConfig(**json.loads(sys.argv[3]))
train = DAMLTrainConfig(iterations=3, meta_batch=4, video_frames=4, demo_frames=4,
                        log_every=100, save_every=100)
trainer = DAMLTrainer(cfg, train, Dataset(data))
first = trainer.batch()
start = {k: v.clone() for k, v in trainer.objective.state_dict().items()}
outer_loop(trainer.meta_loss, trainer.optimizer, train, None, lambda iteration: None, False)
end = trainer.objective.state_dict()
save_file({**{"end." + k: v.contiguous() for k, v in end.items()},
           **{"start." + k: v.contiguous() for k, v in start.items()},
           "first_video": first.video.contiguous(), "world": torch.tensor(trainer.world)},
          str(out / f"rank{trainer.rank}.safetensors"))
"""

CONFIG = dict(image_size=[32, 32], conv_channels=[4, 4], kernel_sizes=[3, 3], strides=[2, 2],
              fc_hidden=[16, 16], points_loss_channels=[4, 4], hidden_loss_channels=[4, 4],
              loss_kernel=3, bias_transform_dim=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_ranks_share_gradients_and_end_with_identical_parameters(tiny_push, tmp_path):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
               "--master-addr", "127.0.0.1", "--master-port", str(free_port()),
               str(script), str(tiny_push), str(tmp_path), json.dumps(CONFIG)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [load_file(str(tmp_path / f"rank{r}.safetensors")) for r in (0, 1)]
    assert all(int(rank["world"]) == 2 for rank in ranks)
    assert not torch.equal(ranks[0]["first_video"], ranks[1]["first_video"])  # other data
    ends = [{k: v for k, v in rank.items() if k.startswith("end.")} for rank in ranks]
    assert ends[0].keys() == ends[1].keys() and len(ends[0]) > 10
    for name, value in ends[0].items():
        torch.testing.assert_close(value, ends[1][name], rtol=0, atol=0, msg=name)
    moved = [name for name in ends[0]
             if not torch.equal(ends[0][name], ranks[0]["start." + name[4:]])]
    assert {"end.policy.action_head.weight", "end.learned_loss.points_loss.project.weight"} <= set(moved)
