/*
 * rtnetlink for the daemon's links: everything after TUNSETIFF (index, MTU,
 * up, rp_filter) goes through here, never through ioctl or ip/sysctl.
 * Only the manager thread calls these.
 */
#ifndef GWLBTUND_NL_H
#define GWLBTUND_NL_H

int nl_init(void);
void nl_fini(void);
/* ifindex of a link by name, or -errno (-ENODEV when there is none). */
int nl_link_index(const char *name);
/* MTU, IFF_UP and IPv4 rp_filter 0 in one RTM_NEWLINK; 0 or -errno. */
int nl_link_setup(int ifindex, const char *name, unsigned mtu);
/* Delete a link by index; 0, or -errno (-ENODEV if already gone). */
int nl_link_del(int ifindex);

#endif
