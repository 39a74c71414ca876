"""febm.threads: --threads caps every BLAS pool, and serial() runs one thread and restores the caps."""

import json
import os


def test_limit_threads_caps_pools_loaded_before_it(tmp_path):
    """--threads reaches the BLAS under numpy and scipy too, even when they were loaded first
    (environment variables alone only reach libraries loaded later)."""
    import subprocess
    import sys

    code = ("import json, numpy, scipy.linalg, torch\n"
            "from febm.threads import limit_threads, thread_counts\n"
            "limit_threads(1)\nprint(json.dumps(thread_counts()))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         check=True).stdout
    counts = json.loads(out)
    assert counts["openblas"] == 1 and counts["torch"] == 1 and set(counts.values()) == {1}, counts


def test_serial_runs_one_thread_a_pool_and_restores_the_caps(tmp_path):
    """`serial()` (the node-space flows and the LSODA runner) puts every pool at one thread for its
    block, as a context and as a decorator, and gives back the cap --threads set."""
    import subprocess
    import sys

    code = ("import json, numpy, torch\n"
            "from febm.threads import limit_threads, serial, thread_counts\n"
            "limit_threads(2)\nbefore = thread_counts()\n"
            "with serial():\n    inside = thread_counts()\n"
            "decorated = serial()(thread_counts)()\n"
            "print(json.dumps([before, inside, decorated, thread_counts()]))\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                         check=True).stdout
    before, inside, decorated, after = json.loads(out)
    assert before["torch"] == 2 and before == after, (before, after)
    assert set(inside.values()) == {1} and inside == decorated, inside
