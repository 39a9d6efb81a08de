/*
 * ENI names, exactly as upstream gwlbtun makes them, so interface names,
 * iptables rules and hook scripts carry over: "gwi-"/"gwo-" followed by the
 * 64-bit ENI id in base 60 (digits 0-9, a-z, A-X), most significant first,
 * no padding.  For humans and hooks an ENI id is 17 lowercase hex digits.
 */
#ifndef GWLB_NAME_H
#define GWLB_NAME_H

#include <stddef.h>
#include <stdint.h>

#define NAME_B60_MAX	11		/* digits of 2^64-1 in base 60 */
#define NAME_IF_MAX	16		/* IFNAMSIZ, NUL included */
#define NAME_HEX_LEN	17
#define NAME_HEX_MAX	(NAME_HEX_LEN + 1)

enum name_dir { NAME_IN, NAME_OUT };	/* gwi- or gwo- */

/* Base-60 digits of id into buf (at least NAME_B60_MAX + 1). */
void name_b60(uint64_t id, char *buf);

/* "gwi-<b60>" or "gwo-<b60>" into buf (at least NAME_IF_MAX). */
void name_ifname(uint64_t id, enum name_dir dir, char *buf);

/*
 * Parse one of our interface names back.  Returns 0 and sets *id (and *dir
 * when dir is not NULL), or -EINVAL for a name that is not ours (other
 * prefix, bad digit, empty, leading zero digit, value over 64 bits).
 */
int name_parse_ifname(const char *name, uint64_t *id, enum name_dir *dir);

/* 17 lowercase hex digits, zero padded, into buf (at least NAME_HEX_MAX). */
void name_hex(uint64_t id, char *buf);

/*
 * Parse an ENI id as a user writes it: 1 to 17 hex digits (either case),
 * optionally behind "vpce-" or "0x".  Returns 0 or -EINVAL (empty, bad
 * digit, too long, over 64 bits).
 */
int name_parse_hex(const char *s, uint64_t *id);

/* Any of the above: hex, vpce-hex, or one of our link names. */
int name_parse_eni(const char *s, uint64_t *id);

#endif
