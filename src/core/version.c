/* The library's version and the sizes of its public structs at run time
 * (aekit.h): what a binding that loads libaekit.so checks its mirrors
 * against (python/aekit/_lib.py). */
#include <string.h>

#include "aekit.h"
#include "aekit/run_folder.h"

const char *ae_version(void)
{
    return AEKIT_VERSION;
}

/* Every public struct a binding mirrors, by its C name. */
static const struct { const char *name; size_t size; } struct_sizes[] = {
    {"ae_error",          sizeof(ae_error)},
    {"ae_dataset",        sizeof(ae_dataset)},
    {"ae_image_options",  sizeof(ae_image_options)},
    {"ae_tensor",         sizeof(ae_tensor)},
    {"ae_train_option",   sizeof(ae_train_option)},
    {"ae_progress",       sizeof(ae_progress)},
    {"ae_train_position", sizeof(ae_train_position)},
    {"ae_epoch_metric",   sizeof(ae_epoch_metric)},
    {"ae_run_picture",    sizeof(ae_run_picture)},
    {"ae_run_names",      sizeof(ae_run_names)},
    {"ae_run_report",     sizeof(ae_run_report)},
};

size_t ae_sizeof(const char *type)
{
    if (!type)
        return 0;
    for (size_t i = 0; i < sizeof struct_sizes / sizeof struct_sizes[0]; i++)
        if (strcmp(struct_sizes[i].name, type) == 0)
            return struct_sizes[i].size;
    return 0;
}
