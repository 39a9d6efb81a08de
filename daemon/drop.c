/* Drop reasons: their names and sides (drop.h). */
#include "config.h"

#include <stdbool.h>

#include "drop.h"

static const char *const drop_names[] = {
	[DROP_TRUNCATED] = "truncated",
	[DROP_ORIGIN] = "origin-not-allowed",
	[DROP_NOT_IPV4] = "outer-not-ipv4",
	[DROP_GENEVE + GENEVE_ERR_SHORT - 1] = "geneve-short",
	[DROP_GENEVE + GENEVE_ERR_VERSION - 1] = "geneve-bad-version",
	[DROP_GENEVE + GENEVE_ERR_CONTROL - 1] = "geneve-control",
	[DROP_GENEVE + GENEVE_ERR_OPT_LEN - 1] = "geneve-bad-option-length",
	[DROP_GENEVE + GENEVE_ERR_TLV - 1] = "geneve-bad-tlv",
	[DROP_GENEVE + GENEVE_ERR_CRITICAL - 1] = "geneve-unknown-critical",
	[DROP_GENEVE + GENEVE_ERR_AWS_LEN - 1] = "geneve-bad-aws-option",
	[DROP_GENEVE + GENEVE_ERR_AWS_DUP - 1] = "geneve-duplicate-aws-option",
	[DROP_GENEVE + GENEVE_ERR_NO_ENI - 1] = "geneve-no-eni",
	[DROP_GENEVE + GENEVE_ERR_NO_ATTACHMENT - 1] = "geneve-no-attachment",
	[DROP_GENEVE + GENEVE_ERR_NO_COOKIE - 1] = "geneve-no-cookie",
	[DROP_GENEVE + GENEVE_ERR_PROTO - 1] = "geneve-bad-protocol",
	[DROP_GENEVE + GENEVE_ERR_INNER - 1] = "geneve-bad-inner",
	[DROP_GENEVE + GENEVE_ERR_INNER_LEN - 1] = "geneve-inner-truncated",
	[DROP_ENI_LIMIT] = "eni-limit",
	[DROP_BACKLOG_FULL] = "backlog-full",
	[DROP_BACKLOG_BYTES] = "backlog-bytes",
	[DROP_ENI_FAILED] = "eni-failed",
	[DROP_ENI_CLOSING] = "eni-closing",
	[DROP_TUN_WRITE] = "tun-write",
	[DROP_TUN_READ] = "tun-read",
	[DROP_NO_FLOW] = "no-flow",
	[DROP_LINK_LOCAL] = "link-local",
	[DROP_TOO_BIG] = "too-big",
	[DROP_REPLY_BAD] = "reply-bad-packet",
	[DROP_SEND] = "send-failed",
};
_Static_assert(sizeof(drop_names) / sizeof(drop_names[0]) == DROP__MAX,
    "drop_names out of step with enum drop_reason");

/* The reply side: what a reply worker drops on its way back to GWLB. */
static const bool drop_reply_side[DROP__MAX] = {
	[DROP_TUN_READ] = true,
	[DROP_NO_FLOW] = true,
	[DROP_LINK_LOCAL] = true,
	[DROP_TOO_BIG] = true,
	[DROP_REPLY_BAD] = true,
	[DROP_SEND] = true,
};

const char *
drop_str(enum drop_reason r)
{
	return (unsigned)r < DROP__MAX && drop_names[r] ? drop_names[r] : "?";
}

enum drop_side
drop_side(enum drop_reason r)
{
	return (unsigned)r < DROP__MAX && drop_reply_side[r] ? DROP_SIDE_REPLY :
	    DROP_SIDE_RECEIVE;
}

const char *
drop_side_str(enum drop_side s)
{
	return s == DROP_SIDE_REPLY ? "reply" : "receive";
}
