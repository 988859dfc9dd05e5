#!/usr/bin/env bash
# Rebuild the i386 errno probe and compare the running kernel's answers with
# the recorded ones that test/kernel/errno.test.ts is built on.
set -euo pipefail
here=$(dirname "$0")
out=$(mktemp -d)
gcc -m32 -static -nostdlib -ffreestanding -fno-pic -fno-stack-protector -O1 \
  -o "$out/probe" "$here/errno_probe_i386.c"
"$out/probe" | diff -u "$here/errno_probe_i386.expected" - && echo "errno probe: matches $(uname -r)"
