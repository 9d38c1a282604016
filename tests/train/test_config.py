import tomllib
from pathlib import Path

import pytest

from fverify.errors import FverifyError
from fverify.losses import HEADS
from fverify.train import config as cfg
from fverify.train.config import list_recipes, load_config, schema_table, to_toml

PATH = ["data.path=/data/casia"]
TABLE1 = {"ce": ("softmax", False), "hm-ce": ("softmax", True), "sphereface": ("sphereface", False),
          "hm-sphereface": ("sphereface", True), "arcface": ("arcface", False),
          "hm-arcface": ("arcface", True), "cosface": ("cosface", False), "npt": ("npt", False),
          "amm": ("amm", False)}


def test_bundled_recipes_are_the_papers_table_1_rows():
    synthetic = {"synth-base", "synth-ce", "synth-hm-ce", "synth-arcface", "synth-hm-arcface"}
    assert set(TABLE1) | {"base", "tiny", "demo", "demo-hm"} | synthetic == set(list_recipes())
    for name, (head, hm) in TABLE1.items():
        config = load_config(name, PATH)
        assert (config.name, config.head.name, config.hard_mining.enabled) == (name, head, hm)
        # the paper's recipe, inherited from base
        assert (config.model.arch, config.model.input_size, config.optim.batch_size) == ("iresnet18", [112, 112], 64)
        assert (config.optim.lr, config.optim.momentum, config.optim.weight_decay) == (0.01, 0.9, 5e-4)
        assert (config.optim.milestones, config.optim.gamma, config.optim.epochs) == ([8, 12, 16], 0.1, 20)


def test_deltas_are_small():
    # one base and small deltas: no recipe except base repeats the optimiser settings
    for name in set(list_recipes()) - {"base", "tiny", "synth-base", "demo"}:
        text = (Path(cfg.__file__).parent / "recipes" / f"{name}.toml").read_text()
        assert "extends" in text and "[optim]" not in text and len(text.splitlines()) <= 8


def test_set_overrides_and_types():
    config = load_config("arcface", [*PATH, "optim.lr=0.1", "optim.milestones=[2, 4]",
                                     "head.options.margin=0.4", "hard_mining.form=alg1", "optim.epochs=3"])
    assert config.optim.lr == 0.1 and config.optim.milestones == [2, 4]
    assert config.head.options == {"margin": 0.4} and config.hard_mining.form == "alg1"
    assert load_config("ce", [*PATH, "optim.lr=1"]).optim.lr == 1.0  # an integer is a number


@pytest.mark.parametrize("override, named, choices", [
    ("optim.lrr=0.1", "'optim.lrr'", "optim.lr"),
    ("hard_mining.form=eq3", "'hard_mining.form'", "eq2, alg1"),
    ("head.name=magface", "'head.name'", "arcface"),
    ("model.arch=resnet9", "'model.arch'", "iresnet18"),
    ("optim.epochs=zero", "'optim.epochs'", "an integer"),
    ("optim.momentum=1.5", "'optim.momentum'", "[0, 1]"),
    ("head.options.margn=0.3", "'margn'", "margin=0.5"),
    ("nonsense=1", "'nonsense'", "[optim]"),
])
def test_errors_name_the_key_the_source_and_the_choices(override, named, choices):
    with pytest.raises(FverifyError) as caught:
        load_config("arcface", [*PATH, override])
    message = str(caught.value)
    assert named in message and choices in message
    assert f"--set {override}" in message or "resolved config" in message


def test_errors_in_a_file_name_the_file(tmp_path):
    recipe = tmp_path / "mine.toml"
    recipe.write_text('extends = "arcface"\n[optim]\nbatch_size = "big"\n')
    with pytest.raises(FverifyError, match=f"{recipe}: config key 'optim.batch_size' must be an integer"):
        load_config(str(recipe), PATH)
    recipe.write_text('[optim\n')
    with pytest.raises(FverifyError, match="not valid TOML"):
        load_config(str(recipe))


def test_cross_key_checks():
    with pytest.raises(FverifyError, match="data.path"):
        load_config("arcface")
    with pytest.raises(FverifyError, match="not divisible by optim.accumulation"):
        load_config("arcface", [*PATH, "optim.accumulation=5"])
    with pytest.raises(FverifyError, match="increasing"):
        load_config("arcface", [*PATH, "optim.milestones=[12, 8]"])


def test_extends_a_file_beside_it(tmp_path):
    (tmp_path / "mybase.toml").write_text('extends = "cosface"\n[optim]\nepochs = 3\n')
    (tmp_path / "child.toml").write_text('extends = "mybase.toml"\nname = "child"\n')
    config = load_config(str(tmp_path / "child.toml"), PATH)
    assert (config.name, config.head.name, config.optim.epochs) == ("child", "cosface", 3)


def test_resolved_toml_reads_back_the_same_config(tmp_path):
    config = load_config("hm-arcface", [*PATH, "head.options.margin=0.45", 'validation.pairs="a \\"b\\".txt"'])
    (tmp_path / "config.toml").write_text(to_toml(config))
    assert load_config(str(tmp_path / "config.toml")) == config
    assert tomllib.loads(to_toml(config))["hard_mining"]["enabled"] is True


def test_choices_are_the_registries():
    from fverify.data.training import TRAINING_SET_KINDS

    assert cfg.HEAD_NAMES == tuple(HEADS)
    assert cfg.DATA_KINDS == tuple(TRAINING_SET_KINDS)


def test_readme_holds_exactly_the_schema_table():
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = schema_table()
    assert table in readme
    # every key appears once: the table is complete, not a stale copy beside a new one
    assert readme.count("| `optim.lr` |") == 1 and table.count("\n") > 40
