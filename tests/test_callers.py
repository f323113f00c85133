"""Every caller the patch names, with a poisoned source line: the kernel model reacts as Linux does, on
RISC-V today (memory_failure_queue is a stub) and on a platform with memory_failure."""

from __future__ import annotations

import pytest

import rasplat
from rasplat.scenarios import SCENARIOS, run_scenario

SIGBUS, SIGKILL = 7, 9
BUS_ADRERR, BUS_MCEERR_AR = 2, 4  # <asm-generic/siginfo.h>
EHWPOISON, ENOMEM, EFAULT = 133, 12, 14


def run(name: str, memory_failure: str = "riscv-today", **platform: object) -> tuple[dict, rasplat.Platform]:
    plat = rasplat.Platform.default(**platform)
    plat.memory_failure = memory_failure
    return run_scenario(name, plat), plat


def sigbus(task: dict, code: int, lsb: int | None = None) -> None:
    assert task["state"] == "killed" and task["exit_code"] == 128 + SIGBUS
    (signal,) = task["signals"]
    assert (signal["signo"], signal["code"], signal["addr_lsb"]) == (SIGBUS, code, lsb)


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_cow_by_a_user_store_kills_only_the_writer(mf: str) -> None:
    """The child's U-mode store takes a store page fault (15), wp_page_copy's copy hits poison, memcpy_mc is
    fixed up, -EHWPOISON -> VM_FAULT_HWPOISON -> SIGBUS. RISC-V's mm_fault_error sends BUS_ADRERR with no
    si_addr_lsb (x86/arm64 would send BUS_MCEERR_AR). The parent keeps running and exits normally."""
    outcome, plat = run("cow", mf)
    sigbus(outcome["child"], BUS_ADRERR)
    assert outcome["child"]["signals"][0]["addr"] == 0x2000_0100
    assert outcome["parent"]["state"] == "exited" and outcome["parent"]["exit_code"] == 0
    faults = plat.events.of_kind("page_fault")
    assert faults[0]["cause"] == 15 and faults[0]["fault"] == "VM_FAULT_HWPOISON"
    assert plat.events.of_kind("fixup"), "the copy survived through the exception table"
    if mf == "supported":
        assert outcome["page_hwpoison"] and outcome["memory_failure"][0]["action_result"] == "Recovered"
    else:
        assert not outcome["page_hwpoison"] and outcome["memory_failure"] == []
        assert plat.events.of_kind("mf.queue")[0]["queued"] is False


def test_cow_without_the_arch_hook_panics() -> None:
    outcome, plat = run("cow", arch_copy_mc=False)
    assert "Oops - hardware error" in outcome["panic"]


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_do_cow_fault(mf: str) -> None:
    outcome, _ = run("do-cow-fault", mf)
    sigbus(outcome["task"], BUS_ADRERR)
    if mf == "supported":
        assert outcome["memory_failure"][0]["page_type"] == "clean LRU page"


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_fork_of_a_pinned_page_fails(mf: str) -> None:
    outcome, _ = run("fork-pinned", mf)
    assert outcome["fork"] == -ENOMEM
    if mf == "supported":  # the pinned page cannot be unmapped: its owner is killed
        assert outcome["memory_failure"][0]["action_result"] == "Failed"
        assert outcome["parent"]["signals"][0]["signo"] == SIGKILL
    else:
        assert outcome["parent"]["state"] == "runnable"


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_hugetlb_copy(mf: str) -> None:
    outcome, plat = run("hugetlb", mf)
    assert outcome["fault"] == "VM_FAULT_HWPOISON"
    sigbus(outcome["child"], BUS_ADRERR)
    assert plat.events.of_kind("caller")[0]["subpage"] == 37
    if mf == "supported":
        assert outcome["memory_failure"][0]["page_type"] == "huge page"


def isolated(outcome: dict, mf: str, page_type: str = "dirty LRU page") -> None:
    """With memory_failure the queued source pfn is handled after the operation; on RISC-V today nothing is."""
    if mf == "supported":
        assert [(r["page_type"], r["action_result"]) for r in outcome["memory_failure"]] == [(page_type, "Recovered")]
    else:
        assert outcome["memory_failure"] == []


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
@pytest.mark.parametrize("name", ["thp-collapse", "collapse-file"])
def test_khugepaged_gives_scan_copy_mc(name: str, mf: str) -> None:
    outcome, _ = run(name, mf)
    assert outcome["result"] == "SCAN_COPY_MC"
    isolated(outcome, mf)


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
@pytest.mark.parametrize("name", ["migration", "compaction", "numa-balancing"])
def test_folio_mc_copy_fails_the_migration(name: str, mf: str) -> None:
    outcome, _ = run(name, mf)
    assert outcome["ret"] == -EHWPOISON and outcome["page_not_moved"]
    isolated(outcome, mf)


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_ksm_copy(mf: str) -> None:
    outcome, _ = run("ksm", mf)
    assert outcome["ret"] == -EHWPOISON
    sigbus(outcome["task"], BUS_ADRERR)
    isolated(outcome, mf, "free buddy page")  # the SIGBUS'd task exited first: the frame was already free


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_dax_read_under_reports_progress(mf: str) -> None:
    """_copy_mc_to_iter trusts memcpy_mc's count: an aligned 64 KiB read faulting in the unrolled loop reports
    nothing copied, so read(2) gets -EFAULT although 20 KiB did land (the over-estimate the reference notes).
    The source is DAX memory, not a page the kernel manages: nothing is queued for memory_failure."""
    outcome, _ = run("dax-read", mf)
    assert outcome["ret"] == -EFAULT and outcome["bytes_actually_copied"] == 5 * 4096 + 256
    assert outcome["memory_failure"] == []


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_coredump_skips_the_bad_page(mf: str) -> None:
    outcome, _ = run("coredump", mf)
    assert outcome["holes"] == [0x2000_0000 + 2 * 4096]
    isolated(outcome, mf)


@pytest.mark.parametrize("mf", ["riscv-today", "supported"])
def test_user_load_of_poison(mf: str) -> None:
    """A U-mode load consumes poison (cause 19). RISC-V today: SIGBUS BUS_MCEERR_AR with si_addr = the pc and
    no lsb, the page stays; with memory_failure: si_addr = the data address, lsb = PAGE_SHIFT, isolated."""
    outcome, _ = run("user-load", mf)
    if mf == "supported":
        sigbus(outcome["task"], BUS_MCEERR_AR, lsb=12)
        assert outcome["task"]["signals"][0]["addr"] == 0x2000_0000 and outcome["page_hwpoison"]
    else:
        sigbus(outcome["task"], BUS_MCEERR_AR)
        assert outcome["task"]["signals"][0]["addr"] == 0x10010 and not outcome["page_hwpoison"]


def test_every_scenario_is_tested() -> None:
    assert set(SCENARIOS) == {"cow", "do-cow-fault", "fork-pinned", "hugetlb", "thp-collapse", "collapse-file",
                              "migration", "compaction", "numa-balancing", "ksm", "dax-read", "coredump",
                              "user-load"}  # fmt: skip


@pytest.mark.parametrize("policy, expect", [("panic", "panic"), ("isolate", "page.isolate")])
def test_builtin_policies(policy: str, expect: str) -> None:
    plat = rasplat.Platform.default()
    plat.policy = policy
    outcome = run_scenario("migration", plat)
    assert plat.events.of_kind(expect) and (("panic" in outcome) == (policy == "panic"))


def test_an_unanswered_policy_name_is_reported() -> None:
    plat = rasplat.Platform.default()
    plat.policy = "acme-mirorr"  # a typo, or a plugin that is not installed
    run_scenario("migration", plat)
    (decision,) = plat.events.of_kind("policy")
    assert decision["action"] == "propagate"
    assert "no plugin answers recovery policy 'acme-mirorr'" in decision["warning"]
