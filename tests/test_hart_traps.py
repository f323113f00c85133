"""Trap semantics on hand-written machine code: hardware errors are precise, faults carry the right
cause and xtval, delegation and xRET follow the privileged spec, decoded code stays coherent."""

from __future__ import annotations

import pytest
from rvasm import ECALL, MRET, addi, amoadd_d, code, csrrs, csrrw, jal, jalr, ld, li, sb, sd, sw

import rasplat

CODE = 0x8800_0000
DATA = 0x8810_0000
HANDLER = 0x8820_0000  # the trap vector: a hook that stops the run
INTERRUPT = 1 << 63


def setup(*words, priv: int = 3, deleg: int = 0) -> tuple[rasplat.Platform, object]:
    plat = rasplat.Platform.default()
    hart = plat.harts[0]
    plat.bus.write(CODE, code(*words))
    hart.pc = CODE
    hart.csr["mtvec"] = HANDLER
    hart.csr["stvec"] = HANDLER + 0x100
    hart.csr["medeleg"] = deleg
    hart.priv = priv
    hart.hooks[HANDLER] = lambda h: True
    hart.hooks[HANDLER + 0x100] = lambda h: True
    return plat, hart


def test_poisoned_load_is_precise() -> None:
    plat, hart = setup(li("a1", DATA), li("a2", 0x55), sb("a2", "a1", 0x100), ld("a0", "a1", 8), li("a3", 1))
    plat.bus.write(DATA, bytes(range(64)))
    plat.inject("poison", addr=DATA + 8)
    hart.x[10] = 0xDEAD
    plat.run(100)
    ld_pc = CODE + 4 * (len(li("a1", DATA)) + 2)  # after li a1, li a2, sb
    assert hart.csr["mcause"] == 19 and hart.csr["mepc"] == ld_pc and hart.csr["mtval"] == DATA + 8
    assert hart.x[10] == 0xDEAD, "the faulting load must not write rd"
    assert plat.bus.peek(DATA + 0x100, 1) == b"\x55", "the store before the load has happened"
    assert hart.x[13] == 0, "nothing after the load has executed"
    assert hart.pc == HANDLER and hart.priv == 3
    consume = plat.events.of_kind("poison.consume")[0]
    assert consume["pc"] == ld_pc and consume["line"] == DATA and consume["access"] == "load"
    trap = plat.events.of_kind("trap")[0]
    assert trap["cause"] == 19 and trap["epc"] == ld_pc and trap["tval"] == DATA + 8


def test_poisoned_store_and_amo_trap_without_writing() -> None:
    plat, hart = setup(li("a1", DATA), li("a2", 0x77), sd("a2", "a1", 0))
    plat.inject("poison", addr=DATA)
    plat.run(100)
    assert hart.csr["mcause"] == 19 and hart.csr["mtval"] == DATA
    assert plat.bus.peek(DATA, 8) == bytes(8), "a store that consumed poison does not write"
    assert plat.events.of_kind("poison.consume")[0]["access"] == "store"

    plat, hart = setup(li("a1", DATA), li("a2", 5), amoadd_d("a0", "a2", "a1"))
    plat.inject("poison", addr=DATA)
    plat.run(100)
    assert hart.csr["mcause"] == 19 and plat.events.of_kind("poison.consume")[0]["access"] == "amo"


def test_misaligned_load_into_a_poisoned_line() -> None:
    plat, hart = setup(li("a1", DATA + 60), ld("a0", "a1", 0))  # bytes 60..67: the clean line, then the bad one
    plat.inject("poison", addr=DATA + 64)
    plat.run(100)
    assert hart.csr["mcause"] == 19 and hart.csr["mtval"] == DATA + 60


def test_poisoned_code_traps_on_fetch_even_after_it_was_decoded() -> None:
    plat, hart = setup(li("a0", 1), jalr("zero", "ra"))
    hart.x[1] = CODE  # loop: li a0, 1; jr ra
    plat.run(10)
    assert not plat.events.of_kind("trap")
    plat.inject("poison", addr=CODE)
    hart.pc = CODE
    plat.run(10)
    assert hart.csr["mcause"] == 19 and hart.csr["mepc"] == CODE and hart.csr["mtval"] == CODE
    assert plat.events.of_kind("poison.consume")[0]["access"] == "fetch"


@pytest.mark.parametrize(
    "words, cause, tval",
    [
        ((li("a1", 0x1000_0000), ld("a0", "a1", 0)), 5, 0x1000_0000),
        ((li("a1", 0x1000_0000), sd("a0", "a1", 8)), 7, 0x1000_0008),
        ((li("a1", 0x1000_0000), jalr("zero", "a1")), 1, 0x1000_0000),
        ((0x0000_0000,), 2, 0),  # an all-zero parcel is a reserved (illegal) compressed encoding
        ((0xFFFF_FFFF,), 2, 0xFFFF_FFFF),
        ((csrrw("zero", 0xF14, "a0"),), 2, csrrw("zero", 0xF14, "a0")),  # mhartid is read-only
    ],
)
def test_faults_have_their_cause_and_tval(words, cause: int, tval: int) -> None:
    plat, hart = setup(*words)
    plat.run(10)
    assert (hart.csr["mcause"], hart.csr["mtval"]) == (cause, tval)


def test_delegated_hardware_error_from_s_goes_to_s_but_stays_in_m_from_m() -> None:
    for priv, target in ((1, "S"), (3, "M")):
        plat, hart = setup(li("a1", DATA), ld("a0", "a1", 0), priv=priv, deleg=1 << 19)
        hart.csr["mstatus"] = 1 << 1  # SIE
        plat.inject("poison", addr=DATA)
        plat.run(10)
        trap = plat.events.of_kind("trap")[0]
        assert trap["to"] == target
        if target == "S":
            assert hart.csr["scause"] == 19 and hart.csr["sepc"] == CODE + 16 and hart.csr["stval"] == DATA
            status = hart.csr["mstatus"]
            assert status >> 8 & 1 == 1 and status >> 5 & 1 == 1 and status >> 1 & 1 == 0  # SPP=S, SPIE=1, SIE=0
            assert hart.csr["mcause"] == 0, "a trap taken in S does not write mcause"
        else:
            assert hart.csr["mcause"] == 19 and hart.csr["scause"] == 0


def test_mret_to_user_then_ecall() -> None:
    user = CODE + 0x100
    plat, hart = setup(li("a0", user), csrrw("zero", 0x341, "a0"), MRET)
    plat.bus.write(user, code(ECALL))
    plat.run(20)
    assert hart.csr["mcause"] == 8 and hart.csr["mepc"] == user
    assert (hart.csr["mstatus"] >> 11) & 3 == 0, "MPP records U"


def test_interrupts_are_taken_by_priority_and_vectored() -> None:
    # M-mode with MIE set: raise SSIP (1) and STIP (5) together in mip; SSI outranks STI (AIA order).
    plat, hart = setup(li("a0", (1 << 1) | (1 << 5)), csrrs("zero", 0x344, "a0"), li("a1", 1))
    hart.csr["mtvec"] = HANDLER | 1  # vectored
    hart.hooks[HANDLER + 4] = lambda h: True
    hart.csr["mie"] = (1 << 1) | (1 << 5)
    hart.csr["mstatus"] = 1 << 3
    plat.run(20)
    assert hart.csr["mcause"] == INTERRUPT | 1 and hart.pc == HANDLER + 4
    assert hart.csr["mepc"] == CODE + 8, "taken right after the csrrs that made it pending"
    assert hart.x[11] == 0


def test_store_into_decoded_code_is_seen() -> None:
    patched = addi("a0", "zero", 42)
    prologue = [*li("a2", patched)]
    target = CODE + 4 * (len(li("a1", CODE)) + len(prologue))
    # target: li a0, 7; sw a2, 0(a1) (overwrites target); j target -> now runs `li a0, 42`
    plat, hart = setup(li("a1", target), prologue, addi("a0", "zero", 7), sw("a2", "a1", 0), jal("zero", -8))
    steps = len(li("a1", target)) + len(prologue) + 3
    assert plat.run(steps) == steps and hart.x[10] == 7 and hart.pc == target
    plat.run(1)
    assert hart.x[10] == 42, "the instruction stored over the decoded one is the one that ran"


def test_hooks_run_instead_of_the_instruction_and_can_stop() -> None:
    plat, hart = setup(li("a0", 1), li("a0", 2))
    seen = []
    hart.hooks[CODE + 4] = lambda h: seen.append(h.x[10]) or True
    assert plat.run(100) == 1 and seen == [1] and hart.pc == CODE + 4
