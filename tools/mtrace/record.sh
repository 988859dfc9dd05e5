#!/bin/sh
# Record glibc mtrace logs of a real command and of every process it starts,
# one file per process (DIR/COMM.PID.trace), for `nozero replay`.
#
#   tools/mtrace/record.sh DIR COMMAND [ARGS...]
#   e.g. tools/mtrace/record.sh /tmp/traces gcc -O2 -c hello.c
#
# Needs gcc and glibc >= 2.34 (libc_malloc_debug.so carries mtrace since then).
set -eu
[ $# -ge 2 ] || { echo "usage: $0 DIR COMMAND [ARGS...]" >&2; exit 2; }
dir=$(cd "$1" 2>/dev/null && pwd) || { echo "$0: $1: no such directory" >&2; exit 2; }
shift
debug=$(gcc -print-file-name=libc_malloc_debug.so.0)
[ -f "$debug" ] || debug=$(ls /lib/*/libc_malloc_debug.so.0 /usr/lib/*/libc_malloc_debug.so.0 2>/dev/null | head -n 1)
[ -f "$debug" ] || { echo "$0: libc_malloc_debug.so.0 not found (glibc >= 2.34 needed)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -shared -fPIC -O2 "$(dirname "$0")/mtrace_shim.c" -o "$tmp/mtrace_shim.so"
NZ_MTRACE_DIR="$dir" LD_PRELOAD="$debug $tmp/mtrace_shim.so" "$@"
