/* framing.h — syslog message framing on a byte stream (TCP/TLS): RFC 6587 octet counting
 * ("<len> <msg>", mandatory on RFC 5425 TLS) or non-transparent framing (LF, CRLF or NUL
 * terminated), detected per stream.
 *
 * Contract:
 *  - One ld_framer per connection.  Bytes are fed in arbitrary pieces; each complete message is
 *    handed to the callback once, without its delimiter, in order.  The callback's pointer is valid
 *    only during the call.
 *  - Detection looks at the first byte of each frame: a digit means octet counting, anything else
 *    non-transparent.  It is re-done after every framing error, so a sender that switches (or a
 *    relay that mixes) is followed.
 *  - A bad octet-count header (not digits + space, zero, or over max_msg) is a framing error: the
 *    framer skips to the next LF and re-detects.  A message over max_msg is reported once with
 *    LD_FRAME_TOO_LONG and its head; the rest is skipped, never buffered.
 *  - Memory: one buffer of max_msg bytes per framer.
 */
#ifndef LD_FRAMING_H
#define LD_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum ld_framing { LD_FRAMING_UNKNOWN = 0, LD_FRAMING_OCTET = 1, LD_FRAMING_LF = 2 };
enum ld_frame_status { LD_FRAME_OK = 0, LD_FRAME_TOO_LONG = 1 };

typedef void (*ld_frame_fn)(void *ctx, const char *msg, size_t len, int status);

typedef struct ld_framer ld_framer;

ld_framer *ld_framer_new(size_t max_msg);
void ld_framer_free(ld_framer *f);
/* Feeds n bytes; calls fn for every message completed by them. */
void ld_framer_feed(ld_framer *f, const char *data, size_t n, ld_frame_fn fn, void *ctx);
/* End of stream: a pending non-transparent message without its delimiter is delivered; a pending
 * incomplete octet-counted frame is a framing error. */
void ld_framer_finish(ld_framer *f, ld_frame_fn fn, void *ctx);
/* Framing of the current frame (UNKNOWN between frames before the first byte). */
enum ld_framing ld_framer_mode(const ld_framer *f);
uint64_t ld_framer_errors(const ld_framer *f);
uint64_t ld_framer_messages(const ld_framer *f);

#endif
