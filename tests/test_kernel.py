"""The kernel model: exception-table fixups, oopses, and the generic fallback that dies on poison."""

from __future__ import annotations

import pytest
from rvasm import ECALL, J_SELF, code, jalr, ld, li

import rasplat
from rasplat.elf import ExtableEntry
from rasplat.kernel import format_oops

SRC, DST = 0x8800_0000, 0x8801_0000
SNIPPET = 0x8900_0000
RET = jalr("zero", "ra")
M64 = (1 << 64) - 1


def platform(arch_copy_mc: bool = True) -> rasplat.Platform:
    plat = rasplat.Platform.default(arch_copy_mc=arch_copy_mc)
    plat.bus.write(SRC, bytes((i * 5 + 1) & 0xFF for i in range(8192)))
    return plat


@pytest.mark.parametrize("n", [1, 7, 64, 127, 128, 200, 1000, 4096])
@pytest.mark.parametrize("sa, da", [(0, 0), (1, 1), (3, 6), (4, 0)])
def test_generic_fallback_panics_on_every_poisoned_line(n: int, sa: int, da: int) -> None:
    plat = platform(arch_copy_mc=False)
    src, dst = SRC + sa, DST + da
    for line in range(src & ~63, src + n, 64):
        plat.inject("poison", addr=line)
        with pytest.raises(rasplat.KernelPanic) as info:
            plat.kernel.copy_mc_to_kernel(dst, src, n)
        plat.clear_poison(line)
        oops = info.value.oops
        assert oops["cause"] == 19 and oops["message"] == "Oops - hardware error"
        assert oops["symbol"].startswith("__memcpy+") and oops["insn"].startswith(("lb ", "lw ", "ld "))
        assert line <= oops["tval"] < line + 64
    assert plat.kernel.copy_mc_to_kernel(dst, src, n) == 0, "without poison the fallback copies and returns 0"
    assert plat.bus.read(dst, n) == plat.bus.read(src, n)


def test_oops_reads_like_linux() -> None:
    plat = platform(arch_copy_mc=False)
    plat.inject("poison", addr=SRC + 0x840)
    with pytest.raises(rasplat.KernelPanic, match=r"Oops - hardware error at __memcpy\+0x[0-9a-f]+") as info:
        plat.kernel.copy_mc_to_kernel(DST, SRC, 4096)
    text = format_oops(info.value.oops)
    assert "cause: 0000000000000013" in text and "badaddr: 0000000088000840" in text
    assert "Code: ld " in text and text.endswith("Kernel panic - not syncing: Fatal exception")
    assert plat.events.of_kind("panic")[0]["epc"] == info.value.oops["epc"]


def test_memcpy_mc_survives_and_the_kernel_keeps_running() -> None:
    plat = platform()
    plat.inject("poison", addr=SRC + 200)
    assert plat.kernel.copy_mc_to_kernel(DST, SRC, 4096) == 4096
    kinds = [e["kind"] for e in plat.events if e["kind"] in ("poison.consume", "trap", "fixup", "copy_mc")
             and not e.get("interrupt")]  # fmt: skip
    assert kinds == ["poison.consume", "trap", "fixup", "copy_mc"]
    fixup = plat.events.of_kind("fixup")[0]
    assert fixup["type"] == "FIXUP" and fixup["epc"] == plat.events.of_kind("trap")[0]["epc"]
    assert plat.kernel.copy_mc_to_kernel(DST, SRC + 4096, 4096) == 0
    assert plat.bus.read(DST, 4096) == plat.bus.read(SRC + 4096, 4096)


def test_destination_side_fault_in_memcpy_mc_panics() -> None:
    """Only loads carry fixups (the cover letter's intent): a poisoned destination line is fatal."""
    plat = platform()
    plat.inject("poison", addr=DST + 64)
    with pytest.raises(rasplat.KernelPanic) as info:
        plat.kernel.copy_mc_to_kernel(DST, SRC, 256)
    assert info.value.oops["cause"] == 19 and info.value.oops["insn"].startswith("sd ")
    with pytest.raises(rasplat.KernelPanic, match="store \\(or AMO\\) access fault"):
        plat.kernel.copy_mc_to_kernel(0x1000_0000, SRC, 256)


def test_extable_is_not_cause_gated() -> None:
    """As in RISC-V Linux, fixup_exception ignores the cause: memcpy_mc also turns an access fault into a
    short copy, while plain memcpy (no entries) dies on it."""
    plat = platform()
    assert plat.kernel.copy_mc_to_kernel(DST, 0x1000_0000, 64) == 64
    assert plat.events.of_kind("fixup")[0]["cause"] == 5
    with pytest.raises(rasplat.KernelPanic, match="Oops - load access fault"):
        plat.kernel.memcpy(DST, 0x1000_0000, 64)


def test_uaccess_err_zero_fixup_sets_err_and_zero_registers() -> None:
    plat = platform()
    plat.bus.write(SNIPPET, code(ld("a1", "a0", 0), RET, RET))
    err, zero = 10, 11  # a0 <- -EFAULT, a1 <- 0
    plat.kernel.extable.add([ExtableEntry(SNIPPET, SNIPPET + 8, 3, err | zero << 5)])
    plat.inject("poison", addr=SRC)
    assert plat.kernel.call(SNIPPET, SRC) == -14 & M64
    assert plat.harts[0].x[11] == 0


def test_unknown_extable_type_is_a_bug() -> None:
    plat = platform()
    plat.bus.write(SNIPPET, code(ld("a1", "a0", 0), RET))
    plat.kernel.extable.add([ExtableEntry(SNIPPET, SNIPPET + 4, 9, 0)])
    plat.inject("poison", addr=SRC)
    with pytest.raises(rasplat.KernelPanic, match="kernel BUG: .* unsupported type 9"):
        plat.kernel.call(SNIPPET, SRC)


def test_call_that_never_returns_and_bad_symbols() -> None:
    plat = platform()
    plat.bus.write(SNIPPET, code(J_SELF))
    with pytest.raises(rasplat.RunError, match="did not return within 1000 instructions"):
        plat.kernel.call(SNIPPET, max_steps=1000)
    with pytest.raises(rasplat.ConfigError, match="no symbol 'nosuch'"):
        plat.kernel.call("nosuch")
    with pytest.raises(rasplat.ConfigError, match="at most 8"):
        plat.kernel.call(SNIPPET, *range(9))


def test_sbi_call_from_s_mode_is_answered_not_supported() -> None:
    plat = platform()
    plat.bus.write(SNIPPET, code(li("a7", 0x735049), ECALL, RET))
    assert plat.kernel.call(SNIPPET) == -2 & M64
    assert plat.events.of_kind("sbi")[0]["eid"] == 0x735049
