"""Water in the coordinator: leak detection (minimum night flow, continuous flow), balances and
drought mode."""

from coordinator.water.alerts import AlertPublisher, WaterAlertKind, active_alerts, alert_id, emit_alert
from coordinator.water.balances import BALANCE_MIN_M3, check_balances
from coordinator.water.continuous import ContinuousFlow, ContinuousFlowSettings, continuous_flow
from coordinator.water.drought import (
    DEFAULT_NON_RECYCLED_EUR_PER_M3,
    DEFAULT_TANK_FLOOR_BOOST_PCT,
    WATER_SEVERITY_KEY,
    DroughtPolicy,
    drought_policy,
    intake_cost_eur_per_m3,
    stored_water_severity,
    tank_level_min_pct,
)
from coordinator.water.leaks import LeakCheckReport, LeakSettings, check_leaks, leak_check_loop
from coordinator.water.nightflow import (
    NightFlow,
    NightFlowSettings,
    NightType,
    analyse_nights,
    leakage_m3_per_day,
    night_type,
    night_windows,
    rolling_hour_minimum,
)

__all__ = [
    "BALANCE_MIN_M3",
    "DEFAULT_NON_RECYCLED_EUR_PER_M3",
    "DEFAULT_TANK_FLOOR_BOOST_PCT",
    "WATER_SEVERITY_KEY",
    "AlertPublisher",
    "ContinuousFlow",
    "ContinuousFlowSettings",
    "DroughtPolicy",
    "LeakCheckReport",
    "LeakSettings",
    "NightFlow",
    "NightFlowSettings",
    "NightType",
    "WaterAlertKind",
    "active_alerts",
    "alert_id",
    "analyse_nights",
    "check_balances",
    "check_leaks",
    "continuous_flow",
    "drought_policy",
    "emit_alert",
    "intake_cost_eur_per_m3",
    "leak_check_loop",
    "leakage_m3_per_day",
    "night_type",
    "night_windows",
    "rolling_hour_minimum",
    "stored_water_severity",
    "tank_level_min_pct",
]
