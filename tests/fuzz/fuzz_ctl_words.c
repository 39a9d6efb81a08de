/*
 * Fuzz harness for gwlbctl's command words: a line as gwlbctl reads it from
 * stdin or its shell, split by ctl_split_line() and parsed against the
 * command table (lib/ctl_commands.c) with ctl_cmd_parse(), what TAB and
 * `?` ask (ctl_cmd_next() for every prefix of the words), and the CMD
 * message gwlbctl would send.  Checked: a parse error comes with a message;
 * a parsed command's canonical words (what gwlbctl sends, and what the
 * daemon parses again) fit the protocol's bounds, parse again to the same
 * command and the same canonical words, and survive ctl_msg_cmd() and
 * ctl_decode_cmd() unchanged; ctl_cmd_next() stays within its bounds and
 * names candidates that exist; the usage line of the command fits.
 * Build and run: see tests/fuzz/README.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_commands.h"
#include "replay_main.h"

#define LINE_WORDS	(CTL_WORDS_MAX + 1)	/* as gwlbctl: one more, to say too many */

static void
check_next(unsigned n, const char *const *words)
{
	static struct ctl_next nx;
	char err[CTL_ERRTEXT_MAX];

	for (unsigned k = 0; k <= n && k <= CTL_WORDS_MAX; k++) {
		err[0] = '\0';
		if (ctl_cmd_next(k, words, &nx, err, sizeof(err)) < 0) {
			FUZZ_CHECK(memchr(err, '\0', sizeof(err)) != NULL);
			continue;
		}
		FUZZ_CHECK(nx.n <= CTL_CANDS_MAX);
		for (unsigned i = 0; i < nx.n; i++) {
			if (nx.cand[i].kind == CTL_CAND_WORD)
				FUZZ_CHECK(nx.cand[i].word && *nx.cand[i].word);
			else
				FUZZ_CHECK(nx.cand[i].kind == CTL_CAND_VALUE && nx.cand[i].meta);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ctl_cmd_args a, b;
	static struct ctl_msg m;
	const char *words[LINE_WORDS], *cw[CTL_WORDS_MAX], *dw[CTL_WORDS_MAX], *why;
	char err[CTL_ERRTEXT_MAX], usage[512];
	char *line;
	unsigned n, dn;
	const void *msg;
	size_t len;

	if (size > 4096)
		return 0;
	line = malloc(size + 1);
	FUZZ_CHECK(line != NULL);
	memcpy(line, data, size);
	line[size] = '\0';
	n = ctl_split_line(line, words, LINE_WORDS);
	FUZZ_CHECK(n <= LINE_WORDS);
	check_next(n, words);
	err[0] = '\0';
	if (ctl_cmd_parse(n, words, &a, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0' && memchr(err, '\0', sizeof(err)) != NULL);
		free(line);
		return 0;
	}
	FUZZ_CHECK(n <= CTL_WORDS_MAX);
	FUZZ_CHECK((unsigned)a.id < CTL_CMD__MAX && a.def == ctl_cmd_get(a.id));
	FUZZ_CHECK(a.nwords >= 1 && a.nwords <= CTL_WORDS_MAX);
	for (unsigned i = 0; i < a.nwords; i++)
		FUZZ_CHECK(memchr(a.words[i], '\0', CTL_WORD_MAX) && a.words[i][0]);
	ctl_cmd_usage(a.def, usage, sizeof(usage));
	FUZZ_CHECK(memchr(usage, '\0', sizeof(usage)) != NULL);

	/* The canonical words parse again to themselves. */
	ctl_cmd_words(&a, cw);
	FUZZ_CHECK(ctl_cmd_parse(a.nwords, cw, &b, err, sizeof(err)) == 0);
	FUZZ_CHECK(b.id == a.id && b.nwords == a.nwords);
	for (unsigned i = 0; i < a.nwords; i++)
		FUZZ_CHECK(strcmp(a.words[i], b.words[i]) == 0);
	FUZZ_CHECK(a.eni_set == b.eni_set && a.eni == b.eni && a.eni_any == b.eni_any);
	FUZZ_CHECK(a.limit_set == b.limit_set && a.limit == b.limit);
	FUZZ_CHECK(a.prefix_set == b.prefix_set && a.prefix_len == b.prefix_len);
	FUZZ_CHECK(!a.prefix_set || (a.family == b.family &&
	    memcmp(&a.prefix, &b.prefix, sizeof(a.prefix)) == 0));
	FUZZ_CHECK(a.via_set == b.via_set &&
	    (!a.via_set || memcmp(&a.via, &b.via, sizeof(a.via)) == 0));
	FUZZ_CHECK(a.dev_set == b.dev_set && a.dev == b.dev);
	FUZZ_CHECK(a.iif_set == b.iif_set && a.iif == b.iif);
	FUZZ_CHECK(a.table_set == b.table_set && a.table_eni == b.table_eni &&
	    a.table == b.table);
	FUZZ_CHECK(a.metric_set == b.metric_set && a.metric == b.metric);
	FUZZ_CHECK(a.section_set == b.section_set && a.section == b.section);
	FUZZ_CHECK(a.level_set == b.level_set && a.level == b.level);

	/* What gwlbctl sends is what the daemon decodes. */
	FUZZ_CHECK(ctl_msg_cmd(&m, 1, a.nwords, cw) == 0);
	msg = ctl_msg_finish(&m, &len);
	FUZZ_CHECK(ctl_decode_cmd(msg, len, dw, CTL_WORDS_MAX, &dn, &why) == 0);
	FUZZ_CHECK(dn == a.nwords);
	for (unsigned i = 0; i < dn; i++)
		FUZZ_CHECK(strcmp(dw[i], cw[i]) == 0);
	free(line);
	return 0;
}
