/* Class names of data sets: the standard lists and a data set's copy
 * (class_names.h). */
#include "data/class_names.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

const char *const class_names_digits[CLASS_NAMES_STANDARD] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9"
};
/* Fashion-MNIST's labels 0..9, as its publishers (Zalando Research) name them */
const char *const class_names_fashion_mnist[CLASS_NAMES_STANDARD] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"
};
/* CIFAR-10's labels 0..9, as its batches.meta.txt lists them */
const char *const class_names_cifar10[CLASS_NAMES_STANDARD] = {
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck"
};

void class_names_free(ae_dataset *ds)
{
    free(ds->class_names);
    ds->class_names = NULL;
    ds->nclasses = 0;
}

int class_names_set(ae_dataset *ds, const char *const *names, int n, const char *what, ae_error *err)
{
    class_names_free(ds);
    if (n <= 0)
        return 0;
    size_t bytes = (size_t)n * sizeof(char *);
    for (int k = 0; k < n; k++)
        bytes += strlen(names[k]) + 1;
    char **v = malloc(bytes);
    if (!v)
        return ae_fail(err, "%s: out of memory for %d class names", what, n);
    char *text = (char *)(v + n);
    for (int k = 0; k < n; k++) {
        size_t len = strlen(names[k]) + 1;
        memcpy(text, names[k], len);
        v[k] = text;
        text += len;
    }
    ds->class_names = v;
    ds->nclasses = n;
    return 0;
}

int ae_dataset_class_count(const ae_dataset *ds)
{
    return ds && ds->class_names && ds->nclasses > 0 ? ds->nclasses : 0;
}

const char *ae_dataset_class_name(const ae_dataset *ds, int k)
{
    return k >= 0 && k < ae_dataset_class_count(ds) ? ds->class_names[k] : NULL;
}
