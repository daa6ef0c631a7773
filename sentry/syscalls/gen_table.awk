# Generate the syscall dispatch table, handler prototypes and the
# compatibility document from syscalls.tbl. Usage:
#   awk -v out_c=FILE -v out_h=FILE -v out_md=FILE -f gen_table.awk syscalls.tbl
/^#/ || NF == 0 { next }
{
	nr = $1; name = $2; handler = $3; status = $4
	note = ""
	for (i = 5; i <= NF; i++) note = note (i > 5 ? " " : "") $i
	if (note == "-") note = ""
	if (nr in seen) { print "duplicate nr " nr > "/dev/stderr"; exit 1 }
	seen[nr] = 1
	names[nr] = name; handlers[nr] = handler; statuses[nr] = status; notes[nr] = note
	if (nr > max) max = nr
	count[status]++
	total++
}
END {
	print "/* Generated from sentry/syscalls/syscalls.tbl. Do not edit. */" > out_c
	print "#include \"cvisor/syscall.h\"\n" > out_c
	print "const struct syscall_entry syscall_table[SYSCALL_MAX] = {" > out_c
	print "/* Generated from sentry/syscalls/syscalls.tbl. Do not edit. */" > out_h
	print "#ifndef CVISOR_SYSCALL_DECLS_H\n#define CVISOR_SYSCALL_DECLS_H" > out_h
	for (n = 0; n <= max; n++) {
		if (!(n in names)) continue
		fn = handlers[n] == "-" ? "0" : handlers[n]
		printf "\t[%d] = { \"%s\", %s },\n", n, names[n], fn > out_c
		if (handlers[n] != "-" && !(handlers[n] in declared)) {
			declared[handlers[n]] = 1
			printf "long %s(struct task *t, const struct syscall_args *args);\n", handlers[n] > out_h
		}
	}
	print "};" > out_c
	print "#endif" > out_h

	print "# System call compatibility (x86-64)\n" > out_md
	print "Generated from `sentry/syscalls/syscalls.tbl` by `make docs`; do not edit by hand.\n" > out_md
	printf "%d calls known: %d full, %d partial, %d not implemented (return ENOSYS).\n\n", total, count["full"], count["partial"], count["none"] > out_md
	print "| nr | name | status | note |" > out_md
	print "|---:|---|---|---|" > out_md
	for (n = 0; n <= max; n++) {
		if (!(n in names)) continue
		printf "| %d | %s | %s | %s |\n", n, names[n], statuses[n], notes[n] > out_md
	}
}
