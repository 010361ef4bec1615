"""The compose file of the central stack: structure, secrets only from the environment, files it
mounts exist, and ``docker compose config`` accepts it when the compose plugin is installed."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from nzd.settings import ServiceSettings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
NZD_SERVICES = ("ingest", "coordinator", "api")
REQUIRED = re.compile(r"\$\{([A-Z0-9_]+):\?")
COMPOSE_HINT = ("scripts/install-compose-plugin installs it (the test command runs it), or install "
                "docker-compose-plugin from Docker's apt repository")


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return data


def env_of(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "environment must be a mapping"
    return {k: str(v) for k, v in env.items()}


def test_the_central_stack_is_all_there() -> None:
    services = compose()["services"]
    assert {"mosquitto", "influxdb", *NZD_SERVICES, "grafana"} <= set(services)
    assert services["influxdb"]["image"].startswith("influxdb:2.7")
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:2")
    assert services["grafana"]["image"].startswith("grafana/grafana")


def test_nzd_services_are_built_from_the_dockerfile_that_installs_the_project() -> None:
    services = compose()["services"]
    commands = {name: services[name]["command"] for name in NZD_SERVICES}
    assert commands == {"ingest": ["ingest"], "coordinator": ["coordinator", "run"], "api": ["api"]}
    for name in NZD_SERVICES:
        build = services[name]["build"]
        assert (DEPLOY / build["context"] / build["dockerfile"]).resolve() == DEPLOY / "Dockerfile"
        env = env_of(services[name])
        assert env["NZD_MQTT_URL"] == "mqtt://mosquitto:1883"
        assert env["NZD_INFLUX_URL"] == "http://influxdb:8086"
        settings = ServiceSettings(influx_create_database=env["NZD_INFLUX_CREATE_DATABASE"])  # type: ignore[arg-type]
        assert settings.influx_create_database is False  # 2.7 refuses CREATE DATABASE
        # The accounts of deploy/mosquitto/nzd.acl; one per ingest worker.
        assert env["NZD_MQTT_USERNAME"] == (f"nzd-{name}" if name != "ingest" else "nzd-ingest-1")
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "pip install" in dockerfile and 'ENTRYPOINT ["nzd"]' in dockerfile


def test_secrets_come_only_from_the_environment() -> None:
    for name, service in compose()["services"].items():
        for key, value in env_of(service).items():
            if re.search(r"PASSWORD|TOKEN|SECRET", key):
                assert value.startswith("${") and value.endswith("}"), f"{name}: {key} is written in the file"


def test_every_required_variable_is_documented() -> None:
    required = set(REQUIRED.findall(COMPOSE.read_text()))
    assert required, "the compose file asks for no secrets at all?"
    guide = (DEPLOY.parent / "docs" / "production.md").read_text()
    assert sorted(v for v in required if v not in guide) == []


def test_the_files_it_mounts_exist() -> None:
    services = compose()["services"]
    mosquitto_mounts = [v.split(":")[0] for v in services["mosquitto"]["volumes"]]
    assert "./mosquitto/nzd.acl" in mosquitto_mounts
    assert (DEPLOY / "mosquitto" / "nzd.acl").is_file()
    conf = compose()["configs"]["mosquitto-conf"]["content"]
    assert "acl_file /mosquitto/config/nzd.acl" in conf and "allow_anonymous false" in conf
    assert "use_username_as_clientid true" in conf
    init = DEPLOY / "influxdb" / "init" / "10-nzd-v1.sh"
    assert "./influxdb/init:/docker-entrypoint-initdb.d:ro" in services["influxdb"]["volumes"]
    assert init.stat().st_mode & stat.S_IXUSR, "the init script must be executable"
    script = init.read_text()
    assert "influx v1 dbrp create" in script and "influx v1 auth create" in script
    for mount in services["grafana"]["volumes"]:
        source = mount.split(":")[0]
        if source.startswith("./"):
            assert (DEPLOY / source).is_dir(), source
    provisioning = (DEPLOY / "grafana" / "provisioning" / "datasources" / "nzd-influxdb.yaml").read_text()
    for var in re.findall(r"\$\{(\w+)\}", provisioning):
        assert var in env_of(services["grafana"]), f"Grafana's environment lacks {var}"


def _compose_plugin() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, text=True, timeout=30)
    return docker if probe.returncode == 0 else None


def test_docker_compose_config_accepts_it(tmp_path: Path) -> None:
    if shutil.which("docker") is None:
        pytest.skip("EXTERNAL CHECK NOT RUN: there is no docker CLI, so no `docker compose config`; "
                    "the structure tests above ran")
    docker = _compose_plugin()
    assert docker is not None, f"the docker CLI is present but `docker compose` is not: {COMPOSE_HINT}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NZD_", "INFLUXDB_", "GRAFANA_"))}
    env.update({var: "test-value" for var in REQUIRED.findall(COMPOSE.read_text())})
    result = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
                            capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    missing = subprocess.run([docker, "compose", "-f", str(COMPOSE), "config", "--quiet"],
                             capture_output=True, text=True, env={"PATH": env.get("PATH", "")},
                             timeout=60, cwd=tmp_path)
    assert missing.returncode != 0 and "required" in missing.stderr  # a missing secret is refused


def test_systemd_units_have_no_unknown_options(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on the units of deploy/systemd (with ExecStart pointed at this
    environment's nzd): a misspelt sandboxing option would be silently ignored by systemd."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("EXTERNAL CHECK NOT RUN: systemd-analyze is missing (apt-get install -y systemd)")
    nzd = Path(os.environ.get("VIRTUAL_ENV", Path(__file__).resolve().parents[2] / ".venv")) / "bin" / "nzd"
    nzd = nzd if nzd.exists() else Path(shutil.which("nzd") or "/bin/true")
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} == {"nzd-gateway@.service", "nzd-ingest@.service",
                                       "nzd-coordinator.service", "nzd-api.service",
                                       "nzd-open-data.service"}
    paths: list[str] = []
    for unit in units:
        text = unit.read_text()
        for option in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
                       "CapabilityBoundingSet=", "SystemCallFilter=@system-service"):
            assert option in text, f"{unit.name} lacks {option}"
        name = unit.name.replace("@.", "@1.")  # verify an instance of a template
        (tmp_path / name).write_text(text.replace("/opt/nzd/bin/nzd", str(nzd)))
        paths.append(str(tmp_path / name))
    result = subprocess.run([analyze, "verify", "--man=no", *paths], capture_output=True, text=True,
                            timeout=60)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if str(tmp_path) in line or "Unknown" in line]
    assert result.returncode == 0 and problems == [], "\n".join(problems)


@pytest.mark.parametrize("argv", [["ingest"], ["coordinator", "run"], ["api"], ["gateway", "run"],
                                  ["export", "open-data"]],
                         ids=lambda argv: " ".join(argv))
def test_the_commands_the_containers_and_units_run_exist(argv: list[str]) -> None:
    from typer.testing import CliRunner

    from nzd.cli.app import app

    result = CliRunner().invoke(app, [*argv, "--help"])
    assert result.exit_code == 0, f"`nzd {' '.join(argv)}` is not a command:\n{result.output}"
    units = " ".join(p.read_text() for p in (DEPLOY / "systemd").glob("*.service"))
    assert f"bin/nzd {' '.join(argv)}" in units


def test_the_containers_broker_persists_and_queues_like_the_host_config() -> None:
    conf = compose()["configs"]["mosquitto-conf"]["content"].splitlines()
    host = (DEPLOY / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    keys = ("autosave_interval", "autosave_on_changes", "max_queued_messages", "max_queued_bytes",
            "queue_qos0_messages")
    for key in keys:
        assert [line for line in conf if line.startswith(key + " ")] == \
            [line for line in host if line.startswith(key + " ")], key
