"""The feed-forward dynamics model of GBAC, MB and MB+DE (thesis L2529-L2535, L2664-L2667).

``p_theta(s' | s, a)`` is a Gaussian with fixed variance whose mean is ``s + delta``; the
network (MLP 3x512 ReLU, L2534) predicts the normalised delta (see :mod:`normalisation`), so
maximum likelihood is the mean squared error on normalised deltas (L2664-L2667).

Methods take an optional parameter dict (MAML's ``Params``) so adapted parameters ``phi`` run
through the same code as ``theta``; tensors may carry any leading batch dimensions.
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from adaptive_control.normalisation import Normaliser
from metalearn.layers import mlp
from metalearn.maml import InnerConfig, InnerLoop, Params, functional

HIDDEN = (512, 512, 512)


def is_network(name: str) -> bool:
    """Whether parameter ``name`` is one of the network's weights (what an update adapts)."""
    return name.startswith("net.")


class DynamicsModel(nn.Module):
    """MLP on normalised (state[input_dims], action) -> normalised (next_state - state).

    ``learned_rates``: GBAC's update rule with meta-learned inner rates (``per_step`` or
    ``per_param``, Meta-SGD): "the only parameter of this learning rule is the rate alpha,
    which may either be learned or selected" (L2547-L2548; the thesis selects it). The rates
    then live here, as :attr:`update_rule`, so they train, save and load with the weights
    they adapt. None (the default): the rate is selected, and the model holds no rule.
    """

    def __init__(self, state_dim: int, action_dim: int, input_dims: Sequence[int],
                 hidden: Sequence[int] = HIDDEN,
                 learned_rates: InnerConfig | None = None) -> None:
        super().__init__()
        self.norm = Normaliser(state_dim, action_dim, input_dims)
        self.hidden = tuple(hidden)
        self.net = mlp(self.norm.input_size, hidden, state_dim)
        self.update_rule = None if learned_rates is None else InnerLoop(
            learned_rates, self.network_params())

    def network_params(self) -> Params:
        """The network's weights by name: the theta that an update adapts (without the
        learned rates, which are the rule's, not the model's)."""
        return {name: p for name, p in self.named_parameters() if is_network(name)}

    def forward(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """The normalised delta predicted for ``state`` [..., S] and ``action`` [..., A]."""
        return self.net(self.norm.inputs(state, action))

    def _output(self, state, action, params: Params | None) -> torch.Tensor:
        return self(state, action) if params is None else functional(self, params, state, action)

    def predict(self, state: torch.Tensor, action: torch.Tensor,
                params: Params | None = None) -> torch.Tensor:
        """The mean next state under ``params`` (default: the model's own, theta)."""
        return self.norm.next_state(state, self._output(state, action, params))

    def loss(self, state: torch.Tensor, action: torch.Tensor, next_state: torch.Tensor,
             params: Params | None = None) -> torch.Tensor:
        """Negative log-likelihood up to constants: MSE on normalised deltas (Eq. 16)."""
        target = self.norm.target(state, next_state)
        return ((self._output(state, action, params) - target) ** 2).mean()

    def config(self) -> dict:
        """The architecture as JSON data, to rebuild the module from a checkpoint."""
        return {**self.norm.config(), "hidden": list(self.hidden)}


class RolloutModel:
    """A gradient-free copy of a :class:`DynamicsModel`'s network for planning, loaded
    with the parameters of the moment (``theta`` or an adapted ``phi``) once per control
    step, optionally in bfloat16.

    Planning runs the network n_A x H times per step, so it skips ``functional_call``'s
    per-call parameter swap; in bfloat16 the matmuls run about 4x faster on CPUs with
    AVX512-BF16 (measured by ``oneshot bench mpc``) while states stay float32, so rounding
    does not accumulate along the horizon. Candidates are only ranked, so the ~0.4%
    relative error of a bfloat16 delta is an acceptable price for a 10 Hz controller.
    """

    def __init__(self, model: DynamicsModel, dtype: torch.dtype = torch.float32) -> None:
        self.norm = model.norm
        self.dtype = dtype
        self.net = copy.deepcopy(model.net).to(dtype).requires_grad_(False)
        self.load(dict(model.named_parameters()))

    @torch.no_grad()
    def load(self, params: Params) -> None:
        """Copy the network entries of ``params`` (names as in the DynamicsModel)."""
        for name, target in self.net.named_parameters():
            target.copy_(params[f"net.{name}"])

    @torch.no_grad()
    def predict(self, state: torch.Tensor, action: torch.Tensor) -> torch.Tensor:
        """The mean next state (float32) for ``state`` [..., S] and ``action`` [..., A]."""
        output = self.net(self.norm.inputs(state, action).to(self.dtype))
        return self.norm.next_state(state, output.float())

    def flops(self, batch: int) -> int:
        """Floating-point operations of one prediction for ``batch`` states (matmuls only)."""
        return 2 * batch * sum(layer.in_features * layer.out_features
                               for layer in self.net if isinstance(layer, nn.Linear))
