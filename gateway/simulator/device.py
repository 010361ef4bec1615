"""One simulated device: its model, its register images and the hook pymodbus calls per request.

A profile may put some points on another unit id (a Victron GX answers per
service); the device then serves one pymodbus device per unit id, all fed by
the same model.
"""

from __future__ import annotations

import functools
import logging
import random
import zlib
from collections import defaultdict
from typing import Any

from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.simulator import DataType as SimType
from pymodbus.simulator import SimData, SimDevice
from pymodbus.simulator.simutils import SimUtils

from gateway.decode import Reading, decode
from gateway.profiles import DataType, Point, Profile, Table, load_profile
from gateway.simulator.config import Faults, SimDeviceConfig
from gateway.simulator.model import DeviceModel, Site
from gateway.simulator.registers import RegisterImage, table_spans

__all__ = ["SimulatedDevice"]

log = logging.getLogger(__name__)

_LETTER = {Table.COIL: "c", Table.DISCRETE: "d", Table.HOLDING: "h", Table.INPUT: "i"}
_READ_CODES = {1, 2, 3, 4}
_WRITE_CODES = {5: Table.COIL, 6: Table.HOLDING, 15: Table.COIL, 16: Table.HOLDING}
_NO_FAULTS = Faults()
Blocks = dict[str, tuple[int, int, list[int], list[int]]]


class SimulatedDevice:
    def __init__(self, cfg: SimDeviceConfig, profile: Profile | None = None, *, site: Site,
                 seed: int = 0) -> None:
        static: dict[int, int] = {}
        if cfg.sunspec is not None:
            from gateway.modbus.sunspec import build_profile, sunspec_image

            layout, static = sunspec_image(cfg.sunspec, base=cfg.sunspec_base, model=cfg.name)
            profile = build_profile(layout)
        elif profile is None:
            profile = load_profile(cfg.profile)
        self.cfg = cfg
        self.name = cfg.name
        self.unit_id = cfg.unit_id
        self.profile = profile
        self.points: list[Point] = profile.resolve(cfg.profile_options)
        self.model = DeviceModel(cfg, kind=profile.kind, points=self.points, site=site, seed=seed)
        by_unit: dict[int, list[Point]] = defaultdict(list)
        for p in self.points:
            by_unit[p.unit_id if p.unit_id is not None else cfg.unit_id].append(p)
        self.images: dict[int, RegisterImage] = {u: RegisterImage(pts) for u, pts in by_unit.items()}
        self.static_words: dict[int, int] = static
        """Holding registers of the main unit that never change (SunSpec marker, model headers)."""
        if static:
            self.images[cfg.unit_id].words.setdefault(Table.HOLDING, {}).update(static)
        self.faults: Faults = cfg.faults
        self._faults_on = cfg.faults.start is None
        """Whether the faults apply now (their time window), set at each refresh."""
        self.rng = random.Random(seed + zlib.crc32(cfg.name.encode()) + 1)
        self._blocks: dict[int, Blocks] = {}
        self.requests = 0
        self.writes = 0

    @property
    def unit_ids(self) -> list[int]:
        return sorted(self.images)

    # -- pymodbus devices -------------------------------------------------------------

    def sim_devices(self) -> list[SimDevice]:
        """One pymodbus device per unit id the profile uses."""
        return [self._sim_device(u) for u in self.unit_ids]

    def _sim_device(self, unit: int) -> SimDevice:
        image = self.images[unit]
        limits = self.profile.limits
        spans = table_spans(image.points, limits)
        if unit == self.unit_id and self.static_words:
            lo, hi = spans.get(Table.HOLDING, (min(self.static_words), max(self.static_words)))
            spans[Table.HOLDING] = (min(lo, min(self.static_words)), max(hi, max(self.static_words)))
        forbidden = {t: [(r.start, r.end) for r in limits.forbidden if r.table == t] for t in Table}
        blocks: list[list[SimData]] = []
        for table in (Table.COIL, Table.DISCRETE, Table.HOLDING, Table.INPUT):
            span = spans.get(table)
            if table.is_bits:
                a, b = span if span else (0, 15)
                blocks.append([SimData(a, count=b - a + 1, values=False, datatype=SimType.BITS)])
            elif span is None:
                blocks.append([SimData(0, count=1, datatype=SimType.INVALID)])
            else:
                blocks.append(_register_runs(span, forbidden[table]))
        return SimDevice(unit, simdata=(blocks[0], blocks[1], blocks[2], blocks[3]),
                         action=functools.partial(self._action, unit))

    def attach(self, unit: int, runtime: Any) -> None:
        """Keep the pymodbus runtime's register lists, which the server answers from."""
        self._blocks[unit] = runtime.block

    # -- time -----------------------------------------------------------------------

    def refresh(self, t: float) -> None:
        """Advance the model to ``t`` and write its values into the served registers."""
        self.model.advance(t)
        on = self.faults.active_at(t)
        if on != self._faults_on and self.faults != _NO_FAULTS:
            log.info("%s: injected faults %s", self.name, "begin" if on else "end")
        self._faults_on = on
        nan = self.faults.nan if on else []
        values: dict[str, float | str] = {
            p.quantity: f"NZD-SIM {self.name}" if p.type is DataType.STRING
            else _clamp(p, self.model.values.get(p.quantity, 0.0))
            for p in self.points
        }
        for unit, image in self.images.items():
            image.update(values, nan=nan)
            self._push(unit, image)

    def _push(self, unit: int, image: RegisterImage) -> None:
        blocks = self._blocks.get(unit, {})
        for table, words in image.words.items():
            block = blocks.get(_LETTER[table])
            if block is None:
                continue
            start, count, regs, _ = block
            if table.is_bits:
                for addr, w in words.items():
                    i = addr // 16 - start
                    if 0 <= i < count:
                        bits = SimUtils.registersToBits([regs[i]])
                        bits[addr % 16] = bool(w)
                        regs[i] = SimUtils.bitsToRegisters(bits)[0]
                continue
            for addr, w in words.items():
                i = addr - start
                if 0 <= i < count:
                    regs[i] = w

    def served(self) -> dict[str, Reading]:
        """What a correct master decodes from the registers now, by quantity."""
        out: dict[str, Reading] = {}
        for image in self.images.values():
            for p in image.points:
                table = image.words.get(p.table, {})
                words = [table.get(a, 0) for a in range(p.address, p.address + p.count)]
                sf = table.get(p.scale_factor, 0) if p.scale_factor is not None else None
                out[p.quantity] = decode(p, words, sf)
        return out

    # -- per request ------------------------------------------------------------------

    async def _action(self, unit: int, function_code: int, start_address: int, address: int, count: int,
                      current_registers: list[int],
                      set_values: list[int] | list[bool] | None) -> ExcCodes | None:
        self.requests += 1
        f = self.faults if self._faults_on else _NO_FAULTS
        if f.timeout and self.rng.random() < f.timeout:
            raise NoSuchIdException("simulated timeout: no answer")  # the server stays silent
        if function_code in _READ_CODES and f.exception_code and self.rng.random() < f.exception_rate:
            return ExcCodes(f.exception_code)
        if function_code in _WRITE_CODES and set_values is not None:
            return self._write(unit, _WRITE_CODES[function_code], address, [int(v) for v in set_values])
        return None

    def _write(self, unit: int, table: Table, address: int, words: list[int]) -> ExcCodes | None:
        image = self.images[unit]
        end = address + len(words) - 1
        touched = [p for p in image.points if p.table is table and p.address <= end and address <= p.end]
        if not touched or any(not p.writable for p in touched):
            return ExcCodes.ILLEGAL_ADDRESS
        regs = image.words.setdefault(table, {})
        updates: list[tuple[Point, float]] = []
        for p in touched:
            new = [regs.get(a, 0) for a in range(p.address, p.end + 1)]
            for i, w in enumerate(words):
                if p.address <= address + i <= p.end:
                    new[address + i - p.address] = w
            sf = regs.get(p.scale_factor, 0) if p.scale_factor is not None else None
            reading = decode(p, new, sf)
            value = reading.value
            if not isinstance(value, int | float) or reading.quality is not None:
                return ExcCodes.ILLEGAL_VALUE
            assert p.write_min is not None and p.write_max is not None
            if not p.write_min <= value <= p.write_max:
                return ExcCodes.ILLEGAL_VALUE
            updates.append((p, float(value)))
        for i, w in enumerate(words):
            regs[address + i] = w & 0xFFFF
        for p, value in updates:
            self.model.write(p.quantity, value)
            log.info("%s: %s set to %s", self.name, p.quantity, value)
        self.writes += 1
        return None


def _register_runs(span: tuple[int, int], forbidden: list[tuple[int, int]]) -> list[SimData]:
    """Served addresses as runs of registers; forbidden ranges stay out (they answer exception 2)."""
    runs: list[SimData] = []
    a, b = span
    start = a
    for fa, fb in sorted(forbidden):
        if fb < start or fa > b:
            continue
        if fa > start:
            runs.append(SimData(start, count=fa - start, values=0, datatype=SimType.REGISTERS))
        start = fb + 1
    if start <= b:
        runs.append(SimData(start, count=b - start + 1, values=0, datatype=SimType.REGISTERS))
    return runs or [SimData(a, count=1, datatype=SimType.INVALID)]


def _clamp(p: Point, value: float) -> float:
    if p.valid_min is not None:
        value = max(value, p.valid_min)
    if p.valid_max is not None:
        value = min(value, p.valid_max)
    return value
