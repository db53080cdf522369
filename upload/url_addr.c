/*
 * url_addr.c: which addresses a URL source may be downloaded from.
 *
 * The blocks are those of the IANA special-purpose address registries
 * (https://www.iana.org/assignments/iana-ipv4-special-registry/ and
 * https://www.iana.org/assignments/iana-ipv6-special-registry/), and for
 * IPv6 everything outside global unicast 2000::/3 (the IPv6 address space
 * registry). Loopback and private-use blocks (127/8, 10/8, 172.16/12,
 * 192.168/16, ::1, fc00::/7) are "private": upload_allow_private_urls
 * opens them, for a media server on the same network and for tests. The
 * others are refused always: none holds a media server, and some hold
 * what a caller must never reach through vodhook (0.0.0.0 reaches the
 * host itself, 169.254.169.254 and Alibaba's 100.100.100.200 are cloud
 * metadata services). An address that embeds an IPv4 one (IPv4-mapped
 * ::ffff:0:0/96, NAT64 64:ff9b::/96, 6to4 2002::/16) is judged by the one
 * it embeds; NAT64 and 6to4 forms must embed a public one.
 *
 * Interface: upload__addr_classify, upload__addr_allowed, upload_addr_allowed
 * (webhooks/). Pure functions, thread-safe.
 */
#include "upload/upload_int.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

struct block4 {
	uint32_t net;
	int len;
	enum upload_addr_class cls;
	const char *name;
};

#define V4(a, b, c, d) ((uint32_t)(a) << 24 | (b) << 16 | (c) << 8 | (d))

/* More specific blocks first: the first match wins. */
static const struct block4 blocks4[] = {
    {V4(0, 0, 0, 0), 8, UPLOAD_ADDR_SPECIAL, "0.0.0.0/8 (this network)"},
    {V4(10, 0, 0, 0), 8, UPLOAD_ADDR_PRIVATE, "10.0.0.0/8 (private-use)"},
    {V4(100, 64, 0, 0), 10, UPLOAD_ADDR_SPECIAL,
     "100.64.0.0/10 (shared address space)"},
    {V4(127, 0, 0, 0), 8, UPLOAD_ADDR_PRIVATE, "127.0.0.0/8 (loopback)"},
    {V4(169, 254, 0, 0), 16, UPLOAD_ADDR_SPECIAL,
     "169.254.0.0/16 (link-local)"},
    {V4(172, 16, 0, 0), 12, UPLOAD_ADDR_PRIVATE, "172.16.0.0/12 (private-use)"},
    {V4(192, 0, 0, 0), 24, UPLOAD_ADDR_SPECIAL,
     "192.0.0.0/24 (IETF protocol assignments)"},
    {V4(192, 0, 2, 0), 24, UPLOAD_ADDR_SPECIAL, "192.0.2.0/24 (documentation)"},
    {V4(192, 88, 99, 0), 24, UPLOAD_ADDR_SPECIAL,
     "192.88.99.0/24 (6to4 relay anycast)"},
    {V4(192, 168, 0, 0), 16, UPLOAD_ADDR_PRIVATE,
     "192.168.0.0/16 (private-use)"},
    {V4(198, 18, 0, 0), 15, UPLOAD_ADDR_SPECIAL,
     "198.18.0.0/15 (benchmarking)"},
    {V4(198, 51, 100, 0), 24, UPLOAD_ADDR_SPECIAL,
     "198.51.100.0/24 (documentation)"},
    {V4(203, 0, 113, 0), 24, UPLOAD_ADDR_SPECIAL,
     "203.0.113.0/24 (documentation)"},
    {V4(224, 0, 0, 0), 4, UPLOAD_ADDR_SPECIAL, "224.0.0.0/4 (multicast)"},
    {V4(255, 255, 255, 255), 32, UPLOAD_ADDR_SPECIAL,
     "255.255.255.255/32 (limited broadcast)"},
    {V4(240, 0, 0, 0), 4, UPLOAD_ADDR_SPECIAL, "240.0.0.0/4 (reserved)"},
};

/* How an IPv6 block treats the IPv4 address it embeds, if any. */
enum embeds {
	EMBEDS_NONE,
	EMBEDS_MAPPED, /* the embedded address's class, private included */
	EMBEDS_PUBLIC, /* allowed only when the embedded one is public */
};

struct block6 {
	unsigned char net[16];
	int len;
	enum upload_addr_class cls; /* when it embeds nothing */
	enum embeds embeds;
	int v4_at; /* offset of the embedded IPv4 address */
	const char *name;
};

static const struct block6 blocks6[] = {
    {{[15] = 1},
     128,
     UPLOAD_ADDR_PRIVATE,
     EMBEDS_NONE,
     0,
     "::1/128 (loopback)"},
    {{[10] = 0xff, [11] = 0xff},
     96,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_MAPPED,
     12,
     "::ffff:0:0/96 (IPv4-mapped)"},
    {{0},
     96,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "::/96 (unspecified, IPv4-compatible)"},
    {{[1] = 0x64, [2] = 0xff, [3] = 0x9b},
     96,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_PUBLIC,
     12,
     "64:ff9b::/96 (NAT64)"},
    {{[1] = 0x64, [2] = 0xff, [3] = 0x9b, [5] = 1},
     48,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "64:ff9b:1::/48 (local-use NAT64)"},
    {{[0] = 1}, 64, UPLOAD_ADDR_SPECIAL, EMBEDS_NONE, 0, "100::/64 (discard)"},
    {{[0] = 0x20, [1] = 0x01, [2] = 0x0d, [3] = 0xb8},
     32,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "2001:db8::/32 (documentation)"},
    {{[0] = 0x20, [1] = 0x01},
     23,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "2001::/23 (IETF protocol assignments, Teredo)"},
    {{[0] = 0x20, [1] = 0x02},
     16,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_PUBLIC,
     2,
     "2002::/16 (6to4)"},
    {{[0] = 0x3f, [1] = 0xff},
     20,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "3fff::/20 (documentation)"},
    {{[0] = 0xfc},
     7,
     UPLOAD_ADDR_PRIVATE,
     EMBEDS_NONE,
     0,
     "fc00::/7 (unique local)"},
    {{[0] = 0xfe, [1] = 0x80},
     10,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "fe80::/10 (link-local)"},
    {{[0] = 0xff},
     8,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "ff00::/8 (multicast)"},
    /* Whatever is not global unicast is not assigned for use at all. */
    {{[0] = 0x20}, 3, UPLOAD_ADDR_PUBLIC, EMBEDS_NONE, 0, NULL},
    {{0},
     0,
     UPLOAD_ADDR_SPECIAL,
     EMBEDS_NONE,
     0,
     "outside 2000::/3 (not global unicast)"},
};

static enum upload_addr_class
classify4(uint32_t a, const char **range)
{
	for (size_t i = 0; i < sizeof(blocks4) / sizeof(blocks4[0]); i++) {
		const struct block4 *b = &blocks4[i];
		uint32_t mask = b->len == 0 ? 0 : 0xffffffffu << (32 - b->len);

		if ((a & mask) == b->net) {
			*range = b->name;
			return b->cls;
		}
	}
	*range = NULL;
	return UPLOAD_ADDR_PUBLIC;
}

static bool
prefix_match(const unsigned char *a, const unsigned char *net, int len)
{
	int whole = len / 8, rest = len % 8;

	if (memcmp(a, net, (size_t)whole) != 0)
		return false;
	if (rest == 0)
		return true;
	return ((a[whole] ^ net[whole]) & (0xff << (8 - rest))) == 0;
}

static enum upload_addr_class
classify6(const unsigned char *a, const char **range)
{
	for (size_t i = 0; i < sizeof(blocks6) / sizeof(blocks6[0]); i++) {
		const struct block6 *b = &blocks6[i];
		const unsigned char *v4 = a + b->v4_at;
		enum upload_addr_class c;
		const char *inner;

		if (!prefix_match(a, b->net, b->len))
			continue;
		*range = b->name;
		if (b->embeds == EMBEDS_NONE)
			return b->cls;
		c = classify4(V4(v4[0], v4[1], v4[2], v4[3]), &inner);
		if (b->embeds == EMBEDS_MAPPED) {
			*range = inner;
			return c;
		}
		if (c == UPLOAD_ADDR_PUBLIC) {
			*range = NULL;
			return c;
		}
		return UPLOAD_ADDR_SPECIAL;
	}
	return UPLOAD_ADDR_SPECIAL; /* not reached: the last block is ::/0 */
}

enum upload_addr_class
upload__addr_classify(const struct sockaddr *sa, const char **range)
{
	const char *dummy;

	if (range == NULL)
		range = &dummy;
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in in;

		memcpy(&in, sa, sizeof(in));
		return classify4(ntohl(in.sin_addr.s_addr), range);
	}
	if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 in6;

		memcpy(&in6, sa, sizeof(in6));
		return classify6(in6.sin6_addr.s6_addr, range);
	}
	*range = "not an internet address";
	return UPLOAD_ADDR_SPECIAL;
}

bool
upload__addr_allowed(const struct sockaddr *sa, bool allow_private,
		     const char **range)
{
	enum upload_addr_class c = upload__addr_classify(sa, range);

	return c == UPLOAD_ADDR_PUBLIC ||
	       (c == UPLOAD_ADDR_PRIVATE && allow_private);
}

bool
upload_addr_allowed(const struct sockaddr *sa, bool allow_private,
		    const char **range)
{
	return upload__addr_allowed(sa, allow_private, range);
}
