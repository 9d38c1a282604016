"""Benchmarks behind ``fverify bench``: each measures fverify against a baseline in the same run."""
