import os

from hypothesis import HealthCheck, settings

# Deterministic property tests: the same examples on every run and machine.
settings.register_profile(
    "febm",
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "febm"))

# One torch thread: the suite's tensors are small, and with two threads on two busy cores (a
# subprocess, a docs build) torch's spinning threads made single operations 10-100x slower.
import torch  # noqa: E402

torch.set_num_threads(1)

# A suite started in the background by a non-interactive shell (`make test-portable &`, nohup, some
# CI runners) inherits SIGINT ignored, and so would every process the tests start. The tests of
# Ctrl-C need Python's default: restore it (found by make test-portable's one-core run).
import signal  # noqa: E402

if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)
