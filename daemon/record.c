/*
 * The record model's sinks for the health port (record.h): JSON, text and Prometheus.  Each
 * keeps the record being written (its fields are needed together: a row,
 * a label, a filter), then renders it at the record's end.  Nothing here
 * knows the daemon: only record types and field names, so these are unit
 * tested on their own (tests/unit/test_record.c).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "record.h"

#define RBUF_FIELDS_MAX	128

void
rec_strf(struct rec_sink *s, const char *key, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rec_str(s, key, buf);
}

/* --- the record being written ------------------------------------------- */

struct rbuf {
	char		*type;
	struct rec_field f[RBUF_FIELDS_MAX];
	unsigned	 n;
};

static void
rbuf_clear(struct rbuf *r)
{
	for (unsigned i = 0; i < r->n; i++) {
		free((char *)(uintptr_t)r->f[i].key);
		if (r->f[i].type == REC_STR)
			free((char *)(uintptr_t)r->f[i].v.str);
	}
	free(r->type);
	r->type = NULL;
	r->n = 0;
}

static const struct rec_field *
rbuf_get(const struct rbuf *r, const char *key)
{
	for (unsigned i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return &r->f[i];
	return NULL;
}

static bool
rbuf_is(const struct rbuf *r, const char *key, const char *str)
{
	const struct rec_field *f = rbuf_get(r, key);

	return f && f->type == REC_STR && strcmp(f->v.str, str) == 0;
}

static void
value_text(const struct rec_field *f, char *buf, size_t len)
{
	switch (f->type) {
	case REC_U64:
		snprintf(buf, len, "%" PRIu64, f->v.u64);
		break;
	case REC_S64:
		snprintf(buf, len, "%" PRId64, f->v.s64);
		break;
	case REC_STR:
		snprintf(buf, len, "%s", f->v.str);
		break;
	case REC_BOOL:
		snprintf(buf, len, "%s", f->v.b ? "yes" : "no");
		break;
	}
}

/* --- common to the three sinks ------------------------------------------- */

struct osink {
	struct rec_sink	 s;
	FILE		*fp;
	char		*reason;
	struct rbuf	 r;
	char		*list;		/* inside a list of this type */
	int		 err;		/* first error: -ENOMEM, -EINVAL */
	/* JSON */
	struct json	 j;
	bool		 top_open;
	/* Prometheus: each family's samples, written together at the end */
	const struct rec_metric *table;
	size_t		 nfam;
	FILE		**fam;
	char		**fambuf;
	size_t		*famlen;
};

#define OSINK(sink)	((struct osink *)(void *)(sink))

static void
o_begin(struct rec_sink *s, const char *type)
{
	struct osink *o = OSINK(s);

	rbuf_clear(&o->r);
	if (!(o->r.type = strdup(type)) && !o->err)
		o->err = -ENOMEM;
}

static void
o_field(struct rec_sink *s, const struct rec_field *f)
{
	struct osink *o = OSINK(s);
	struct rec_field *c;

	if (f->metric_only && !o->table)
		return;		/* JSON and text: not theirs */
	if (o->r.n == RBUF_FIELDS_MAX) {
		o->err = o->err ? o->err : -E2BIG;
		return;
	}
	c = &o->r.f[o->r.n];
	*c = *f;
	c->key = strdup(f->key);
	if (f->type == REC_STR)
		c->v.str = strdup(f->v.str ? f->v.str : "");
	if (!c->key || (f->type == REC_STR && !c->v.str)) {
		free((char *)(uintptr_t)c->key);
		if (f->type == REC_STR)
			free((char *)(uintptr_t)c->v.str);
		o->err = o->err ? o->err : -ENOMEM;
		return;
	}
	o->r.n++;
}

static void
o_list_begin(struct osink *o, const char *type)
{
	free(o->list);
	if (!(o->list = strdup(type)) && !o->err)
		o->err = -ENOMEM;
}

static void
o_list_end(struct osink *o)
{
	free(o->list);
	o->list = NULL;
}

static int
o_free(struct osink *o, int err)
{
	rbuf_clear(&o->r);
	free(o->list);
	free(o->reason);
	for (size_t i = 0; i < o->nfam; i++) {
		if (o->fam && o->fam[i])
			fclose(o->fam[i]);
		if (o->fambuf)
			free(o->fambuf[i]);
	}
	free(o->fam);
	free(o->fambuf);
	free(o->famlen);
	err = o->err ? o->err : err;
	if (!err && ferror(o->fp))
		err = -EIO;
	free(o);
	return err;
}

static struct osink *
o_new(const struct rec_sink_ops *ops, FILE *fp, const char *reason)
{
	struct osink *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->s.ops = ops;
	o->s.raw = true;	/* the health port: counters never go down */
	o->fp = fp;
	if (reason && !(o->reason = strdup(reason))) {
		free(o);
		return NULL;
	}
	return o;
}

/* --- JSON: the health page with -j ---------------------------------------- */

/* How a list appears in the page: an array of objects under key, or, when
 * map_key is set, an object of map_key -> map_value for the records whose
 * field only_field is only_value. */
static const struct json_list {
	const char	*type, *key;
	const char	*map_key, *map_value, *only_field, *only_value;
} json_lists[] = {
	{ "worker", "workers", NULL, NULL, NULL, NULL },
	{ "drop", "drops", "reason", "count", "worker", "all" },
	{ "eni", "enis", NULL, NULL, NULL, NULL },
};

static const struct json_list *
json_list_of(const char *type)
{
	for (size_t i = 0; i < sizeof(json_lists) / sizeof(json_lists[0]); i++)
		if (strcmp(json_lists[i].type, type) == 0)
			return &json_lists[i];
	return NULL;
}

static bool
json_list_key(const char *key)
{
	for (size_t i = 0; i < sizeof(json_lists) / sizeof(json_lists[0]); i++)
		if (strcmp(json_lists[i].key, key) == 0)
			return true;
	return false;
}

static void
json_value_of(struct json *j, const struct rec_field *f)
{
	switch (f->type) {
	case REC_U64:
		json_u64(j, f->v.u64);
		break;
	case REC_S64:
		json_s64(j, f->v.s64);
		break;
	case REC_STR:
		json_str(j, f->v.str);
		break;
	case REC_BOOL:
		json_bool(j, f->v.b);
		break;
	}
}

static void
json_top(struct osink *o)
{
	if (o->top_open)
		return;
	o->top_open = true;
	json_obj_begin(&o->j);
	if (o->reason) {
		json_key(&o->j, "reason");
		json_str(&o->j, o->reason);
	}
}

static void
js_list_begin(struct rec_sink *s, const char *type)
{
	struct osink *o = OSINK(s);
	const struct json_list *l = json_list_of(type);

	json_top(o);
	o_list_begin(o, type);
	json_key(&o->j, l ? l->key : type);
	if (l && l->map_key)
		json_obj_begin(&o->j);
	else
		json_arr_begin(&o->j);
}

static void
js_list_end(struct rec_sink *s, const char *type)
{
	struct osink *o = OSINK(s);
	const struct json_list *l = json_list_of(type);

	if (l && l->map_key)
		json_obj_end(&o->j);
	else
		json_arr_end(&o->j);
	o_list_end(o);
}

static void
js_end(struct rec_sink *s)
{
	struct osink *o = OSINK(s);
	const struct json_list *l = o->list ? json_list_of(o->list) : NULL;

	json_top(o);
	if (!o->list) {
		/* A record outside a list (status) is the page's top level.  A
		 * field named like one of the page's lists is left out, the list
		 * says it: status's "enis" is the length of "enis", its "drops"
		 * the sum of "drops" but the kernel's queue. */
		for (unsigned i = 0; i < o->r.n; i++) {
			if (json_list_key(o->r.f[i].key))
				continue;
			json_key(&o->j, o->r.f[i].key);
			json_value_of(&o->j, &o->r.f[i]);
		}
	} else if (l && l->map_key) {
		const struct rec_field *k = rbuf_get(&o->r, l->map_key);
		const struct rec_field *v = rbuf_get(&o->r, l->map_value);

		if (k && v && k->type == REC_STR && rbuf_is(&o->r, l->only_field, l->only_value)) {
			json_key(&o->j, k->v.str);
			json_value_of(&o->j, v);
		}
	} else {
		json_obj_begin(&o->j);
		for (unsigned i = 0; i < o->r.n; i++) {
			json_key(&o->j, o->r.f[i].key);
			json_value_of(&o->j, &o->r.f[i]);
		}
		json_obj_end(&o->j);
	}
	rbuf_clear(&o->r);
}

static int
js_finish(struct rec_sink *s)
{
	struct osink *o = OSINK(s);
	int err;

	json_top(o);
	json_obj_end(&o->j);
	fputc('\n', o->fp);
	err = json_finish(&o->j);
	return o_free(o, err);
}

static const struct rec_sink_ops json_ops = {
	js_list_begin, js_list_end, o_begin, o_field, js_end, js_finish,
};

struct rec_sink *
rec_json_new(FILE *fp, const char *reason)
{
	struct osink *o = o_new(&json_ops, fp, reason);

	if (!o)
		return NULL;
	json_init(&o->j, fp);
	return &o->s;
}

/* --- text: the health page without -j ------------------------------------ */

struct text_col {
	const char	*field;
	const char	*head;		/* NULL: no header row */
	int		 width;		/* < 0: left-aligned */
};

static const struct text_col worker_cols[] = {
	{ "id", "thread", -6 }, { "kind", "kind", -4 }, { "cpu", "cpu", 4 },
	{ "packets", "packets", 14 }, { "bytes", "bytes", 16 },
	{ "delivered", "delivered", 12 }, { "drops", "drops", 10 },
	{ "kernel_drops", "kernel-drops", 12 }, { "idle_ms", "idle-ms", 8 },
};
static const struct text_col drop_cols[] = {
	{ "reason", NULL, -28 }, { "count", NULL, 0 },
};
static const struct text_col eni_cols[] = {
	{ "eni", "eni", -17 }, { "if_in", "in", -16 }, { "if_out", "out", -16 },
	{ "state", "state", -8 }, { "packets_in", "packets-in", 12 },
	{ "bytes_in", "bytes-in", 14 }, { "packets_out", "packets-out", 12 },
	{ "bytes_out", "bytes-out", 14 }, { "drops", "drops", 8 },
	{ "flows", "flows", 8 }, { "idle_s", "idle-s", 8 },
};

#define COLS(c)	(c), sizeof(c) / sizeof((c)[0])

static const struct text_list {
	const char		*type;
	const char		*title;		/* NULL: a header row instead */
	const char		*indent;
	const struct text_col	*cols;
	size_t			 ncols;
	const char		*only_field, *only_value;
} text_lists[] = {
	{ "worker", NULL, "", COLS(worker_cols), NULL, NULL },
	{ "drop", "drops by reason:", "  ", COLS(drop_cols), "worker", "all" },
	{ "eni", NULL, "", COLS(eni_cols), NULL, NULL },
};

static const struct text_list *
text_list_of(const char *type)
{
	for (size_t i = 0; i < sizeof(text_lists) / sizeof(text_lists[0]); i++)
		if (strcmp(text_lists[i].type, type) == 0)
			return &text_lists[i];
	return NULL;
}

/* The page is HTML: a string is written with &, < and > escaped and
 * control characters as '?'. */
static void
html_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		if (*s == '&')
			fputs("&amp;", fp);
		else if (*s == '<')
			fputs("&lt;", fp);
		else if (*s == '>')
			fputs("&gt;", fp);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fputc('?', fp);
		else
			fputc(*s, fp);
	}
}

static void
text_cell(FILE *fp, const char *cell, int width, bool last)
{
	int pad = abs(width) - (int)strlen(cell);

	if (width > 0)
		fprintf(fp, "%*s", pad > 0 ? pad : 0, "");
	html_text(fp, cell);
	if (width < 0 && !last)
		fprintf(fp, "%*s", pad > 0 ? pad : 0, "");
	fputc(last ? '\n' : ' ', fp);
}

static void
tx_list_begin(struct rec_sink *s, const char *type)
{
	struct osink *o = OSINK(s);
	const struct text_list *l = text_list_of(type);

	o_list_begin(o, type);
	if (!l)
		return;
	fputc('\n', o->fp);
	if (l->title) {
		fprintf(o->fp, "%s\n", l->title);
		return;
	}
	fputs(l->indent, o->fp);
	for (size_t c = 0; c < l->ncols; c++) {
		/* A header is padded like its column, the last one too. */
		int pad = abs(l->cols[c].width) - (int)strlen(l->cols[c].head);

		if (l->cols[c].width > 0)
			fprintf(o->fp, "%*s", pad > 0 ? pad : 0, "");
		fputs(l->cols[c].head, o->fp);
		if (l->cols[c].width < 0)
			fprintf(o->fp, "%*s", pad > 0 ? pad : 0, "");
		fputc(c + 1 == l->ncols ? '\n' : ' ', o->fp);
	}
}

static void
tx_list_end(struct rec_sink *s, const char *type)
{
	(void)type;
	o_list_end(OSINK(s));
}

static uint64_t
rbuf_u64(const struct rbuf *r, const char *key)
{
	const struct rec_field *f = rbuf_get(r, key);

	return f && f->type == REC_U64 ? f->v.u64 : 0;
}

static const char *
rbuf_str(const struct rbuf *r, const char *key)
{
	const struct rec_field *f = rbuf_get(r, key);

	return f && f->type == REC_STR ? f->v.str : "?";
}

/* The status record as the page's two opening lines. */
static void
text_status(struct osink *o)
{
	const struct rec_field *h = rbuf_get(&o->r, "healthy");
	bool ok = h && h->type == REC_BOOL && h->v.b;

	fputs("gwlbtund ", o->fp);
	html_text(o->fp, rbuf_str(&o->r, "version"));
	fprintf(o->fp, ": %s (", ok ? "healthy" : "UNHEALTHY");
	html_text(o->fp, o->reason ? o->reason : (ok ? "ok" : "?"));
	fprintf(o->fp, ")\nuptime %" PRIu64 " s, %s, %" PRIu64 " receive and %" PRIu64
	    " reply threads, %" PRIu64 " ENIs\n", rbuf_u64(&o->r, "uptime_s"),
	    rbuf_is(&o->r, "mode", "no-return") ? "no return traffic" : "return traffic on",
	    rbuf_u64(&o->r, "rx_workers"), rbuf_u64(&o->r, "tun_workers"),
	    rbuf_u64(&o->r, "enis"));
}

static void
tx_end(struct rec_sink *s)
{
	struct osink *o = OSINK(s);
	const struct text_list *l = o->list ? text_list_of(o->list) : NULL;
	char cell[256];

	if (!o->list && o->r.type && strcmp(o->r.type, "status") == 0) {
		text_status(o);
	} else if (l && (!l->only_field || rbuf_is(&o->r, l->only_field, l->only_value))) {
		fputs(l->indent, o->fp);
		for (size_t c = 0; c < l->ncols; c++) {
			const struct rec_field *f = rbuf_get(&o->r, l->cols[c].field);

			if (f)
				value_text(f, cell, sizeof(cell));
			else
				snprintf(cell, sizeof(cell), "-");
			text_cell(o->fp, cell, l->cols[c].width, c + 1 == l->ncols);
		}
	}
	rbuf_clear(&o->r);
}

static int
tx_finish(struct rec_sink *s)
{
	struct osink *o = OSINK(s);

	fputs("</pre></body></html>\n", o->fp);
	return o_free(o, 0);
}

static const struct rec_sink_ops text_ops = {
	tx_list_begin, tx_list_end, o_begin, o_field, tx_end, tx_finish,
};

struct rec_sink *
rec_text_new(FILE *fp, const char *reason)
{
	struct osink *o = o_new(&text_ops, fp, reason);

	if (!o)
		return NULL;
	fputs("<!DOCTYPE html>\n<html><head><title>gwlbtund health</title></head>"
	    "<body><pre>\n", fp);
	return &o->s;
}

/* --- Prometheus: /metrics ------------------------------------------------ */

/* A label value or HELP text: backslash, newline (and in a label value
 * the double quote) escaped, as the text format asks. */
static void
prom_escape(FILE *fp, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", fp);
		else if (*s == '\n')
			fputs("\\n", fp);
		else if (quote && *s == '"')
			fputs("\\\"", fp);
		else
			fputc(*s, fp);
	}
}

static void
pm_list_begin(struct rec_sink *s, const char *type)
{
	o_list_begin(OSINK(s), type);
}

static void
pm_list_end(struct rec_sink *s, const char *type)
{
	(void)type;
	o_list_end(OSINK(s));
}

static void
pm_end(struct rec_sink *s)
{
	struct osink *o = OSINK(s);
	char cell[256];

	for (unsigned i = 0; i < o->r.n; i++) {
		const struct rec_field *f = &o->r.f[i];
		const struct rec_metric *m = f->metric;
		size_t k;
		FILE *fp;
		bool any = false;

		if (!m)
			continue;
		k = (size_t)(m - o->table);
		if (m < o->table || k >= o->nfam) {
			o->err = o->err ? o->err : -EINVAL;	/* not in this sink's table */
			continue;
		}
		fp = o->fam[k];
		fputs(m->name, fp);
		for (int l = 0; l < REC_LABELS_MAX && m->label[l][0]; l++) {
			const struct rec_field *lf = rbuf_get(&o->r, m->label[l][1]);

			if (lf)
				value_text(lf, cell, sizeof(cell));
			else
				cell[0] = '\0';
			fprintf(fp, "%s%s=\"", any ? "," : "{", m->label[l][0]);
			prom_escape(fp, cell, true);
			fputc('"', fp);
			any = true;
		}
		if (any)
			fputc('}', fp);
		switch (f->type) {
		case REC_U64:
			fprintf(fp, " %" PRIu64 "\n", f->v.u64);
			break;
		case REC_S64:
			fprintf(fp, " %" PRId64 "\n", f->v.s64);
			break;
		case REC_BOOL:
			fprintf(fp, " %d\n", f->v.b ? 1 : 0);
			break;
		case REC_STR: {
			char *end;

			/* A number as text (a float: rec has no float type). */
			errno = 0;
			(void)strtod(f->v.str, &end);
			if (*f->v.str && !*end && !errno)
				fprintf(fp, " %s\n", f->v.str);
			else
				fputs(" NaN\n", fp);	/* a string is no sample */
			break;
		}
		}
	}
	rbuf_clear(&o->r);
}

static int
pm_finish(struct rec_sink *s)
{
	struct osink *o = OSINK(s);

	for (size_t i = 0; i < o->nfam; i++) {
		const struct rec_metric *m = &o->table[i];

		fclose(o->fam[i]);
		o->fam[i] = NULL;
		if (m->type) {
			fprintf(o->fp, "# HELP %s ", m->name);
			prom_escape(o->fp, m->help, false);
			fprintf(o->fp, "\n# TYPE %s %s\n", m->name, m->type);
		}
		if (o->fambuf[i])
			fwrite(o->fambuf[i], 1, o->famlen[i], o->fp);
	}
	return o_free(o, 0);
}

static const struct rec_sink_ops prom_ops = {
	pm_list_begin, pm_list_end, o_begin, o_field, pm_end, pm_finish,
};

struct rec_sink *
rec_prom_new(FILE *fp, const struct rec_metric *table, size_t n)
{
	struct osink *o = o_new(&prom_ops, fp, NULL);

	if (!o)
		return NULL;
	o->table = table;
	o->nfam = n;
	o->fam = calloc(n ? n : 1, sizeof(*o->fam));
	o->fambuf = calloc(n ? n : 1, sizeof(*o->fambuf));
	o->famlen = calloc(n ? n : 1, sizeof(*o->famlen));
	if (!o->fam || !o->fambuf || !o->famlen)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!(o->fam[i] = open_memstream(&o->fambuf[i], &o->famlen[i])))
			goto fail;
	return &o->s;
fail:
	o_free(o, 0);
	return NULL;
}
