#!/bin/sh
# run_tests.sh        -> emulator suite without the Node official-client test
# run_tests.sh node   -> only the Node official-client test (npm install into node/node_modules if needed)
# run_tests.sh all    -> everything
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
case "${1:-}" in
  node) exec python3 -m unittest -v tests.emulator.test_node_clients ;;
  all)  exec python3 -m unittest discover -s tests/emulator -v ;;
  *)    VODHOOK_SKIP_NODE=1 exec python3 -m unittest discover -s tests/emulator -v ;;
esac
