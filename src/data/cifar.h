/* CIFAR-10, "binary version": a folder holding data_batch_1.bin ..
 * data_batch_5.bin (training split) and test_batch.bin (test split). Each
 * file is a sequence of 3073-byte records: one label byte (0..9), then a
 * 32x32 image as 1024 red, 1024 green, 1024 blue bytes, each plane in
 * row-major order (so already CHW).                                     */
#ifndef AEKIT_DATA_CIFAR_H
#define AEKIT_DATA_CIFAR_H

#include "aekit.h"

#define CIFAR_SIDE        32
#define CIFAR_IMAGE_BYTES (3 * CIFAR_SIDE * CIFAR_SIDE)   /* 3072 */
#define CIFAR_RECORD      (1 + CIFAR_IMAGE_BYTES)         /* 3073 */
#define CIFAR_CLASSES     10
#define CIFAR_TRAIN_FILES 5

/* 1 when dir holds data_batch_1.bin or test_batch.bin. */
int cifar_detect(const char *dir);

/* Reads a split of the CIFAR-10 folder dir into ds (n, c = 3, h = w = 32,
 * pixels, labels, source; ds must be zeroed). The training split needs all
 * five data_batch_K.bin files. Every file's size must be a non-zero
 * multiple of 3073 bytes and every label < 10; sizes are checked before
 * anything is allocated. On failure ds owns nothing. */
int cifar_read(ae_dataset *ds, const char *dir, ae_split split, ae_error *err);

/* The class names of the CIFAR-10 folder dir into ds (class_names_set):
 * dir/batches.meta.txt when present, else the ten standard names. The
 * file, as CIFAR-10's archive has it: one name per line, "\n" line ends,
 * empty lines only at the end; at most CIFAR_CLASSES names (labels are
 * below it), each 1 to CIFAR_NAME_MAX printable ASCII characters; at most
 * CIFAR_META_MAX_BYTES. A file that breaks these rules fails, naming it
 * and the line: names that are not the labels' are not to be shown. */
#define CIFAR_META_MAX_BYTES 4096
#define CIFAR_NAME_MAX       63
int cifar_class_names(ae_dataset *ds, const char *dir, ae_error *err);

#endif
