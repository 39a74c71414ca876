"""Text that a parser, a resolver or the command line must refuse in one line (or accept): shared by
divergences/test_parser.py and cli/test_cli_fuzz.py."""

GARBAGE = [
    "", " ", "\x00", "t\r\n+1", "t\t*\x0b2", "t^2", "t**", "**t", "(((((", ")))))",
    "t*" * 300, "(" * 50 + "t" + ")" * 50,
    "t*1٠5", "t*１２", "ｔ", "t·2", "t×2", "t−1", "t*1e999", "t*" + "9" * 40, "2**64**64**64", "exp(710100)",
    "cosh(cosh(62093))", "__import__('os').system('touch CANARY')", "t.__class__", "lambda: 0", "exec('1')",
    "[t]", "{t}", "t;1", "t,1", "t if t else t", "'t'", '"t"', "t@t", "t%2", "t//2", "t==1", "t!", "∞", "t**t",
    "alpha", "beta", "x", "T", "log()", "log(t,2)", "exp(t)(t)", "1/(t-t)", "t/0", "0**-1", "sqrt(-1)", "log(-1)",
]
