/* IDX, the MNIST file format: big-endian magic 0x0000 TT DD (TT = 0x08 for
 * unsigned bytes, DD = number of dimensions), DD big-endian uint32 sizes,
 * then the data. Read raw or gzip-compressed (zlib). The header is checked
 * against the file's real size before anything is allocated.            */
#ifndef AEKIT_DATA_IDX_H
#define AEKIT_DATA_IDX_H

#include <stddef.h>
#include <stdint.h>
#include "aekit.h"

#define IDX_MAX_DIMS 4

typedef struct {
    int      ndim;
    uint32_t dims[IDX_MAX_DIMS];
    uint8_t *data;     /* product(dims) bytes, owned */
    size_t   size;
} idx_array;

/* Reads an unsigned-byte IDX file (raw or gzipped: detected by content). */
int  idx_read(idx_array *out, const char *path, ae_error *err);
void idx_free(idx_array *a);

/* The same in two steps, so that a caller can refuse a file from its header
 * before its data is read: idx_open reads the header into hdr (ndim, dims,
 * size; data stays NULL) and, for a raw file, checks the file's size
 * against it; idx_load then reads the data into hdr->data (checking a
 * gzip stream's end: CRC-32, length, nothing after the data). `path` must
 * outlive the idx_file; idx_close(NULL) is harmless. */
typedef struct idx_file idx_file;
int  idx_open(idx_file **out, idx_array *hdr, const char *path, ae_error *err);
int  idx_load(idx_file *f, idx_array *hdr, ae_error *err);
void idx_close(idx_file *f);

#endif
