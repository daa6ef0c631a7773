/* A dynamically linked program: the kernel's PT_INTERP handling (fs/binfmt_elf.c
 * load_elf_binary: the interpreter at AT_BASE, the executable described by
 * AT_PHDR/AT_PHNUM/AT_ENTRY, AT_EXECFN), then what ld.so does with it: shared
 * libraries, TLS, dlopen(3) of libm with symbol lookup (openat, fstat, mmap of
 * files, mprotect, munmap). Built without -static (Makefile: *_dyntest.c). */
#include "tap.h"

#include <dlfcn.h>
#include <elf.h>
#include <link.h>
#include <stdint.h>
#include <sys/auxv.h>

extern char _start[];
static __thread int tls_counter = 7;

struct phdr_walk {
	int objects;
	int main_seen, libc_seen, ldso_seen;
};

static int walk_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	struct phdr_walk *w = data;
	const char *n = info->dlpi_name ? info->dlpi_name : "";

	(void)size;
	w->objects++;
	if (w->objects == 1 && info->dlpi_phdr == (const void *)getauxval(AT_PHDR))
		w->main_seen = 1;
	if (strstr(n, "libc.so"))
		w->libc_seen = 1;
	if (strstr(n, "ld-linux"))
		w->ldso_seen = 1;
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	unsigned long base = getauxval(AT_BASE);
	ok(base != 0 && (base & 4095) == 0, "AT_BASE is the interpreter's page-aligned base");
	ok(getauxval(AT_ENTRY) == (unsigned long)_start, "AT_ENTRY is the program's _start");
	const Elf64_Phdr *ph = (const Elf64_Phdr *)getauxval(AT_PHDR);
	unsigned long phnum = getauxval(AT_PHNUM);
	int has_interp = 0;
	for (unsigned long i = 0; ph && i < phnum; i++)
		has_interp |= ph[i].p_type == PT_INTERP;
	ok(ph && phnum && has_interp, "AT_PHDR/AT_PHNUM point at the program's headers");
	const char *execfn = (const char *)getauxval(AT_EXECFN);
	ok(execfn && strstr(execfn, "dynamic_dyntest") && strstr(argv[0], "dynamic_dyntest"),
	   "AT_EXECFN names the program (%s)", execfn ? execfn : "(null)");
	ok(getauxval(AT_PAGESZ) == 4096, "AT_PAGESZ");

	struct phdr_walk w = { 0 };
	dl_iterate_phdr(walk_cb, &w);
	ok(w.main_seen && w.libc_seen && w.ldso_seen,
	   "dl_iterate_phdr: the program, libc and ld.so (%d objects)", w.objects);
	ok(tls_counter++ == 7 && tls_counter == 8, "initialised TLS in the executable");

	void *m = dlopen("libm.so.6", RTLD_NOW | RTLD_LOCAL);
	ok(m != NULL, "dlopen(libm.so.6) (%s)", m ? "ok" : dlerror());
	if (m) {
		double (*f_cos)(double) = (double (*)(double))dlsym(m, "cos");
		double (*f_sqrt)(double) = (double (*)(double))dlsym(m, "sqrt");
		double (*f_pow)(double, double) = (double (*)(double, double))dlsym(m, "pow");
		ok(f_cos && f_sqrt && f_pow, "dlsym cos, sqrt, pow");
		if (f_cos && f_sqrt && f_pow) {
			double r = f_sqrt(2.0);
			ok(f_cos(0.0) == 1.0, "cos(0) == 1");
			ok(r * r > 1.9999999 && r * r < 2.0000001, "sqrt(2)^2 == 2");
			ok(f_pow(2.0, 10.0) == 1024.0, "pow(2, 10) == 1024");
			volatile double x = 3.0;
			ok(f_cos(x) < -0.98 && f_cos(x) > -0.99, "cos(3) ~ -0.98999");
		}
		Dl_info info = { 0 };
		int found = f_cos && dladdr((void *)f_cos, &info) && info.dli_fname;
		ok(found && strstr(info.dli_fname, "libm"), "dladdr(cos) is in libm (%s)",
		   found ? info.dli_fname : "?");
		ok(dlclose(m) == 0, "dlclose");
	} else {
		skip("no libm", "dlsym");
	}
	void *none = dlopen("libcvisor-does-not-exist.so.1", RTLD_NOW);
	ok(none == NULL && dlerror() != NULL, "dlopen of a missing library fails with dlerror");
	return done_testing();
}
