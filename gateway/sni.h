/*
 * sni: the names the gateway uses towards a backend (spec sections 2, 3 and
 * 6), as pure functions of the configuration: the TLS server name (SNI)
 * sent, the Host header sent, and the name the verifier checks. One set of
 * rules for live traffic and one for health probes, both SKUs.
 *
 * Live traffic (v2), SNI: sniName; else the setting's hostName; else the
 * member's address when pickHostNameFromBackendAddress is set or the member
 * is an FQDN; else the client's Host (port stripped). v1: the member's FQDN,
 * none for an IP member (hostName changes only the Host header on v1).
 *
 * Probes, SNI (v2): the custom probe's host; else the setting's hostName;
 * else the member's FQDN. The default probe sends Host: 127.0.0.1 and never
 * uses it as SNI: its SNI is the hostName, else the member's FQDN. v1
 * probes send the member's FQDN as SNI, like v1 live traffic (emulator
 * choice: spec 2 says hostName never changes SNI on v1).
 *
 * Never an IP literal, never an empty name: such a choice means "no SNI".
 * The verifier's name: v1 the member's FQDN (none for an IP member); v2
 * the SNI sent (the policy's validateSNI decides whether it is checked).
 */
#ifndef AGW_SNI_H
#define AGW_SNI_H

#include <stddef.h>

#include "config.h"

/* The Host header of the default probe. */
#define SNI_DEFAULT_PROBE_HOST "127.0.0.1"

/* The names for one upstream exchange. Pointers borrow from the
 * configuration, the client's Host or the caller's buffer: valid while
 * those are. sni and verify_name may be NULL (none). */
struct sni_names {
	const char *host;	 /* Host header; never NULL */
	const char *sni;	 /* TLS server name, or NULL */
	const char *verify_name; /* name for verify_chain, or NULL */
};

/*
 * The names for live traffic through setting s to the member of that kind
 * and address (as written in the pool). client_host is the request's Host
 * header value (NULL when absent); buf (of len bytes) holds the client's
 * Host without its port when that becomes the SNI.
 */
void sni_traffic(enum config_sku sku, const struct config_settings *s,
    enum config_member_kind kind, const char *address,
    const char *client_host, char *buf, size_t len, struct sni_names *out);

/*
 * The names for the probe of member m through setting s; p is the custom
 * probe attached to s, or NULL for the default probe.
 */
void sni_probe(enum config_sku sku, const struct config_settings *s,
    const struct config_probe *p, const struct config_member *m,
    struct sni_names *out);

/* name, or NULL when it is NULL, empty or an IP literal (RFC 6066). */
const char *sni_usable(const char *name);

#endif
