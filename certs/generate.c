#include "generate.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "certinfo.h"
#include "jsonio.h"
#include "log.h"
#include "tls.h"

json_t *
generate_manifest(const struct profile *p, const struct mint_item *items,
    const char *key_type, int64_t now)
{
	json_t *m, *hosts, *members, *all, *o;
	const struct profile_item *pi;
	char buf[64], path[600];
	size_t i;

	m = json_object();
	hosts = json_object();
	members = json_array();
	all = json_object();
	if (m == NULL || hosts == NULL || members == NULL || all == NULL)
		goto fail;
	json_object_set_new(m, "version", json_integer(1));
	json_object_set_new(
	    m, "now", json_string(profile_format_time(now, buf, sizeof(buf))));
	json_object_set_new(m, "key_type", json_string(key_type));
	json_object_set_new(hosts, "domain", json_string(p->domain));
	for (i = 0; i < p->nmembers; i++)
		json_array_append_new(members, json_string(p->members[i]));
	json_object_set_new(hosts, "members", members);
	members = NULL;
	json_object_set_new(m, "hosts", hosts);
	hosts = NULL;
	for (i = 0; i < p->nitems; i++) {
		pi = items[i].pi;
		if ((o = certinfo_json(items[i].cert)) == NULL)
			goto fail;
		json_object_set_new(o, "variant", json_string(pi->name));
		json_object_set_new(
		    o, "role", json_string(profile_role_name(pi->role)));
		json_object_set_new(o, "use", json_string(pi->use));
		json_object_set_new(o, "issuer_item",
		    pi->issuer >= 0 ? json_string(p->items[pi->issuer].name)
		                    : json_null());
		json_object_set_new(
		    o, "key_type", json_string(items[i].key_type));
		json_object_set_new(o, "key_from",
		    pi->key_from >= 0 ? json_string(p->items[pi->key_from].name)
		                      : json_null());
		snprintf(path, sizeof(path), "%s.pem", pi->name);
		json_object_set_new(o, "cert", json_string(path));
		snprintf(path, sizeof(path), "%s.key", pi->name);
		json_object_set_new(o, "key", json_string(path));
		snprintf(path, sizeof(path), "%s.chain.pem", pi->name);
		json_object_set_new(o, "chain", json_string(path));
		snprintf(path, sizeof(path), "%s.cer", pi->name);
		json_object_set_new(o, "cer", json_string(path));
		snprintf(path, sizeof(path), "%s.pfx", pi->name);
		json_object_set_new(o, "pfx",
		    pi->pfx_password ? json_string(path) : json_null());
		json_object_set_new(
		    o, "pfx_password", jsonio_string_or_null(pi->pfx_password));
		json_object_set_new(all, pi->name, o);
	}
	json_object_set_new(m, "items", all);
	return m;
fail:
	json_decref(m);
	json_decref(hosts);
	json_decref(members);
	json_decref(all);
	return NULL;
}

/* Open dir/name for writing with mode; NULL with err set. */
static FILE *
generate_open(
    const char *dir, const char *name, mode_t mode, char *err, size_t errlen)
{
	char path[4096];
	FILE *f;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: cannot create: %s", path,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return f;
}

static int
generate_close(FILE *f, int ok, const char *dir, const char *name, char *err,
    size_t errlen)
{
	char ossl[256];

	if (fflush(f) != 0 || ferror(f))
		ok = 0;
	if (fclose(f) != 0)
		ok = 0;
	if (!ok)
		snprintf(err, errlen, "%s/%s: cannot write (%s%s)", dir, name,
		    strerror(errno), tls_errors(ossl, sizeof(ossl)));
	return ok ? 0 : -1;
}

/* NAME.pfx: key, certificate and the rest of its chain (as a listener
 * presents it), under the item's password. */
static int
generate_write_pfx(const struct mint_item *items, size_t idx, const char *dir,
    char *err, size_t errlen)
{
	const struct mint_item *it = &items[idx];
	STACK_OF(X509) *ca = NULL;
	PKCS12 *p12 = NULL;
	char file[600], ossl[256];
	size_t i;
	FILE *f;
	int ok;

	snprintf(file, sizeof(file), "%s.pfx", it->pi->name);
	if ((ca = sk_X509_new_null()) == NULL)
		goto fail_build;
	for (i = 0; i < it->pi->nchain; i++)
		if (it->pi->chain[i] != (int)idx &&
		    !sk_X509_push(ca, items[it->pi->chain[i]].cert))
			goto fail_build;
	p12 = PKCS12_create(it->pi->pfx_password, it->pi->name, it->key,
	    it->cert, ca, 0, 0, 0, 0, 0);
	if (p12 == NULL)
		goto fail_build;
	if ((f = generate_open(dir, file, 0600, err, errlen)) == NULL)
		goto fail;
	ok = i2d_PKCS12_fp(f, p12);
	if (generate_close(f, ok, dir, file, err, errlen) != 0)
		goto fail;
	PKCS12_free(p12);
	sk_X509_free(ca);
	return 0;
fail_build:
	snprintf(err, errlen, "%s/%s: cannot build the PFX (%s)", dir, file,
	    tls_errors(ossl, sizeof(ossl)));
fail:
	PKCS12_free(p12);
	sk_X509_free(ca);
	return -1;
}

/* NAME.pem, NAME.key (0600), NAME.chain.pem, NAME.cer and, with a
 * password, NAME.pfx into dir. */
static int
generate_write_item(const struct mint_item *items, size_t idx, const char *dir,
    char *err, size_t errlen)
{
	const struct mint_item *it = &items[idx];
	const char *name = it->pi->name;
	unsigned char *der = NULL;
	char file[600], *b64;
	size_t i;
	FILE *f;
	int ok, len;

	snprintf(file, sizeof(file), "%s.pem", name);
	if ((f = generate_open(dir, file, 0644, err, errlen)) == NULL)
		return -1;
	ok = PEM_write_X509(f, it->cert);
	if (generate_close(f, ok, dir, file, err, errlen) != 0)
		return -1;

	snprintf(file, sizeof(file), "%s.key", name);
	if ((f = generate_open(dir, file, 0600, err, errlen)) == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, it->key, NULL, NULL, 0, NULL, NULL);
	if (generate_close(f, ok, dir, file, err, errlen) != 0)
		return -1;

	snprintf(file, sizeof(file), "%s.chain.pem", name);
	if ((f = generate_open(dir, file, 0644, err, errlen)) == NULL)
		return -1;
	ok = 1;
	for (i = 0; i < it->pi->nchain; i++)
		ok = ok && PEM_write_X509(f, items[it->pi->chain[i]].cert);
	if (generate_close(f, ok, dir, file, err, errlen) != 0)
		return -1;

	snprintf(file, sizeof(file), "%s.cer", name);
	if ((len = i2d_X509(it->cert, &der)) <= 0 ||
	    (b64 = tls_b64_encode(der, (size_t)len)) == NULL) {
		OPENSSL_free(der);
		snprintf(err, errlen, "%s/%s: cannot encode", dir, file);
		return -1;
	}
	OPENSSL_free(der);
	if ((f = generate_open(dir, file, 0644, err, errlen)) == NULL) {
		free(b64);
		return -1;
	}
	ok = fprintf(f, "%s\n", b64) > 0;
	free(b64);
	if (generate_close(f, ok, dir, file, err, errlen) != 0)
		return -1;

	if (it->pi->pfx_password == NULL)
		return 0;
	return generate_write_pfx(items, idx, dir, err, errlen);
}

static int
generate_rm_one(
    const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) != 0 ? -1 : 0;
}

/* Remove a folder and everything in it (errors ignored: best effort). */
static void
generate_rmtree(const char *path)
{
	nftw(path, generate_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* 1: missing; 2: a previous output; 3: an empty folder; 0: anything
 * else (not ours to replace). */
static int
generate_replaceable(const char *dir)
{
	char path[4096];
	struct dirent *e;
	struct stat st;
	int empty = 1;
	DIR *d;

	if (stat(dir, &st) != 0)
		return errno == ENOENT ? 1 : 0;
	if (!S_ISDIR(st.st_mode))
		return 0;
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	if (access(path, F_OK) == 0)
		return 2;
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (empty && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty ? 3 : 0;
}

int
generate_run(const struct profile *p, const char *out_dir, const char *key_type,
    int64_t now, char *err, size_t errlen)
{
	struct mint_item *items = NULL;
	char tmp[4096], old[4096], path[4096], dir[4096];
	json_t *m = NULL;
	size_t i, len;
	int ok, kind, wk;
	FILE *f;

	tmp[0] = old[0] = '\0';
	if (strlen(out_dir) + 32 > sizeof(dir) || out_dir[0] == '\0') {
		snprintf(err, errlen, "%s: bad or too long a path", out_dir);
		return -1;
	}
	/* "out/" names the folder "out": the temporary one goes beside it. */
	strcpy(dir, out_dir);
	for (len = strlen(dir); len > 1 && dir[len - 1] == '/'; len--)
		dir[len - 1] = '\0';
	out_dir = dir;
	if ((kind = generate_replaceable(out_dir)) == 0) {
		snprintf(err, errlen,
		    "%s: exists and is not an agw-certs "
		    "output folder (no manifest.json): not replacing it",
		    out_dir);
		return -1;
	}
	if (profile_check_dates(p, now, err, errlen) != 0)
		return -1;
	items = mint_all(p, key_type, now, 0, err, errlen);
	if (items == NULL)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", out_dir);
	if (mkdtemp(tmp) == NULL) {
		snprintf(err, errlen,
		    "%s: cannot create a temporary folder: "
		    "%s",
		    tmp, strerror(errno));
		tmp[0] = '\0';
		goto fail;
	}
	chmod(tmp, 0755);
	for (i = 0; i < p->nitems; i++)
		if (generate_write_item(items, i, tmp, err, errlen) != 0)
			goto fail;
	/* The file that stands for the public CA store. */
	if ((wk = profile_find(p, "public-root")) >= 0) {
		f = generate_open(tmp, "well-known-cas.pem", 0644, err, errlen);
		if (f == NULL)
			goto fail;
		ok = PEM_write_X509(f, items[wk].cert);
		if (generate_close(
		        f, ok, tmp, "well-known-cas.pem", err, errlen) != 0)
			goto fail;
	}
	m = generate_manifest(p, items, key_type ? key_type : p->key_type, now);
	snprintf(path, sizeof(path), "%s/manifest.json", tmp);
	if (m == NULL ||
	    jsonio_write_atomic(path, m, JSON_INDENT(2) | JSON_SORT_KEYS, 0,
	        err, errlen) != 0) {
		if (m == NULL)
			snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	if (kind == 2) {
		snprintf(old, sizeof(old), "%s.old-XXXXXX", out_dir);
		if (mkdtemp(old) == NULL || rename(out_dir, old) != 0) {
			snprintf(err, errlen,
			    "%s: cannot move the previous "
			    "output aside: %s",
			    out_dir, strerror(errno));
			if (old[0] != '\0')
				rmdir(old);
			old[0] = '\0';
			goto fail;
		}
	}
	if (kind == 3 && rmdir(out_dir) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "%s: cannot replace the empty folder: %s",
		    out_dir, strerror(errno));
		goto fail;
	}
	if (rename(tmp, out_dir) != 0) {
		snprintf(err, errlen, "%s: cannot rename %s into place: %s",
		    out_dir, tmp, strerror(errno));
		if (old[0] != '\0')
			rename(old, out_dir);
		old[0] = '\0';
		goto fail;
	}
	if (old[0] != '\0')
		generate_rmtree(old);
	log_info("generated %zu items in %s", p->nitems, out_dir);
	json_decref(m);
	mint_items_free(items, p->nitems);
	return 0;
fail:
	if (tmp[0] != '\0')
		generate_rmtree(tmp);
	json_decref(m);
	mint_items_free(items, p->nitems);
	return -1;
}
