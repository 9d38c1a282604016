"""Image decoding, image lists, training datasets and synthetic benchmarks."""
