#include "show.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "certinfo.h"
#include "profile.h"
#include "tls.h"

#define SHOW_MAX_FILE (16 * 1024 * 1024)

static unsigned char *
show_read(const char *path, size_t *len, char *err, size_t errlen)
{
	unsigned char *buf = NULL, *n;
	size_t cap = 0, got;
	FILE *f;

	*len = 0;
	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(
		    err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > SHOW_MAX_FILE ||
			    (n = realloc(buf, cap)) == NULL) {
				snprintf(err, errlen, "%s: too large", path);
				goto fail;
			}
			buf = n;
		}
		got = fread(buf + *len, 1, cap - *len - 1, f);
		*len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		snprintf(
		    err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	fclose(f);
	buf[*len] = '\0';
	return buf;
fail:
	fclose(f);
	free(buf);
	return NULL;
}

/* PKCS#12 bytes: the leaf first, then its chain. */
static STACK_OF(X509) * show_pfx(const char *path, const unsigned char *der,
                            size_t len, const char *password, char *err,
                            size_t errlen)
{
	STACK_OF(X509) *sk = NULL, *chain = NULL;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	char sub[512];

	if (tls_pfx_parse(der, len, password, &key, &cert, &chain, sub,
	        sizeof(sub)) != 0) {
		snprintf(err, errlen, "%s: %s%s", path, sub,
		    strstr(sub, "password") && password == NULL
		        ? " (give it with --password)"
		        : "");
		return NULL;
	}
	EVP_PKEY_free(key);
	if ((sk = sk_X509_new_null()) == NULL || !sk_X509_push(sk, cert)) {
		X509_free(cert);
		goto fail;
	}
	while (sk_X509_num(chain) > 0) {
		cert = sk_X509_shift(chain);
		if (!sk_X509_push(sk, cert)) {
			X509_free(cert);
			goto fail;
		}
	}
	sk_X509_free(chain);
	return sk;
fail:
	snprintf(err, errlen, "%s: out of memory", path);
	sk_X509_pop_free(sk, X509_free);
	sk_X509_pop_free(chain, X509_free);
	return NULL;
}

static int
show_is_pfx(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	PKCS12 *p12 = d2i_PKCS12(NULL, &p, (long)len);

	ERR_clear_error();
	PKCS12_free(p12);
	return p12 != NULL;
}

STACK_OF(X509) * show_load(const char *path, const char *password,
                     const char **format, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = NULL;
	unsigned char *buf, *der = NULL;
	const unsigned char *p;
	size_t len, derlen;
	X509 *x;

	if ((buf = show_read(path, &len, err, errlen)) == NULL)
		return NULL;
	if ((sk = sk_X509_new_null()) == NULL)
		goto oom;
	if (strstr((char *)buf, "-----BEGIN") != NULL) {
		/* PEM: every certificate, in file order (the core reads it). */
		*format = "pem";
		sk_X509_free(sk);
		sk = tls_load_certs_file(path, err, errlen);
		goto done;
	}
	if (len > 0 && buf[0] == 0x30) {
		*format = "der";
		der = buf;
		derlen = len;
		buf = NULL;
	} else {
		*format = "cer";
		if ((der = tls_b64_decode((char *)buf, &derlen)) == NULL) {
			snprintf(err, errlen,
			    "%s: not a certificate (expected "
			    "PEM, DER, base64 DER .cer or PFX)",
			    path);
			goto fail;
		}
	}
	if (show_is_pfx(der, derlen)) {
		*format = "pfx";
		sk_X509_free(sk);
		sk = show_pfx(path, der, derlen, password, err, errlen);
		goto done;
	}
	p = der;
	if ((x = d2i_X509(NULL, &p, (long)derlen)) == NULL) {
		ERR_clear_error();
		snprintf(err, errlen,
		    "%s: not a certificate (expected PEM, "
		    "DER, base64 DER .cer or PFX)",
		    path);
		goto fail;
	}
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		goto oom;
	}
done:
	free(der);
	free(buf);
	return sk;
oom:
	snprintf(err, errlen, "%s: out of memory", path);
fail:
	sk_X509_pop_free(sk, X509_free);
	free(der);
	free(buf);
	return NULL;
}

/* "3 days", "1 hour", "12 minutes" for secs >= 0. */
static void
show_span(int64_t secs, char *buf, size_t len)
{
	int64_t n;
	const char *unit;

	if (secs >= 86400) {
		n = secs / 86400;
		unit = "day";
	} else if (secs >= 3600) {
		n = secs / 3600;
		unit = "hour";
	} else if (secs >= 60) {
		n = secs / 60;
		unit = "minute";
	} else {
		n = secs;
		unit = "second";
	}
	snprintf(buf, len, "%lld %s%s", (long long)n, unit, n == 1 ? "" : "s");
}

static json_t *
show_cert(X509 *cert, int64_t now)
{
	json_t *o = certinfo_json(cert);
	int64_t nb, na;
	char span[64], text[128];
	const char *state, *kind;

	if (o == NULL)
		return NULL;
	nb = certinfo_time(X509_get0_notBefore(cert));
	na = certinfo_time(X509_get0_notAfter(cert));
	if (now > na) {
		state = "expired";
		show_span(now - na, span, sizeof(span));
		snprintf(text, sizeof(text), "expired %s ago", span);
	} else if (now < nb) {
		state = "not_yet_valid";
		show_span(nb - now, span, sizeof(span));
		snprintf(
		    text, sizeof(text), "not yet valid (starts in %s)", span);
	} else {
		state = "valid";
		show_span(na - now, span, sizeof(span));
		snprintf(text, sizeof(text), "valid (expires in %s)", span);
	}
	if (certinfo_is_ca(cert))
		kind =
		    certinfo_self_signed(cert) ? "root CA" : "intermediate CA";
	else
		kind = certinfo_self_signed(cert) ? "self-signed leaf" : "leaf";
	json_object_set_new(o, "kind", json_string(kind));
	json_object_set_new(o, "validity", json_string(state));
	json_object_set_new(o, "validity_text", json_string(text));
	return o;
}

static json_t *
show_chain(STACK_OF(X509) * certs)
{
	int i, n = sk_X509_num(certs), bad = -1;
	X509 *last = sk_X509_value(certs, n - 1);
	char name[512], text[1200];
	int complete, leaf_first;
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	for (i = 0; i + 1 < n && bad < 0; i++)
		if (X509_check_issued(sk_X509_value(certs, i + 1),
		        sk_X509_value(certs, i)) != X509_V_OK)
			bad = i;
	ERR_clear_error();
	leaf_first = !certinfo_is_ca(sk_X509_value(certs, 0));
	complete = bad < 0 && certinfo_self_signed(last);
	json_object_set_new(o, "count", json_integer(n));
	json_object_set_new(o, "server_order", json_boolean(bad < 0));
	json_object_set_new(o, "leaf_first", json_boolean(leaf_first));
	json_object_set_new(o, "complete", json_boolean(complete));
	if (bad >= 0) {
		snprintf(text, sizeof(text),
		    "not in server order: [%d] did "
		    "not issue [%d]%s",
		    bad + 1, bad,
		    leaf_first
		        ? ""
		        : " (the first certificate is a CA, not the leaf)");
	} else if (complete) {
		certinfo_name(X509_get_subject_name(last), name, sizeof(name));
		json_object_set_new(o, "root", json_string(name));
		snprintf(text, sizeof(text),
		    "%s; complete up to the root "
		    "%s (included)",
		    n > 1 ? "in server order" : "one certificate", name);
	} else {
		certinfo_name(X509_get_issuer_name(last), name, sizeof(name));
		json_object_set_new(o, "ends_at_issuer", json_string(name));
		snprintf(text, sizeof(text),
		    "%s; ends below %s (not "
		    "included: the client must have it)",
		    n > 1 ? "in server order" : "one certificate", name);
	}
	json_object_set_new(o, "text", json_string(text));
	return o;
}

json_t *
show_summary(
    const char *path, const char *format, STACK_OF(X509) * certs, int64_t now)
{
	json_t *o = json_object(), *a = json_array(), *c;
	int i;

	if (o == NULL || a == NULL)
		goto fail;
	json_object_set_new(o, "file", json_string(path));
	json_object_set_new(o, "format", json_string(format));
	for (i = 0; i < sk_X509_num(certs); i++) {
		if ((c = show_cert(sk_X509_value(certs, i), now)) == NULL)
			goto fail;
		json_array_append_new(a, c);
	}
	json_object_set_new(o, "certificates", a);
	a = NULL;
	if ((c = show_chain(certs)) == NULL)
		goto fail;
	json_object_set_new(o, "chain", c);
	return o;
fail:
	json_decref(o);
	json_decref(a);
	return NULL;
}

static const char *
show_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : "-";
}

void
show_print(FILE *out, json_t *summary)
{
	json_t *certs = json_object_get(summary, "certificates"), *c, *s;
	size_t i, j;

	fprintf(out, "%s: %s, %zu certificate%s\n", show_str(summary, "file"),
	    show_str(summary, "format"), json_array_size(certs),
	    json_array_size(certs) == 1 ? "" : "s");
	json_array_foreach(certs, i, c)
	{
		fprintf(out, "  [%zu] %s: %s\n", i, show_str(c, "kind"),
		    show_str(c, "subject"));
		fprintf(out, "      issuer       %s\n", show_str(c, "issuer"));
		fprintf(out, "      SANs         ");
		if (json_array_size(json_object_get(c, "sans")) == 0)
			fprintf(out, "(none)");
		json_array_foreach(json_object_get(c, "sans"), j, s)
		    fprintf(out, "%s%s", j ? ", " : "", json_string_value(s));
		fprintf(out, "\n      validity     %s .. %s, %s\n",
		    show_str(c, "not_before"), show_str(c, "not_after"),
		    show_str(c, "validity_text"));
		fprintf(
		    out, "      key          %s\n", show_str(c, "key_type"));
		fprintf(out, "      serial       %s\n", show_str(c, "serial"));
		fprintf(out, "      SHA-1        %s\n", show_str(c, "sha1"));
		fprintf(out, "      SHA-256      %s\n", show_str(c, "sha256"));
		fprintf(
		    out, "      SPKI SHA-256 %s\n", show_str(c, "spki_sha256"));
	}
	fprintf(out, "  chain: %s\n",
	    show_str(json_object_get(summary, "chain"), "text"));
}
