#!/usr/bin/env bash
# tests/fuzz/seeds.sh OUTDIR CC — write the seed corpora OUTDIR/fuzz_gofer and
# OUTDIR/fuzz_elf from real inputs: gofer requests from gen_seeds.c, the first
# 64 KiB of /bin/busybox, hand-made tiny ELFs and a few compiled with CC.
set -euo pipefail
out=$1
cc=${2:-cc}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cvisor-seeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out/fuzz_gofer" "$out/fuzz_elf"

"$cc" -std=gnu11 -O1 -Wall -Wextra -Werror -I"$top/include" -o "$tmp/gen_seeds" \
	"$here/gen_seeds.c"
"$tmp/gen_seeds" "$out/fuzz_gofer" "$out/fuzz_elf"

for bb in /bin/busybox /usr/bin/busybox; do
	if [ -f "$bb" ]; then
		head -c 65536 "$bb" >"$out/fuzz_elf/busybox-64k"
		break
	fi
done

# Small compiled executables: static, static PIE, with data and bss.
cat >"$tmp/tiny.c" <<'C'
static char bss[8192];
static int data = 42;
void _start(void)
{
	bss[100] = (char)data;
	__asm__ volatile("mov $60, %%eax; xor %%edi, %%edi; syscall" ::: "memory");
	for (;;)
		;
}
C
flags=(-O1 -nostdlib -fno-stack-protector -Wl,--build-id=none -s
       -Wl,-z,max-page-size=4096 -Wl,-z,noseparate-code)
"$cc" "${flags[@]}" -static -fno-pie -no-pie -o "$out/fuzz_elf/cc-static" "$tmp/tiny.c" 2>/dev/null || true
"$cc" "${flags[@]}" -static-pie -fpie -o "$out/fuzz_elf/cc-static-pie" "$tmp/tiny.c" 2>/dev/null || true
"$cc" "${flags[@]}" -fpie -pie -o "$out/fuzz_elf/cc-dynamic" "$tmp/tiny.c" 2>/dev/null || true
