"""Shared layers: bias transformation, spatial soft-argmax, conv trunk, MLP."""

import pytest
import torch
from torch import nn

from metalearn.layers import BiasTransform, ConvTrunk, SpatialSoftArgmax, mlp


def test_bias_transform_is_linear_on_input_and_z():
    torch.manual_seed(0)
    layer = BiasTransform(4, 3, z_dim=5)
    with torch.no_grad():
        layer.z.normal_()
    x = torch.randn(2, 6, 4)
    expected = layer.linear(torch.cat([x, layer.z.expand(2, 6, 5)], dim=-1))
    torch.testing.assert_close(layer(x), expected)
    w1, w2 = layer.linear.weight[:, :4], layer.linear.weight[:, 4:]
    torch.testing.assert_close(layer(x), x @ w1.T + w2 @ layer.z + layer.linear.bias)


def test_bias_transform_starts_as_plain_linear_and_z_gets_gradient():
    torch.manual_seed(0)
    layer = BiasTransform(4, 3, z_dim=5)
    x = torch.randn(7, 4)
    torch.testing.assert_close(layer(x), x @ layer.linear.weight[:, :4].T + layer.linear.bias)
    layer(x).pow(2).sum().backward()
    assert layer.z.grad.abs().sum() > 0


@pytest.mark.parametrize("row,col", [(0, 0), (2, 7), (5, 3), (5, 7)])
def test_spatial_soft_argmax_finds_hot_pixel(row, col):
    h, w = 6, 8
    features = torch.zeros(1, 2, h, w)
    features[0, 0, row, col] = 50.0  # channel 0: the hot pixel
    features[0, 1, h - 1 - row, w - 1 - col] = 50.0  # channel 1: its mirror image
    points = SpatialSoftArgmax()(features)
    x, y = -1 + 2 * col / (w - 1), -1 + 2 * row / (h - 1)
    torch.testing.assert_close(points, torch.tensor([[x, y, -x, -y]]), atol=1e-4, rtol=0)


def test_spatial_soft_argmax_temperature_is_learnable_and_sharpens():
    layer = SpatialSoftArgmax()
    assert isinstance(layer.log_temperature, nn.Parameter)
    assert layer.temperature.item() == pytest.approx(1.0)
    features = torch.zeros(1, 1, 5, 5)
    features[0, 0, 4, 4] = 3.0
    soft = layer(features)
    sharp = SpatialSoftArgmax(temperature=0.05)(features)
    assert SpatialSoftArgmax(temperature=0.05).temperature.item() == pytest.approx(0.05)
    assert soft[0, 0] < sharp[0, 0] and sharp[0, 0].item() == pytest.approx(1.0, abs=1e-4)
    assert soft.shape == (1, 2) and (soft.abs() <= 1).all()


def test_conv_trunk_shapes_and_layer_norm():
    trunk = ConvTrunk(3, channels=[16, 16, 32], kernel_sizes=[5, 5, 3], strides=[2, 2, 1])
    out = trunk(torch.randn(2, 3, 125, 125))
    assert trunk.out_channels == 32
    assert out.shape == (2, 32, 32, 32)  # 125 -> 63 -> 32 -> 32
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in trunk.modules())
    norms = [m for m in trunk.modules() if isinstance(m, nn.GroupNorm)]
    assert [n.num_groups for n in norms] == [1, 1, 1]


def test_conv_trunk_is_per_sample():
    """Layer norm, unlike batch norm, makes each sample's output independent of the batch."""
    torch.manual_seed(0)
    trunk = ConvTrunk(3, channels=[8], kernel_sizes=[3], strides=[1])
    images = torch.randn(4, 3, 10, 10)
    torch.testing.assert_close(trunk(images)[:1], trunk(images[:1]))


def test_conv_trunk_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="kernel size"):
        ConvTrunk(3, channels=[8, 8], kernel_sizes=[3], strides=[1, 1])


def test_mlp_layout():
    net = mlp(1, [40, 40], 1)
    kinds = [type(m) for m in net]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    sizes = [(m.in_features, m.out_features) for m in net if isinstance(m, nn.Linear)]
    assert sizes == [(1, 40), (40, 40), (40, 1)]
    assert net(torch.zeros(3, 1)).shape == (3, 1)
