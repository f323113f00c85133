"""CXL.mem Type-3 memory expander: HDM decode, mailbox, poison list, event records, RAS capability, and a
memory window whose poison bites (reference memory-ras.md §1–§3, Implications B)."""

from .codes import Opcode, RetCode
from .events import (
    DRAM_UUID,
    GENERAL_MEDIA_UUID,
    MEMORY_MODULE_UUID,
    RECORD_SIZE,
    DerType,
    EventLogs,
    GmerType,
    InterruptSetting,
    Log,
    Transaction,
    dram_record,
    general_media_record,
    memory_module_record,
    parse_record,
)
from .hdm import HDMDecoder, HDMRegion, dpa_offset_to_hpa_offset, hpa_offset_to_dpa_offset
from .host import CXLHost, MailboxDriver, MailboxError
from .mailbox import Mailbox
from .poison import PoisonList, Source
from .ras import RasCapability
from .regs import DeviceRegisters
from .type3 import CXLRegion, Type3Device, WindowTarget, window_target

__all__ = [
    "CXLHost", "CXLRegion", "DRAM_UUID", "DerType", "DeviceRegisters", "EventLogs", "GENERAL_MEDIA_UUID",
    "GmerType", "HDMDecoder", "HDMRegion", "InterruptSetting", "Log", "MEMORY_MODULE_UUID", "Mailbox",
    "MailboxDriver", "MailboxError", "Opcode", "PoisonList", "RECORD_SIZE", "RasCapability", "RetCode", "Source",
    "Transaction", "Type3Device", "WindowTarget", "dpa_offset_to_hpa_offset", "dram_record",
    "general_media_record", "hpa_offset_to_dpa_offset", "memory_module_record", "parse_record", "window_target",
]  # fmt: skip
