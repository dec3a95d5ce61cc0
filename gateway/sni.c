#include "sni.h"

#include <stdio.h>
#include <string.h>

#include "net.h"

const char *
sni_usable(const char *name)
{
	if (name == NULL || name[0] == '\0' || net_is_ip_literal(name))
		return NULL;
	return name;
}

/* The member's FQDN, or NULL for an IP member. */
static const char *
sni_fqdn(const struct config_member *m)
{
	return m->kind == CONFIG_MEMBER_FQDN ? m->address : NULL;
}

/* Host without its port: "a:8080" -> "a", "[::1]:80" -> "::1". */
static const char *
sni_strip_port(const char *host, char *buf, size_t len)
{
	char *end;

	if (host == NULL || len == 0)
		return NULL;
	if (host[0] == '[') {
		snprintf(buf, len, "%s", host + 1);
		if ((end = strchr(buf, ']')) != NULL)
			*end = '\0';
		return buf;
	}
	snprintf(buf, len, "%s", host);
	if ((end = strrchr(buf, ':')) != NULL)
		*end = '\0';
	return buf;
}

void
sni_traffic(enum config_sku sku, const struct config_settings *s,
    enum config_member_kind kind, const char *address,
    const char *client_host, char *buf, size_t len, struct sni_names *out)
{
	const char *fqdn = kind == CONFIG_MEMBER_FQDN ? address : NULL;
	const char *name;

	if (s->host_name != NULL)
		out->host = s->host_name;
	else if (s->pick_host_from_backend)
		out->host = address;
	else if (client_host != NULL)
		out->host = client_host;
	else
		out->host = address;

	if (sku == CONFIG_SKU_V1) {
		out->sni = sni_usable(fqdn);
		out->verify_name = out->sni;
		return;
	}
	if (s->sni_name != NULL)
		name = s->sni_name;
	else if (s->host_name != NULL)
		name = s->host_name;
	else if (s->pick_host_from_backend || fqdn != NULL)
		name = address;
	else
		name = sni_strip_port(client_host, buf, len);
	out->sni = sni_usable(name);
	out->verify_name = out->sni;
}

void
sni_probe(enum config_sku sku, const struct config_settings *s,
    const struct config_probe *p, const struct config_member *m,
    struct sni_names *out)
{
	const char *name;

	if (p == NULL)
		out->host = SNI_DEFAULT_PROBE_HOST;
	else if (p->host != NULL && !p->pick_host_from_settings)
		out->host = p->host;
	else if (p->pick_host_from_settings && s->host_name != NULL)
		out->host = s->host_name;
	else if (p->pick_host_from_settings && s->pick_host_from_backend)
		out->host = m->address;
	else if (p->host != NULL)
		out->host = p->host;
	else
		out->host = m->address; /* refused by the service's rules */

	if (sku == CONFIG_SKU_V1) {
		out->sni = sni_usable(sni_fqdn(m));
		out->verify_name = out->sni;
		return;
	}
	if (p != NULL && p->host != NULL && !p->pick_host_from_settings)
		name = p->host;
	else if (s->host_name != NULL)
		name = s->host_name;
	else
		name = sni_fqdn(m);
	out->sni = sni_usable(name);
	out->verify_name = out->sni;
}
