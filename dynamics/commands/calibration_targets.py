"""What `febm calibrate` measures and when a prediction agrees: shared by the command and its figures."""

QUANTITIES = ("eta_max", "eta_ms", "rate", "spread", "time_to_0.05", "rate_from_start")
MEASURED = ("eta_max", "rate", "time_to_0.05", "rate_from_start", "eta_ms", "spread")
# η_ms and spread cost ~17 min per f: measured when asked for
DEFAULT_QUANTITIES = ("eta_max", "rate", "time_to_0.05", "rate_from_start")
# |predicted/measured − 1| that counts as agreement (the targets; rate_from_start holds itself to rate's)
WITHIN = {"eta_max": 0.01, "rate": 0.10, "rate_from_start": 0.10}
FACTOR = {"time_to_0.05": 2.0, "eta_ms": 1.5, "spread": 1.5}  # max(p/m, m/p) that counts as agreement
