#include "mint.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "tls.h"

EVP_PKEY *
mint_key_new(const char *key_type, char *err, size_t errlen)
{
	EVP_PKEY *key = NULL;
	char ossl[256];

	if (strncmp(key_type, "rsa", 3) == 0 &&
	    profile_key_type_valid(key_type))
		key = EVP_RSA_gen((unsigned int)atoi(key_type + 3));
	else if (strcmp(key_type, "ec-p256") == 0)
		key = EVP_EC_gen("P-256");
	else if (strcmp(key_type, "ec-p384") == 0)
		key = EVP_EC_gen("P-384");
	else {
		snprintf(err, errlen, "unknown key type '%s'", key_type);
		return NULL;
	}
	if (key == NULL)
		snprintf(err, errlen, "cannot generate a %s key (%s)", key_type,
		    tls_errors(ossl, sizeof(ossl)));
	return key;
}

X509_NAME *
mint_name_parse(const char *subject)
{
	char buf[1024], *part, *save = NULL, *eq;
	X509_NAME *n;

	if (strlen(subject) >= sizeof(buf) || (n = X509_NAME_new()) == NULL)
		return NULL;
	strcpy(buf, subject);
	for (part = strtok_r(buf, ",", &save); part != NULL;
	     part = strtok_r(NULL, ",", &save)) {
		while (*part == ' ')
			part++;
		if ((eq = strchr(part, '=')) == NULL)
			goto fail;
		*eq = '\0';
		if (!X509_NAME_add_entry_by_txt(n, part, MBSTRING_UTF8,
		        (const unsigned char *)(eq + 1), -1, -1, 0))
			goto fail;
	}
	if (X509_NAME_entry_count(n) == 0)
		goto fail;
	return n;
fail:
	X509_NAME_free(n);
	return NULL;
}

/* Add one extension from its OpenSSL configuration text. */
static int
mint_add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

static int
mint_serial(X509 *x)
{
	unsigned char rnd[16];
	BIGNUM *bn;
	int ok;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -1;
	rnd[0] = (unsigned char)((rnd[0] & 0x7f) | 0x10); /* positive, 16 B */
	if ((bn = BN_bin2bn(rnd, sizeof(rnd), NULL)) == NULL)
		return -1;
	ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;
	BN_free(bn);
	return ok ? 0 : -1;
}

X509 *
mint_cert_new(const struct profile_item *pi, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key, int64_t now, char *err, size_t errlen)
{
	char buf[4096], ossl[256];
	const char *what = "cannot build the certificate";
	const EVP_MD *md;
	X509_NAME *name = NULL;
	X509V3_CTX ctx;
	X509 *x;
	size_t i, used;

	if ((x = X509_new()) == NULL)
		goto fail;
	if (!X509_set_version(x, 2) || mint_serial(x) != 0)
		goto fail;
	what = "bad subject";
	if ((name = mint_name_parse(pi->subject)) == NULL ||
	    !X509_set_subject_name(x, name))
		goto fail;
	if (!X509_set_issuer_name(
	        x, issuer ? X509_get_subject_name(issuer) : name))
		goto fail;
	what = "bad dates";
	if (ASN1_TIME_set(X509_getm_notBefore(x),
	        (time_t)profile_when_at(&pi->not_before, now)) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x),
	        (time_t)profile_when_at(&pi->not_after, now)) == NULL)
		goto fail;
	what = "cannot set the public key";
	if (!X509_set_pubkey(x, key))
		goto fail;
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	what = "bad basicConstraints";
	if (pi->ca && pi->path_len >= 0)
		snprintf(buf, sizeof(buf), "critical,CA:TRUE,pathlen:%d",
		    pi->path_len);
	else
		snprintf(
		    buf, sizeof(buf), pi->ca ? "critical,CA:TRUE" : "CA:FALSE");
	if (mint_add_ext(x, &ctx, NID_basic_constraints, buf) != 0)
		goto fail;
	what = "bad key_usage";
	snprintf(buf, sizeof(buf), "critical,%s", pi->key_usage);
	if (pi->key_usage[0] != '\0' &&
	    mint_add_ext(x, &ctx, NID_key_usage, buf) != 0)
		goto fail;
	what = "bad ext_key_usage";
	if (pi->ext_key_usage[0] != '\0' &&
	    mint_add_ext(x, &ctx, NID_ext_key_usage, pi->ext_key_usage) != 0)
		goto fail;
	what = "bad sans";
	buf[0] = '\0';
	for (i = 0, used = 0; i < pi->nsans; i++) {
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%s",
		    i ? "," : "", pi->sans[i]);
		if (used >= sizeof(buf))
			goto fail;
	}
	if (pi->nsans > 0 &&
	    mint_add_ext(x, &ctx, NID_subject_alt_name, buf) != 0)
		goto fail;
	what = "cannot add the key identifiers";
	if (mint_add_ext(x, &ctx, NID_subject_key_identifier, "hash") != 0)
		goto fail;
	if (mint_add_ext(
	        x, &ctx, NID_authority_key_identifier, "keyid:always") != 0)
		goto fail;
	what = "cannot sign";
	if ((md = EVP_get_digestbyname(pi->digest)) == NULL ||
	    !X509_sign(x, issuer_key ? issuer_key : key, md))
		goto fail;
	X509_NAME_free(name);
	return x;
fail:
	snprintf(err, errlen, "%s: %s%s%s%s", pi->name, what,
	    tls_errors(ossl, sizeof(ossl))[0] ? " (" : "", ossl,
	    ossl[0] ? ")" : "");
	X509_NAME_free(name);
	X509_free(x);
	return NULL;
}

struct mint_pool {
	pthread_mutex_t lock;
	struct mint_item *items;
	size_t n, next;
	int failed;
	char err[1024];
};

static void *
mint_worker(void *arg)
{
	struct mint_pool *pool = arg;
	struct mint_item *it;
	char err[512];
	EVP_PKEY *key;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&pool->lock);
		while (pool->next < pool->n &&
		       pool->items[pool->next].pi->key_from >= 0)
			pool->next++;
		i = pool->next++;
		pthread_mutex_unlock(&pool->lock);
		if (i >= pool->n)
			break;
		it = &pool->items[i];
		key = mint_key_new(it->key_type, err, sizeof(err));
		pthread_mutex_lock(&pool->lock);
		it->key = key;
		if (key == NULL && !pool->failed) {
			pool->failed = 1;
			snprintf(pool->err, sizeof(pool->err), "%s: %s",
			    it->pi->name, err);
		}
		pthread_mutex_unlock(&pool->lock);
	}
	return NULL;
}

static int
mint_keys(
    struct mint_item *items, size_t n, int threads, char *err, size_t errlen)
{
	struct mint_pool pool;
	pthread_t tid[16];
	int i, started = 0;
	size_t k;

	memset(&pool, 0, sizeof(pool));
	pthread_mutex_init(&pool.lock, NULL);
	pool.items = items;
	pool.n = n;
	if (threads <= 0)
		threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (threads < 1)
		threads = 1;
	if (threads > 16)
		threads = 16;
	for (i = 0; i < threads; i++)
		if (pthread_create(&tid[i], NULL, mint_worker, &pool) == 0)
			started++;
	if (started == 0)
		mint_worker(&pool);
	for (i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&pool.lock);
	if (pool.failed) {
		snprintf(err, errlen, "%s", pool.err);
		return -1;
	}
	/* Reused keys: the referenced item is always earlier. */
	for (k = 0; k < n; k++) {
		if (items[k].pi->key_from < 0)
			continue;
		items[k].key = items[items[k].pi->key_from].key;
		if (!EVP_PKEY_up_ref(items[k].key)) {
			items[k].key = NULL;
			snprintf(err, errlen, "%s: out of memory",
			    items[k].pi->name);
			return -1;
		}
	}
	return 0;
}

struct mint_item *
mint_all(const struct profile *p, const char *key_type, int64_t now,
    int threads, char *err, size_t errlen)
{
	struct mint_item *items;
	const struct profile_item *pi;
	size_t i;

	if ((items = calloc(p->nitems, sizeof(*items))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < p->nitems; i++) {
		pi = &p->items[i];
		items[i].pi = pi;
		if (pi->key_from >= 0)
			items[i].key_type = items[pi->key_from].key_type;
		else if (pi->key_type != NULL)
			items[i].key_type = pi->key_type;
		else
			items[i].key_type = key_type ? key_type : p->key_type;
	}
	if (mint_keys(items, p->nitems, threads, err, errlen) != 0)
		goto fail;
	for (i = 0; i < p->nitems; i++) {
		pi = &p->items[i];
		items[i].cert = mint_cert_new(pi, items[i].key,
		    pi->issuer >= 0 ? items[pi->issuer].cert : NULL,
		    pi->issuer >= 0 ? items[pi->issuer].key : NULL, now, err,
		    errlen);
		if (items[i].cert == NULL)
			goto fail;
	}
	return items;
fail:
	mint_items_free(items, p->nitems);
	return NULL;
}

void
mint_items_free(struct mint_item *items, size_t n)
{
	size_t i;

	if (items == NULL)
		return;
	for (i = 0; i < n; i++) {
		EVP_PKEY_free(items[i].key);
		X509_free(items[i].cert);
	}
	free(items);
}
