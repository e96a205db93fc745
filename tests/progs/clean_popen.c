/* popen(): glibc's internal spawn gives the child the pipe's write end; the
 * only thread here reads it, and the writer is the child, another process.
 * Not a hang. */
#include "victim.h"

int main(void)
{
    FILE *f = popen("sleep 2; echo from-the-child", "r");
    if (!f)
        die("popen", errno);
    char line[64] = "";
    if (!fgets(line, sizeof line, f))
        die("fgets", errno);
    int st = pclose(f);
    printf("popen said %s", line);
    return st == 0 ? 0 : 1;
}
