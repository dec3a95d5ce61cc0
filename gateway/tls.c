#include "tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

const char *
tls_errors(char *buf, size_t len)
{
	unsigned long e;
	size_t used = 0;
	char one[256];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (used + 2 < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%s",
			    used ? "; " : "", one);
		if (used >= len)
			used = len - 1;
	}
	return buf;
}

static void
tls_seterr(char *err, size_t errlen, const char *what, const char *name)
{
	char ossl[512];

	tls_errors(ossl, sizeof(ossl));
	if (err == NULL || errlen == 0)
		return;
	snprintf(err, errlen, "%s%s%s%s%s", name ? name : "", name ? ": " : "",
	    what, ossl[0] ? " (" : "", ossl[0] ? ossl : "");
	if (ossl[0] && strlen(err) + 1 < errlen)
		strcat(err, ")");
}

unsigned char *
tls_b64_decode(const char *b64, size_t *outlen)
{
	EVP_ENCODE_CTX *ctx;
	unsigned char *out;
	size_t n = strlen(b64);
	int l1 = 0, l2 = 0;

	out = malloc(n / 4 * 3 + 4);
	ctx = EVP_ENCODE_CTX_new();
	if (out == NULL || ctx == NULL)
		goto fail;
	EVP_DecodeInit(ctx);
	if (n > (size_t)INT32_MAX ||
	    EVP_DecodeUpdate(ctx, out, &l1, (const unsigned char *)b64,
		(int)n) < 0 ||
	    EVP_DecodeFinal(ctx, out + l1, &l2) < 0)
		goto fail;
	EVP_ENCODE_CTX_free(ctx);
	if (l1 + l2 == 0) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)(l1 + l2);
	return out;
fail:
	ERR_clear_error();
	EVP_ENCODE_CTX_free(ctx);
	free(out);
	return NULL;
}

char *
tls_b64_encode(const unsigned char *data, size_t len)
{
	char *out;

	if (len > (size_t)INT32_MAX / 2)
		return NULL;
	out = malloc(4 * ((len + 2) / 3) + 1);
	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

STACK_OF(X509) *
tls_load_certs_file(const char *path, char *err, size_t errlen)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x;
	BIO *bio;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		tls_seterr(err, errlen, "cannot open certificate file", path);
		return NULL;
	}
	if ((sk = sk_X509_new_null()) == NULL)
		goto fail;
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (!sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	}
	ERR_clear_error(); /* the end of the file reads as an error */
	if (sk_X509_num(sk) == 0) {
		snprintf(err, errlen, "%s: no PEM certificate in the file",
		    path);
		goto fail_quiet;
	}
	BIO_free(bio);
	return sk;
fail:
	tls_seterr(err, errlen, "cannot read certificates", path);
fail_quiet:
	sk_X509_pop_free(sk, X509_free);
	BIO_free(bio);
	return NULL;
}

EVP_PKEY *
tls_load_key_file(const char *path, char *err, size_t errlen)
{
	EVP_PKEY *key;
	BIO *bio;

	if ((bio = BIO_new_file(path, "r")) == NULL) {
		tls_seterr(err, errlen, "cannot open key file", path);
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (key == NULL)
		tls_seterr(err, errlen, "no PEM private key in the file", path);
	BIO_free(bio);
	return key;
}

X509 *
tls_x509_from_data(const void *data, size_t len, char *err, size_t errlen)
{
	const unsigned char *p = data;
	unsigned char *der = NULL;
	size_t derlen;
	char *text;
	X509 *x = NULL;
	BIO *bio;

	if (len > 0 && p[0] == 0x30) { /* DER SEQUENCE */
		x = d2i_X509(NULL, &p, (long)len);
		goto done;
	}
	if ((text = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(text, data, len);
	text[len] = '\0';
	if (strstr(text, "-----BEGIN") != NULL) {
		if ((bio = BIO_new_mem_buf(text, (int)len)) != NULL) {
			x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
			BIO_free(bio);
		}
	} else if ((der = tls_b64_decode(text, &derlen)) != NULL) {
		p = der;
		x = d2i_X509(NULL, &p, (long)derlen);
		free(der);
	}
	free(text);
done:
	if (x == NULL)
		tls_seterr(err, errlen,
		    "not a certificate (expected DER, PEM or base64 DER)",
		    NULL);
	return x;
}

X509 *
tls_x509_from_file(const char *path, char *err, size_t errlen)
{
	char buf[65536], sub[512];
	size_t n;
	FILE *f;
	X509 *x;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: cannot open: %m", path);
		return NULL;
	}
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	if ((x = tls_x509_from_data(buf, n, sub, sizeof(sub))) == NULL)
		snprintf(err, errlen, "%s: %s", path, sub);
	return x;
}

int
tls_pfx_parse(const void *der, size_t len, const char *password,
    EVP_PKEY **key, X509 **cert, STACK_OF(X509) **chain, char *err,
    size_t errlen)
{
	const unsigned char *p = der;
	PKCS12 *p12;

	*key = NULL;
	*cert = NULL;
	*chain = NULL;
	if ((p12 = d2i_PKCS12(NULL, &p, (long)len)) == NULL) {
		tls_seterr(err, errlen, "not a PKCS#12 (PFX) file", NULL);
		return -1;
	}
	if (password == NULL)
		password = "";
	if (!PKCS12_verify_mac(p12, password, -1) &&
	    !(password[0] == '\0' && PKCS12_verify_mac(p12, NULL, 0))) {
		ERR_clear_error();
		snprintf(err, errlen, "wrong PFX password");
		PKCS12_free(p12);
		return -1;
	}
	if (!PKCS12_parse(p12, password, key, cert, chain) ||
	    *cert == NULL || *key == NULL) {
		tls_seterr(err, errlen, "cannot read the PFX", NULL);
		EVP_PKEY_free(*key);
		X509_free(*cert);
		sk_X509_pop_free(*chain, X509_free);
		*key = NULL;
		*cert = NULL;
		*chain = NULL;
		PKCS12_free(p12);
		return -1;
	}
	if (*chain == NULL)
		*chain = sk_X509_new_null();
	PKCS12_free(p12);
	return 0;
}

int
tls_version_parse(const char *s)
{
	if (strncmp(s, "TLSv", 4) == 0)
		s += 4;
	if (strcmp(s, "1.2") == 0 || strcmp(s, "1_2") == 0)
		return TLS1_2_VERSION;
	if (strcmp(s, "1.3") == 0 || strcmp(s, "1_3") == 0)
		return TLS1_3_VERSION;
	if (strcmp(s, "1.1") == 0)
		return TLS1_1_VERSION;
	if (strcmp(s, "1.0") == 0 || strcmp(s, "1") == 0)
		return TLS1_VERSION;
	return 0;
}

const char *
tls_version_name(int version)
{
	switch (version) {
	case TLS1_VERSION:
		return "TLSv1";
	case TLS1_1_VERSION:
		return "TLSv1.1";
	case TLS1_2_VERSION:
		return "TLSv1.2";
	case TLS1_3_VERSION:
		return "TLSv1.3";
	default:
		return "unknown";
	}
}

SSL_CTX *
tls_server_ctx_new(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    int min_version, int max_version, char *err, size_t errlen)
{
	return tls_server_ctx_new_level(cert, key, chain, min_version,
	    max_version, -1, err, errlen);
}

SSL_CTX *
tls_server_ctx_new_level(X509 *cert, EVP_PKEY *key, STACK_OF(X509) *chain,
    int min_version, int max_version, int security_level, char *err,
    size_t errlen)
{
	SSL_CTX *ctx;
	int i;

	if (!X509_check_private_key(cert, key)) {
		ERR_clear_error();
		snprintf(err, errlen,
		    "the private key does not match the certificate");
		return NULL;
	}
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	if (security_level >= 0)
		SSL_CTX_set_security_level(ctx, security_level);
	if (min_version && !SSL_CTX_set_min_proto_version(ctx, min_version))
		goto fail;
	if (max_version && !SSL_CTX_set_max_proto_version(ctx, max_version))
		goto fail;
	if (!SSL_CTX_use_certificate(ctx, cert))
		goto fail;
	for (i = 0; chain != NULL && i < sk_X509_num(chain); i++)
		if (!SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i)))
			goto fail;
	if (!SSL_CTX_use_PrivateKey(ctx, key))
		goto fail;
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	return ctx;
fail:
	tls_seterr(err, errlen, "cannot set up the TLS server context", NULL);
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *
tls_client_ctx_new(int min_version, int max_version, char *err, size_t errlen)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		goto fail;
	if (min_version && !SSL_CTX_set_min_proto_version(ctx, min_version))
		goto fail;
	if (max_version && !SSL_CTX_set_max_proto_version(ctx, max_version))
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
fail:
	tls_seterr(err, errlen, "cannot set up the TLS client context", NULL);
	SSL_CTX_free(ctx);
	return NULL;
}

static void
tls_hex(const unsigned char *md, unsigned int n, char *out)
{
	static const char hex[] = "0123456789ABCDEF";
	unsigned int i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[2 * n] = '\0';
}

int
tls_cert_digest_hex(X509 *cert, const EVP_MD *md, char *out, size_t outlen)
{
	unsigned char buf[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (!X509_digest(cert, md, buf, &n) || outlen < 2 * (size_t)n + 1)
		return -1;
	tls_hex(buf, n, out);
	return 0;
}

int
tls_spki_sha256_hex(X509 *cert, char *out, size_t outlen)
{
	unsigned char buf[EVP_MAX_MD_SIZE], *der = NULL;
	unsigned int n;
	int len;

	/* The whole SubjectPublicKeyInfo, as `openssl pkey -pubin -outform
	 * der | sha256sum` hashes it (pin-sha256 style). */
	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0)
		return -1;
	if (!EVP_Digest(der, (size_t)len, buf, &n, EVP_sha256(), NULL) ||
	    outlen < 2 * (size_t)n + 1) {
		OPENSSL_free(der);
		return -1;
	}
	OPENSSL_free(der);
	tls_hex(buf, n, out);
	return 0;
}
