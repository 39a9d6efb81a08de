/* The route model (route_model.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "nl.h"
#include "route_model.h"

void
route_spec_from_args(const struct ctl_cmd_args *a, struct route_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->rule = a->id == CTL_CMD_RULE_ADD || a->id == CTL_CMD_RULE_DEL;
	s->eni_any = !a->eni_set || a->eni_any;
	s->eni = a->eni;
	s->table_eni = a->table_eni;
	s->table = a->table_set && !a->table_eni ? a->table : 0;
	if (s->rule) {
		s->dev = a->iif;
		return;
	}
	s->family = a->family;
	memcpy(s->prefix, &a->prefix, a->family == AF_INET ? 4 : 16);
	s->plen = a->prefix_len;
	s->dev = a->dev;
	s->via_set = a->via_set;
	if (a->via_set)
		memcpy(s->via, &a->via, a->family == AF_INET ? 4 : 16);
	s->metric_set = a->metric_set;
	s->metric = a->metric;
	if (!a->table_set)
		s->table = NL_TABLE_MAIN;
}

bool
route_spec_eq(const struct route_spec *a, const struct route_spec *b)
{
	return a->rule == b->rule && a->family == b->family &&
	    memcmp(a->prefix, b->prefix, 16) == 0 && a->plen == b->plen &&
	    a->dev == b->dev && a->via_set == b->via_set &&
	    memcmp(a->via, b->via, 16) == 0 && a->table_eni == b->table_eni &&
	    a->table == b->table && a->metric_set == b->metric_set &&
	    a->metric == b->metric && a->eni_any == b->eni_any &&
	    (a->eni_any || a->eni == b->eni);
}

int
route_spec_check(const struct route_spec *s, bool no_return, char *err, size_t errlen)
{
	if (no_return && s->dev == CTL_DIR_OUT) {
		snprintf(err, errlen, "there are no gwo- links with --no-return");
		return -EINVAL;
	}
	if (s->via_set && s->dev == CTL_DIR_IN) {
		snprintf(err, errlen, "a gateway on a gwi- link makes no sense: it is a TUN link");
		return -EINVAL;
	}
	return 0;
}

int
route_args_check(const struct ctl_cmd_args *a, bool no_return, char *err, size_t errlen)
{
	struct route_spec s;

	route_spec_from_args(a, &s);
	return route_spec_check(&s, no_return, err, errlen);
}


void
route_inst_make(struct route_inst *ri, const struct route_spec *s, int family,
    uint32_t table, const char *dev, int oif)
{
	memset(ri, 0, sizeof(*ri));
	ri->spec = *s;
	ri->spec.next = NULL;
	ri->family = family;
	ri->table = table;
	ri->oif = s->rule ? 0 : oif;
	snprintf(ri->dev, sizeof(ri->dev), "%s", dev);
}

void
route_inst_text(const struct route_inst *ri, char *buf, size_t len)
{
	const struct route_spec *s = &ri->spec;
	char pfx[INET6_ADDRSTRLEN], via[INET6_ADDRSTRLEN + 5] = "", met[24] = "";

	if (s->rule) {
		snprintf(buf, len, "iif %s lookup %u proto %d", ri->dev, ri->table,
		    RTPROT_GWLBTUN);
		return;
	}
	inet_ntop(ri->family, s->prefix, pfx, sizeof(pfx));
	if (s->via_set) {
		memcpy(via, "via ", 4);
		inet_ntop(ri->family, s->via, via + 4, sizeof(via) - 4);
		strcat(via, " ");
	}
	if (s->metric_set)
		snprintf(met, sizeof(met), " metric %u", s->metric);
	snprintf(buf, len, "%s/%u %sdev %s table %u proto %d%s", pfx, s->plen, via, ri->dev,
	    ri->table, RTPROT_GWLBTUN, met);
}
