/*
 * The one command table of the control channel, and everything derived
 * from it: parsing with unique-prefix abbreviation (ambiguity is an error),
 * the normalized words gwlbctl sends, what may come next (for `?` help and
 * TAB completion) and usage lines.  gwlbctl parses a command to check it
 * and to normalize it; gwlbtund parses the words again with the same table
 * and is the authority.
 */
#ifndef GWLB_CTL_COMMANDS_H
#define GWLB_CTL_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "ctl_proto.h"
#include "log.h"

/* In table order, which is also the order of help and of gwlbctl(8). */
enum ctl_cmd_id {
	CTL_CMD_SHOW_STATUS,
	CTL_CMD_SHOW_ENIS,
	CTL_CMD_SHOW_ENI,
	CTL_CMD_SHOW_FLOWS,
	CTL_CMD_SHOW_DROPS,
	CTL_CMD_SHOW_WORKERS,
	CTL_CMD_SHOW_ROUTES,
	CTL_CMD_SHOW_CONFIG,
	CTL_CMD_ROUTE_ADD,
	CTL_CMD_ROUTE_DEL,
	CTL_CMD_RULE_ADD,
	CTL_CMD_RULE_DEL,
	CTL_CMD_ENI_DESTROY,
	CTL_CMD_FLOWS_FLUSH,
	CTL_CMD_LOG,
	CTL_CMD_COUNTERS_RESET,
	CTL_CMD_RELOAD,
	CTL_CMD_DRAIN,
	CTL_CMD_UNDRAIN,
	CTL_CMD_MONITOR,
	CTL_CMD_DOCTOR,
	CTL_CMD_HELP,
	CTL_CMD_QUIT,
	CTL_CMD__MAX
};

/* How gwlbctl shows the records of a command. */
enum ctl_view {
	CTL_VIEW_NONE,		/* no records expected */
	CTL_VIEW_TABLE,		/* one table per run of records of one type */
	CTL_VIEW_DETAIL,	/* first record type as "key: value" lines */
};

#define CTL_CMDF_MUTATING	0x1	/* needs uid 0 or the control group */
#define CTL_CMDF_LOCAL		0x2	/* done by gwlbctl itself, never sent */

enum ctl_argtype {
	CTL_ARG_ENI,		/* hex, vpce-hex or gwi-/gwo- link name */
	CTL_ARG_ENI_ANY,	/* an ENI or "any" */
	CTL_ARG_COUNT,		/* 1 .. 2^32-1 */
	CTL_ARG_U32,		/* 0 .. 2^32-1 */
	CTL_ARG_PREFIX,		/* IPv4 or IPv6 ADDR[/LEN], no host bits */
	CTL_ARG_ADDR,		/* IPv4 or IPv6 address */
	CTL_ARG_DIR,		/* in | out */
	CTL_ARG_TABLE,		/* 1 .. 2^32-1 | eni */
	CTL_ARG_SECTION,	/* a log section or "all" */
	CTL_ARG_LEVEL,		/* a log level */
	CTL_ARG_PROTO,		/* tcp, udp, icmp, icmpv6, sctp or 0 .. 255 */
	CTL_ARG_PORT,		/* 0 .. 65535 */
	CTL_ARG_COOKIE,		/* 1 to 8 hex digits, 0x allowed */
	CTL_ARG__MAX
};

/* Which member of struct ctl_cmd_args an argument fills. */
enum ctl_slot {
	CTL_SLOT_ENI,
	CTL_SLOT_LIMIT,
	CTL_SLOT_PREFIX,
	CTL_SLOT_DEV,
	CTL_SLOT_VIA,
	CTL_SLOT_TABLE,
	CTL_SLOT_METRIC,
	CTL_SLOT_IIF,
	CTL_SLOT_SECTION,
	CTL_SLOT_LEVEL,
	CTL_SLOT_TIMEOUT,
	CTL_SLOT_PROTO,
	CTL_SLOT_PORT,
	CTL_SLOT_COOKIE,
	CTL_SLOT__MAX
};

struct ctl_argdef {
	const char	*kw;		/* introducing keyword; NULL: positional */
	const char	*meta;		/* the value in usage: "ENI", "in|out" */
	enum ctl_argtype type;
	enum ctl_slot	 slot;
	bool		 required;
	const char	*dflt;		/* value used when absent, or NULL */
	const char	*help;
};

#define CTL_CMD_WORDS	2
#define CTL_CMD_ARGS	8
#define CTL_CMD_RTYPES	4

/*
 * A record type a command answers with, and its shape in gwlbctl -j: a
 * list (an array, there even when empty) or one record (an object).  A
 * type a command does not declare is shown as a list.
 */
struct ctl_rtype {
	const char	*type;
	bool		 one;
};

struct ctl_cmd_def {
	enum ctl_cmd_id	 id;
	const char	*words[CTL_CMD_WORDS];	/* unused trailing ones NULL */
	enum ctl_view	 view;
	unsigned	 flags;
	const char	*help;
	unsigned	 nargs;
	struct ctl_argdef args[CTL_CMD_ARGS];	/* positionals first */
	struct ctl_rtype rtypes[CTL_CMD_RTYPES];	/* unused trailing ones NULL */
};

const struct ctl_cmd_def *ctl_cmd_get(enum ctl_cmd_id id);

enum ctl_dir { CTL_DIR_IN, CTL_DIR_OUT };

union ctl_addr {
	struct in_addr	v4;
	struct in6_addr	v6;
};

/* A parsed command.  *_set says the argument was given (or defaulted). */
struct ctl_cmd_args {
	enum ctl_cmd_id	 id;
	const struct ctl_cmd_def *def;

	bool		 eni_set;
	bool		 eni_any;	/* "eni any" */
	uint64_t	 eni;

	bool		 limit_set;
	uint32_t	 limit;

	int		 family;	/* AF_INET or AF_INET6 when prefix_set */
	bool		 prefix_set;
	union ctl_addr	 prefix;
	uint8_t		 prefix_len;
	bool		 via_set;
	union ctl_addr	 via;
	bool		 dev_set;
	enum ctl_dir	 dev;
	bool		 iif_set;
	enum ctl_dir	 iif;
	bool		 table_set;
	bool		 table_eni;	/* "table eni": the ENI's own table */
	uint32_t	 table;
	bool		 metric_set;
	uint32_t	 metric;

	bool		 section_set;
	enum log_section section;	/* LOG_SECTION__MAX = all */
	bool		 level_set;
	enum log_level	 level;

	bool		 timeout_set;	/* seconds */
	uint32_t	 timeout;
	bool		 proto_set;	/* show flows filters */
	uint8_t		 proto;
	bool		 port_set;
	uint16_t	 port;
	bool		 cookie_set;
	uint32_t	 cookie;

	/* The command in canonical full words, as gwlbctl sends it. */
	unsigned	 nwords;
	char		 words[CTL_WORDS_MAX][CTL_WORD_MAX];
};

/*
 * Parses words into a.  0, or -EINVAL with a message for humans in err
 * (unknown or ambiguous word, missing or repeated argument, bad value).
 */
int	 ctl_cmd_parse(unsigned n, const char *const *words, struct ctl_cmd_args *a,
	    char *err, size_t errlen);

/* The words of a->words as a const array for ctl_msg_cmd(). */
void	 ctl_cmd_words(const struct ctl_cmd_args *a, const char *out[CTL_WORDS_MAX]);

/* What may follow a command's first words. */
enum ctl_cand_kind {
	CTL_CAND_WORD,		/* a keyword or a fixed value: word */
	CTL_CAND_VALUE,		/* a value of type: meta names it */
};

struct ctl_cand {
	enum ctl_cand_kind kind;
	const char	*word;		/* CTL_CAND_WORD */
	const char	*meta;		/* CTL_CAND_VALUE */
	enum ctl_argtype type;		/* CTL_CAND_VALUE */
	const char	*help;
};

#define CTL_CANDS_MAX	32

struct ctl_next {
	unsigned	 n;
	struct ctl_cand	 cand[CTL_CANDS_MAX];
	bool		 complete;	/* the words so far are a whole command */
};

/*
 * Given the complete words typed so far, what may come next.  0, or
 * -EINVAL with err when the words so far are already wrong.
 */
int	 ctl_cmd_next(unsigned n, const char *const *words, struct ctl_next *nx,
	    char *err, size_t errlen);

/*
 * The fixed words a value type accepts ("in", "out", "any"...): stores up
 * to max of them in out and returns how many were stored.
 */
unsigned ctl_argtype_words(enum ctl_argtype type, const char **out, unsigned max);

/* "tcp", "udp", ... or the number into buf (at least 4 bytes). */
const char *ctl_proto_name(uint8_t proto, char *buf, size_t len);

/* "route add PREFIX eni ENI|any dev in|out [via ADDR] ..." into buf. */
void	 ctl_cmd_usage(const struct ctl_cmd_def *def, char *buf, size_t len);

/*
 * gwlbctl's command line (stdin and the shell): splits line in place on
 * blanks into at most max words and returns how many; a line whose first
 * word starts with '#' is a comment: 0 words.
 */
unsigned ctl_split_line(char *line, const char **words, unsigned max);

#endif
