// std::future waits outside the static data and the brk heap.  libstdc++
// waits for a future's value with a futex call without FUTEX_PRIVATE_FLAG on
// a word of the shared state, wherever that was allocated:
//   - "getter" waits on a future whose promise thread "maker" made: its
//     shared state is in maker's malloc arena, an mmap'd heap, not the brk;
//   - "mapgetter" waits on a future whose shared state a promise made with an
//     allocator that hands out private anonymous mappings (MAP_PRIVATE).
// The shim alone cannot tell such memory from memory shared with another
// process; only the mappings can, and the kernel keys a futex in a private
// anonymous mapping by this process alone.  Neither promise is ever set (nor
// destroyed, which would wake the getters with broken_promise): main leaves
// once both sleep, two thread-leaks.
//
// Built a second time as clean_cpp_futex_arena (PW_KEEP_PROMISES): the same
// waits on the same kinds of memory, but both promises are kept and both
// getters joined: nothing to report.
#include <cstdio>
#include <cstring>
#include <future>
#include <new>
#include <thread>

#include <pthread.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

namespace
{

// Private anonymous memory, one mapping per allocation.
template <class T> struct MapAlloc {
    using value_type = T;
    MapAlloc() = default;
    template <class U> MapAlloc(const MapAlloc<U> &)
    {
    }
    T *allocate(std::size_t n)
    {
        void *p = mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                       -1, 0);
        if (p == MAP_FAILED)
            throw std::bad_alloc();
        return static_cast<T *>(p);
    }
    void deallocate(T *p, std::size_t n)
    {
        munmap(p, n * sizeof(T));
    }
    template <class U> bool operator==(const MapAlloc<U> &) const
    {
        return true;
    }
    template <class U> bool operator!=(const MapAlloc<U> &) const
    {
        return false;
    }
};

std::promise<int> *arena_promise; // made by maker, in its arena
std::promise<int> *map_promise;
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

void maker()
{
    pthread_setname_np(pthread_self(), "maker");
    arena_promise = new std::promise<int>; // this thread's first allocation: a new arena
}

__attribute__((noinline)) int arena_getter(std::future<int> f)
{
    pthread_setname_np(pthread_self(), "getter");
    tids[0] = static_cast<pid_t>(syscall(SYS_gettid));
    int v = f.get();
    tids[0] = 0; // not a tail call: arena_getter stays on the stack at -O2
    return v;
}

__attribute__((noinline)) int map_getter(std::future<int> f)
{
    pthread_setname_np(pthread_self(), "mapgetter");
    tids[1] = static_cast<pid_t>(syscall(SYS_gettid));
    int v = f.get();
    tids[1] = 0;
    return v;
}

} // namespace

int main()
{
    std::thread(maker).join();
    map_promise = new std::promise<int>(std::allocator_arg, MapAlloc<int>());
    std::thread getter(arena_getter, arena_promise->get_future());
    std::thread mapgetter(map_getter, map_promise->get_future());
    wait_asleep(&tids[0]);
    wait_asleep(&tids[1]);
#ifdef PW_KEEP_PROMISES
    arena_promise->set_value(1);
    map_promise->set_value(2);
    getter.join();
    mapgetter.join();
    delete arena_promise;
    delete map_promise;
    std::printf("both futures kept\n");
#else
    getter.detach(); // the bug: nobody ever sets either promise
    mapgetter.detach();
#endif
    return 0;
}
