/* safetensors: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"key": "value", ...}}, then the raw little-endian data.
 * The reader trusts nothing: header size, JSON, dtypes, shapes (overflow),
 * offsets (inside the file, matching dtype x shape, no overlap) are all
 * checked before any tensor is used.                                       */
#ifndef AEKIT_FORMAT_SAFETENSORS_H
#define AEKIT_FORMAT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "aekit.h"

#define ST_MAX_DIMS 8
/* Limits of a file's header, enforced while it is read (before a JSON tree
 * is built) and when writing: far above what aekit writes (a model has a
 * few dozen tensors, a checkpoint three times that, a few dozen metadata
 * entries), far below what would cost memory out of proportion. */
#define ST_MAX_TENSORS 16384
#define ST_MAX_META    4096
/* JSON values (array elements and object members) in a header: a tensor
 * entry has at most 16 (its object, dtype, ST_MAX_DIMS sizes, 2 offsets,
 * the arrays), a metadata entry 1. */
#define ST_MAX_VALUES  (16 * ST_MAX_TENSORS + ST_MAX_META + 16)

typedef enum { ST_F32, ST_F64, ST_F16, ST_BF16, ST_U8, ST_I8, ST_I32, ST_I64 } st_dtype;

typedef struct {
    char     name[256];
    st_dtype dtype;
    int      ndim;
    int64_t  shape[ST_MAX_DIMS];
    size_t   numel;
    size_t   begin, end;     /* byte offsets inside the data section */
} st_tensor;

typedef struct {
    st_tensor *tensors;
    int        count;
    char     **meta_keys;    /* __metadata__, count nmeta */
    char     **meta_vals;
    int        nmeta;
    uint8_t   *data;         /* data section up to the last tensor's end (owned) */
    size_t     data_size;
    char       path[1024];
    FILE      *fp;           /* open from st_read_header to st_read_data */
} st_file;

/* Reads and checks the header, then the data section. On failure *f is
 * left empty (st_free on it is harmless). */
int  st_read(st_file *f, const char *path, ae_error *err);
/* st_read in two steps, so that a caller can refuse a file from its tensors'
 * names, dtypes and shapes before their data is read: st_read_header
 * fills tensors and metadata (data stays NULL, the file stays open),
 * st_read_data reads the data section (a no-op when it is read already).
 * st_free releases either stage. */
int  st_read_header(st_file *f, const char *path, ae_error *err);
int  st_read_data(st_file *f, ae_error *err);
/* st_read_header of a file's `size` bytes held in memory (a copy that
 * another process read: ae_checkpoint_load_ranks); `path` names them in
 * messages. The bytes must outlive st_read_data. */
int  st_read_header_memory(st_file *f, const void *bytes, size_t size, const char *path, ae_error *err);
void st_free(st_file *f);
/* An st_file of F32 tensors held in memory (only name, data, ndim and
 * shape of each are read; the data is copied), checked as a file's header
 * is (names unique, shapes sane); `origin` is its path in messages. */
int  st_from_tensors(st_file *f, const ae_tensor *t, int count, const char *origin, ae_error *err);
const st_tensor *st_find(const st_file *f, const char *name);
const char *st_meta(const st_file *f, const char *key);
/* Copies tensor `name` into dst as float32, converting from F32, F64, F16 or
 * BF16; fails (naming file and tensor) when absent, of another dtype family,
 * or when its element count is not `count`. */
int st_get_f32(const st_file *f, const char *name, float *dst, size_t count, ae_error *err);
/* Copies a U8 tensor. */
int st_get_u8(const st_file *f, const char *name, uint8_t *dst, size_t count, ae_error *err);

typedef struct {
    const char *name;
    st_dtype    dtype;       /* ST_F32 or ST_U8 for writing */
    const void *data;
    int         ndim;
    int64_t     shape[ST_MAX_DIMS];
} st_out_tensor;

/* Writes tensors (in the given order, 8-byte aligned header) and metadata
 * pairs meta[0..2*nmeta) = key, value, key, value... Atomic (temp + rename). */
int st_write(const char *path, const st_out_tensor *t, int count,
             const char *const *meta, int nmeta, ae_error *err);

#endif
