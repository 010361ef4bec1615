"""Configuration files people write: gateway configs and the district registry."""

from __future__ import annotations

from pathlib import Path

from nzd.config._yaml import format_loc, load_model, read_yaml
from nzd.config.district import (
    BatteryConfig,
    DistrictConfig,
    FlexibleLoadConfig,
    MeterConfig,
    MeterRole,
    PvConfig,
    SiteConfig,
    TankConfig,
    TariffConfig,
    WaterConfig,
    WaterMeterConfig,
    WaterMeterRole,
    WaterSeverity,
    WaterSource,
)
from nzd.config.gateway import (
    AssetConfig,
    BrokerConfig,
    BufferConfig,
    DeviceConfig,
    FallbackConfig,
    GatewayConfig,
    RtuTransport,
    SerialBusConfig,
    TcpTransport,
    TlsConfig,
)
from nzd.config.limits import (
    BATTERY_QUANTITY,
    LOAD_QUANTITY,
    PUMP_QUANTITY,
    SetpointLimit,
    setpoint_limits,
)
from nzd.config.settlement import Region, SettlementConfig, SharingRule, TipClass

__all__ = [
    "BATTERY_QUANTITY",
    "LOAD_QUANTITY",
    "PUMP_QUANTITY",
    "AssetConfig",
    "BatteryConfig",
    "BrokerConfig",
    "BufferConfig",
    "DeviceConfig",
    "DistrictConfig",
    "FallbackConfig",
    "FlexibleLoadConfig",
    "GatewayConfig",
    "MeterConfig",
    "MeterRole",
    "PvConfig",
    "Region",
    "RtuTransport",
    "SerialBusConfig",
    "SetpointLimit",
    "SettlementConfig",
    "SharingRule",
    "SiteConfig",
    "TankConfig",
    "TariffConfig",
    "TcpTransport",
    "TipClass",
    "TlsConfig",
    "WaterConfig",
    "WaterMeterConfig",
    "WaterMeterRole",
    "WaterSeverity",
    "WaterSource",
    "format_loc",
    "load_district",
    "load_gateway_config",
    "load_model",
    "read_yaml",
    "setpoint_limits",
]


def load_gateway_config(path: str | Path) -> GatewayConfig:
    return load_model(path, GatewayConfig)


def load_district(path: str | Path) -> DistrictConfig:
    return load_model(path, DistrictConfig)
