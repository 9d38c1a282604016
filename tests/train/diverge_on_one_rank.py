"""Run under torchrun by test_distributed: ``fverify train`` whose loss turns NaN on rank 1 only
(at its third forward pass), to show that every process stops with the same clear error."""
import os
import sys

from fverify.cli import main
from fverify.train.objective import TrainModel

if os.environ.get("RANK") == "1":
    forward = TrainModel.forward
    calls = []

    def diverging_forward(self, images, labels):
        calls.append(1)
        loss = forward(self, images, labels)
        return loss * float("nan") if len(calls) == 3 else loss

    TrainModel.forward = diverging_forward

sys.exit(main(sys.argv[1:]))
