// C++20 waits that libstdc++ makes on the raw futex (syscall(SYS_futex)):
// "latcher" waits on a std::latch that never reaches zero (one count_down of
// two), "getter" waits in std::future::get on a promise that is kept but
// never set (nor destroyed: a destroyed promise would wake it with
// broken_promise).  main leaves once both sleep: two thread-leaks.  libstdc++
// makes these futex calls without FUTEX_PRIVATE_FLAG; the words are in
// static data and in the heap, which only this process can reach.
#include <cstdio>
#include <cstring>
#include <future>
#include <latch>
#include <thread>

#include <pthread.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace
{

std::latch gate(2);
std::promise<int> *answer = new std::promise<int>;
volatile pid_t tids[2];

bool asleep(pid_t tid)
{
    char path[64], buf[512] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", static_cast<int>(tid));
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *s = strrchr(buf, ')');
    return s && s[1] == ' ' && s[2] == 'S';
}

void wait_asleep(volatile pid_t *tid)
{
    while (*tid == 0 || !asleep(*tid)) {
        timespec ts = {0, 2000000L};
        nanosleep(&ts, nullptr);
    }
}

void latch_waiter()
{
    pthread_setname_np(pthread_self(), "latcher");
    tids[0] = static_cast<pid_t>(syscall(SYS_gettid));
    gate.wait();
    tids[0] = 0; // not a tail call: latch_waiter stays on the stack at -O2
}

void future_getter(std::future<int> f)
{
    pthread_setname_np(pthread_self(), "getter");
    tids[1] = static_cast<pid_t>(syscall(SYS_gettid));
    (void)f.get();
}

} // namespace

int main()
{
    std::thread(latch_waiter).detach();
    std::thread(future_getter, answer->get_future()).detach();
    gate.count_down(); // the bug: one of two
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
    return 0;
}
