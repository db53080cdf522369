/*
 * test_url_addr.c: upload/url_addr.c's classes of addresses for URL
 * sources: each block of the IANA special-purpose registries with the
 * addresses at its edges and just outside, the IPv4 address embedded in
 * IPv4-mapped, NAT64 and 6to4 forms, and what upload_allow_private_urls
 * opens.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "upload/upload_int.h"

#define PUB  UPLOAD_ADDR_PUBLIC
#define PRIV UPLOAD_ADDR_PRIVATE
#define SPEC UPLOAD_ADDR_SPECIAL

struct want {
	const char *addr;
	enum upload_addr_class cls;
};

static enum upload_addr_class
classify(const char *text, const char **range)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, text, &in.sin_addr) == 1)
		return upload__addr_classify((struct sockaddr *)&in, range);
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) != 1)
		fail_msg("bad address in the test: %s", text);
	return upload__addr_classify((struct sockaddr *)&in6, range);
}

static void
check(const struct want *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *range = "unset";
		enum upload_addr_class c = classify(w[i].addr, &range);

		if (c != w[i].cls)
			fail_msg("%s: class %d, expected %d (%s)", w[i].addr,
				 (int)c, (int)w[i].cls,
				 range ? range : "public");
		/* A block is named unless the address is public. */
		if ((c == PUB) != (range == NULL))
			fail_msg("%s: range %s", w[i].addr,
				 range ? range : "(none)");
	}
}

static void
test_ipv4_blocks(void **state)
{
	static const struct want w[] = {
	    {"0.0.0.0", SPEC},	       {"0.255.255.255", SPEC},
	    {"1.0.0.0", PUB},	       {"9.255.255.255", PUB},
	    {"10.0.0.0", PRIV},	       {"10.255.255.255", PRIV},
	    {"11.0.0.0", PUB},	       {"100.63.255.255", PUB},
	    {"100.64.0.0", SPEC},      {"100.100.100.200", SPEC},
	    {"100.127.255.255", SPEC}, {"100.128.0.0", PUB},
	    {"126.255.255.255", PUB},  {"127.0.0.0", PRIV},
	    {"127.0.0.1", PRIV},       {"127.255.255.255", PRIV},
	    {"128.0.0.0", PUB},	       {"169.253.255.255", PUB},
	    {"169.254.0.0", SPEC},     {"169.254.169.254", SPEC},
	    {"169.254.255.255", SPEC}, {"169.255.0.0", PUB},
	    {"172.15.255.255", PUB},   {"172.16.0.0", PRIV},
	    {"172.31.255.255", PRIV},  {"172.32.0.0", PUB},
	    {"191.255.255.255", PUB},  {"192.0.0.0", SPEC},
	    {"192.0.0.1", SPEC},       {"192.0.0.255", SPEC},
	    {"192.0.1.0", PUB},	       {"192.0.2.0", SPEC},
	    {"192.0.2.255", SPEC},     {"192.0.3.0", PUB},
	    {"192.88.98.255", PUB},    {"192.88.99.0", SPEC},
	    {"192.88.99.255", SPEC},   {"192.88.100.0", PUB},
	    {"192.167.255.255", PUB},  {"192.168.0.0", PRIV},
	    {"192.168.255.255", PRIV}, {"192.169.0.0", PUB},
	    {"198.17.255.255", PUB},   {"198.18.0.0", SPEC},
	    {"198.18.0.1", SPEC},      {"198.19.255.255", SPEC},
	    {"198.20.0.0", PUB},       {"198.51.99.255", PUB},
	    {"198.51.100.0", SPEC},    {"198.51.100.255", SPEC},
	    {"198.51.101.0", PUB},     {"203.0.112.255", PUB},
	    {"203.0.113.0", SPEC},     {"203.0.113.255", SPEC},
	    {"203.0.114.0", PUB},      {"223.255.255.255", PUB},
	    {"224.0.0.0", SPEC},       {"239.255.255.255", SPEC},
	    {"240.0.0.0", SPEC},       {"254.255.255.255", SPEC},
	    {"255.255.255.255", SPEC}, {"8.8.8.8", PUB},
	};

	(void)state;
	check(w, sizeof(w) / sizeof(w[0]));
}

static void
test_ipv6_blocks(void **state)
{
	static const struct want w[] = {
	    {"::", SPEC},
	    {"::1", PRIV},
	    {"::2", SPEC},
	    {"::127.0.0.1", SPEC}, /* IPv4-compatible, deprecated */
	    {"::ffff:0:0", SPEC},  /* mapped 0.0.0.0 */
	    {"::ffff:127.0.0.1", PRIV},
	    {"::ffff:10.1.2.3", PRIV},
	    {"::ffff:169.254.169.254", SPEC},
	    {"::ffff:198.18.0.1", SPEC},
	    {"::ffff:8.8.8.8", PUB},
	    {"::ffff:0:8.8.8.8", SPEC}, /* IPv4-translated */
	    {"64:ff9b::8.8.8.8", PUB},
	    {"64:ff9b::127.0.0.1", SPEC},
	    {"64:ff9b::10.0.0.1", SPEC},
	    {"64:ff9b::192.0.0.1", SPEC},
	    {"64:ff9b:1::1", SPEC},
	    {"64:ff9b:1:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"100::", SPEC},
	    {"100::ffff:ffff:ffff:ffff", SPEC},
	    {"100:0:0:1::", SPEC}, /* not global unicast either */
	    {"1fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"2000::", PUB},
	    {"2001::", SPEC},
	    {"2001:0:4136:e378:8000:63bf:3fff:fdd2", SPEC}, /* Teredo */
	    {"2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"2001:200::", PUB},
	    {"2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", PUB},
	    {"2001:db8::", SPEC},
	    {"2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"2001:db9::", PUB},
	    {"2001:4860:4860::8888", PUB},
	    {"2002:808:808::1", PUB},	/* 6to4 of 8.8.8.8 */
	    {"2002:7f00:1::1", SPEC},	/* 6to4 of 127.0.0.1 */
	    {"2002:a9fe:a9fe::", SPEC}, /* 6to4 of 169.254.169.254 */
	    {"2002:c0a8:101::", SPEC},	/* 6to4 of 192.168.1.1 */
	    {"2003::", PUB},
	    {"3ffe:ffff::", PUB},
	    {"3fff::", SPEC},
	    {"3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"3fff:1000::", PUB},
	    {"4000::", SPEC},
	    {"5f00::1", SPEC},
	    {"fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"fc00::", PRIV},
	    {"fd12:3456::1", PRIV},
	    {"fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV},
	    {"fe00::", SPEC},
	    {"fe80::", SPEC},
	    {"fe80::1", SPEC},
	    {"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	    {"fec0::1", SPEC}, /* site-local, deprecated */
	    {"ff00::", SPEC},
	    {"ff02::1", SPEC},
	    {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SPEC},
	};

	(void)state;
	check(w, sizeof(w) / sizeof(w[0]));
}

static void
test_names(void **state)
{
	const char *range = NULL;

	(void)state;
	assert_int_equal(classify("198.18.0.1", &range), SPEC);
	assert_string_equal(range, "198.18.0.0/15 (benchmarking)");
	assert_int_equal(classify("::ffff:192.168.1.1", &range), PRIV);
	assert_string_equal(range, "192.168.0.0/16 (private-use)");
	assert_int_equal(classify("64:ff9b::10.0.0.1", &range), SPEC);
	assert_string_equal(range, "64:ff9b::/96 (NAT64)");
	assert_int_equal(classify("8.8.8.8", NULL), PUB);
}

static void
test_allow_private(void **state)
{
	struct sockaddr_in in = {.sin_family = AF_INET};
	struct sockaddr_in6 in6 = {.sin6_family = AF_INET6};
	struct sockaddr un = {.sa_family = AF_UNIX};
	const char *range;

	(void)state;
	inet_pton(AF_INET, "127.0.0.1", &in.sin_addr);
	assert_false(
	    upload__addr_allowed((struct sockaddr *)&in, false, &range));
	assert_true(upload__addr_allowed((struct sockaddr *)&in, true, &range));
	inet_pton(AF_INET, "192.0.0.1", &in.sin_addr);
	assert_false(
	    upload__addr_allowed((struct sockaddr *)&in, true, &range));
	inet_pton(AF_INET, "169.254.169.254", &in.sin_addr);
	assert_false(
	    upload__addr_allowed((struct sockaddr *)&in, true, &range));
	inet_pton(AF_INET, "0.0.0.0", &in.sin_addr);
	assert_false(
	    upload__addr_allowed((struct sockaddr *)&in, true, &range));
	inet_pton(AF_INET, "93.184.216.34", &in.sin_addr);
	assert_true(
	    upload__addr_allowed((struct sockaddr *)&in, false, &range));
	inet_pton(AF_INET6, "fd00::1", &in6.sin6_addr);
	assert_false(
	    upload__addr_allowed((struct sockaddr *)&in6, false, &range));
	assert_true(
	    upload__addr_allowed((struct sockaddr *)&in6, true, &range));
	inet_pton(AF_INET6, "fe80::1", &in6.sin6_addr);
	assert_false(
	    upload__addr_allowed((struct sockaddr *)&in6, true, &range));
	assert_false(upload__addr_allowed(&un, true, &range));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ipv4_blocks),
	    cmocka_unit_test(test_ipv6_blocks),
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_allow_private),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
