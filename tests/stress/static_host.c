/* A statically linked program: the loader never sees LD_PRELOAD. */
#include <stdio.h>

int main(void)
{
    puts("static host");
    return 5;
}
