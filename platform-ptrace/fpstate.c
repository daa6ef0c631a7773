// SPDX-License-Identifier: GPL-2.0
/*
 * FP/vector state images shared by the systrap and ptrace platforms.
 *
 * The image exchanged with the sentry (platform_ops.ctx_get_fpstate /
 * ctx_set_fpstate) is the XSAVE standard (non-compacted) format of this
 * host: the 512-byte legacy FXSAVE area, the 64-byte XSAVE header and the
 * enabled extended components at the offsets CPUID leaf 0xD reports. That
 * is the layout the kernel writes into signal frames (after the legacy
 * area's sw_reserved bytes, arch/x86/include/uapi/asm/sigcontext.h) and
 * exchanges through PTRACE_GETREGSET/SETREGSET NT_X86_XSTATE, so neither
 * platform converts anything.
 *
 * Images coming from the sentry may hold values the workload chose (a
 * signal frame it wrote): fp_validate() applies the kernel's own checks
 * (arch/x86/kernel/fpu/xstate.c validate_user_xstate_header, and the MXCSR
 * feature mask of fpu__init_prepare_fx_sw_frame / xfpregs_set) so that an
 * XRSTOR of it can never fault in the host.
 *
 * Locks: none; the host description is computed once (pthread_once) and
 * read-only after.
 */
#include <cpuid.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "internal.h"

#define XFEATURE_FPSSE 3ULL
/* AMX tile data needs arch_prctl(ARCH_REQ_XCOMP_PERM) first and is not in
 * the default signal frame; cvisor never asks for it. */
#define XFEATURE_DYNAMIC (1ULL << 18)

static struct fp_host host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_init(void)
{
	unsigned a, b, c, d;
	uint8_t fx[512] __attribute__((aligned(64)));
	uint32_t mask;

	memset(fx, 0, sizeof(fx));
	__asm__ volatile("fxsave64 %0" : "=m"(fx));
	memcpy(&mask, fx + 28, 4);
	/* A zero mxcsr_mask means the default 0xffbf (Intel SDM 11.6.6). */
	host.mxcsr_mask = mask ? mask : 0xffbf;
	host.features = XFEATURE_FPSSE;
	host.size = 512;
	host.comp_off[0] = 0;
	host.comp_size[0] = 160;
	host.comp_off[1] = 160;
	host.comp_size[1] = 256;

	__cpuid(1, a, b, c, d);
	if (!(c & (1U << 27))) /* OSXSAVE */
		return;
	{
		uint32_t lo, hi;

		__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
		host.features = (((uint64_t)hi << 32) | lo) & ~XFEATURE_DYNAMIC;
	}
	host.size = 512 + 64;
	for (int i = 2; i < 64; i++) {
		if (!(host.features & (1ULL << i)))
			continue;
		__cpuid_count(0xd, (unsigned)i, a, b, c, d);
		host.comp_size[i] = a;
		host.comp_off[i] = b;
		if (a + b > host.size)
			host.size = a + b;
	}
}

const struct fp_host *fp_host(void)
{
	pthread_once(&host_once, host_init);
	return &host;
}

int fp_validate(const void *buf, size_t len)
{
	const struct fp_host *h = fp_host();
	const uint8_t *p = buf;
	uint64_t bv, comp;
	uint32_t mxcsr;

	if (!buf || len < 512)
		return -EINVAL;
	memcpy(&mxcsr, p + 24, 4);
	/* A reserved MXCSR bit makes FXRSTOR/XRSTOR #GP. */
	if (mxcsr & ~h->mxcsr_mask)
		return -EINVAL;
	if (h->size == 512)
		return 0;
	if (len < 576)
		return -EINVAL;
	memcpy(&bv, p + 512, 8);
	memcpy(&comp, p + 520, 8);
	/* Standard format only, no unknown features, reserved bytes zero:
	 * anything else makes XRSTOR #GP. */
	if (comp != 0 || (bv & ~h->features))
		return -EINVAL;
	for (size_t i = 528; i < 576; i++)
		if (p[i])
			return -EINVAL;
	for (int i = 2; i < 64; i++)
		if ((bv & (1ULL << i)) &&
		    (uint64_t)h->comp_off[i] + h->comp_size[i] > len)
			return -EINVAL;
	return 0;
}

void fp_init_image(void *buf, size_t len)
{
	const struct fp_host *h = fp_host();
	uint8_t *p = buf;
	uint16_t cwd = 0x37f;
	uint32_t mxcsr = 0x1f80;
	uint64_t bv = XFEATURE_FPSSE;

	memset(buf, 0, len);
	if (len < 512)
		return;
	memcpy(p + 0, &cwd, 2);
	memcpy(p + 24, &mxcsr, 4);
	memcpy(p + 28, &h->mxcsr_mask, 4);
	/* x87 and SSE given explicitly (FNINIT values, zero registers);
	 * every other component is in its init state (XSTATE_BV bit 0). */
	if (h->size > 512 && len >= 576)
		memcpy(p + 512, &bv, 8);
}
