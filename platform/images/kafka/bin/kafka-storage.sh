#!/bin/sh
# kafka-storage.sh format|random-uuid|info ...: KRaft storage tool.
exec "$(dirname "$0")/kafka-run-class.sh" kafka.tools.StorageTool "$@"
