#!/bin/sh
# Runs the node and turns a refusal to start into a clean exit, so `restart: on-failure` restarts
# a node that crashed but never loops on one that cannot start as configured:
#   2 invalid configuration, 3 shard counts differ from the cluster's, 4 other start-up refusal
# (a port taken, keys unreadable). The node has already printed why; fix it and start again.
dotnet /app/ForgeOne.Node.dll "$@"
code=$?
case "$code" in
  2|3|4)
    echo "ForgeOne node refused to start (exit code $code); not restarting. Fix the cause above, then start the container again." >&2
    exit 0
    ;;
esac
exit "$code"
