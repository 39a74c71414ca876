"""paper-1d under the reference code's settings (paper1d.REFERENCE_SETTINGS), every curved catalog f."""

import sys
import time
from dataclasses import replace

from febm.dynamics.files import write_json
from febm.dynamics.training import paper1d
from febm.dynamics.training.toy2d_training import all_methods
from febm.threads import limit_threads

limit_threads(1)  # torch and the BLAS under numpy and scipy
out_path = sys.argv[1]
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
seeds = int(sys.argv[3]) if len(sys.argv) > 3 else 2
config = replace(paper1d.REFERENCE_SETTINGS, steps=steps, device="cpu", record_every=100)
t0 = time.time()
report = paper1d.run(seeds=seeds, config=config, names=all_methods()[1:], seed=0, progress=True)
result = {**report.to_json(), "steps": steps, "wall_s": time.time() - t0}
write_json(out_path, result)
print(report.text())
