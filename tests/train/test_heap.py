import platform
import subprocess
import sys

import pytest

# In a fresh process: the setting is process-wide and this one may have it already.
REFAULTS = """
import resource, torch
from fverify.train.heap import keep_freed_memory

def refaults():
    # page faults of a 60 MB tensor allocated just after a 64 MB one was freed
    torch.ones(64 * 2**20, dtype=torch.uint8)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    torch.ones(60 * 2**20, dtype=torch.uint8)
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before

print(refaults(), keep_freed_memory(), refaults())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="the setting is glibc's")
def test_freed_memory_is_reused_without_page_faults_once_kept():
    done = subprocess.run([sys.executable, "-c", REFAULTS], capture_output=True, text=True, check=True)
    before, kept, after = done.stdout.split()
    pages = 60 * 2**20 // 4096
    assert int(before) >= pages * 0.9  # glibc's default: unmapped when freed, faulted back in
    assert kept == "True" and int(after) < pages * 0.02
