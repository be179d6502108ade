#ifndef COMMUNESYNC_CZLIB_SHIM_H
#define COMMUNESYNC_CZLIB_SHIM_H
#include <zlib.h>

/* deflateInit2 and inflateInit2 are macros over the versioned functions: wrap them. */
static inline int communesync_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

static inline int communesync_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
