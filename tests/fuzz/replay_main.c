/* Runs the fuzz target over files given on the command line (the seed corpus
 * and every past crash in regress/), without libFuzzer: part of the normal
 * test suite, so it also runs under the valgrind test setup. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0) {
            perror(argv[i]);
            return 1;
        }
        long len = ftell(f);
        uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
        rewind(f);
        if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
            perror(argv[i]);
            return 1;
        }
        fclose(f);
        LLVMFuzzerTestOneInput(buf, (size_t)len);
        /* every prefix length class too: truncated traces must stay readable */
        for (long cut = len / 7; cut < len; cut += len / 7 + 1)
            LLVMFuzzerTestOneInput(buf, (size_t)cut);
        free(buf);
        fprintf(stderr, "ok %s\n", argv[i]);
    }
    return 0;
}
