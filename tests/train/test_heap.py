import platform
import subprocess
import sys

import pytest

# In a fresh process: the setting is process-wide and this one may have it already.
REFAULTS = """
import resource, torch
from fverify.train.heap import freed_memory_kept, release_freed_memory

def refaults(release=False):
    # page faults of a 60 MB tensor allocated just after a 64 MB one was freed
    torch.ones(64 * 2**20, dtype=torch.uint8)
    if release:
        release_freed_memory()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(60 * 2**20, dtype=torch.uint8)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

before = refaults()
with freed_memory_kept() as kept:
    with freed_memory_kept():  # nested: the outer one decides
        inner = refaults()
    kept_on = refaults()
    released = refaults(release=True)
print(before, kept, inner, kept_on, released, refaults())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_freed_memory_is_reused_without_page_faults_while_kept():
    done = subprocess.run([sys.executable, "-c", REFAULTS], capture_output=True, text=True, check=True)
    before, kept, inner, kept_on, released, after = done.stdout.split()
    pages = 60 * 2**20 // 4096
    assert int(before) >= pages * 0.9  # glibc's default: unmapped when freed, faulted back in
    assert kept == "True" and int(inner) < pages * 0.02
    assert int(kept_on) < pages * 0.02  # leaving a nested use keeps it on
    # handed back before DataLoader workers fork, so they share none of it: faulted in again
    assert int(released) >= pages * 0.9
    # after training, large blocks go back to the kernel again, as by default
    assert int(after) >= pages * 0.9
