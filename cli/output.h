/*
 * gwlbctl's output: the records of one command, shown through a small
 * vtable: text (tables and "key: value" blocks) or JSON (one document per
 * command, keyed by record type).  Both only know records, never commands,
 * so a new daemon command needs no new output code.
 */
#ifndef GWLBCTL_OUTPUT_H
#define GWLBCTL_OUTPUT_H

#include <stdio.h>

#include "ctl_proto.h"
#include "ctl_commands.h"

struct out;

struct out_ops {
	const char *name;
	/* Shows the collected records, then the error if err != 0. */
	void	(*render)(struct out *o, int err, const char *text);
};

extern const struct out_ops out_text;
extern const struct out_ops out_json;
extern const struct out_ops out_json_pretty;	/* indented, for people */

struct out *out_new(const struct out_ops *ops, FILE *fp, FILE *errfp);
void	 out_free(struct out *o);

/*
 * One command: begin, any number of records, end.  rtypes (the command's,
 * CTL_CMD_RTYPES of them, or NULL) says which record types JSON shows as
 * one object and which as a list, empty ones included.
 */
void	 out_begin(struct out *o, enum ctl_view view, const struct ctl_rtype *rtypes);
int	 out_record(struct out *o, const struct ctl_record *rec);	/* 0 or -ENOMEM */
void	 out_end(struct out *o, int err, const char *text);

/* A ctl_record_fn that feeds an out. */
int	 out_record_cb(const struct ctl_record *rec, void *arg);

#endif
