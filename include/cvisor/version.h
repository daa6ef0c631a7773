/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CVISOR_VERSION_H
#define CVISOR_VERSION_H

#define CVISOR_VERSION "0.1.0"
/* What uname(2) and /proc/version report inside the sandbox. */
#define CVISOR_KERNEL_RELEASE "6.1.0-cvisor"
#define CVISOR_KERNEL_VERSION "#1 SMP cvisor " CVISOR_VERSION
#define CVISOR_OCI_VERSION "1.0.2"

#endif
