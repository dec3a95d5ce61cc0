#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "sni.h"

/* Names as writable arrays (the config model holds char *). */
static char ip_addr[] = "127.0.1.1";
static char fqdn_addr[] = "app.contoso.com";
static char host_name[] = "www.contoso.com";
static char sni_name[] = "sni.contoso.com";
static char probe_host[] = "probe.contoso.com";
static char ip_host_name[] = "10.0.0.4";

static struct config_member ip_member = { CONFIG_MEMBER_IP, ip_addr };
static struct config_member fqdn_member = { CONFIG_MEMBER_FQDN, fqdn_addr };

static struct config_settings
settings(void)
{
	struct config_settings s;

	memset(&s, 0, sizeof(s));
	s.port = 443;
	s.protocol = CONFIG_PROTO_HTTPS;
	s.probe = -1;
	s.validate_chain = 1;
	s.validate_sni = 1;
	return s;
}

static struct config_probe
probe(void)
{
	struct config_probe p;

	memset(&p, 0, sizeof(p));
	p.protocol = CONFIG_PROTO_HTTPS;
	return p;
}

static void
traffic(enum config_sku sku, const struct config_settings *s,
    const struct config_member *m, const char *client_host,
    struct sni_names *out)
{
	static char buf[256];

	sni_traffic(sku, s, m->kind, m->address, client_host, buf, sizeof(buf),
	    out);
}

/* --- live traffic, v2 --------------------------------------------------- */

static void
test_sni_v2_traffic_sni_name_first(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.sni_name = sni_name;
	s.host_name = host_name;
	traffic(CONFIG_SKU_V2, &s, &fqdn_member, "client.example", &n);
	assert_string_equal(n.sni, "sni.contoso.com");
	assert_string_equal(n.verify_name, "sni.contoso.com");
	assert_string_equal(n.host, "www.contoso.com");
}

static void
test_sni_v2_traffic_host_name(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.host_name = host_name;
	traffic(CONFIG_SKU_V2, &s, &fqdn_member, "client.example", &n);
	assert_string_equal(n.sni, "www.contoso.com");
	assert_string_equal(n.host, "www.contoso.com");
}

static void
test_sni_v2_traffic_pick_from_backend_fqdn(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.pick_host_from_backend = 1;
	traffic(CONFIG_SKU_V2, &s, &fqdn_member, "client.example", &n);
	assert_string_equal(n.sni, "app.contoso.com");
	assert_string_equal(n.host, "app.contoso.com");
}

static void
test_sni_v2_traffic_pick_from_backend_ip_sends_none(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.pick_host_from_backend = 1;
	traffic(CONFIG_SKU_V2, &s, &ip_member, "client.example", &n);
	assert_null(n.sni);
	assert_null(n.verify_name);
	assert_string_equal(n.host, "127.0.1.1");
}

static void
test_sni_v2_traffic_fqdn_member(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	traffic(CONFIG_SKU_V2, &s, &fqdn_member, "client.example:8080", &n);
	assert_string_equal(n.sni, "app.contoso.com");
	/* Host stays the client's */
	assert_string_equal(n.host, "client.example:8080");
}

static void
test_sni_v2_traffic_client_host_port_stripped(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	traffic(CONFIG_SKU_V2, &s, &ip_member, "client.example:8080", &n);
	assert_string_equal(n.sni, "client.example");
	assert_string_equal(n.verify_name, "client.example");
	assert_string_equal(n.host, "client.example:8080");
}

static void
test_sni_v2_traffic_client_ip_host_sends_none(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	traffic(CONFIG_SKU_V2, &s, &ip_member, "127.0.0.1:8080", &n);
	assert_null(n.sni);
	traffic(CONFIG_SKU_V2, &s, &ip_member, "[::1]:8080", &n);
	assert_null(n.sni);
}

static void
test_sni_v2_traffic_no_host_at_all(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	traffic(CONFIG_SKU_V2, &s, &ip_member, NULL, &n);
	assert_null(n.sni);
	assert_string_equal(n.host, "127.0.1.1");
}

static void
test_sni_v2_traffic_ip_host_name_sends_none(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.host_name = ip_host_name;
	traffic(CONFIG_SKU_V2, &s, &fqdn_member, "client.example", &n);
	assert_null(n.sni);
	assert_string_equal(n.host, "10.0.0.4");
}

/* --- live traffic, v1 --------------------------------------------------- */

static void
test_sni_v1_traffic_fqdn_member(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	traffic(CONFIG_SKU_V1, &s, &fqdn_member, "client.example", &n);
	assert_string_equal(n.sni, "app.contoso.com");
	assert_string_equal(n.verify_name, "app.contoso.com");
	assert_string_equal(n.host, "client.example");
}

static void
test_sni_v1_traffic_ip_member_sends_none(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	traffic(CONFIG_SKU_V1, &s, &ip_member, "client.example", &n);
	assert_null(n.sni);
	assert_null(n.verify_name);
}

static void
test_sni_v1_traffic_host_name_changes_host_only(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.host_name = host_name;
	s.sni_name = sni_name;
	traffic(CONFIG_SKU_V1, &s, &ip_member, "client.example", &n);
	assert_null(n.sni);
	assert_string_equal(n.host, "www.contoso.com");
	traffic(CONFIG_SKU_V1, &s, &fqdn_member, "client.example", &n);
	assert_string_equal(n.sni, "app.contoso.com");
	assert_string_equal(n.verify_name, "app.contoso.com");
	assert_string_equal(n.host, "www.contoso.com");
}

/* --- probes, v2 --------------------------------------------------------- */

static void
test_sni_v2_default_probe_ip_member(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	sni_probe(CONFIG_SKU_V2, &s, NULL, &ip_member, &n);
	assert_string_equal(n.host, "127.0.0.1");
	assert_null(n.sni); /* Host 127.0.0.1 is never the SNI */
	assert_null(n.verify_name);
}

static void
test_sni_v2_default_probe_fqdn_member(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	sni_probe(CONFIG_SKU_V2, &s, NULL, &fqdn_member, &n);
	assert_string_equal(n.host, "127.0.0.1");
	assert_string_equal(n.sni, "app.contoso.com");
}

static void
test_sni_v2_default_probe_host_name(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.host_name = host_name;
	s.sni_name = sni_name; /* sniName is for live traffic only */
	sni_probe(CONFIG_SKU_V2, &s, NULL, &fqdn_member, &n);
	assert_string_equal(n.host, "127.0.0.1");
	assert_string_equal(n.sni, "www.contoso.com");
	assert_string_equal(n.verify_name, "www.contoso.com");
}

static void
test_sni_v2_custom_probe_host(void **state)
{
	struct config_settings s = settings();
	struct config_probe p = probe();
	struct sni_names n;

	s.host_name = host_name;
	p.host = probe_host;
	sni_probe(CONFIG_SKU_V2, &s, &p, &fqdn_member, &n);
	assert_string_equal(n.host, "probe.contoso.com");
	assert_string_equal(n.sni, "probe.contoso.com");
}

static void
test_sni_v2_custom_probe_pick_from_settings_host_name(void **state)
{
	struct config_settings s = settings();
	struct config_probe p = probe();
	struct sni_names n;

	s.host_name = host_name;
	p.pick_host_from_settings = 1;
	sni_probe(CONFIG_SKU_V2, &s, &p, &ip_member, &n);
	assert_string_equal(n.host, "www.contoso.com");
	assert_string_equal(n.sni, "www.contoso.com");
}

static void
test_sni_v2_custom_probe_pick_from_backend_address(void **state)
{
	struct config_settings s = settings();
	struct config_probe p = probe();
	struct sni_names n;

	s.pick_host_from_backend = 1;
	p.pick_host_from_settings = 1;
	sni_probe(CONFIG_SKU_V2, &s, &p, &fqdn_member, &n);
	assert_string_equal(n.host, "app.contoso.com");
	assert_string_equal(n.sni, "app.contoso.com");
	sni_probe(CONFIG_SKU_V2, &s, &p, &ip_member, &n);
	assert_string_equal(n.host, "127.0.1.1");
	assert_null(n.sni);
}

static void
test_sni_v2_custom_probe_ip_host_sends_none(void **state)
{
	struct config_settings s = settings();
	struct config_probe p = probe();
	struct sni_names n;

	p.host = ip_host_name;
	sni_probe(CONFIG_SKU_V2, &s, &p, &fqdn_member, &n);
	assert_string_equal(n.host, "10.0.0.4");
	assert_null(n.sni);
}

/* --- probes, v1 --------------------------------------------------------- */

static void
test_sni_v1_default_probe(void **state)
{
	struct config_settings s = settings();
	struct sni_names n;

	s.host_name = host_name;
	sni_probe(CONFIG_SKU_V1, &s, NULL, &fqdn_member, &n);
	assert_string_equal(n.host, "127.0.0.1");
	assert_string_equal(n.sni, "app.contoso.com");
	assert_string_equal(n.verify_name, "app.contoso.com");
	sni_probe(CONFIG_SKU_V1, &s, NULL, &ip_member, &n);
	assert_null(n.sni);
	assert_null(n.verify_name);
}

static void
test_sni_v1_custom_probe_host_is_not_sni(void **state)
{
	struct config_settings s = settings();
	struct config_probe p = probe();
	struct sni_names n;

	p.host = probe_host;
	sni_probe(CONFIG_SKU_V1, &s, &p, &ip_member, &n);
	assert_string_equal(n.host, "probe.contoso.com");
	assert_null(n.sni);
	sni_probe(CONFIG_SKU_V1, &s, &p, &fqdn_member, &n);
	assert_string_equal(n.sni, "app.contoso.com");
}

static void
test_sni_usable_refuses_ip_and_empty(void **state)
{
	assert_null(sni_usable(NULL));
	assert_null(sni_usable(""));
	assert_null(sni_usable("127.0.0.1"));
	assert_null(sni_usable("::1"));
	assert_string_equal(sni_usable("a.example"), "a.example");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_v2_traffic_sni_name_first),
		cmocka_unit_test(test_sni_v2_traffic_host_name),
		cmocka_unit_test(test_sni_v2_traffic_pick_from_backend_fqdn),
		cmocka_unit_test(
		    test_sni_v2_traffic_pick_from_backend_ip_sends_none),
		cmocka_unit_test(test_sni_v2_traffic_fqdn_member),
		cmocka_unit_test(test_sni_v2_traffic_client_host_port_stripped),
		cmocka_unit_test(test_sni_v2_traffic_client_ip_host_sends_none),
		cmocka_unit_test(test_sni_v2_traffic_no_host_at_all),
		cmocka_unit_test(test_sni_v2_traffic_ip_host_name_sends_none),
		cmocka_unit_test(test_sni_v1_traffic_fqdn_member),
		cmocka_unit_test(test_sni_v1_traffic_ip_member_sends_none),
		cmocka_unit_test(test_sni_v1_traffic_host_name_changes_host_only),
		cmocka_unit_test(test_sni_v2_default_probe_ip_member),
		cmocka_unit_test(test_sni_v2_default_probe_fqdn_member),
		cmocka_unit_test(test_sni_v2_default_probe_host_name),
		cmocka_unit_test(test_sni_v2_custom_probe_host),
		cmocka_unit_test(
		    test_sni_v2_custom_probe_pick_from_settings_host_name),
		cmocka_unit_test(
		    test_sni_v2_custom_probe_pick_from_backend_address),
		cmocka_unit_test(test_sni_v2_custom_probe_ip_host_sends_none),
		cmocka_unit_test(test_sni_v1_default_probe),
		cmocka_unit_test(test_sni_v1_custom_probe_host_is_not_sni),
		cmocka_unit_test(test_sni_usable_refuses_ip_and_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
