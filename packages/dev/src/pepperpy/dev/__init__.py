"""PepperPy dev tools: debugging, profiling, progress bars and ``pepperpy doctor``.

- :func:`debug` prints expressions with their values and where they were printed.
- :func:`format_exception` / :func:`install_excepthook`: tracebacks with library
  frames folded and secrets masked.
- :class:`profile`, :func:`measure`, :class:`TaskTimer`: where time and memory go.
- :func:`progress`: a progress bar for sync and async iterables.
- :func:`doctor` / :func:`info`: what is installed, and whether the namespace is sound
  (also the ``pepperpy doctor`` command).
"""

from pepperpy.core import redact_text
from pepperpy.dev._debug import debug, format_exception, install_excepthook
from pepperpy.dev._doctor import DoctorReport, doctor, info
from pepperpy.dev._errors import ERRORS
from pepperpy.dev._profile import Measurement, ProfileReport, TaskTimer, measure, profile
from pepperpy.dev._progress import Progress, progress
from pepperpy.dev._version import __version__

__all__ = [
    "ERRORS",
    "DoctorReport",
    "Measurement",
    "ProfileReport",
    "Progress",
    "TaskTimer",
    "__version__",
    "debug",
    "doctor",
    "format_exception",
    "info",
    "install_excepthook",
    "measure",
    "profile",
    "progress",
    "redact_text",
]
