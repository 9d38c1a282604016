"""Parameter names and shapes of insightface arcface_torch's published backbones, written out
from its backbones/iresnet.py and backbones/mobilefacenet.py (not from fverify's code), so
the tests can check that fverify's backbones load insightface's backbone.pth files."""
from __future__ import annotations

BN_SHAPES = {"weight": "c", "bias": "c", "running_mean": "c", "running_var": "c", "num_batches_tracked": None}


def batch_norm(prefix: str, channels: int) -> dict[str, tuple[int, ...]]:
    return {f"{prefix}.{name}": ((channels,) if kind else ()) for name, kind in BN_SHAPES.items()}


def iresnet_keys(layers: tuple[int, int, int, int], num_features: int = 512) -> dict[str, tuple[int, ...]]:
    """IResNet(IBasicBlock, layers): stem conv1/bn1/prelu, layer1..4 of IBasicBlocks (the
    first of each has a conv1x1+BN downsample, every stage having stride 2), bn2, fc,
    features (BatchNorm1d)."""
    keys = {"conv1.weight": (64, 3, 3, 3), **batch_norm("bn1", 64), "prelu.weight": (64,)}
    inplanes = 64
    for stage, (planes, blocks) in enumerate(zip((64, 128, 256, 512), layers), start=1):
        for block in range(blocks):
            p = f"layer{stage}.{block}"
            keys.update(batch_norm(f"{p}.bn1", inplanes))
            keys[f"{p}.conv1.weight"] = (planes, inplanes, 3, 3)
            keys.update(batch_norm(f"{p}.bn2", planes))
            keys[f"{p}.prelu.weight"] = (planes,)
            keys[f"{p}.conv2.weight"] = (planes, planes, 3, 3)
            keys.update(batch_norm(f"{p}.bn3", planes))
            if block == 0:
                keys[f"{p}.downsample.0.weight"] = (planes, inplanes, 1, 1)
                keys.update(batch_norm(f"{p}.downsample.1", planes))
            inplanes = planes
    keys.update(batch_norm("bn2", 512))
    keys["fc.weight"] = (num_features, 512 * 7 * 7)
    keys["fc.bias"] = (num_features,)
    keys.update(batch_norm("features", num_features))
    return keys


def _conv_block(prefix: str, in_c: int, out_c: int, kernel: int, groups: int, prelu: bool) -> dict:
    keys = {f"{prefix}.layers.0.weight": (out_c, in_c // groups, kernel, kernel),
            **batch_norm(f"{prefix}.layers.1", out_c)}
    if prelu:
        keys[f"{prefix}.layers.2.weight"] = (out_c,)
    return keys


def _depthwise(prefix: str, in_c: int, out_c: int, groups: int) -> dict:
    # DepthWise: ConvBlock(in_c, groups, 1x1), ConvBlock(groups, groups, 3x3, groups=groups),
    # LinearBlock(groups, out_c, 1x1).
    return {**_conv_block(f"{prefix}.layers.0", in_c, groups, 1, 1, True),
            **_conv_block(f"{prefix}.layers.1", groups, groups, 3, groups, True),
            **_conv_block(f"{prefix}.layers.2", groups, out_c, 1, 1, False)}


def mobilefacenet_keys(num_features: int = 512, blocks=(1, 4, 6, 2), scale: int = 2) -> dict[str, tuple[int, ...]]:
    """get_mbf(fp16, num_features): blocks (1, 4, 6, 2), scale 2."""
    narrow, wide = 64 * scale, 128 * scale
    keys = {**_conv_block("layers.0", 3, narrow, 3, 1, True),
            **_conv_block("layers.1", narrow, narrow, 3, 64, True),
            **_depthwise("layers.2", narrow, narrow, 128)}
    for i in range(blocks[1]):
        keys.update(_depthwise(f"layers.3.layers.{i}", narrow, narrow, 128))
    keys.update(_depthwise("layers.4", narrow, wide, 256))
    for i in range(blocks[2]):
        keys.update(_depthwise(f"layers.5.layers.{i}", wide, wide, 256))
    keys.update(_depthwise("layers.6", wide, wide, 512))
    for i in range(blocks[3]):
        keys.update(_depthwise(f"layers.7.layers.{i}", wide, wide, 256))
    keys.update(_conv_block("conv_sep", wide, 512, 1, 1, True))
    keys.update(_conv_block("features.layers.0", 512, 512, 7, 512, False))
    keys["features.layers.2.weight"] = (num_features, 512)
    keys.update(batch_norm("features.layers.3", num_features))
    return keys
