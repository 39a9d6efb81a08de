/*
 * GENEVE codec.  The decoder is on the hot path of every received packet:
 * it walks the option TLVs with explicit bounds checks, takes the three AWS
 * options GWLB always sends, and refuses anything RFC 8926 says a tunnel
 * endpoint must not forward.
 *
 * The O (control) bit: RFC 8926 section 3.4 says the payload of a control
 * message must not be forwarded.  GWLB never sets it, so such a datagram is
 * refused and counted ("control") rather than delivered to an appliance.
 * The C bit only announces critical options; every option's own critical
 * bit is checked, so C itself is not trusted either way.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "bytes.h"
#include "geneve.h"

static const char *const geneve_err_names[] = {
	[GENEVE_OK] = "ok",
	[GENEVE_ERR_SHORT] = "short",
	[GENEVE_ERR_VERSION] = "bad-version",
	[GENEVE_ERR_CONTROL] = "control",
	[GENEVE_ERR_OPT_LEN] = "bad-option-length",
	[GENEVE_ERR_TLV] = "bad-tlv",
	[GENEVE_ERR_CRITICAL] = "unknown-critical",
	[GENEVE_ERR_AWS_LEN] = "bad-aws-option",
	[GENEVE_ERR_AWS_DUP] = "duplicate-aws-option",
	[GENEVE_ERR_NO_ENI] = "no-eni",
	[GENEVE_ERR_NO_ATTACHMENT] = "no-attachment",
	[GENEVE_ERR_NO_COOKIE] = "no-cookie",
	[GENEVE_ERR_PROTO] = "bad-protocol",
	[GENEVE_ERR_INNER] = "bad-inner",
	[GENEVE_ERR_INNER_LEN] = "inner-truncated",
};
_Static_assert(sizeof(geneve_err_names) / sizeof(geneve_err_names[0]) ==
    GENEVE_ERR__MAX, "geneve_err_names out of step with enum geneve_err");

const char *
geneve_err_str(enum geneve_err err)
{
	if ((unsigned)err >= GENEVE_ERR__MAX)
		return "unknown";
	return geneve_err_names[err];
}

/* Check that the inner packet is a sane IP header of the announced kind. */
static enum geneve_err
geneve_check_inner(const uint8_t *p, size_t len, uint16_t proto, size_t *ip_len)
{
	if (proto == ETHERTYPE_IPV4) {
		size_t ihl, tot;

		if (len < 20 || p[0] >> 4 != 4)
			return GENEVE_ERR_INNER;
		ihl = (size_t)(p[0] & 0x0f) * 4;
		tot = rd16(p + 2);
		if (ihl < 20 || tot < ihl)
			return GENEVE_ERR_INNER;
		if (tot > len || ihl > len)
			return GENEVE_ERR_INNER_LEN;
		*ip_len = tot;
		return GENEVE_OK;
	}
	/* IPv6: a payload length of 0 would mean a jumbogram, never on GWLB. */
	if (len < 40 || p[0] >> 4 != 6)
		return GENEVE_ERR_INNER;
	if (40 + (size_t)rd16(p + 4) > len)
		return GENEVE_ERR_INNER_LEN;
	*ip_len = 40 + (size_t)rd16(p + 4);
	return GENEVE_OK;
}

enum geneve_err
geneve_decode(const uint8_t *buf, size_t len, struct geneve_pkt *out)
{
	const uint8_t *opt, *end;
	unsigned seen = 0;
	size_t opt_len, ip_len = 0;
	enum geneve_err err;

	if (len < GENEVE_BASE_LEN)
		return GENEVE_ERR_SHORT;
	if (buf[0] >> 6 != 0)
		return GENEVE_ERR_VERSION;
	if (buf[1] & 0x80)
		return GENEVE_ERR_CONTROL;
	opt_len = (size_t)(buf[0] & 0x3f) * 4;
	if (GENEVE_BASE_LEN + opt_len > len)
		return GENEVE_ERR_OPT_LEN;
	out->proto = rd16(buf + 2);
	out->vni = rd32(buf + 4) >> 8;
	out->hdr_len = (uint16_t)(GENEVE_BASE_LEN + opt_len);

	opt = buf + GENEVE_BASE_LEN;
	end = opt + opt_len;
	while (opt < end) {
		uint16_t cls;
		uint8_t type;
		size_t dlen;

		if ((size_t)(end - opt) < GENEVE_OPT_HDR_LEN)
			return GENEVE_ERR_TLV;
		cls = rd16(opt);
		type = opt[2];
		dlen = (size_t)(opt[3] & 0x1f) * 4;
		if (dlen > (size_t)(end - opt) - GENEVE_OPT_HDR_LEN)
			return GENEVE_ERR_TLV;
		if (cls == GENEVE_CLASS_AWS &&
		    type >= GENEVE_AWS_ENI && type <= GENEVE_AWS_COOKIE) {
			const uint8_t *d = opt + GENEVE_OPT_HDR_LEN;
			size_t want = type == GENEVE_AWS_COOKIE ? 4 : 8;

			if (dlen != want)
				return GENEVE_ERR_AWS_LEN;
			if (seen & (1u << type))
				return GENEVE_ERR_AWS_DUP;
			seen |= 1u << type;
			if (type == GENEVE_AWS_ENI)
				out->aws.eni_id = rd64(d);
			else if (type == GENEVE_AWS_ATTACHMENT)
				out->aws.attachment_id = rd64(d);
			else
				out->aws.cookie = rd32(d);
		} else if (type & GENEVE_OPT_CRITICAL) {
			/* RFC 8926 3.5: an unknown critical option means drop. */
			return GENEVE_ERR_CRITICAL;
		}
		opt += GENEVE_OPT_HDR_LEN + dlen;
	}
	if (!(seen & (1u << GENEVE_AWS_ENI)))
		return GENEVE_ERR_NO_ENI;
	if (!(seen & (1u << GENEVE_AWS_ATTACHMENT)))
		return GENEVE_ERR_NO_ATTACHMENT;
	if (!(seen & (1u << GENEVE_AWS_COOKIE)))
		return GENEVE_ERR_NO_COOKIE;
	if (out->proto != ETHERTYPE_IPV4 && out->proto != ETHERTYPE_IPV6)
		return GENEVE_ERR_PROTO;

	out->inner = buf + out->hdr_len;
	err = geneve_check_inner(out->inner, len - out->hdr_len, out->proto, &ip_len);
	if (err != GENEVE_OK)
		return err;
	out->inner_len = ip_len;
	return GENEVE_OK;
}

ssize_t
geneve_encode(uint8_t *buf, size_t cap, const struct geneve_aws *aws,
    uint16_t proto)
{
	uint8_t *o;

	if (cap < GENEVE_AWS_HDR_LEN)
		return -ENOSPC;
	memset(buf, 0, GENEVE_AWS_HDR_LEN);
	buf[0] = (GENEVE_AWS_HDR_LEN - GENEVE_BASE_LEN) / 4;	/* ver 0, 8 words */
	wr16(buf + 2, proto);
	o = buf + GENEVE_BASE_LEN;
	wr16(o, GENEVE_CLASS_AWS);
	o[2] = GENEVE_AWS_ENI;
	o[3] = 2;
	wr64(o + 4, aws->eni_id);
	o += 12;
	wr16(o, GENEVE_CLASS_AWS);
	o[2] = GENEVE_AWS_ATTACHMENT;
	o[3] = 2;
	wr64(o + 4, aws->attachment_id);
	o += 12;
	wr16(o, GENEVE_CLASS_AWS);
	o[2] = GENEVE_AWS_COOKIE;
	o[3] = 1;
	wr32(o + 4, aws->cookie);
	return GENEVE_AWS_HDR_LEN;
}
