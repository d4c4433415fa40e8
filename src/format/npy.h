/* NumPy .npy files (format versions 1.0 and 2.0). The public functions are
 * ae_npy_write_f32 / ae_npy_write_u8 / ae_npy_read_f32 in aekit.h; the
 * header parser is exposed here for the tests.
 *
 *   bytes 0..5   "\x93NUMPY"
 *   bytes 6, 7   major, minor version (1.0: 2-byte header length; 2.0: 4-byte)
 *   then         little-endian header length N, then N bytes of header: a
 *                Python dict literal such as
 *                {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *                padded with spaces and a final '\n' so that the data starts
 *                at a multiple of 64 bytes
 *   then         the data, C order                                        */
#ifndef AEKIT_FORMAT_NPY_H
#define AEKIT_FORMAT_NPY_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

#define NPY_WRITE_MAX_DIMS 32   /* numpy's own limit (NPY_MAXDIMS, numpy 1.x) */
#define NPY_READ_MAX_DIMS  4
#define NPY_MAX_HEADER     65535 /* header bytes accepted by the reader */

typedef struct {
    char     descr[16];   /* e.g. "<f4" */
    int      fortran_order;
    int      ndim;
    uint64_t shape[NPY_READ_MAX_DIMS];
    uint64_t count;       /* product of shape (1 for 0 dimensions) */
} npy_header;

/* Parses the header dict (len bytes, not NUL-terminated). Requires exactly
 * the keys 'descr' (a string), 'fortran_order' (True/False) and 'shape' (a
 * tuple of at most NPY_READ_MAX_DIMS non-negative integers), in any order,
 * with any whitespace and an optional trailing comma; only whitespace may
 * follow the closing brace. The element count is overflow-checked.
 * Messages start with `path`. */
int npy_parse_header(npy_header *out, const char *text, size_t len, const char *path, ae_error *err);

#endif
