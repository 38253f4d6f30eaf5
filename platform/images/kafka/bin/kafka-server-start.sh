#!/bin/sh
# kafka-server-start.sh server.properties: a KRaft broker and/or controller.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.Kafka "$@"
