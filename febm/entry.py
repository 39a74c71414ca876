"""The console entry point (``febm``, ``python -m febm``): every exit path gives an exit code and
at most one line.

- Ctrl-C while Python imports febm, or after the results are written, exits 130 with one line
  (an os-level handler, installed before any heavy import). While a command runs, Ctrl-C raises
  KeyboardInterrupt as usual, so result files are discarded whole (dynamics.files); SIGTERM is
  handled as Ctrl-C is, with exit 143.
- Output that cannot be written (a full disk, a closed pipe) is one line and exit 2.
- On a stream that cannot encode febm's symbols (η, λ, ≤, ∞ ...) they are spelt in ASCII.
"""

from __future__ import annotations

import codecs
import errno
import os
import signal
import sys

INTERRUPTED = "febm: interrupted; files from earlier runs are left as they were"
ASCII = {"η": "eta", "λ": "lambda", "ω": "omega", "θ": "theta", "σ": "sigma", "μ": "mu", "κ": "kappa",
         "ν": "nu", "ρ": "rho", "α": "alpha", "≤": "<=", "≥": ">=", "−": "-", "×": "x", "∞": "inf",
         "→": "->", "±": "+-", "·": "*", "´": "'", "′": "'", "≈": "~", "≠": "!=", "‖": "||", "∈": "in",
         "²": "^2", "³": "^3", "⁴": "^4", "⁻": "^-", "…": "...", "—": "-", "–": "-", "√": "sqrt",
         "∂": "d", "∇": "grad", "𝒯": "T", "█": "#"}
_OUTPUT_ERRORS = (errno.ENOSPC, errno.EPIPE, errno.EIO, errno.EFBIG, errno.EDQUOT)


DONE = "febm: interrupted after the results were written (they are whole)"
_said = [INTERRUPTED]  # what a Ctrl-C handled by the os-level handler says: before the work, or after it


def _quit(signum, frame) -> None:
    os.write(2, f"\n{_said[0]}\n".encode())
    os._exit(128 + signum)  # 130 for Ctrl-C, 143 for SIGTERM


def _ascii_fallback(exc: UnicodeEncodeError):
    bad = exc.object[exc.start:exc.end]
    return "".join(ASCII.get(ch, "?") for ch in bad), exc.end


codecs.register_error("febm-ascii", _ascii_fallback)


def _closed_streams() -> int | None:
    """A started-closed stream (``febm ... >&-``; Python sets it to None): with stdout closed nothing
    can be written, so one line on stderr and exit 2; with stderr closed, errors go to /dev/null and
    the exit status still tells them (2 for bad input)."""
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w")  # noqa: SIM115 (for the life of the process)
    if sys.stdout is None:
        os.write(2, b"febm: error: standard output is closed; nothing can be written (discard it with >/dev/null)\n")
        return 2
    return None


def _fallback_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            "η−∞≤".encode(stream.encoding or "ascii")
        except (UnicodeEncodeError, LookupError):
            stream.reconfigure(errors="febm-ascii")


def _terminate(signum, frame) -> None:
    from febm.dynamics.files import Terminated

    raise Terminated


def main(argv=None) -> int:
    signal.signal(signal.SIGINT, _quit)  # during the imports: one line, no traceback
    signal.signal(signal.SIGTERM, _quit)
    closed = _closed_streams()
    if closed is not None:
        return closed
    _fallback_streams()
    from febm.dynamics.commands.cli import end_progress_lines
    from febm.dynamics.commands.cli import main as run

    signal.signal(signal.SIGINT, signal.default_int_handler)  # the commands clean up on KeyboardInterrupt
    signal.signal(signal.SIGTERM, _terminate)  # and on SIGTERM, as on Ctrl-C (dynamics.files.Terminated)
    try:
        code = run(argv)
        sys.stdout.flush()
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRORS:
            raise
        signal.signal(signal.SIGINT, _quit)
        _drop_stdout()
        end_progress_lines()
        os.write(2, f"febm: error: cannot write the output: {exc.strerror}\n".encode())
        return 2
    _said[0] = DONE
    signal.signal(signal.SIGINT, _quit)  # the results are out: a late Ctrl-C is still one line
    signal.signal(signal.SIGTERM, _quit)
    return code


def _drop_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError:
        pass


def console() -> None:
    sys.exit(main())
