"""Each MTCNN network against a float64 NumPy reference of the Keras layer math (NHWC, HWIO
kernels, Keras 'same' pooling, Permute((2, 1, 3)) + Flatten), independent of torch's conv."""
import math

import numpy as np
import pytest
import torch

from fverify.align.networks import keras_same_max_pool, load_network
from fverify.align.weights import load_network_weights

pytest.importorskip("lz4.frame")


def conv(x, kernel, bias):
    kh, kw = kernel.shape[:2]
    out_h, out_w = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    out = np.zeros((x.shape[0], out_h, out_w, kernel.shape[3]))
    for dy in range(kh):
        for dx in range(kw):
            out += np.einsum("nhwc,co->nhwo", x[:, dy:dy + out_h, dx:dx + out_w], kernel[dy, dx])
    return out + bias


def prelu(x, alpha):
    return np.where(x > 0, x, x * alpha.reshape(-1))


def max_pool(x, size, stride, same):
    if same:  # TF 'same': output ceil(n / stride); the odd pad pixel goes at the end
        pads = []
        for n in x.shape[1:3]:
            total = max((math.ceil(n / stride) - 1) * stride + size - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=-np.inf)
    out_h = (x.shape[1] - size) // stride + 1
    out_w = (x.shape[2] - size) // stride + 1
    out = np.full((x.shape[0], out_h, out_w, x.shape[3]), -np.inf)
    for dy in range(size):
        for dx in range(size):
            out = np.maximum(out, x[:, dy:dy + stride * out_h:stride, dx:dx + stride * out_w:stride])
    return out


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def flatten_keras(x):
    return x.transpose(0, 2, 1, 3).reshape(len(x), -1)


def weights64(name):
    return [a.astype(np.float64) for a in load_network_weights(name)]


def reference_pnet(x):
    w = weights64("pnet")
    x = max_pool(prelu(conv(x, w[0], w[1]), w[2]), 2, 2, same=True)
    x = prelu(conv(x, w[3], w[4]), w[5])
    x = prelu(conv(x, w[6], w[7]), w[8])
    return conv(x, w[9], w[10]), softmax(conv(x, w[11], w[12]))[..., 1]


def reference_rnet(x):
    w = weights64("rnet")
    x = max_pool(prelu(conv(x, w[0], w[1]), w[2]), 3, 2, same=True)
    x = max_pool(prelu(conv(x, w[3], w[4]), w[5]), 3, 2, same=False)
    x = prelu(conv(x, w[6], w[7]), w[8])
    x = prelu(flatten_keras(x) @ w[9] + w[10], w[11])
    return x @ w[12] + w[13], softmax(x @ w[14] + w[15])[:, 1]


def reference_onet(x):
    w = weights64("onet")
    x = max_pool(prelu(conv(x, w[0], w[1]), w[2]), 3, 2, same=True)
    x = max_pool(prelu(conv(x, w[3], w[4]), w[5]), 3, 2, same=False)
    x = max_pool(prelu(conv(x, w[6], w[7]), w[8]), 2, 2, same=True)
    x = prelu(conv(x, w[9], w[10]), w[11])
    x = prelu(flatten_keras(x) @ w[12] + w[13], w[14])
    return x @ w[15] + w[16], x @ w[17] + w[18], softmax(x @ w[19] + w[20])[:, 1]


def run_torch(name, x_nhwc):
    with torch.no_grad():
        outputs = load_network(name)(torch.from_numpy(x_nhwc.transpose(0, 3, 1, 2)).float())
    return [o.double().numpy() for o in outputs]


def test_pnet_matches_the_reference_on_an_odd_sized_input():
    x = np.random.default_rng(0).uniform(-1, 1, (2, 25, 31, 3))
    offsets, probability = run_torch("pnet", x)
    ref_offsets, ref_probability = reference_pnet(x)
    np.testing.assert_allclose(offsets.transpose(0, 2, 3, 1), ref_offsets, atol=2e-5)
    np.testing.assert_allclose(probability, ref_probability, atol=2e-6)


def test_rnet_matches_the_reference():
    x = np.random.default_rng(1).uniform(-1, 1, (5, 24, 24, 3))
    for ours, ref in zip(run_torch("rnet", x), reference_rnet(x)):
        np.testing.assert_allclose(ours, ref, atol=2e-5)


def test_onet_matches_the_reference():
    x = np.random.default_rng(2).uniform(-1, 1, (5, 48, 48, 3))
    for ours, ref in zip(run_torch("onet", x), reference_onet(x)):
        np.testing.assert_allclose(ours, ref, atol=2e-5)


@pytest.mark.parametrize("size,stride,extent", [(3, 2, 23), (3, 2, 22), (2, 2, 9), (2, 2, 10)])
def test_same_pooling_pads_like_keras(size, stride, extent):
    x = np.random.default_rng(3).normal(size=(1, extent, extent + 1, 2))
    ours = keras_same_max_pool(torch.from_numpy(x.transpose(0, 3, 1, 2)), size, stride)
    np.testing.assert_array_equal(ours.numpy().transpose(0, 2, 3, 1), max_pool(x, size, stride, True))
    assert ours.shape[-2] == math.ceil(extent / stride)
