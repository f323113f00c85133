"""The CXL Device Register block: a capability array a driver walks to find the status registers and mailbox.

Layout (Linux drivers/cxl/cxl.h `cxl_probe_device_regs`: the array register at 0, then one 16-byte header
per capability at 0x10 * n: [15:0] ID, [23:16] version, offset at +4, length at +8):

    0x0000  Capabilities Array    ID 0, version 1, count 3 in [47:32]
    0x0010  header: Device Status          (ID 0x0001) at 0x0100, 8 bytes
    0x0020  header: Primary Mailbox        (ID 0x0002) at 0x1000, 0x20 + payload size
    0x0030  header: Memory Device Status   (ID 0x4000) at 0x0200, 8 bytes
    0x0100  Event Status   u32: bit n set while event log n holds records (Linux CXLDEV_EVENT_STATUS_*)
    0x0200  Memory Device Status u64: bits[3:2] media status (1 ready, 3 disabled), bit 4 mailbox ready
    0x1000  the mailbox (mailbox.py)

Offsets are this model's choice; a driver finds them through the headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...bus import AccessFault

if TYPE_CHECKING:
    from .type3 import Type3Device

CAP_DEVICE_STATUS, CAP_PRIMARY_MAILBOX, CAP_MEMDEV_STATUS = 0x0001, 0x0002, 0x4000
DEVICE_STATUS_OFFSET = 0x0100
MEMDEV_STATUS_OFFSET = 0x0200
MAILBOX_OFFSET = 0x1000
MEDIA_READY, MEDIA_DISABLED = 1, 3
MBOX_IF_READY = 1 << 4


class DeviceRegisters:
    checkpoint_stateless = True  # a view: the state is the Type3Device's

    def __init__(self, device: Type3Device) -> None:
        self.device = device
        self.mailbox = device.mailbox
        self.size = (MAILBOX_OFFSET + self.mailbox.size + 0xFFF) & ~0xFFF

    def _header(self) -> bytes:
        caps = (
            (CAP_DEVICE_STATUS, DEVICE_STATUS_OFFSET, 8),
            (CAP_PRIMARY_MAILBOX, MAILBOX_OFFSET, self.mailbox.size),
            (CAP_MEMDEV_STATUS, MEMDEV_STATUS_OFFSET, 8),
        )
        out = bytearray((0 | 1 << 16 | len(caps) << 32).to_bytes(16, "little"))
        for cap_id, offset, length in caps:
            out += (cap_id | 1 << 16).to_bytes(4, "little") + offset.to_bytes(4, "little")
            out += length.to_bytes(4, "little") + bytes(4)
        return bytes(out)

    def memdev_status(self) -> int:
        media = MEDIA_DISABLED if self.device.media_disabled else MEDIA_READY
        return media << 2 | MBOX_IF_READY

    def load(self, off: int, size: int) -> int:
        if off < 0 or off + size > self.size:
            raise AccessFault
        if off >= MAILBOX_OFFSET:
            if off - MAILBOX_OFFSET + size > self.mailbox.size:
                return 0  # padding after the payload area
            return self.mailbox.load(off - MAILBOX_OFFSET, size)
        block = bytearray(MAILBOX_OFFSET)
        header = self._header()
        block[: len(header)] = header
        block[DEVICE_STATUS_OFFSET : DEVICE_STATUS_OFFSET + 4] = self.device.event_logs.status.to_bytes(4, "little")
        block[MEMDEV_STATUS_OFFSET : MEMDEV_STATUS_OFFSET + 8] = self.memdev_status().to_bytes(8, "little")
        return int.from_bytes(block[off : off + size], "little")

    def store(self, off: int, size: int, value: int) -> None:
        if off < 0 or off + size > self.size:
            raise AccessFault
        if off >= MAILBOX_OFFSET and off - MAILBOX_OFFSET + size <= self.mailbox.size:
            self.mailbox.store(off - MAILBOX_OFFSET, size, value)
        # everything else here is read-only
