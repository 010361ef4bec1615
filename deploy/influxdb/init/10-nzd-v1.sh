#!/bin/bash
# Runs once, when the influxdb:2.7 image sets up an empty data volume
# (/docker-entrypoint-initdb.d). nzd and Grafana speak InfluxQL over the v1
# compatibility API (/write, /query), which needs:
#   - a DBRP mapping: v1 database "$NZD_INFLUX_DATABASE" (retention policy
#     "autogen") -> the initial bucket;
#   - v1 credentials (username/password, sent as u/p): one read-write account
#     for the nzd services, one read-only account for Grafana.
# The influx CLI is already configured with the admin token by the entrypoint.
set -euo pipefail

: "${NZD_INFLUX_DATABASE:=nzd}"
: "${NZD_INFLUX_USERNAME:?set NZD_INFLUX_USERNAME (nzd services' v1 user)}"
: "${NZD_INFLUX_PASSWORD:?set NZD_INFLUX_PASSWORD}"
: "${NZD_GRAFANA_INFLUX_USERNAME:?set NZD_GRAFANA_INFLUX_USERNAME (Grafana's read-only v1 user)}"
: "${NZD_GRAFANA_INFLUX_PASSWORD:?set NZD_GRAFANA_INFLUX_PASSWORD}"

influx v1 dbrp create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --bucket-id "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --db "${NZD_INFLUX_DATABASE}" \
  --rp autogen \
  --default

influx v1 auth create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --username "${NZD_INFLUX_USERNAME}" \
  --password "${NZD_INFLUX_PASSWORD}" \
  --read-bucket "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --write-bucket "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --description "nzd services (ingest, coordinator, api)"

influx v1 auth create \
  --org "${DOCKER_INFLUXDB_INIT_ORG}" \
  --username "${NZD_GRAFANA_INFLUX_USERNAME}" \
  --password "${NZD_GRAFANA_INFLUX_PASSWORD}" \
  --read-bucket "${DOCKER_INFLUXDB_INIT_BUCKET_ID}" \
  --description "Grafana (read only)"

echo "nzd: v1 database ${NZD_INFLUX_DATABASE} mapped to bucket ${DOCKER_INFLUXDB_INIT_BUCKET}; v1 users created"
