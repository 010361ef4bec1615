"""``nzd config check`` and ``nzd config schema``."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel

from nzd.config import DistrictConfig, GatewayConfig, format_loc, load_model, read_yaml
from nzd.errors import ConfigError

__all__ = ["config_app", "detect_kind"]

config_app = typer.Typer(help="Validate configuration files and print their JSON Schema.",
                         no_args_is_help=True)


def _profile_model() -> type[BaseModel]:
    module = importlib.import_module("gateway.profiles")
    model: type[BaseModel] = module.Profile
    return model


def _simulator_model() -> type[BaseModel]:
    module = importlib.import_module("gateway.simulator.config")
    model: type[BaseModel] = module.SimulatorConfig
    return model


def _scenario_model() -> type[BaseModel]:
    module = importlib.import_module("coordinator.scenarios")
    model: type[BaseModel] = module.ScenarioSpec
    return model


def _models() -> dict[str, Callable[[], type[BaseModel]]]:
    return {
        "gateway": lambda: GatewayConfig,
        "district": lambda: DistrictConfig,
        "profile": _profile_model,
        "simulator": _simulator_model,
        "scenario": _scenario_model,
    }


def detect_kind(data: Any) -> str | None:
    """Which kind of file a parsed YAML document is, from its top-level keys."""
    if not isinstance(data, dict):
        return None
    if "sites" in data:
        return "district"
    if "simulator" in data:
        return "simulator"
    if "surfaces" in data or "representative_days" in data:
        return "scenario"
    if "devices" in data or "gateway" in data:
        return "gateway"
    if "points" in data:
        return "profile"
    return None


def _gateway_references(path: Path, config: GatewayConfig) -> list[str]:
    """Profiles the devices name, and the writable points the assets drive, exist and fit."""
    profiles = importlib.import_module("gateway.profiles")
    _, doc = read_yaml(path)
    errors: list[str] = []
    points_by_device: dict[str, dict[str, Any]] = {}
    for i, device in enumerate(config.devices):
        if device.profile == "sunspec":
            continue  # the register map is discovered from the device at run time (gateway.modbus.sunspec)
        try:
            points = profiles.load_profile(device.profile).resolve(device.profile_options)
        except ConfigError as exc:
            loc: tuple[int | str, ...] = ("devices", i, "profile")
            errors.append(f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: " + "; ".join(exc.errors))
            continue
        points_by_device[device.name] = {p.quantity: p for p in points}
    for i, asset in enumerate(config.assets):
        points = points_by_device.get(asset.device)
        if points is None:
            continue
        point = points.get(asset.point)
        loc = ("assets", i, "point")
        if point is None or not point.writable:
            errors.append(f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: the profile of device "
                          f"{asset.device!r} has no writable point {asset.point!r}")
            continue
        for field, value in (("min_value", asset.min_value), ("max_value", asset.max_value)):
            if not point.write_min <= value <= point.write_max:
                loc = ("assets", i, field)
                errors.append(f"{path}:{doc.line_of(loc)}: {format_loc(loc)}: {value:g} is outside what "
                              f"the device accepts ({point.write_min:g}..{point.write_max:g})")
    return errors


def _load(path: Path, kind: str) -> None:
    if kind == "profile":
        loader = importlib.import_module("gateway.profiles").load_profile
        loader(path)
    elif kind == "scenario":
        importlib.import_module("coordinator.scenarios").load_scenario(path)
    elif kind == "gateway":
        errors = _gateway_references(path, load_model(path, GatewayConfig))
        if errors:
            raise ConfigError(errors)
    else:
        load_model(path, _models()[kind]())


@config_app.command("check")
def check(
    files: list[Path] = typer.Argument(
        ..., help="Gateway configs, district registries, profiles, simulator configs, scenarios."),
    kind: str | None = typer.Option(
        None, help="gateway, district, profile, simulator or scenario; detected when omitted."),
) -> None:
    """Validate files; print every problem as FILE:LINE: FIELD: MESSAGE and exit 1 if any."""
    failed = 0
    for path in files:
        try:
            data, _ = read_yaml(path)
            file_kind = kind or detect_kind(data)
            if file_kind is None or file_kind not in _models():
                raise ConfigError([
                    f"{path}:1: <document>: cannot tell the kind of file "
                    "(expected 'sites', 'devices', 'points' or 'surfaces' at the top; or pass --kind)"
                ])
            _load(path, file_kind)
        except ConfigError as exc:
            failed += 1
            for line in exc.errors:
                typer.echo(line, err=True)
            continue
        typer.echo(f"{path}: ok ({file_kind})")
    if failed:
        typer.echo(f"{failed} of {len(files)} file(s) invalid", err=True)
        raise typer.Exit(1)


@config_app.command("schema")
def schema(kind: str = typer.Argument(..., help="gateway, district or profile")) -> None:
    """Print the JSON Schema of a kind of configuration file (for editors)."""
    models = _models()
    if kind not in models:
        typer.echo(f"unknown kind {kind!r}; choose one of: {', '.join(models)}", err=True)
        raise typer.Exit(2)
    typer.echo(json.dumps(models[kind]().model_json_schema(), indent=2))
