"""Run under torchrun by test_distributed.py: the tiny recipe on TinyFaces, in N processes."""
import sys

from fverify.train.config import load_config
from fverify.train.loop import train
from tests.train.faces import TinyFaces, tiny_overrides

if __name__ == "__main__":
    out, overrides = sys.argv[1], sys.argv[2:]
    train(load_config("tiny", tiny_overrides() + overrides), out, dataset=TinyFaces(),
          report=lambda line: None)
