/*
 * The daemon's state as records: one model, several renderings.
 *
 * A producer (report.c) describes status, workers, drops or ENIs as
 * records: a type, typed fields key=value, an end; lists of records are
 * bracketed by list_begin/list_end.  It writes them into a sink, a small
 * vtable.  The sinks are the control reply (gwlbctl's records, then its
 * text or JSON: ctl_handlers.c), and for the health port a JSON body, a
 * text body and /metrics (record.c).  Every rendering comes from the
 * same producers, so a field cannot be named or typed differently in one
 * of them.
 *
 * A field that is also a Prometheus sample carries its metric: family
 * name, type, help and the fields of the same record its labels come from.
 * Sinks other than /metrics ignore it.
 */
#ifndef GWLBTUND_RECORD_H
#define GWLBTUND_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define REC_LABELS_MAX	2

struct rec_metric {
	/* The family: gwlbtun_...; a row of type NULL is a sample name of the
	 * row before it (a histogram's _bucket, _sum and _count). */
	const char	*name;
	const char	*type;		/* "counter", "gauge", "histogram" or NULL */
	const char	*help;
	/* { label name, field of the same record (before this one) } */
	const char	*label[REC_LABELS_MAX][2];
};

enum rec_ftype { REC_U64, REC_S64, REC_STR, REC_BOOL };

struct rec_field {
	const char		*key;
	enum rec_ftype		 type;
	union {
		uint64_t	 u64;
		int64_t		 s64;
		const char	*str;
		bool		 b;
	} v;
	const struct rec_metric	*metric;	/* NULL: not a sample */
	bool			 metric_only;	/* a sample only: other sinks skip it */
};

struct rec_sink;

struct rec_sink_ops {
	void	(*list_begin)(struct rec_sink *s, const char *type);
	void	(*list_end)(struct rec_sink *s, const char *type);
	void	(*begin)(struct rec_sink *s, const char *type);
	/* Strings are the caller's until the call returns. */
	void	(*field)(struct rec_sink *s, const struct rec_field *f);
	void	(*end)(struct rec_sink *s);
	/* Writes what is left and frees the sink: 0 or -errno. */
	int	(*finish)(struct rec_sink *s);
};

struct rec_sink {
	const struct rec_sink_ops *ops;
	/* Counters as counted, `gwlbctl counters reset` ignored: the health
	 * port's sinks (Prometheus counters never go down).  gwlbctl's replies
	 * leave it false and show counts since the last reset. */
	bool		 raw;
};

/* --- for producers ------------------------------------------------------- */

static inline void
rec_list_begin(struct rec_sink *s, const char *type)
{
	s->ops->list_begin(s, type);
}

static inline void
rec_list_end(struct rec_sink *s, const char *type)
{
	s->ops->list_end(s, type);
}

static inline void
rec_begin(struct rec_sink *s, const char *type)
{
	s->ops->begin(s, type);
}

static inline void
rec_end(struct rec_sink *s)
{
	s->ops->end(s);
}

static inline void
rec_u64m(struct rec_sink *s, const char *key, uint64_t v, const struct rec_metric *m)
{
	s->ops->field(s, &(struct rec_field){ key, REC_U64, { .u64 = v }, m, false });
}

/* A sample /metrics shows and the other sinks do not (build info). */
static inline void
rec_metric_only(struct rec_sink *s, const char *key, uint64_t v, const struct rec_metric *m)
{
	s->ops->field(s, &(struct rec_field){ key, REC_U64, { .u64 = v }, m, true });
}

static inline void
rec_u64(struct rec_sink *s, const char *key, uint64_t v)
{
	rec_u64m(s, key, v, NULL);
}

static inline void
rec_s64(struct rec_sink *s, const char *key, int64_t v)
{
	s->ops->field(s, &(struct rec_field){ key, REC_S64, { .s64 = v }, NULL, false });
}

static inline void
rec_str(struct rec_sink *s, const char *key, const char *v)
{
	s->ops->field(s, &(struct rec_field){ key, REC_STR, { .str = v }, NULL, false });
}

static inline void
rec_boolm(struct rec_sink *s, const char *key, bool v, const struct rec_metric *m)
{
	s->ops->field(s, &(struct rec_field){ key, REC_BOOL, { .b = v }, m, false });
}

static inline void
rec_bool(struct rec_sink *s, const char *key, bool v)
{
	rec_boolm(s, key, v, NULL);
}

void	 rec_strf(struct rec_sink *s, const char *key, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));

static inline int
rec_sink_finish(struct rec_sink *s)
{
	return s->ops->finish(s);
}

/* --- sinks for the health port (record.c) ---------------------------- */

/*
 * The health page's JSON: the status record's fields at the top with
 * "reason", then "workers": [...], "drops": {reason: count} (the "all"
 * records) and "enis": [...].  One line.
 */
struct rec_sink *rec_json_new(FILE *fp, const char *reason);
/* The health page's text (an HTML page around a <pre>). */
struct rec_sink *rec_text_new(FILE *fp, const char *reason);
/* Prometheus text format 0.0.4: every family of the table gets HELP and
 * TYPE lines and its samples together, in the table's order.  A string
 * field with a metric is written as it is when it is a number (a float
 * such as a histogram's _sum), as NaN when not. */
struct rec_sink *rec_prom_new(FILE *fp, const struct rec_metric *table, size_t n);

#endif
