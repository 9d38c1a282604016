"""Suite-wide test settings."""
from hypothesis import settings

# The same examples on every run and machine (CI must be deterministic), and no per-example
# deadline: a shared 2-core machine makes wall-clock deadlines flaky.
settings.register_profile("fverify", derandomize=True, deadline=None)
settings.load_profile("fverify")
