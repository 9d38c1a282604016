"""From an image list to embeddings: batched decoding, flip test, cache, sharding across
torchrun processes, and the chance-level sanity guard. Importing it does not import torch.
"""
