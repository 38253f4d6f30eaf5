#!/bin/sh
# kafka-run-class.sh CLASS [ARGS...]: runs a Kafka main class on the jars in
# /opt/kafka/libs. As in Kafka's release, the FileStream connectors stay off
# the classpath (a Connect worker loads them from its plugin.path).
# KAFKA_HEAP_OPTS and KAFKA_OPTS are passed to the JVM.
set -e
home=/opt/kafka
cp=
for jar in "$home"/libs/*.jar; do
  case $(basename "$jar") in
    connect-file-*) ;;
    *) cp=${cp:+$cp:}$jar ;;
  esac
done
# KAFKA_HEAP_OPTS and KAFKA_OPTS are lists of JVM options: split into words
# on purpose (sh has no arrays), as in Kafka's own scripts.
# shellcheck disable=SC2086
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="${KAFKA_LOG4J_CONFIG:-$home/config/log4j2.properties}" \
  ${KAFKA_OPTS:-} -cp "$cp" "$@"
