"""Sv39 translation on the hart: page faults with stval, permissions with SUM/MXR, A/D updates, superpages,
sfence.vma, and a poisoned page-table entry consuming poison on the walk."""

from __future__ import annotations

import pytest
from rvasm import ECALL, code, csrrs, ld, li, sd

import rasplat
from rasplat.hart.mmu import PTE_A, PTE_D
from rasplat.kernel.pagetable import PageTable

POOL = 0x8400_0000  # physical pages for tables and data
UCODE, UDATA = 0x1000_0000, 0x2000_0000  # user virtual addresses
HANDLER = 0x8300_0000


@pytest.fixture
def rig():
    plat = rasplat.Platform.default()
    pages = iter(range(POOL, POOL + (1 << 24), 4096))
    pt = PageTable(plat.bus, lambda: next(pages))
    hart = plat.harts[0]
    hart.csr["mtvec"] = HANDLER
    hart.hooks[HANDLER] = lambda h: True
    return plat, pt, hart, pages


def run_user(plat, pt, hart, words, priv: int = 0) -> None:
    code_pa = POOL + (8 << 20)
    plat.bus.write(code_pa, code(*words))
    pt.map(UCODE, code_pa, 4096, "rxu" if priv == 0 else "rx")
    hart.csr["satp"] = pt.satp
    hart.pc, hart.priv = UCODE, priv
    hart.set_privilege(priv)
    plat.run(200)


def test_user_load_and_store_translate(rig) -> None:
    plat, pt, hart, pages = rig
    data_pa = next(pages)
    plat.bus.write(data_pa + 8, (0x1122334455667788).to_bytes(8, "little"))
    pt.map(UDATA, data_pa, 4096, "rwu", accessed=False)
    run_user(plat, pt, hart, [li("a1", UDATA), ld("a0", "a1", 8), sd("a0", "a1", 16), ECALL])
    assert hart.csr["mcause"] == 8, "reached the ecall"
    assert hart.x[10] == 0x1122334455667788
    assert plat.bus.read(data_pa + 16, 8) == (0x1122334455667788).to_bytes(8, "little")
    assert pt.lookup(UDATA) & (PTE_A | PTE_D) == PTE_A | PTE_D, "A and D set by the hardware walk"


@pytest.mark.parametrize(
    "perms, words, cause",
    [
        ("ru", [li("a1", UDATA), sd("a0", "a1", 0)], 15),  # store to a read-only page: the COW trigger
        ("wu", [li("a1", UDATA), ld("a0", "a1", 0)], 13),  # W without R is reserved
        ("rw", [li("a1", UDATA), ld("a0", "a1", 0)], 13),  # a supervisor page from U-mode
        (None, [li("a1", UDATA), ld("a0", "a1", 0)], 13),  # not mapped
    ],
)
def test_page_faults_carry_the_virtual_address(rig, perms, words, cause: int) -> None:
    plat, pt, hart, pages = rig
    if perms:
        pt.map(UDATA, next(pages), 4096, perms)
    run_user(plat, pt, hart, words)
    assert (hart.csr["mcause"], hart.csr["mtval"]) == (cause, UDATA)
    assert hart.csr["mepc"] == UCODE + 4 * len(li("a1", UDATA))


def test_supervisor_needs_sum_for_user_pages_and_mxr_for_execute_only(rig) -> None:
    plat, pt, hart, pages = rig
    pt.map(UDATA, next(pages), 4096, "rwu")
    run_user(plat, pt, hart, [li("a1", UDATA), ld("a0", "a1", 0), ECALL], priv=1)
    assert hart.csr["mcause"] == 13, "S-mode load from a U page without SUM faults"
    hart.csr["mstatus"] = hart.csr["mstatus"] | (1 << 18)  # SUM
    run_user(plat, pt, hart, [li("a1", UDATA), ld("a0", "a1", 0), ECALL], priv=1)
    assert hart.csr["mcause"] == 9
    pt.map(UDATA + 4096, next(pages), 4096, "x")
    hart.sfence_vma()
    run_user(plat, pt, hart, [li("a1", UDATA + 4096), ld("a0", "a1", 0), ECALL], priv=1)
    assert hart.csr["mcause"] == 13, "execute-only page is not readable without MXR"
    hart.csr["sstatus"] = hart.csr["sstatus"] | (1 << 19)  # MXR through the sstatus view
    run_user(plat, pt, hart, [li("a1", UDATA + 4096), ld("a0", "a1", 0), ECALL], priv=1)
    assert hart.csr["mcause"] == 9


def test_megapage_and_tlb_needs_sfence_after_remap(rig) -> None:
    plat, pt, hart, pages = rig
    mega = 0x8600_0000
    plat.bus.write(mega + 0x12340, b"\x01" * 8)
    plat.bus.write(mega + 0x100000 + 0x12340, b"\x02" * 8)
    pt.map(0x4000_0000, mega, 2 << 20, "ru", level=1)
    run_user(plat, pt, hart, [li("a1", 0x4001_2340), ld("a0", "a1", 0), ECALL])
    assert hart.x[10] == 0x0101010101010101
    pt.unmap(0x4000_0000, level=1)
    pt.map(0x4000_0000, mega + 0x100000 - 0x100000, 2 << 20, "ru", level=1)  # same frame: TLB agrees anyway
    ptes = pt.pte_address(0x4000_0000, level=1)
    plat.bus.write(ptes, (((mega + (2 << 20)) >> 12) << 10 | 0x53).to_bytes(8, "little"))  # remap, no sfence
    plat.bus.write(mega + (2 << 20) + 0x12340, b"\x03" * 8)
    hart.pc, hart.priv = UCODE, 0
    hart.set_privilege(0)
    plat.run(50)
    assert hart.x[10] == 0x0101010101010101, "the stale translation is still in the TLB (allowed without sfence)"
    hart.sfence_vma()
    hart.pc = UCODE
    hart.set_privilege(0)
    plat.run(50)
    assert hart.x[10] == 0x0303030303030303


def test_poisoned_page_table_entry_is_a_hardware_error(rig) -> None:
    plat, pt, hart, pages = rig
    pt.map(UDATA, next(pages), 4096, "rwu")
    leaf = pt.pte_address(UDATA)
    plat.inject("poison", addr=leaf)
    run_user(plat, pt, hart, [li("a1", UDATA), ld("a0", "a1", 0), ECALL])
    assert (hart.csr["mcause"], hart.csr["mtval"]) == (19, UDATA)
    consume = plat.events.of_kind("poison.consume")[0]
    assert consume["access"] == "ptw" and consume["addr"] == leaf and consume["vaddr"] == UDATA


def test_mprv_translates_machine_mode_data_accesses(rig) -> None:
    plat, pt, hart, pages = rig
    data_pa = next(pages)
    plat.bus.write(data_pa, (42).to_bytes(8, "little"))
    pt.map(UDATA, data_pa, 4096, "rw")
    hart.csr["satp"] = pt.satp
    mcode = 0x8200_0000
    mstatus = (1 << 17) | (1 << 11)  # MPRV, MPP = S
    plat.bus.write(mcode, code(li("a0", mstatus), csrrs("zero", 0x300, "a0"), li("a1", UDATA), ld("a2", "a1", 0),
                               ECALL))  # fmt: skip
    hart.pc = mcode
    plat.run(50)
    assert hart.csr["mcause"] == 11 and hart.x[12] == 42
