#include "certinfo.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "jsonio.h"
#include "profile.h"
#include "tls.h"

const char *
certinfo_name(const X509_NAME *name, char *buf, size_t len)
{
	const X509_NAME_ENTRY *e;
	const ASN1_STRING *d;
	unsigned char *utf8;
	size_t used = 0;
	int i, n, nid;

	buf[0] = '\0';
	n = X509_NAME_entry_count(name);
	for (i = 0; i < n && used + 1 < len; i++) {
		e = X509_NAME_get_entry(name, i);
		nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
		d = X509_NAME_ENTRY_get_data(e);
		if (ASN1_STRING_to_UTF8(&utf8, d) < 0)
			continue;
		used += (size_t)snprintf(buf + used, len - used, "%s%s=%s",
		    used ? ", " : "", nid != NID_undef ? OBJ_nid2sn(nid) : "?",
		    utf8);
		OPENSSL_free(utf8);
	}
	return buf;
}

const char *
certinfo_key_type(X509 *cert, char *buf, size_t len)
{
	EVP_PKEY *k = X509_get0_pubkey(cert);
	char group[64];
	size_t glen;

	if (k == NULL)
		snprintf(buf, len, "unknown");
	else if (EVP_PKEY_is_a(k, "RSA"))
		snprintf(buf, len, "rsa%d", EVP_PKEY_get_bits(k));
	else if (EVP_PKEY_is_a(k, "EC") &&
	         EVP_PKEY_get_group_name(k, group, sizeof(group), &glen)) {
		if (strcmp(group, "prime256v1") == 0)
			snprintf(buf, len, "ec-p256");
		else if (strcmp(group, "secp384r1") == 0)
			snprintf(buf, len, "ec-p384");
		else
			snprintf(buf, len, "ec-%s", group);
	} else
		snprintf(buf, len, "%s%d", EVP_PKEY_get0_type_name(k),
		    EVP_PKEY_get_bits(k));
	ERR_clear_error();
	return buf;
}

int64_t
certinfo_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return -1;
	return (int64_t)timegm(&tm);
}

int
certinfo_self_signed(X509 *cert)
{
	int r = X509_self_signed(cert, 1);

	ERR_clear_error();
	return r == 1;
}

int
certinfo_is_ca(X509 *cert)
{
	return X509_check_ca(cert) != 0 &&
	       (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

static json_t *
certinfo_sans(X509 *cert)
{
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	json_t *a = json_array();
	char buf[300], ip[INET6_ADDRSTRLEN];
	const unsigned char *d;
	int i, len;

	if (a == NULL)
		return NULL;
	gens = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		buf[0] = '\0';
		if (g->type == GEN_DNS || g->type == GEN_EMAIL ||
		    g->type == GEN_URI) {
			snprintf(buf, sizeof(buf), "%s:%.*s",
			    g->type == GEN_DNS     ? "DNS"
			    : g->type == GEN_EMAIL ? "email"
			                           : "URI",
			    ASN1_STRING_length(g->d.ia5),
			    (const char *)ASN1_STRING_get0_data(g->d.ia5));
		} else if (g->type == GEN_IPADD) {
			d = ASN1_STRING_get0_data(g->d.ip);
			len = ASN1_STRING_length(g->d.ip);
			if ((len == 4 || len == 16) &&
			    inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip,
			        sizeof(ip)) != NULL)
				snprintf(buf, sizeof(buf), "IP:%s", ip);
		}
		if (buf[0] != '\0')
			json_array_append_new(a, json_string(buf));
	}
	GENERAL_NAMES_free(gens);
	ERR_clear_error();
	return a;
}

static json_t *
certinfo_time_json(const ASN1_TIME *t)
{
	char buf[40];

	return json_string(
	    profile_format_time(certinfo_time(t), buf, sizeof(buf)));
}

json_t *
certinfo_json(X509 *cert)
{
	char buf[1024], *hex = NULL;
	BIGNUM *bn;
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	json_object_set_new(o, "subject",
	    json_string(
	        certinfo_name(X509_get_subject_name(cert), buf, sizeof(buf))));
	json_object_set_new(o, "issuer",
	    json_string(
	        certinfo_name(X509_get_issuer_name(cert), buf, sizeof(buf))));
	json_object_set_new(o, "sans", certinfo_sans(cert));
	json_object_set_new(
	    o, "not_before", certinfo_time_json(X509_get0_notBefore(cert)));
	json_object_set_new(
	    o, "not_after", certinfo_time_json(X509_get0_notAfter(cert)));
	/* the same values under the X.509 (and the issue's) names */
	json_object_set_new(
	    o, "notBefore", certinfo_time_json(X509_get0_notBefore(cert)));
	json_object_set_new(
	    o, "notAfter", certinfo_time_json(X509_get0_notAfter(cert)));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	if (bn != NULL)
		hex = BN_bn2hex(bn);
	json_object_set_new(o, "serial", jsonio_string_or_null(hex));
	OPENSSL_free(hex);
	BN_free(bn);
	if (tls_cert_digest_hex(cert, EVP_sha1(), buf, sizeof(buf)) == 0) {
		json_object_set_new(o, "sha1", json_string(buf));
		/* the same value under the portal's and ARM's name */
		json_object_set_new(o, "thumbprint", json_string(buf));
	}
	if (tls_cert_digest_hex(cert, EVP_sha256(), buf, sizeof(buf)) == 0)
		json_object_set_new(o, "sha256", json_string(buf));
	if (tls_spki_sha256_hex(cert, buf, sizeof(buf)) == 0)
		json_object_set_new(o, "spki_sha256", json_string(buf));
	json_object_set_new(o, "key_type",
	    json_string(certinfo_key_type(cert, buf, sizeof(buf))));
	json_object_set_new(o, "ca", json_boolean(certinfo_is_ca(cert)));
	json_object_set_new(
	    o, "self_signed", json_boolean(certinfo_self_signed(cert)));
	return o;
}
