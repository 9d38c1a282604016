"""P-Net, R-Net and O-Net of MTCNN (Zhang et al. 2016) in torch, built from the Keras arrays.

Layer order and semantics follow the ``mtcnn`` package's Keras models: valid 'linear' convs,
PReLU with one slope per channel, max-pooling with Keras 'same' padding (which pads at the end,
unlike torch's symmetric padding), softmax over the two class logits, and, before the dense
layers, a Permute((2, 1, 3)) + Flatten of NHWC maps, i.e. features flattened in (W, H, C)
order. Kernels arrive HWIO and dense kernels (in, out); they are transposed to torch's OIHW and
(out, in) here. Inputs are NCHW RGB images normalised as ``(pixel - 127.5) / 128``.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from fverify.align.weights import load_network_weights


def keras_same_max_pool(x: torch.Tensor, size: int, stride: int) -> torch.Tensor:
    """Keras/TF ``MaxPooling2D(padding='same')``: out = ceil(in / stride), extra pad at the end."""
    pads = []
    for extent in (x.shape[-1], x.shape[-2]):  # F.pad lists the last dimension first
        total = max((math.ceil(extent / stride) - 1) * stride + size - extent, 0)
        pads += [total // 2, total - total // 2]
    if not any(pads[::2]):
        # Padding at the end only: torch's ceil mode pools the partial last window the same
        # way, without a padded copy of the input (every MTCNN pooling but odd P-Net levels).
        return F.max_pool2d(x, size, stride, ceil_mode=True)
    return F.max_pool2d(F.pad(x, pads, value=-math.inf), size, stride)


def _conv(kernel_hwio: np.ndarray, bias: np.ndarray) -> nn.Conv2d:
    height, width, inputs, outputs = kernel_hwio.shape
    conv = nn.Conv2d(inputs, outputs, (height, width))
    conv.weight.data = torch.from_numpy(np.ascontiguousarray(kernel_hwio.transpose(3, 2, 0, 1)))
    conv.bias.data = torch.from_numpy(bias.copy())
    return conv


def _dense(kernel: np.ndarray, bias: np.ndarray) -> nn.Linear:
    dense = nn.Linear(*kernel.shape)
    dense.weight.data = torch.from_numpy(np.ascontiguousarray(kernel.T))
    dense.bias.data = torch.from_numpy(bias.copy())
    return dense


def _prelu(alpha: np.ndarray) -> nn.PReLU:
    slopes = alpha.reshape(-1)
    prelu = nn.PReLU(len(slopes))
    prelu.weight.data = torch.from_numpy(slopes.copy())
    return prelu


def _flatten_keras(x: torch.Tensor) -> torch.Tensor:
    """Keras Permute((2, 1, 3)) then Flatten on NHWC equals flattening NCHW in (W, H, C) order."""
    return x.permute(0, 3, 2, 1).reshape(x.shape[0], -1)


class PNet(nn.Module):
    """Proposal net, fully convolutional: (box offsets N4hw, face probability N1hw)."""

    def __init__(self, arrays: list[np.ndarray]):
        super().__init__()
        self.conv1, self.prelu1 = _conv(*arrays[0:2]), _prelu(arrays[2])
        self.conv2, self.prelu2 = _conv(*arrays[3:5]), _prelu(arrays[5])
        self.conv3, self.prelu3 = _conv(*arrays[6:8]), _prelu(arrays[8])
        self.box = _conv(*arrays[9:11])
        self.score = _conv(*arrays[11:13])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = keras_same_max_pool(self.prelu1(self.conv1(x)), 2, 2)
        x = self.prelu3(self.conv3(self.prelu2(self.conv2(x))))
        return self.box(x), F.softmax(self.score(x), dim=1)[:, 1]


class RNet(nn.Module):
    """Refinement net on 24x24 crops: (box offsets N4, face probability N)."""

    def __init__(self, arrays: list[np.ndarray]):
        super().__init__()
        self.conv1, self.prelu1 = _conv(*arrays[0:2]), _prelu(arrays[2])
        self.conv2, self.prelu2 = _conv(*arrays[3:5]), _prelu(arrays[5])
        self.conv3, self.prelu3 = _conv(*arrays[6:8]), _prelu(arrays[8])
        self.fc4, self.prelu4 = _dense(*arrays[9:11]), _prelu(arrays[11])
        self.box = _dense(*arrays[12:14])
        self.score = _dense(*arrays[14:16])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = keras_same_max_pool(self.prelu1(self.conv1(x)), 3, 2)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2)  # Keras 'valid' pooling
        x = self.prelu3(self.conv3(x))
        x = self.prelu4(self.fc4(_flatten_keras(x)))
        return self.box(x), F.softmax(self.score(x), dim=1)[:, 1]


class ONet(nn.Module):
    """Output net on 48x48 crops: (box offsets N4, landmarks N10 as x1..x5 y1..y5, probability N)."""

    def __init__(self, arrays: list[np.ndarray]):
        super().__init__()
        self.conv1, self.prelu1 = _conv(*arrays[0:2]), _prelu(arrays[2])
        self.conv2, self.prelu2 = _conv(*arrays[3:5]), _prelu(arrays[5])
        self.conv3, self.prelu3 = _conv(*arrays[6:8]), _prelu(arrays[8])
        self.conv4, self.prelu4 = _conv(*arrays[9:11]), _prelu(arrays[11])
        self.fc5, self.prelu5 = _dense(*arrays[12:14]), _prelu(arrays[14])
        self.box = _dense(*arrays[15:17])
        self.landmarks = _dense(*arrays[17:19])
        self.score = _dense(*arrays[19:21])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        x = keras_same_max_pool(self.prelu1(self.conv1(x)), 3, 2)
        x = F.max_pool2d(self.prelu2(self.conv2(x)), 3, 2)
        x = keras_same_max_pool(self.prelu3(self.conv3(x)), 2, 2)
        x = self.prelu4(self.conv4(x))
        x = self.prelu5(self.fc5(_flatten_keras(x)))
        return self.box(x), self.landmarks(x), F.softmax(self.score(x), dim=1)[:, 1]


NETWORK_CLASSES = {"pnet": PNet, "rnet": RNet, "onet": ONet}


def load_network(name: str) -> nn.Module:
    """One MTCNN network with the ``mtcnn`` package's weights, in eval mode, float32, on CPU."""
    return NETWORK_CLASSES[name](load_network_weights(name)).eval()
