/* dlopen/dlclose, over and over, of a library that creates threads (in its
 * constructor and in the called function); then once with RTLD_DEEPBIND. */
#include <dlfcn.h>

#include "stress.h"

static long load_and_call(const char *lib, int mode)
{
    void *h = dlopen(lib, mode);
    if (h == NULL) {
        fprintf(stderr, "host: %s\n", dlerror());
        exit(99);
    }
    long (*work)(int) = (long (*)(int))dlsym(h, "dl_work");
    long r = work ? work(3) : -1;
    if (dlclose(h) != 0)
        die("dlclose", EINVAL);
    return r;
}

int main(int argc, char **argv)
{
    if (argc != 2)
        die("usage: dlopen_threads LIB", EINVAL);
    long total = 0;
    for (int i = 0; i < 25; i++)
        total += load_and_call(argv[1], i % 2 ? RTLD_NOW | RTLD_LOCAL : RTLD_LAZY | RTLD_GLOBAL);
    out("25 loads: %ld bytes read by library threads", total);
    out("deepbind: %ld", load_and_call(argv[1], RTLD_NOW | RTLD_DEEPBIND));
    return 0;
}
