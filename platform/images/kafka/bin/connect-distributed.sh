#!/bin/sh
# connect-distributed.sh worker.properties: a Kafka Connect distributed worker.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.connect.cli.ConnectDistributed "$@"
