"""Atlas predictions against measured training: `compare.py ATLAS.json TRAINING.json`.

paper-1d: ATLAS.json is `febm atlas --lr 1e-3 --steps 20000 --json`, TRAINING.json the output of
paper1d_reference.py. Toys: the outputs of toy2d_atlas.py and toy2d_training.py.
"""

import json
import sys

from against_training import compare_paper_1d, compare_toy2d

with open(sys.argv[1]) as fh:
    atlases = json.load(fh)
with open(sys.argv[2]) as fh:
    training = json.load(fh)
report = compare_paper_1d(atlases, training) if "rows" in atlases else compare_toy2d(atlases, training)
print(report.text())
