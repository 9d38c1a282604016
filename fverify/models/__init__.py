"""Face-recognition backbones, checkpoints and the one Embedder interface over every model
format (fverify checkpoint, bare state dict, TorchScript, ONNX, a Python callable).

Importing this package does not import torch; the modules that run a model do.
"""
