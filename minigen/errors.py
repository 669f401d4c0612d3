"""The errors of bad input, and the user's line they name (a leaf module)."""
import os
import sys

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


class ShapeError(ValueError):
    """Shapes of an op's inputs do not fit together."""


class DTypeError(TypeError):
    """Dtypes of an op's inputs do not fit together."""


class DeviceError(RuntimeError):
    """The inputs of an op live on different devices."""


def user_line():
    """'file:line' of the innermost stack frame outside the minigen package."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = os.path.abspath(frame.f_code.co_filename)
        if not filename.startswith(_PACKAGE_DIR + os.sep):
            return f"{frame.f_code.co_filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown>"
