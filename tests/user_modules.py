"""Users' own torch modules, each wrong in one way (and two that are right), for the tests of
`--critic file.py:NAME` (cli/test_input_refusals.py, cli/test_cli_fuzz.py). Written into a test's folder as nets.py."""

import textwrap

MODULES = textwrap.dedent("""
    import torch

    class Nan(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            return self.layer(x) * float("nan")

    class Single(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            return self.layer(x).float()

    class Constant(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            return x[:, 0] * 0.0

    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(1, 1)

        def forward(self, x):
            raise RuntimeError("my own failure")

    WIDE = torch.nn.Linear(3, 1)
    NOPARAM = torch.nn.Identity()
    NAN = Nan()
    SHAPE = torch.nn.Linear(1, 3)
    SINGLE = Single()
    CONSTANT = Constant()
    BROKEN = Broken()

    GOOD = torch.nn.Sequential(torch.nn.Linear(1, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
    GOOD2 = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))
""")
NAMES = ("WIDE", "NOPARAM", "NAN", "SHAPE", "SINGLE", "CONSTANT", "BROKEN", "GOOD", "GOOD2")


def write(folder):
    """nets.py with every module, and quits.py, a file that calls sys.exit while it loads."""
    (folder / "nets.py").write_text(MODULES)
    (folder / "quits.py").write_text("import sys\nsys.exit(3)\n")
    return folder / "nets.py"
