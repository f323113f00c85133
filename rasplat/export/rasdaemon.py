"""A sqlite file with rasdaemon's table layout, filled from a trace, so `ras-mc-ctl`-style queries run on it.

The schema is re-created from rasdaemon's documented sqlite layout (table and column names and types as its
`ras-record.c` declares them, mchehab/rasdaemon at 769593be, 2026): facts only, no code. What fills them:

- `mc_event` <- `ecc.ce`, `ecc.ue`: err_type Corrected / Uncorrected / Deferred, label the DIMM label, layers
  (channel, DIMM slot, -1); `grain` holds grain_bits, the log2 the kernel's mc_event tracepoint reports;
- `memory_failure_event` <- `mf.result`: pfn as "0x..." text, as rasdaemon stores it;
- `cxl_poison_event`, `cxl_general_media_event`, `cxl_dram_event`, `cxl_memory_module_event`,
  `cxl_generic_event`, `cxl_overflow_event` <- the kernel model's CXL driver events of the same name (they carry
  the tracepoints' fields); nanosecond device timestamps become text, as rasdaemon converts them;
- `signal_event` <- `signal` with SIGBUS and code >= BUS_OBJERR (rasdaemon's own filter); grp 0 and res 0
  (delivered): the model sends thread-directed signals;
- `reri_event` <- `reri_event`: rasdaemon's columns (severity from the status bits as rasdaemon derives it:
  3 fatal = UEC, 2 recoverable = UED, 1 corrected, 0 informational; source_type 0 cpu, 1 iommu, 2 unknown)
  plus three of rasplat's, `bank`, `record` and `reader`: a bank's err_src_id is its inst_id, 0 unless the
  device tree sets one, so the bank's path is what tells two banks apart.

`timestamp` columns hold the simulated time as rasdaemon formats wall time ("%Y-%m-%d %H:%M:%S %z"), taking
boot as the Unix epoch and one retired instruction as 1 ns, in UTC: the export is the same on every machine.
A `rasplat_event` table maps each row back to the trace (platform, event index, t).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..errors import RasplatError
from ..trace import Trace
from . import platforms_of

_CXL_HEADER = """memdev TEXT, host TEXT, serial INTEGER, log_type TEXT, hdr_uuid TEXT, hdr_flags INTEGER,
    hdr_handle INTEGER, hdr_related_handle INTEGER, hdr_ts TEXT, hdr_length INTEGER, hdr_maint_op_class INTEGER,
    hdr_maint_op_sub_class INTEGER, hdr_ld_id INTEGER, hdr_head_id INTEGER"""
_CXL_MEDIA = """dpa INTEGER, dpa_flags INTEGER, descriptor INTEGER, type INTEGER, transaction_type INTEGER,
    channel INTEGER, rank INTEGER"""
_CXL_PLDM = "pldm_entity_id BLOB, pldm_resource_id BLOB"

# table -> its columns after `id INTEGER PRIMARY KEY, timestamp TEXT`, in rasdaemon's order
_TABLES = {
    "mc_event": """err_count INTEGER, err_type TEXT, err_msg TEXT, label TEXT, mc INTEGER, top_layer INTEGER,
        middle_layer INTEGER, lower_layer INTEGER, address INTEGER, grain INTEGER, syndrome INTEGER,
        driver_detail TEXT""",
    "memory_failure_event": "pfn TEXT, page_type TEXT, action_result TEXT",
    "cxl_poison_event": """memdev TEXT, host TEXT, serial INTEGER, trace_type TEXT, region TEXT, region_uuid TEXT,
        hpa INTEGER, dpa INTEGER, dpa_length INTEGER, source TEXT, flags INTEGER, overflow_ts TEXT,
        hpa_alias0 INTEGER""",
    "cxl_overflow_event": """memdev TEXT, host TEXT, serial INTEGER, log_type TEXT, count INTEGER, first_ts TEXT,
        last_ts TEXT""",
    "cxl_generic_event": f"{_CXL_HEADER}, data BLOB",
    "cxl_general_media_event": f"""{_CXL_HEADER}, {_CXL_MEDIA}, device INTEGER, comp_id BLOB, hpa INTEGER,
        region TEXT, region_uuid TEXT, {_CXL_PLDM}, sub_type INTEGER, cme_threshold_ev_flags INTEGER,
        cme_count INTEGER, hpa_alias0 INTEGER""",
    "cxl_dram_event": f"""{_CXL_HEADER}, {_CXL_MEDIA}, nibble_mask INTEGER, bank_group INTEGER, bank INTEGER,
        row INTEGER, column INTEGER, cor_mask BLOB, hpa INTEGER, region TEXT, region_uuid TEXT, comp_id BLOB,
        {_CXL_PLDM}, sub_type INTEGER, sub_channel INTEGER, cme_threshold_ev_flags INTEGER, cvme_count INTEGER,
        hpa_alias0 INTEGER""",
    "cxl_memory_module_event": f"""{_CXL_HEADER}, event_type INTEGER, health_status INTEGER, media_status INTEGER,
        life_used INTEGER, dirty_shutdown_cnt INTEGER, cor_vol_err_cnt INTEGER, cor_per_err_cnt INTEGER,
        device_temp INTEGER, add_status INTEGER, event_sub_type INTEGER, comp_id BLOB, {_CXL_PLDM}""",
    "signal_event": "sig INTEGER, errorno INTEGER, code INTEGER, comm TEXT, pid INTEGER, grp INTEGER, res INTEGER",
    "reri_event": """err_src_id INTEGER, source_type INTEGER, severity INTEGER, hart_id INTEGER, cluster_id INTEGER,
        status INTEGER, addr_info INTEGER, info INTEGER, suppl_info INTEGER, timestamp_val INTEGER,
        bank TEXT, record INTEGER, reader TEXT""",  # the last three are rasplat's
}
SCHEMA: dict[str, list[tuple[str, str]]] = {
    table: [tuple(column.split()) for column in columns.split(",")]  # type: ignore[misc]
    for table, columns in _TABLES.items()
}
CXL_TABLES = {"cxl_poison": "cxl_poison_event", "cxl_overflow": "cxl_overflow_event",
              "cxl_generic_event": "cxl_generic_event", "cxl_general_media": "cxl_general_media_event",
              "cxl_dram": "cxl_dram_event", "cxl_memory_module": "cxl_memory_module_event"}  # fmt: skip
TABLES = {"ecc.ce": "mc_event", "ecc.ue": "mc_event", "mf.result": "memory_failure_event", "signal": "signal_event",
          "reri_event": "reri_event"}  # fmt: skip
NS_TEXT = frozenset({"hdr_ts", "overflow_ts", "first_ts", "last_ts"})  # nanoseconds since the epoch, as text

SIGBUS, BUS_OBJERR = 7, 3
ERR_TYPE = {"corrected": "Corrected", "uncorrected": "Uncorrected", "deferred": "Deferred"}
ERR_MSG = {"read": "memory read error", "write": "memory read-modify-write error", "scrub": "patrol scrub error"}
SOURCE_TYPE = {"cpu": 0, "hart": 0, "iommu": 1}  # rasdaemon's RERI source types; anything else is 2, unknown


def timestamp(ns: int) -> str:
    """rasdaemon's timestamp text for `ns` nanoseconds after the epoch (UTC)."""
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=ns // 1000)).strftime("%Y-%m-%d %H:%M:%S %z")


def _mc_event(e: dict) -> dict:
    loc = e.get("location") or {}
    detail = " ".join(f"{k}:{loc[k]}" for k in ("rank", "bank", "row", "col") if k in loc)
    return {
        "err_count": e.get("count", 1), "err_type": ERR_TYPE.get(e.get("type"), "Info"),
        "err_msg": ERR_MSG.get(e.get("access"), "memory error"), "label": loc.get("dimm_label", ""),
        "mc": e.get("mc", 0), "top_layer": loc.get("channel", -1), "middle_layer": loc.get("dimm", -1),
        "lower_layer": -1, "address": e.get("address"), "grain": (e.get("grain", 1) - 1).bit_length(),
        "syndrome": e.get("syndrome"),
        "driver_detail": f"{detail} bit:{e.get('bit')} region:{e.get('region')} access:{e.get('access')}".strip(),
    }  # fmt: skip


def _mf_event(e: dict) -> dict:
    return {"pfn": f"{e['pfn']:#x}", "page_type": e.get("page_type"), "action_result": e.get("action_result")}


def _signal_event(e: dict) -> dict | None:
    if e.get("signo") != SIGBUS or (e.get("code") or 0) < BUS_OBJERR:
        return None
    return {"sig": e["signo"], "errorno": 0, "code": e["code"], "comm": e.get("comm"), "pid": e.get("pid"),
            "grp": 0, "res": 0}  # fmt: skip


def _reri_event(e: dict, bank_ids: dict[str, int]) -> dict:
    status = e.get("status") or 0
    severity = 3 if status >> 3 & 1 else 2 if status >> 2 & 1 else 1 if status >> 1 & 1 else 0
    bank = str(e.get("err_src_id"))
    return {
        "err_src_id": bank_ids.get(bank, e["err_src_id"] if isinstance(e.get("err_src_id"), int) else None),
        "source_type": SOURCE_TYPE.get(str(e.get("source_type")).lower(), 2), "severity": severity,
        "hart_id": e.get("hart_id"), "cluster_id": None, "status": status, "addr_info": e.get("addr_info"),
        "info": e.get("info"), "suppl_info": e.get("suppl_info"), "timestamp_val": e.get("timestamp_val"),
        "bank": bank, "record": e.get("record"), "reader": e.get("reader"),
    }  # fmt: skip


def _cxl(e: dict) -> dict:
    return {k: timestamp(e[k]) if k in NS_TEXT and isinstance(e[k], int) else e[k] for k in e}


def _sql(v: Any) -> Any:
    """A value sqlite stores: u64 registers as the signed 64-bit integer rasdaemon binds, lists as JSON."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v - (1 << 64) if 1 << 63 <= v < 1 << 64 else v if -(1 << 63) <= v < 1 << 63 else str(v)
    if isinstance(v, list | dict):
        return json.dumps(v)
    return v


def create(db: sqlite3.Connection) -> None:
    for table, columns in SCHEMA.items():
        cols = ", ".join(f"{name} {kind}" for name, kind in [("id", "INTEGER PRIMARY KEY"), ("timestamp", "TEXT"),
                                                              *columns])  # fmt: skip
        db.execute(f"CREATE TABLE IF NOT EXISTS {table} ({cols})")
    db.execute("CREATE TABLE IF NOT EXISTS rasplat_event (tbl TEXT, row_id INTEGER, platform INTEGER, "
               "platform_label TEXT, event INTEGER, t INTEGER, kind TEXT)")  # fmt: skip


def rows(trace: Trace, platform: int | None = None) -> list[tuple[str, dict, int, int, dict]]:
    """(table, row, platform, event index, event) for every event that fills a rasdaemon table."""
    wanted = set(platforms_of(trace, platform))
    bank_ids: dict[str, int] = {}
    out = []
    for i, (p, e) in enumerate(trace.records):
        if p not in wanted:
            continue
        kind = e.get("kind")
        if kind == "reri.log" and isinstance(e.get("err_src_id"), int):
            bank_ids[e["bank"]] = e["err_src_id"]  # the bank's own id, which the kernel's reri_event leaves out
        convert: Callable[[dict], dict | None] | None = {
            "ecc.ce": _mc_event, "ecc.ue": _mc_event, "mf.result": _mf_event, "signal": _signal_event,
            "reri_event": lambda ev: _reri_event(ev, bank_ids),
        }.get(kind) or (_cxl if kind in CXL_TABLES else None)  # fmt: skip
        table = TABLES.get(kind) or CXL_TABLES.get(kind)
        if convert is None or table is None:
            continue
        try:
            row = convert(e)
        except (KeyError, TypeError, ValueError):
            continue  # an event shaped by another rasplat version: not a row
        if row is not None:
            out.append((table, row, p, i, e))
    return out


def write_rasdaemon(trace: Trace, path: Path, platform: int | None = None) -> Path:
    try:
        path.unlink(missing_ok=True)  # a fresh database, not rows appended to an old one
        db = sqlite3.connect(path)
    except (OSError, sqlite3.Error) as e:
        raise RasplatError(f"{path}: cannot write ({e})") from None
    try:
        db.execute("PRAGMA synchronous = OFF")  # a fresh export file: a crash loses it whole anyway, no fsyncs
        with db:
            create(db)
            for table, row, p, i, e in rows(trace, platform):
                names = [n for n, _ in SCHEMA[table]]
                values = [timestamp(e.get("t", 0)), *(_sql(row.get(n)) for n in names)]
                cur = db.execute(f"INSERT INTO {table} (timestamp, {', '.join(names)}) "
                                 f"VALUES ({', '.join('?' * (len(names) + 1))})", values)  # fmt: skip
                db.execute("INSERT INTO rasplat_event VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (table, cur.lastrowid, p, trace.label(p), i, e.get("t"), e.get("kind")))  # fmt: skip
    except sqlite3.Error as e:
        raise RasplatError(f"{path}: sqlite error ({e})") from None
    finally:
        db.close()
    return path
