/*
 * Record rendering for gwlbctl (see output.h).  Records are copied as they
 * arrive (the receive buffer is reused) and shown when the command ends,
 * because column widths depend on every row.
 *
 * Text: each run of records of one type with the same fields is a table
 * whose header row is the field names; numbers are right-aligned.  In the
 * detail view the first record type is shown as "key: value" lines instead,
 * and a record that is just a name and a value (show config) as
 * "name: value".  When an output holds more than one record type, each
 * table is titled with its type.  Bytes that are not printable are shown
 * as '?', so a daemon string can never drive the terminal.  A rate (a
 * field named pps_* or bps_*) is shown with an SI prefix: 1.25M.
 *
 * JSON: {"type": value, ...}, where value is one object {field: value,
 * ...} for a type the command declares as one record, else an array of
 * them; the command's declared types first, in its order, a declared list
 * there even when empty (unless the command failed), then any other type
 * in order of first appearance.  Fields in the daemon's order, numbers as
 * numbers; a failure adds "error": {"errno", "code", "message"}.  One
 * document per line, or indented (pretty), written by lib/json.c.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "output.h"

struct ofield {
	char		*name;
	enum ctl_ftype	 type;
	uint64_t	 u64;
	int64_t		 s64;
	bool		 b;
	char		*str;
};

struct orec {
	char		*type;
	unsigned	 n;
	struct ofield	*f;
};

struct out {
	const struct out_ops *ops;
	FILE		*fp;
	FILE		*errfp;
	enum ctl_view	 view;
	const struct ctl_rtype *rtypes;	/* CTL_CMD_RTYPES, or NULL */
	struct orec	*recs;
	size_t		 nrecs, cap;
};

struct out *
out_new(const struct out_ops *ops, FILE *fp, FILE *errfp)
{
	struct out *o = calloc(1, sizeof(*o));

	if (o) {
		o->ops = ops;
		o->fp = fp;
		o->errfp = errfp;
	}
	return o;
}

static void
out_clear(struct out *o)
{
	for (size_t i = 0; i < o->nrecs; i++) {
		for (unsigned j = 0; j < o->recs[i].n; j++) {
			free(o->recs[i].f[j].name);
			free(o->recs[i].f[j].str);
		}
		free(o->recs[i].f);
		free(o->recs[i].type);
	}
	o->nrecs = 0;
}

void
out_free(struct out *o)
{
	if (!o)
		return;
	out_clear(o);
	free(o->recs);
	free(o);
}

void
out_begin(struct out *o, enum ctl_view view, const struct ctl_rtype *rtypes)
{
	out_clear(o);
	o->view = view;
	o->rtypes = rtypes;
}

int
out_record(struct out *o, const struct ctl_record *rec)
{
	struct orec *r;

	if (o->nrecs == o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 64;
		struct orec *n = realloc(o->recs, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->recs = n;
		o->cap = cap;
	}
	r = &o->recs[o->nrecs];
	r->n = 0;
	if (!(r->type = strdup(rec->type)) ||
	    !(r->f = calloc(rec->nfields ? rec->nfields : 1, sizeof(*r->f)))) {
		free(r->type);
		return -ENOMEM;
	}
	o->nrecs++;
	for (unsigned i = 0; i < rec->nfields; i++) {
		const struct ctl_field *f = &rec->field[i];
		struct ofield *of = &r->f[i];

		of->type = f->type;
		if (!(of->name = strdup(f->name)))
			return -ENOMEM;
		r->n++;
		switch (f->type) {
		case CTL_FT_U64:
			of->u64 = f->v.u64;
			break;
		case CTL_FT_S64:
			of->s64 = f->v.s64;
			break;
		case CTL_FT_BOOL:
			of->b = f->v.b;
			break;
		case CTL_FT_STR:
			if (!(of->str = strdup(f->v.str)))
				return -ENOMEM;
			break;
		}
	}
	return 0;
}

int
out_record_cb(const struct ctl_record *rec, void *arg)
{
	return out_record(arg, rec);
}

void
out_end(struct out *o, int err, const char *text)
{
	o->ops->render(o, err, text);
	fflush(o->fp);
	out_clear(o);
}

/* --- text ---------------------------------------------------------------- */

static bool
is_rate(const struct ofield *f)
{
	return f->type == CTL_FT_U64 &&
	    (strncmp(f->name, "pps_", 4) == 0 || strncmp(f->name, "bps_", 4) == 0);
}

/* 3 significant digits and an SI prefix: 999, 1.00k, 12.3M, 456G. */
static void
si_text(uint64_t v, char *buf, size_t len)
{
	static const char prefix[] = "kMGTPE";
	double d = (double)v;
	int p = -1;

	if (v < 1000) {
		snprintf(buf, len, "%" PRIu64, v);
		return;
	}
	while (d >= 999.5 && p < 5) {
		d /= 1000;
		p++;
	}
	snprintf(buf, len, "%.*f%c", d < 9.995 ? 2 : d < 99.95 ? 1 : 0, d, prefix[p]);
}

static void
field_text(const struct ofield *f, char *buf, size_t len)
{
	switch (f->type) {
	case CTL_FT_U64:
		if (is_rate(f))
			si_text(f->u64, buf, len);
		else
			snprintf(buf, len, "%" PRIu64, f->u64);
		break;
	case CTL_FT_S64:
		snprintf(buf, len, "%" PRId64, f->s64);
		break;
	case CTL_FT_BOOL:
		snprintf(buf, len, "%s", f->b ? "yes" : "no");
		break;
	case CTL_FT_STR:
		snprintf(buf, len, "%s", f->str);
		for (char *p = buf; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
		break;
	}
}

static bool
numeric(const struct ofield *f)
{
	return f->type == CTL_FT_U64 || f->type == CTL_FT_S64;
}

/* Same type and the same field names in the same order. */
static bool
same_shape(const struct orec *a, const struct orec *b)
{
	if (strcmp(a->type, b->type) != 0 || a->n != b->n)
		return false;
	for (unsigned i = 0; i < a->n; i++)
		if (strcmp(a->f[i].name, b->f[i].name) != 0)
			return false;
	return true;
}

static bool
is_property(const struct orec *r)
{
	return r->n == 2 && strcmp(r->f[0].name, "name") == 0 &&
	    strcmp(r->f[1].name, "value") == 0 && r->f[0].type == CTL_FT_STR;
}

#define CELL_MAX	512

static void
text_table(struct out *o, const struct orec *recs, size_t n)
{
	unsigned ncol = recs[0].n;
	size_t *w = calloc(ncol ? ncol : 1, sizeof(*w));
	char cell[CELL_MAX];

	if (!w)
		return;
	for (unsigned c = 0; c < ncol; c++)
		w[c] = strlen(recs[0].f[c].name);
	for (size_t i = 0; i < n; i++) {
		for (unsigned c = 0; c < ncol; c++) {
			field_text(&recs[i].f[c], cell, sizeof(cell));
			if (strlen(cell) > w[c])
				w[c] = strlen(cell);
		}
	}
	for (size_t i = 0; i <= n; i++) {
		for (unsigned c = 0; c < ncol; c++) {
			const struct ofield *f = &recs[i ? i - 1 : 0].f[c];
			bool last = c + 1 == ncol, right = numeric(&recs[0].f[c]);

			if (i == 0)
				snprintf(cell, sizeof(cell), "%s", f->name);
			else
				field_text(f, cell, sizeof(cell));
			if (right)
				fprintf(o->fp, "%*s", (int)w[c], cell);
			else if (last)
				fprintf(o->fp, "%s", cell);
			else
				fprintf(o->fp, "%-*s", (int)w[c], cell);
			fputs(last ? "\n" : "  ", o->fp);
		}
	}
	free(w);
}

static void
text_block(struct out *o, const struct orec *r)
{
	size_t kw = 0;
	char cell[CELL_MAX];

	for (unsigned c = 0; c < r->n; c++)
		if (strlen(r->f[c].name) > kw)
			kw = strlen(r->f[c].name);
	for (unsigned c = 0; c < r->n; c++) {
		field_text(&r->f[c], cell, sizeof(cell));
		fprintf(o->fp, "%s:%*s %s\n", r->f[c].name,
		    (int)(kw - strlen(r->f[c].name)), "", cell);
	}
}

static void
text_properties(struct out *o, const struct orec *recs, size_t n)
{
	size_t kw = 0;
	char key[CELL_MAX], cell[CELL_MAX];

	for (size_t i = 0; i < n; i++)
		if (strlen(recs[i].f[0].str) > kw)
			kw = strlen(recs[i].f[0].str);
	for (size_t i = 0; i < n; i++) {
		field_text(&recs[i].f[0], key, sizeof(key));
		field_text(&recs[i].f[1], cell, sizeof(cell));
		fprintf(o->fp, "%s:%*s %s\n", key, (int)(kw - strlen(key)), "", cell);
	}
}

static void
text_render(struct out *o, int err, const char *text)
{
	bool several = false, first = true;
	size_t i = 0, j;

	for (size_t k = 1; k < o->nrecs; k++)
		several |= strcmp(o->recs[k].type, o->recs[0].type) != 0;
	while (i < o->nrecs) {
		const struct orec *r = &o->recs[i];
		bool detail = o->view == CTL_VIEW_DETAIL &&
		    strcmp(r->type, o->recs[0].type) == 0;

		for (j = i + 1; j < o->nrecs && same_shape(&o->recs[j], r); j++)
			;
		if (!first)
			fputc('\n', o->fp);
		first = false;
		if (detail && is_property(r)) {
			text_properties(o, r, j - i);
		} else if (detail) {
			for (size_t k = i; k < j; k++) {
				if (k > i)
					fputc('\n', o->fp);
				text_block(o, &o->recs[k]);
			}
		} else {
			if (several)
				fprintf(o->fp, "%s:\n", r->type);
			text_table(o, r, j - i);
		}
		i = j;
	}
	if (err) {
		fflush(o->fp);
		fprintf(o->errfp, "gwlbctl: %s\n", text && *text ? text : strerror(err));
		fflush(o->errfp);
	}
}

const struct out_ops out_text = { "text", text_render };

/* --- JSON ---------------------------------------------------------------- */

static void
json_value(struct json *j, const struct ofield *f)
{
	switch (f->type) {
	case CTL_FT_U64:
		json_u64(j, f->u64);
		break;
	case CTL_FT_S64:
		json_s64(j, f->s64);
		break;
	case CTL_FT_BOOL:
		json_bool(j, f->b);
		break;
	case CTL_FT_STR:
		json_str(j, f->str);
		break;
	}
}

static void
json_record(struct json *j, const struct orec *r)
{
	json_obj_begin(j);
	for (unsigned c = 0; c < r->n; c++) {
		json_key(j, r->f[c].name);
		json_value(j, &r->f[c]);
	}
	json_obj_end(j);
}

/* The records of one type: an object, or an array of every one of them. */
static void
json_type(struct json *j, const struct out *o, const char *type, bool one,
    bool *done)
{
	size_t n = 0, first = 0;

	for (size_t k = 0; k < o->nrecs; k++) {
		if (strcmp(o->recs[k].type, type) == 0 && n++ == 0)
			first = k;
	}
	json_key(j, type);
	if (one && n == 1) {
		done[first] = true;
		json_record(j, &o->recs[first]);
		return;
	}
	/* A list, or more than the one the command promised: all of them. */
	json_arr_begin(j);
	for (size_t k = first; n && k < o->nrecs; k++) {
		if (strcmp(o->recs[k].type, type) != 0)
			continue;
		done[k] = true;
		json_record(j, &o->recs[k]);
	}
	json_arr_end(j);
}

static bool
has_type(const struct out *o, const char *type)
{
	for (size_t k = 0; k < o->nrecs; k++)
		if (strcmp(o->recs[k].type, type) == 0)
			return true;
	return false;
}

static void
json_render_as(struct out *o, int err, const char *text, bool pretty)
{
	bool *done = calloc(o->nrecs ? o->nrecs : 1, sizeof(*done));
	struct json j;

	if (!done)
		return;
	json_init(&j, o->fp);
	json_set_pretty(&j, pretty);
	json_obj_begin(&j);
	for (unsigned t = 0; o->rtypes && t < CTL_CMD_RTYPES && o->rtypes[t].type; t++) {
		const struct ctl_rtype *rt = &o->rtypes[t];

		/* A failed command shows only what it did send. */
		if (!has_type(o, rt->type) && (err || rt->one))
			continue;
		json_type(&j, o, rt->type, rt->one, done);
	}
	for (size_t i = 0; i < o->nrecs; i++)
		if (!done[i])
			json_type(&j, o, o->recs[i].type, false, done);
	if (err) {
		const char *code = strerrorname_np(err);

		json_key(&j, "error");
		json_obj_begin(&j);
		json_key(&j, "errno");
		json_s64(&j, err);
		json_key(&j, "code");
		json_str(&j, code ? code : "");
		json_key(&j, "message");
		json_str(&j, text && *text ? text : strerror(err));
		json_obj_end(&j);
		/* Still say it on stderr, for whoever runs the script. */
		fprintf(o->errfp, "gwlbctl: %s\n", text && *text ? text : strerror(err));
		fflush(o->errfp);
	}
	json_obj_end(&j);
	fputc('\n', o->fp);
	free(done);
}

static void
json_render(struct out *o, int err, const char *text)
{
	json_render_as(o, err, text, false);
}

static void
json_render_pretty(struct out *o, int err, const char *text)
{
	json_render_as(o, err, text, true);
}

const struct out_ops out_json = { "json", json_render };
const struct out_ops out_json_pretty = { "json-pretty", json_render_pretty };
