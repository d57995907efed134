#!/usr/bin/env bash
# Starts the node on 127.0.0.1:5000 and the wallet client on 127.0.0.1:8080 (release
# builds, embedded storage under ./data/). Arguments go to the node. Ctrl-C stops both.
# A network of several nodes: scripts/devnet.sh N.
exec "$(dirname "$0")/devnet.sh" 1 "$@"
