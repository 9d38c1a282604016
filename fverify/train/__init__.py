"""The trainer behind ``fverify train``: config (schema, recipes), the training loop, learning
rate schedule, processes (torchrun / DDP), checkpoints and resume, the metrics log, per-epoch
validation through the verification run path."""
