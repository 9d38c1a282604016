"""From an image list to embeddings, and from embeddings to pair scores: batched decoding, flip
test, cache, sharding across torchrun processes, cosine pair scores with video aggregation, and
the chance-level sanity guard. Importing it does not import torch.
"""
