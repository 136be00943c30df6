"""Layers shared by the meta-learners: bias transformation, spatial soft-argmax, the
layer-normed conv trunk of the MIL/DAML policies, and a plain MLP."""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import nn


class BiasTransform(nn.Module):
    """Linear layer on the input concatenated with a learned vector z: y = W1 x + W2 z + b.

    Thesis L2945-L2990: the bias transformation lets the inner gradient step move the
    effective bias ``W2 z + b`` through ``W2`` and ``z`` without touching the gradients of
    other layers; z is adapted like any other parameter. z starts at zero, the setting the
    thesis analyses (L2994-L2996): the layer then starts as a plain ``W1 x + b`` and the first
    inner step moves the bias by ``-alpha (W2 W2^T + I) dL/dy``, while ``W2`` keeps its random
    initialisation, so z still receives gradient.
    """

    def __init__(self, in_features: int, out_features: int, z_dim: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features + z_dim, out_features)
        self.z = nn.Parameter(torch.zeros(z_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map x of shape [..., in_features] to [..., out_features]."""
        z = self.z.expand(*x.shape[:-1], self.z.shape[0])
        return self.linear(torch.cat([x, z], dim=-1))


class SpatialSoftArgmax(nn.Module):
    """Expected image coordinates of each channel's spatial softmax (feature points).

    MIL L2945-L2960 (after Levine et al. 2016): [N, C, H, W] -> [N, 2C] ordered
    [x_0, y_0, x_1, y_1, ...], x over columns and y over rows, both in [-1, 1]. The softmax
    temperature is learned in log space, so neither Adam nor an inner step can make it
    negative. Its initial value matters after layer norm: activations of order 1 under a
    temperature of 1 give a nearly uniform softmax over a 16x16 map, i.e. feature points
    stuck at the image centre (measured on the reach policy); a lower start localises.
    """

    def __init__(self, temperature: float = 1.0) -> None:
        super().__init__()
        self.log_temperature = nn.Parameter(torch.tensor(math.log(temperature)))

    @property
    def temperature(self) -> torch.Tensor:
        return self.log_temperature.exp()

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Feature points of ``features`` [N, C, H, W] as [N, 2C]."""
        n, c, h, w = features.shape
        attention = torch.softmax(features.reshape(n, c, h * w) / self.temperature, dim=-1)
        attention = attention.reshape(n, c, h, w)
        xs = torch.linspace(-1.0, 1.0, w, dtype=features.dtype, device=features.device)
        ys = torch.linspace(-1.0, 1.0, h, dtype=features.dtype, device=features.device)
        x = (attention.sum(dim=2) * xs).sum(dim=-1)
        y = (attention.sum(dim=3) * ys).sum(dim=-1)
        return torch.stack([x, y], dim=-1).reshape(n, 2 * c)


class ConvTrunk(nn.Module):
    """Strided convolutions, each followed by layer norm and ReLU (MIL, L2945-L2960).

    Layer norm is ``nn.GroupNorm(1, C)``: normalised over (C, H, W) of each sample with a
    per-channel affine. No batch norm: frames of one demonstration are highly correlated,
    and the thesis found batch norm ineffective for that reason (L2956-L2958). Padding is
    ``k // 2`` so a stride-1 layer with an odd kernel keeps the image size.
    """

    def __init__(
        self,
        in_channels: int,
        channels: Sequence[int],
        kernel_sizes: Sequence[int],
        strides: Sequence[int],
    ) -> None:
        super().__init__()
        if not channels or not len(channels) == len(kernel_sizes) == len(strides):
            raise ValueError(
                "ConvTrunk needs one kernel size and one stride per layer, got "
                f"channels={list(channels)}, kernel_sizes={list(kernel_sizes)}, "
                f"strides={list(strides)}"
            )
        layers: list[nn.Module] = []
        previous = in_channels
        for out, kernel, stride in zip(channels, kernel_sizes, strides):
            layers += [
                nn.Conv2d(previous, out, kernel, stride=stride, padding=kernel // 2),
                nn.GroupNorm(1, out),
                nn.ReLU(),
            ]
            previous = out
        self.layers = nn.Sequential(*layers)
        self.out_channels = previous

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """[N, C, H, W] -> [N, out_channels, H', W']."""
        return self.layers(images)


def mlp(in_features: int, hidden: Sequence[int], out_features: int,
        activation: Callable[[], nn.Module] = nn.ReLU) -> nn.Sequential:
    """Fully connected layers with ``activation`` (ReLU) between them and a linear output."""
    sizes = [in_features, *hidden, out_features]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i > 0:
            layers.append(activation())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)
