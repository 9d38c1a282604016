"""Measurements behind ``fverify bench``: each target is a library module whose ``run``
returns a result the CLI prints; baselines are measured in the same run."""
