import argparse

import pytest

from fverify.cli.options import add_extraction, add_model_format


@pytest.fixture
def parser():
    parser = argparse.ArgumentParser()
    add_model_format(parser)
    add_extraction(parser)
    return parser


def test_model_format_and_extraction_options_parse_to_typed_values(parser):
    args = parser.parse_args(["--arch", "iresnet50", "--color", "BGR", "--mean", "1,2,3", "--std", "127.5",
                              "--input-size", "112x96", "--dtype", "bfloat16", "--workers", "0", "--no-cache"])
    assert (args.arch, args.color, args.mean, args.std) == ("iresnet50", "BGR", (1.0, 2.0, 3.0), (127.5,) * 3)
    assert (args.input_size, args.dtype, args.workers, args.no_cache) == ((112, 96), "bfloat16", 0, True)


def test_defaults_leave_the_model_contract_alone(parser):
    args = parser.parse_args([])
    assert (args.arch, args.color, args.mean, args.std, args.input_size) == (None,) * 5
    assert (args.dtype, args.cache_dir, args.no_progress) == ("auto", None, False)


def test_help_lists_every_architecture(parser):
    assert all(name in parser.format_help() for name in ("iresnet18", "iresnet100", "mobilefacenet"))


def test_bad_values_are_usage_errors(parser):
    for argv in (["--arch", "resnet"], ["--mean", "1,2"], ["--input-size", "big"], ["--dtype", "int8"]):
        with pytest.raises(SystemExit):
            parser.parse_args(argv)
