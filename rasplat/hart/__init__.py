"""The RV64 hart: decode, CSRs, traps and the execute core."""

from .decode import Insn, decode, disassemble
from .hart import Hart
from .trap import Trap, cause_name

__all__ = ["Hart", "Insn", "Trap", "cause_name", "decode", "disassemble"]
