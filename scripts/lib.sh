# shellcheck shell=bash
# scripts/lib.sh: what the scripts share, sourced by scripts/platform,
# scripts/containers and scripts/lint: the versions the platform pins,
# where downloads and a platform's state live, and the helpers log, die,
# need and apt_install. It sources scripts/env.sh, the scripts' part of the
# environment contract, which is generated from scripts/envgen/contract.go
# (make generate); that table lists every STREAMKIT_* variable.
#
# The variables below are for the scripts that source this file, so none
# is used here:
# shellcheck disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/env.sh
. "$ROOT/scripts/env.sh"

# log and die prefix their lines with the script's name.
SCRIPT=${0##*/}
log() { printf '%s: %s\n' "$SCRIPT" "$*" >&2; }
die() { printf '%s: error: %s\n' "$SCRIPT" "$*" >&2; exit 1; }

# ---------------------------------------------------------------- versions

# The platform's components (scripts/platform installs them; scripts/containers
# builds its images from that install). platformtest/containers' default
# images and the Maven poms' defaults carry the same versions, which
# scripts/envgen's test holds.
KAFKA_VERSION=${STREAMKIT_KAFKA_VERSION:-4.3.1}
APICURIO_VERSION=${STREAMKIT_APICURIO_VERSION:-3.0.9}
OPENBAO_VERSION=${STREAMKIT_OPENBAO_VERSION:-2.7.2}
DEBEZIUM_VERSION=${STREAMKIT_DEBEZIUM_VERSION:-3.6.1.Final}
# Apicurio's Kafka Connect converters (AvroConverter) for the workers: the
# 2.6 line, whose closure Maven Central serves whole; it speaks the
# registry's v2 API, which Apicurio 3 keeps.
APICURIO_CONVERTER_VERSION=${STREAMKIT_APICURIO_CONVERTER_VERSION:-2.6.13.Final}
# Debezium's JDBC sink connector: 3.6.1.Final of it is not on Maven Central.
DEBEZIUM_JDBC_VERSION=${STREAMKIT_DEBEZIUM_JDBC_VERSION:-3.6.0.Final}
# The Java runtime the platform runs on, from Debian's packages, and the
# Debian suite of the images' base.
JAVA_MAJOR=17
JRE_PACKAGE=openjdk-$JAVA_MAJOR-jre-headless
DEBIAN_SUITE=bookworm

# ---------------------------------------------------------------- paths

# Everything downloaded, unpacked or built lives under CACHE and is reused;
# a platform's runtime state (data, configs, pids, logs) under STATE. A
# finished install step leaves a ".complete" marker, so an interrupted
# download is redone and a finished one is never repeated.
CACHE=${STREAMKIT_CACHE:-$HOME/.cache/streamkit}
STATE=${STREAMKIT_STATE:-$CACHE/state}
LOGS=$STATE/logs
PIDS=$STATE/pids
KAFKA_HOME=$CACHE/kafka-$KAFKA_VERSION
DEBEZIUM_PLUGIN=$KAFKA_HOME/plugins/debezium-postgres
APICURIO_CONVERTER_PLUGIN=$KAFKA_HOME/plugins/apicurio-converter
DEBEZIUM_JDBC_PLUGIN=$KAFKA_HOME/plugins/debezium-jdbc
APICURIO_HOME=$CACHE/apicurio-$APICURIO_VERSION
OPENBAO_HOME=$CACHE/openbao-$OPENBAO_VERSION
# The images' build contexts and the base image's Debian root.
IMAGES=$CACHE/images

# ---------------------------------------------------------------- helpers

# need CMD HINT: die unless CMD is on the PATH.
need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required: $2"; }

# apicurio_jar: the registry's runnable jar in APICURIO_HOME. The 3.0 line
# ships a runner jar; later lines a Quarkus fast-jar.
apicurio_jar() {
  local j
  for j in "$APICURIO_HOME/quarkus-run.jar" "$APICURIO_HOME/apicurio-registry-app-$APICURIO_VERSION-runner.jar"; do
    [[ -f $j ]] && { echo "$j"; return 0; }
  done
  return 1
}

# apt_install PKG...: install Debian packages, when there are any. Only
# root can; anyone else is told what to install.
apt_install() {
  (($# == 0)) && return 0
  if [[ $(id -u) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing $*: install them (as root: apt-get install $*)"
  fi
  log "installing Debian packages: $*"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
