// SPDX-License-Identifier: GPL-2.0
/*
 * Mounts from the command line (--volume, --mount) and the parts of an OCI
 * runtime config.json that `cvisor do --spec` runs (runtime-spec config.md:
 * process, root, mounts). config.json is untrusted input: every field is
 * type-checked, and a bad one is an error with its name, never a crash.
 *
 * No locks, no global state. Ownership: mount_list and oci_spec own every
 * string in them (freed by mount_list_free/spec_free).
 */
#include <errno.h>
#include <json.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cvisor/gofer.h"
#include "cvisor/util.h"
#include "spec.h"

/* Every mount may be a bind: one gofer root each, besides the image's. */
#define SPEC_MAX_MOUNTS (GOFER_MAX_ROOTS - 1)

static inline void json_putp(struct json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int fail(char *err, size_t errlen, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return r;
}

static struct vfs_mount_spec *ml_add(struct mount_list *ml)
{
	struct vfs_mount_spec *m;

	if (ml->n >= SPEC_MAX_MOUNTS)
		return NULL;
	if (ml->n == ml->cap) {
		int cap = ml->cap ? ml->cap * 2 : 8;
		struct vfs_mount_spec *nm = realloc(ml->m, cap * sizeof(*nm));

		if (!nm)
			return NULL;
		ml->m = nm;
		ml->cap = cap;
	}
	m = &ml->m[ml->n++];
	memset(m, 0, sizeof(*m));
	m->gofer_sock = -1;
	return m;
}

void mount_list_free(struct mount_list *ml)
{
	for (int i = 0; i < ml->n; i++) {
		free((char *)ml->m[i].type);
		free((char *)ml->m[i].source);
		free((char *)ml->m[i].dst);
	}
	free(ml->m);
	memset(ml, 0, sizeof(*ml));
}

/* size=: bytes with an optional k/m/g suffix (tmpfs's spelling). */
static int parse_bytes(const char *v, int64_t *out)
{
	char *end;
	unsigned long long n;
	int shift = 0;

	if (!*v || *v == '-')
		return -EINVAL;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end || n == 0 || n > (1ULL << (50 - shift)))
		return -EINVAL;
	*out = (int64_t)(n << shift);
	return 0;
}

static int parse_mode(const char *v, mode_t *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 8);
	if (errno || end == v || *end || n > 07777)
		return -EINVAL;
	*out = (mode_t)n;
	return 0;
}

/* One mount option shared by every spelling: 1 taken, 0 not ours,
 * -EINVAL bad value. */
static int apply_opt(struct vfs_mount_spec *m, const char *o)
{
	if (!strcmp(o, "ro") || !strcmp(o, "readonly"))
		m->readonly = true;
	else if (!strcmp(o, "rw"))
		m->readonly = false;
	else if (!strcmp(o, "nosuid"))
		m->nosuid = true;
	else if (!strcmp(o, "nodev"))
		m->nodev = true;
	else if (!strcmp(o, "noexec"))
		m->noexec = true;
	else if (!strcmp(o, "suid") || !strcmp(o, "dev") || !strcmp(o, "exec"))
		;
	else if (!strncmp(o, "size=", 5) || !strncmp(o, "tmpfs-size=", 11))
		return parse_bytes(strchr(o, '=') + 1, &m->size) < 0 ? -EINVAL : 1;
	else if (!strncmp(o, "mode=", 5) || !strncmp(o, "tmpfs-mode=", 11))
		return parse_mode(strchr(o, '=') + 1, &m->mode) < 0 ? -EINVAL : 1;
	else
		return 0;
	return 1;
}

static bool known_type(const char *t)
{
	static const char *const types[] = { "bind", "tmpfs", "proc", "sysfs",
					     "devpts", "mqueue", "cgroup",
					     "cgroup2" };

	for (size_t i = 0; i < ARRAY_SIZE(types); i++)
		if (!strcmp(t, types[i]))
			return true;
	return false;
}

static bool has_dotdot(const char *p)
{
	while (*p) {
		size_t len;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 2 && p[0] == '.' && p[1] == '.')
			return true;
		p += len;
	}
	return false;
}

/* Final checks of one mount: absolute destination without "..", an
 * existing host directory for a bind. */
static int check_mount(const struct vfs_mount_spec *m, char *err,
		       size_t errlen)
{
	struct stat st;

	if (!m->dst || m->dst[0] != '/')
		return fail(err, errlen, -EINVAL,
			    "mount destination \"%s\" is not an absolute path",
			    m->dst ? m->dst : "");
	if (has_dotdot(m->dst))
		return fail(err, errlen, -EINVAL,
			    "mount destination \"%s\" contains \"..\"", m->dst);
	if (!strcmp(m->type, "bind")) {
		if (!m->source || m->source[0] != '/')
			return fail(err, errlen, -EINVAL,
				    "bind mount source \"%s\" is not an absolute path",
				    m->source ? m->source : "");
		if (stat(m->source, &st) < 0)
			return fail(err, errlen, -errno,
				    "bind mount source %s: %s", m->source,
				    strerror(errno));
		if (!S_ISDIR(st.st_mode))
			return fail(err, errlen, -ENOTDIR,
				    "bind mount source %s is not a directory "
				    "(only directories can be bound)",
				    m->source);
	}
	return 0;
}

static int set_str(const char **dst, const char *v)
{
	char *s = strdup(v);

	if (!s)
		return -ENOMEM;
	free((char *)*dst);
	*dst = s;
	return 0;
}

int spec_parse_volume(const char *arg, struct mount_list *ml, char *err,
		      size_t errlen)
{
	_cleanup_free_ char *copy = strdup(arg);
	struct vfs_mount_spec *m;
	char *host, *guest, *opts, *save = NULL, *o;

	if (!copy)
		return -ENOMEM;
	host = copy;
	guest = strchr(host, ':');
	if (!guest || guest == host || !guest[1])
		return fail(err, errlen, -EINVAL,
			    "--volume wants HOST:GUEST[:ro|:rw], got \"%s\"", arg);
	*guest++ = '\0';
	opts = strchr(guest, ':');
	if (opts)
		*opts++ = '\0';
	m = ml_add(ml);
	if (!m)
		return fail(err, errlen, -E2BIG, "too many mounts (at most %d)",
			    SPEC_MAX_MOUNTS);
	if (set_str(&m->type, "bind") || set_str(&m->source, host) ||
	    set_str(&m->dst, guest))
		return -ENOMEM;
	for (o = opts ? strtok_r(opts, ",", &save) : NULL; o;
	     o = strtok_r(NULL, ",", &save)) {
		int r = apply_opt(m, o);

		/* Propagation spellings are accepted: every mount is
		 * private in the sandbox. */
		if (r == 0 && (!strcmp(o, "z") || !strcmp(o, "Z") ||
			       strstr(o, "private") || strstr(o, "shared") ||
			       strstr(o, "slave")))
			r = 1;
		if (r <= 0 || !strncmp(o, "size=", 5) || !strncmp(o, "mode=", 5))
			return fail(err, errlen, -EINVAL,
				    "--volume %s: unknown option \"%s\" (ro, rw, "
				    "nosuid, nodev, noexec)", arg, o);
	}
	return check_mount(m, err, errlen);
}

int spec_parse_mount(const char *arg, struct mount_list *ml, char *err,
		     size_t errlen)
{
	_cleanup_free_ char *copy = strdup(arg);
	struct vfs_mount_spec *m;
	char *save = NULL, *o;

	if (!copy)
		return -ENOMEM;
	m = ml_add(ml);
	if (!m)
		return fail(err, errlen, -E2BIG, "too many mounts (at most %d)",
			    SPEC_MAX_MOUNTS);
	for (o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *v = strchr(o, '=');
		int r;

		if (v && !strncmp(o, "type=", 5))
			r = set_str(&m->type, v + 1);
		else if (v && (!strncmp(o, "dst=", 4) ||
			       !strncmp(o, "destination=", 12) ||
			       !strncmp(o, "target=", 7)))
			r = set_str(&m->dst, v + 1);
		else if (v && (!strncmp(o, "src=", 4) ||
			       !strncmp(o, "source=", 7)))
			r = set_str(&m->source, v + 1);
		else if (!strncmp(o, "readonly=", 9))
			r = (m->readonly = strcmp(v + 1, "false") &&
					   strcmp(v + 1, "0"), 0);
		else if ((r = apply_opt(m, o)) == 1)
			r = 0;
		else
			return fail(err, errlen, -EINVAL,
				    "--mount %s: unknown or bad option \"%s\"",
				    arg, o);
		if (r < 0)
			return r;
	}
	if (!m->type)
		return fail(err, errlen, -EINVAL, "--mount %s: no type=", arg);
	if (!known_type(m->type))
		return fail(err, errlen, -EINVAL,
			    "--mount %s: unsupported type \"%s\" (bind, tmpfs, "
			    "proc, sysfs, devpts, mqueue, cgroup)", arg, m->type);
	if ((m->size || m->mode) && strcmp(m->type, "tmpfs") &&
	    strcmp(m->type, "mqueue"))
		return fail(err, errlen, -EINVAL,
			    "--mount %s: size= and mode= are tmpfs options", arg);
	return check_mount(m, err, errlen);
}

/* ---- config.json ---- */

static int get_str(struct json_object *obj, const char *key, const char *ctx,
		   char **out, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return fail(err, errlen, -EINVAL, "%s.%s must be a string", ctx,
			    key);
	free(*out);
	*out = strdup(json_object_get_string(v));
	return *out ? 1 : -ENOMEM;
}

static int get_bool(struct json_object *obj, const char *key, const char *ctx,
		    bool *out, char *err, size_t errlen)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return fail(err, errlen, -EINVAL, "%s.%s must be true or false",
			    ctx, key);
	*out = json_object_get_boolean(v);
	return 1;
}

/* An array of strings as a NULL-terminated vector. */
static int get_strv(struct json_object *obj, const char *key, const char *ctx,
		    char ***out, char *err, size_t errlen)
{
	struct json_object *v;
	size_t n;
	char **vec;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_array))
		return fail(err, errlen, -EINVAL,
			    "%s.%s must be an array of strings", ctx, key);
	n = json_object_array_length(v);
	if (n > 65536)
		return fail(err, errlen, -E2BIG, "%s.%s is too long", ctx, key);
	vec = calloc(n + 1, sizeof(*vec));
	if (!vec)
		return -ENOMEM;
	*out = vec;
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		if (!e || !json_object_is_type(e, json_type_string))
			return fail(err, errlen, -EINVAL,
				    "%s.%s[%zu] must be a string", ctx, key, i);
		vec[i] = strdup(json_object_get_string(e));
		if (!vec[i])
			return -ENOMEM;
	}
	return 1;
}

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

/* Mounts every sandbox already has: the spec's copies are skipped. */
static bool builtin_mount(const char *type, const char *dst)
{
	return (!strcmp(dst, "/proc") && !strcmp(type, "proc")) ||
	       (!strcmp(dst, "/sys") && !strcmp(type, "sysfs")) ||
	       (!strcmp(dst, "/dev") && !strcmp(type, "tmpfs")) ||
	       (!strcmp(dst, "/dev/pts") && !strcmp(type, "devpts"));
}

static int load_mount(struct json_object *jm, size_t i, const char *bundle,
		      struct mount_list *ml, char *err, size_t errlen)
{
	_cleanup_free_ char *type = NULL, *dst = NULL, *src = NULL;
	struct vfs_mount_spec *m;
	struct json_object *opts;
	char ctx[32];
	bool bind = false;
	int r;

	snprintf(ctx, sizeof(ctx), "mounts[%zu]", i);
	if (!json_object_is_type(jm, json_type_object))
		return fail(err, errlen, -EINVAL, "%s must be an object", ctx);
	if ((r = get_str(jm, "destination", ctx, &dst, err, errlen)) < 0 ||
	    (r = get_str(jm, "type", ctx, &type, err, errlen)) < 0 ||
	    (r = get_str(jm, "source", ctx, &src, err, errlen)) < 0)
		return r;
	if (!dst)
		return fail(err, errlen, -EINVAL, "%s.destination is missing",
			    ctx);
	if (json_object_object_get_ex(jm, "options", &opts) && opts) {
		if (!json_object_is_type(opts, json_type_array))
			return fail(err, errlen, -EINVAL,
				    "%s.options must be an array of strings", ctx);
		for (size_t j = 0; j < json_object_array_length(opts); j++) {
			struct json_object *e = json_object_array_get_idx(opts, j);

			if (!e || !json_object_is_type(e, json_type_string))
				return fail(err, errlen, -EINVAL,
					    "%s.options[%zu] must be a string",
					    ctx, j);
			if (!strcmp(json_object_get_string(e), "bind") ||
			    !strcmp(json_object_get_string(e), "rbind"))
				bind = true;
		}
	} else {
		opts = NULL;
	}
	/* runtime-spec: a bind mount may say so by its options only. */
	if (!type || bind)
		r = set_str((const char **)&type, "bind");
	if (r < 0)
		return r;
	if (!known_type(type))
		return fail(err, errlen, -EINVAL,
			    "%s: unsupported mount type \"%s\" (bind, tmpfs, "
			    "proc, sysfs, devpts, mqueue, cgroup)", ctx, type);
	if (builtin_mount(type, dst))
		return 0;
	m = ml_add(ml);
	if (!m)
		return fail(err, errlen, -E2BIG, "too many mounts (at most %d)",
			    SPEC_MAX_MOUNTS);
	m->type = steal_ptr(&type);
	m->dst = steal_ptr(&dst);
	if (src && !strcmp(m->type, "bind") && src[0] != '/') {
		/* A relative source is relative to the bundle. */
		char *abs;

		if (asprintf(&abs, "%s/%s", bundle, src) < 0)
			return -ENOMEM;
		free(src);
		src = abs;
	}
	m->source = steal_ptr(&src);
	for (size_t j = 0; opts && j < json_object_array_length(opts); j++) {
		const char *o = json_object_get_string(
			json_object_array_get_idx(opts, j));

		r = apply_opt(m, o);
		if (r < 0)
			return fail(err, errlen, -EINVAL,
				    "%s: bad option \"%s\"", ctx, o);
		/* Others (bind, rbind, rprivate, relatime, newinstance,
		 * ptmxmode=, gid=...) change nothing in the sandbox. */
	}
	return check_mount(m, err, errlen);
}

int spec_load(const char *file, struct oci_spec *spec, struct mount_list *ml,
	      char *err, size_t errlen)
{
	_cleanup_json_ struct json_object *root = NULL;
	_cleanup_free_ char *fcopy = NULL, *rpath = NULL;
	struct json_object *proc, *jroot, *mounts;
	const char *bundle;
	int r;

	memset(spec, 0, sizeof(*spec));
	if (access(file, R_OK) < 0)
		return fail(err, errlen, -errno, "cannot open it: %s",
			    strerror(errno));
	root = json_object_from_file(file);
	if (!root) {
		const char *why = json_util_get_last_err();
		int len = why ? (int)strcspn(why, "\n") : 0;

		return fail(err, errlen, -EINVAL,
			    "cannot read it as JSON (%.*s)", len ? len : 9,
			    len ? why : "malformed");
	}
	if (!json_object_is_type(root, json_type_object))
		return fail(err, errlen, -EINVAL,
			    "%s: the top level must be a JSON object", file);
	fcopy = strdup(file);
	if (!fcopy)
		return -ENOMEM;
	bundle = dirname(fcopy);

	if (json_object_object_get_ex(root, "process", &proc) && proc) {
		if (!json_object_is_type(proc, json_type_object))
			return fail(err, errlen, -EINVAL,
				    "process must be an object");
		if ((r = get_strv(proc, "args", "process", &spec->args, err,
				  errlen)) < 0 ||
		    (r = get_strv(proc, "env", "process", &spec->env, err,
				  errlen)) < 0 ||
		    (r = get_str(proc, "cwd", "process", &spec->cwd, err,
				 errlen)) < 0 ||
		    (r = get_bool(proc, "terminal", "process", &spec->terminal,
				  err, errlen)) < 0)
			return r;
		if (spec->cwd && spec->cwd[0] != '/')
			return fail(err, errlen, -EINVAL,
				    "process.cwd must be an absolute path");
		for (size_t i = 0; spec->env && spec->env[i]; i++)
			if (!strchr(spec->env[i], '='))
				return fail(err, errlen, -EINVAL,
					    "process.env[%zu] is not KEY=VALUE",
					    i);
	}
	if (json_object_object_get_ex(root, "root", &jroot) && jroot) {
		struct stat st;

		if (!json_object_is_type(jroot, json_type_object))
			return fail(err, errlen, -EINVAL, "root must be an object");
		if ((r = get_str(jroot, "path", "root", &rpath, err,
				 errlen)) < 0 ||
		    (r = get_bool(jroot, "readonly", "root",
				  &spec->root_readonly, err, errlen)) < 0)
			return r;
		if (rpath) {
			if (rpath[0] == '/')
				spec->root_path = steal_ptr(&rpath);
			else if (asprintf(&spec->root_path, "%s/%s", bundle,
					  rpath) < 0)
				return -ENOMEM;
			if (stat(spec->root_path, &st) < 0 ||
			    !S_ISDIR(st.st_mode))
				return fail(err, errlen, -ENOTDIR,
					    "root.path %s is not a directory",
					    spec->root_path);
		}
	}
	if (json_object_object_get_ex(root, "mounts", &mounts) && mounts) {
		if (!json_object_is_type(mounts, json_type_array))
			return fail(err, errlen, -EINVAL,
				    "mounts must be an array");
		for (size_t i = 0; i < json_object_array_length(mounts); i++) {
			r = load_mount(json_object_array_get_idx(mounts, i), i,
				       bundle, ml, err, errlen);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

void spec_free(struct oci_spec *spec)
{
	strv_free(spec->args);
	strv_free(spec->env);
	free(spec->cwd);
	free(spec->root_path);
	memset(spec, 0, sizeof(*spec));
}
