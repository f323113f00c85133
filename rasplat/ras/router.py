"""Where memory errors are logged: the RERI bank (and record) that owns each memory region.

A memory node's `rasplat,reri-bank = <&bank>` (or `<&bank record>`) attaches its region to a bank. The router
logs a hart's consumption of poison there as the RERI spec describes it (UEC, ec = 2 "corrupted data access",
c = 1, ait = 1 SPA, tt = 4 explicit read / 5 explicit write), and gives backends an `error_sink` for the
errors they detect themselves (ECC CE/UE, scrub, CXL, pmem media errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..platform import Platform
    from ..reri import ReriBank

EC_CORRUPTED_DATA_ACCESS = 2
TT_READ, TT_WRITE = 4, 5


class RasRouter:
    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.banks: dict[str, tuple[ReriBank, int]] = {}  # region name -> (bank, record)
        platform.events.subscribe(self._event)

    def attach(self, region: str, bank: ReriBank, record: int = 0) -> None:
        self.banks[region] = (bank, record)

    def sink(self, region: str) -> Callable[[dict], None]:
        """An error_sink for the backend of `region`: logs what the backend reports into the region's bank."""

        def log(report: dict) -> None:
            target = self.banks.get(region)
            if target is None:
                return
            bank, record = target
            severity = report["severity"].upper()
            bank.log(record, severity, ec=report["ec"], addr=report.get("addr"), ait=report.get("ait", 1),
                     tt=report.get("tt", 0), scrub=report.get("scrub", False), c=severity == "UEC",
                     info=report.get("syndrome", 0) or 0)  # fmt: skip

        return log

    def _event(self, event: dict) -> None:
        if event["kind"] != "poison.consume":
            return
        target = self.banks.get(event.get("region") or "")
        if target is None:
            return
        bank, record = target
        tt = TT_WRITE if event["access"] in ("store", "amo") else TT_READ
        bank.log(record, "UEC", ec=EC_CORRUPTED_DATA_ACCESS, c=True, addr=event["addr"], ait=1, tt=tt)

    def describe(self) -> dict[str, Any]:
        return {region: f"{bank.name} record {record}" for region, (bank, record) in self.banks.items()}
