"""theory.md's table of the links' tails for a few f, from febm's tail analysis (no number typed in).

    python -m studies link_tails table    # prints the table
"""

from febm.divergences import resolve
from studies import verb

DESCRIPTION = "theory.md's table of the links' tails for six f, from febm's tail analysis"

NAMES = ("kl", "reverse_kl", "jensen_shannon", "squared_hellinger", "pearson_chi2", "neyman_chi2")


def table(names=NAMES) -> str:
    """Per f: how the weights g' (on data points) and h' (on model points) behave in both tails."""
    lines = ["| f | f''(1) | g'(u), u → −∞ | g'(u), u → +∞ | h'(u), u → −∞ | h'(u), u → +∞ |",
             "| --- | --- | --- | --- | --- | --- |"]
    for name in names:
        d = resolve(name)
        growth = d.tails.by_link
        cells = [growth[link, side].text().replace("|", "\\|") for link in ("g_prime", "h_prime") for side in (-1, 1)]
        lines.append(f"| {d.name} | {d.f2_at_1} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def commands(verbs) -> None:
    verb(verbs, "table", lambda: table(), "theory.md's table")
