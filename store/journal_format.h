/* journal_format.h — on-disk layout of a journal file (DIR/journal/<16 hex>.jnl), the row log
 * of rows accepted but not sealed yet.
 *
 *   +-----------------------------+
 *   | "LDJRNL01"  (8 bytes)       |
 *   +-----------------------------+  frames, each written by one write():
 *   | u32 frame magic             |  LDJC, LDJY, LDJP (current); LDJF, LDJZ (read only)
 *   | u32 payload bytes           |
 *   | u32 row count               |
 *   | u32 crc32c(count, payload)  |
 *   | payload                     |
 *   +-----------------------------+
 *   A frame that is short, fails its CRC or does not follow its predecessor ends the journal
 *   (the torn tail a crash leaves).
 *
 * Pad frames (LDJP, row count 0, payload zeros) hold no rows.  A writer that bypasses the page
 * cache (O_DIRECT) writes whole LD_JNL_ALIGN units: the magic is followed by a pad frame up to
 * the first unit, and each write is its frames followed by a pad frame up to the next one.  A
 * journal is written once and read only after a crash, so passing it through the page cache
 * costs a copy into freshly allocated pages that nobody reads.
 *
 * Column frames (LDJC; LDJY = the same payload as one zstd frame, written when raw lines are
 * kept).  A journal mirrors the writer's in-memory row set: rows and the interned addresses and
 * strings they use.  Each frame carries the rows appended since the previous frame, column by
 * column, plus the dictionary entries those rows added, so appending a row costs no encoding
 * and a frame is a few narrow copies of memory already laid out in columns.
 *
 *   u32 flags            bit 0: raw column present
 *   u32 first_row        rows in the journal before this frame   (checked on replay)
 *   u32 first_addr       address entries before this frame       (checked)
 *   u32 first_str        string entries before this frame        (checked)
 *   u32 new_addrs        then new_addrs x 16-byte addresses (IPv4-mapped or IPv6)
 *   u32 new_strs         then new_strs x u32 length, then their bytes
 *   i64 ts_base          u8 ts width (4: u32 offsets from ts_base, 8: i64 values)
 *   u8 widths            src, dst, rule, reporter, vif, len: 1, 2 or 4 bytes each
 *   columns, each `row count` values: ts, src, dst, rule, reporter, vif, len (their widths),
 *   sport u16, dport u16, proto, action, dir, tcp flags, format, present (u8)
 *   raw (flag bit 0): u32 length per row, then the bytes
 *   src/dst are address ids, rule/reporter/vif string ids, both counted from the journal start.
 *
 * Record frames (LDJF, LDJZ = zstd), written by earlier versions and still replayed: each
 * record is ts i64, an address kind byte (bit 0: src IPv4, bit 1: dst IPv4), src and dst (4 or
 * 16 bytes), sport u16, dport u16, len u32, proto, action, dir, flags, format, present, then
 * rule, reporter, vif, raw as varint length + bytes.
 */
#ifndef LD_JOURNAL_FORMAT_H
#define LD_JOURNAL_FORMAT_H

#define LD_JNL_MAGIC "LDJRNL01"
#define LD_JNL_FRAME_COLS 0x434a444cu   /* "LDJC": column frame */
#define LD_JNL_FRAME_COLS_Z 0x594a444cu /* "LDJY": column frame, payload is one zstd frame */
#define LD_JNL_FRAME_MAGIC 0x464a444cu   /* "LDJF": record frame (read only) */
#define LD_JNL_FRAME_MAGIC_Z 0x5a4a444cu /* "LDJZ": record frame, zstd (read only) */
#define LD_JNL_MAX_FRAME (256u << 20)    /* inflated frame size a reader accepts */
#define LD_JNL_FRAME_ROWS 16384u         /* rows per column frame the writer aims for */
#define LD_JNL_FRAME_PAD 0x504a444cu    /* "LDJP": padding to LD_JNL_ALIGN, no rows */
#define LD_JNL_ALIGN 4096u               /* unit of the writer's direct (O_DIRECT) writes */
#define LD_JNL_FLAG_RAW 1u

#endif
