/* Class names of data sets (ae_dataset_class_name): the standard lists,
 * each written here once, and the copy a data set owns. Which list a data
 * set gets is decided by its reader: dataset.c (IDX folders), cifar.c
 * (batches.meta.txt or the standard names), image_folder.c (the class
 * folders' names). */
#ifndef AEKIT_DATA_CLASS_NAMES_H
#define AEKIT_DATA_CLASS_NAMES_H

#include "aekit.h"

#define CLASS_NAMES_STANDARD 10 /* names in each list below */

extern const char *const class_names_digits[CLASS_NAMES_STANDARD];        /* "0" .. "9"       */
extern const char *const class_names_fashion_mnist[CLASS_NAMES_STANDARD]; /* "T-shirt/top" ..  */
extern const char *const class_names_cifar10[CLASS_NAMES_STANDARD];       /* "airplane" ..     */

/* Copies names[0..n) into ds->class_names, one allocation (the pointers,
 * then the texts), and sets ds->nclasses; n = 0 leaves ds without names.
 * Any names ds had are freed first. 0, or -1 with err naming `what`. */
int  class_names_set(ae_dataset *ds, const char *const *names, int n, const char *what, ae_error *err);
void class_names_free(ae_dataset *ds);

#endif
