"""The modeled OS: exception table, trap handling, the copy_mc family and its callers."""

from .extable import ExceptionTable, fixup_exception
from .kernel import Kernel, format_oops

__all__ = ["ExceptionTable", "Kernel", "fixup_exception", "format_oops"]
